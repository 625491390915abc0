"""Compiled helpers of the spontaneous stage agree with their plain definitions."""

from __future__ import annotations

import numpy as np
import pytest

from motorsign.spontaneous.features import _median_into
from motorsign.spontaneous.trains import train_stats, train_stats_by_source

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
