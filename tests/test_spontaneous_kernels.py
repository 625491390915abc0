"""Compiled helpers of the spontaneous stage agree with their plain definitions."""

from __future__ import annotations

import numpy as np
import pytest

from motorsign.spontaneous.features import _median_into
from motorsign.spontaneous.trains import cluster_channel, train_stats, train_stats_by_source

_FIELDS = ("n", "rate_hz", "isi_cv", "regularity_cv2", "consistent_fraction", "median_isi_s")


def test_train_stats_by_source_matches_train_stats():
    rng = np.random.default_rng(3)
    checked = 0
    for _ in range(40):
        m = int(rng.integers(0, 80))
        labels = rng.integers(-1, 5, m)
        regular = np.arange(m) * 0.1 + rng.normal(0, 0.003, m)
        times = np.where(rng.random(m) < 0.5, regular, rng.random(m) * 8.0)
        got = train_stats_by_source(times, labels)
        for lab in range(int(labels.max(initial=-1)) + 1):
            sel = labels == lab
            if not sel.any():
                assert lab not in got
                continue
            want = train_stats(times[sel])
            for name in _FIELDS:
                a, b = getattr(want, name), getattr(got[lab], name)
                assert (np.isnan(a) and np.isnan(b)) or a == pytest.approx(b, rel=1e-12), name
            checked += 1
    assert checked > 50
    assert train_stats_by_source(np.zeros(3), np.full(3, -1)) == {}


@pytest.mark.parametrize("k", [1, 2, 7, 20, 49])
def test_baseline_median_matches_numpy(k):
    rng = np.random.default_rng(k)
    f = rng.normal(0, 10, (100, 3)).astype(np.float32)
    buf = np.empty(64)
    got = _median_into(f, 30, 30 + k, 1, buf)
    assert got == pytest.approx(float(np.median(f[30:30 + k, 1].astype(np.float64))), abs=1e-6)
    assert np.isnan(_median_into(f, 5, 5, 1, buf))


def test_cluster_channel_reads_snippets_through_rows():
    # snippets read in place from a shuffled pool (with unused rows) cluster as a copy does
    rng = np.random.default_rng(5)
    t = np.linspace(-1, 1, 40)
    shapes = [np.exp(-t ** 2 * 20), -np.sin(3 * t) * np.exp(-t ** 2 * 5), t * np.exp(-t ** 2 * 8)]
    m = 120
    kind = rng.integers(0, 3, m)
    amps = rng.uniform(50, 200, m)
    snips = np.stack([amps[i] * shapes[kind[i]] + rng.normal(0, 3, 40) for i in range(m)])
    snips = snips.astype(np.float32)
    noise = np.full(m, 3.0)
    select = rng.random(m) > 0.2
    ref = cluster_channel(snips, amps, noise, 0.9, 0.7, 3.0, select=select)
    assert len(np.unique(ref[0][ref[0] >= 0])) >= 3
    pool = np.zeros((m + 30, 40), np.float32)
    where = rng.permutation(m + 30)[:m]
    pool[where] = snips
    got = cluster_channel(pool, amps, noise, 0.9, 0.7, 3.0, select=select, rows=where)
    np.testing.assert_array_equal(got[0], ref[0])
    np.testing.assert_array_equal(got[1], ref[1])
    with pytest.raises(ValueError, match="one entry per discharge"):
        cluster_channel(pool, amps, noise, 0.9, 0.7, 3.0, rows=where[:-1])
