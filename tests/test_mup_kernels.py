"""Numba kernels against their plain numpy versions and hand-made cases."""

from __future__ import annotations

import numpy as np

from motorsign.mup.kernels import clip_mask, detect_peaks, peel, turn_points
from motorsign.mup.numpy_impl import clip_mask_np, detect_peaks_np, peel_np


def test_detect_peaks_dead_time_and_mask():
    x = np.zeros(200, np.float32)
    x[[20, 23, 60, 100, 150]] = [5, 8, -9, 7, 6]
    valid = np.ones(200, np.uint8)
    valid[145:155] = 0
    got = detect_peaks(x, 4.0, 5, valid)
    assert got.tolist() == [23, 60, 100]  # 20 loses to 23 within the dead time; 150 masked
    assert detect_peaks_np(x, 4.0, 5, valid).tolist() == got.tolist()


def test_detect_peaks_matches_numpy_on_noise(rng):
    x = rng.standard_normal(20000).astype(np.float32)
    valid = np.ones(x.size, np.uint8)
    a = detect_peaks(x, 3.0, 10, valid)
    b = detect_peaks_np(x, 3.0, 10, valid)
    assert a.size > 5
    assert len(set(a.tolist()) & set(b.tolist())) >= 0.95 * max(a.size, b.size)


def test_clip_mask_runs():
    x = np.array([0, 1, 5, 5, 5, 5, 1, 0, -5, -5, 0, 0], np.float32)
    m = clip_mask(x, -5.0, 5.0, 3, 1)
    assert m.tolist() == [1, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1]  # the 2-sample run at -5 is kept
    assert clip_mask_np(x, -5.0, 5.0, 3, 1).tolist() == m.tolist()


def _two_unit_signal(rng):
    L = 41
    t = np.arange(L) - 20
    a = (-200 * (1 - (t / 3) ** 2) * np.exp(-0.5 * (t / 3) ** 2)).astype(np.float32)
    b = (150 * np.sin(t / 3.0) * np.exp(-0.5 * (t / 6) ** 2)).astype(np.float32)
    n = 20000
    x = rng.normal(0, 5, n).astype(np.float32)
    ta = np.arange(300, n - 300, 617)
    # b overlaps a (peaks 12 samples apart, windows overlapping) or stands alone
    tb = np.sort(np.concatenate([ta[::3] + 12, ta[1::3] + 300]))
    for s in ta:
        x[s - 20 : s + 21] += a
    for s in tb:
        x[s - 20 : s + 21] += b
    return x, np.stack([a, b]), ta, tb


def test_peel_sorts_and_resolves_overlaps(rng):
    x, T, ta, tb = _two_unit_signal(rng)
    anchors = np.array([[20, -1, -1, -1], [int(np.argmax(np.abs(T[1]))), -1, -1, -1]], np.int64)
    valid = np.ones(x.size, np.uint8)
    starts, units, subs, scores = peel(x.copy(), T, 1, anchors, 40.0, 5, 3, 0.5, 3, valid, 0.0)
    pos = starts + 20
    for u, truth in ((0, ta), (1, tb)):
        got = np.sort(pos[units == u])
        assert got.size == truth.size  # every discharge, the overlapping ones included
        assert np.abs(got - truth).max() <= 1
    s2, u2, _, _ = peel_np(x.copy(), T, 1, anchors, 40.0, 5, 3, 0.5, 3, valid, 0.0)
    assert sorted(zip(s2.tolist(), u2.tolist())) == sorted(zip(starts.tolist(), units.tolist()))


def test_turn_points():
    x = np.array([0, 150, 20, 160, -100, -60, 80], np.float32)
    assert turn_points(x, 100.0).tolist() == [150.0, 20.0, 160.0, -100.0]
