"""Close fits of one unit: one discharge fitted twice, or two discharges (``split_close``)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from motorsign.mup.analysis import _firing
from motorsign.mup.kernels import split_close
from motorsign.mup.params import MupParams

FS = 20000.0
L = 121  # template length (samples)


def _two_spike_template() -> np.ndarray:
    """A polyphasic unit: two nearly equal spikes 1.5 ms (30 samples) apart."""
    t = np.arange(L) - 45.0
    w = 3.0
    spike = lambda c, a: a * (1 - ((t - c) / w) ** 2) * np.exp(-0.5 * ((t - c) / w) ** 2)  # noqa: E731
    return (spike(0.0, -100.0) + spike(30.0, -92.0)).astype(np.float32)


def _setup(signal_starts, fit_starts):
    tpl = _two_spike_template()
    templates = tpl[None, :].copy()
    a = np.abs(tpl)
    anchors = np.array([[45, 75]], dtype=np.int64)  # both spikes (>= anchor_frac of the peak)
    assert a[45] == a.max() and a[75] > 0.5 * a.max()
    sig = np.zeros(2000, np.float32)
    for s in signal_starts:
        sig[s : s + L] += tpl
    resid = sig.copy()
    for s in fit_starts:
        resid[s : s + L] -= tpl
    n = len(fit_starts)
    starts = np.array(fit_starts, dtype=np.int64)
    units = np.zeros(n, dtype=np.int64)
    subs = np.zeros(n, dtype=np.int64)
    scores = np.ones(n, dtype=np.float32)
    return sig, resid, templates, anchors, starts, units, subs, scores


def test_a_discharge_fitted_twice_becomes_one():
    # one discharge at 500; a second fit of the same unit 1.5 ms later (its first spike
    # on the discharge's second spike) was accepted on the residual of the first
    sig, resid, T, anchors, starts, units, subs, scores = _setup([500], [500, 530])
    n_t, n_m = split_close(resid, T, 1, anchors, 12, 3, 0.3, 100, starts, units, subs, scores)
    assert (n_t, n_m) == (1, 1)
    kept = np.flatnonzero(units >= 0)
    assert kept.size == 1 and starts[kept[0]] == 500
    # the residual is that of the single right fit: nothing left
    assert np.abs(resid).max() < 1e-3


def test_two_overlapping_discharges_stay_two():
    # two discharges of the unit (two similar units sorted as one) 2.5 ms apart
    sig, resid, T, anchors, starts, units, subs, scores = _setup([500, 550], [500, 550])
    before = resid.copy()
    n_t, n_m = split_close(resid, T, 1, anchors, 12, 3, 0.3, 100, starts, units, subs, scores)
    assert (n_t, n_m) == (1, 0)
    assert units.tolist() == [0, 0] and starts.tolist() == [500, 550]
    np.testing.assert_allclose(resid, before, atol=1e-3)  # residual restored exactly


def test_fits_farther_apart_than_dup_are_not_tested():
    sig, resid, T, anchors, starts, units, subs, scores = _setup([500], [500, 530])
    n_t, n_m = split_close(resid, T, 1, anchors, 12, 3, 0.3, 20, starts, units, subs, scores)
    assert (n_t, n_m) == (0, 0) and units.tolist() == [0, 0]


def test_mixed_flag_ignores_close_pairs_kept_as_two():
    p = MupParams()
    regular = np.arange(40) * 0.08  # 12.5 Hz
    # two overlapping discharges kept 2 ms apart: not a firing interval
    with_pair = np.sort(np.concatenate([regular, [regular[10] + 0.002]]))
    rate, _, viol = _firing(regular, p)
    rate2, _, viol2 = _firing(with_pair, p)
    assert viol == 0.0 and viol2 == 0.0
    assert rate2 == pytest.approx(rate)
    # a discharge 10 ms after another (inside the refractory period, beyond duplicate_ms) counts
    bad = np.sort(np.concatenate([regular, [regular[10] + 0.010]]))
    assert _firing(bad, p)[2] == pytest.approx(1 / 40)
    assert math.isnan(_firing(np.array([0.0, 0.001]), p)[2])
