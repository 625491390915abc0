"""Numba kernels against their plain numpy versions and hand-made cases."""

from __future__ import annotations

import numpy as np

from motorsign.mup.kernels import (
    clip_mask,
    detect_peaks,
    peel,
    refit,
    resolve_pairs,
    template_xcorr,
    turn_points,
)
from motorsign.mup.numpy_impl import (
    clip_mask_np,
    detect_peaks_np,
    peel_np,
    refit_np,
    resolve_pairs_np,
    template_xcorr_np,
)
from motorsign.mup.sorting import _frac_shift


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
    starts, units, subs, scores = peel(x.copy(), T, 1, anchors, 40.0, 5, 3, 0.5, 3, valid, 0.0,
                                   np.zeros_like(T))
    pos = starts + 20
    for u, truth in ((0, ta), (1, tb)):
        got = np.sort(pos[units == u])
        assert got.size == truth.size  # every discharge, the overlapping ones included
        assert np.abs(got - truth).max() <= 1
    s2, u2, _, _ = peel_np(x.copy(), T, 1, anchors, 40.0, 5, 3, 0.5, 3, valid, 0.0,
                            np.zeros_like(T))
    assert sorted(zip(s2.tolist(), u2.tolist())) == sorted(zip(starts.tolist(), units.tolist()))


def test_turn_points():
    x = np.array([0, 150, 20, 160, -100, -60, 80], np.float32)
    assert turn_points(x, 100.0).tolist() == [150.0, 20.0, 160.0, -100.0]


def _spike(L: int, centre: float, width: float, amp: float) -> np.ndarray:
    u = (np.arange(L) - centre) / width
    return (amp * (1 - u * u) * np.exp(-0.5 * u * u)).astype(np.float32)


def test_peel_resolves_subsample_alignment():
    # two units that differ by 8 % in size: a whole-sample grid cannot tell a
    # half-sample-shifted discharge of the larger one from the smaller one
    L, n_sub = 41, 4
    big, small = _spike(L, 20, 1.6, -300.0), _spike(L, 20, 1.6, -276.0)
    rows = [_frac_shift(t, p / n_sub) for t in (big, small) for p in range(n_sub)]
    T = np.ascontiguousarray(np.array(rows, np.float32))
    anchors = np.array([[20, -1, -1, -1], [20, -1, -1, -1]], np.int64)
    x = np.zeros(400, np.float32)
    x[100:141] += _frac_shift(big, 0.5)  # the larger unit, half a sample late
    x[250:291] += _frac_shift(small, 0.25)
    valid = np.ones(x.size, np.uint8)
    args = (T, n_sub, anchors, 50.0, 5, 2, 0.3, 2, valid, 0.0, np.zeros_like(T))
    st, un, sb, _ = peel(x.copy(), *args)
    order = np.argsort(st)
    assert un[order].tolist() == [0, 1]
    assert sb[order].tolist() == [2, 1]  # 0.5 and 0.25 sample
    st2, un2, sb2, _ = peel_np(x.copy(), *args)
    assert sorted(zip(st2, un2, sb2)) == sorted(zip(st, un, sb))


def test_refit_corrects_a_wrong_assignment(rng):
    x, T, ta, tb = _two_unit_signal(rng)
    anchors = np.array([[20, -1, -1, -1], [int(np.argmax(np.abs(T[1]))), -1, -1, -1]], np.int64)
    valid = np.ones(x.size, np.uint8)
    resid = x.copy()
    starts, units, subs, _ = peel(resid, T, 1, anchors, 40.0, 5, 3, 0.5, 3, valid, 0.0,
                                  np.zeros_like(T))
    # mislabel one isolated discharge of unit 0 and put its residual back accordingly
    e = int(np.flatnonzero((units == 0) & np.isin(starts + 20, ta[2::3]))[0])
    resid[starts[e] : starts[e] + 41] += T[0] - T[1]
    units[e] = 1
    for fn in (refit, refit_np):
        r, s_, u_, b_ = resid.copy(), starts.copy(), units.copy(), subs.copy()
        sc, n_changed = fn(r, T, 1, anchors, 5, 3, 0.5, 2, s_, u_, b_)
        assert n_changed >= 1
        assert u_[e] == 0 and abs(int(s_[e]) - int(starts[e])) <= 1
        assert (u_ == units).sum() == units.size - 1  # nothing else moved
        assert np.abs(r).max() < 40.0  # the residual is noise again


def _pair_case():
    L = 61
    a = _spike(L, 30, 2.0, -200.0)
    b = _spike(L, 30, 2.0, 150.0)
    # a third unit that looks like a with a little of b: the best single template
    # for a superposition of a and b, 7 samples apart
    c = (a + 0.3 * np.roll(b, 7)).astype(np.float32)
    T = np.ascontiguousarray(np.stack([a, b, c]))
    x = np.zeros(600, np.float32)
    x[200:261] += a
    x[207:268] += b  # b 7 samples after a
    return x, T


def test_resolve_pairs_splits_a_superposition_and_obeys_the_firing_veto():
    x, T = _pair_case()
    resid = x.copy()
    resid[200:261] -= T[2]  # the superposition was explained by unit 2
    starts, units, subs = (np.array([200], np.int64), np.array([2], np.int64),
                           np.array([0], np.int64))
    xc = template_xcorr(T)
    assert np.allclose(xc, template_xcorr_np(T))
    none = np.zeros(0, np.int64)
    ofs = np.zeros(4, np.int64)
    no_limit = np.zeros(3)
    out = {}
    for name, fn in (("numba", resolve_pairs), ("numpy", resolve_pairs_np)):
        r, s_, u_, b_ = resid.copy(), starts.copy(), units.copy(), subs.copy()
        sc = np.ones(1, np.float32)
        ns, nu, nb, nsc, n_tested = fn(r, T, 1, xc, 10, 0.3, 0.3, 2.0, 5.0, s_, u_, b_, sc,
                                      none, ofs, no_limit, 5)
        assert n_tested == 1
        assert sorted([int(u_[0]), int(nu[0])]) == [0, 1]
        assert np.abs(r).max() < 1.0  # exactly explained
        out[name] = (int(s_[0]), int(u_[0]), int(ns[0]), int(nu[0]))
    assert out["numba"] == out["numpy"]
    # unit 1 fired 40 samples earlier and cannot fire again within 100: no pair
    tpos = np.array([167], np.int64)  # its main peak, 40 samples before
    tofs = np.array([0, 0, 1, 1], np.int64)
    for fn in (resolve_pairs, resolve_pairs_np):
        r, s_, u_, b_ = resid.copy(), starts.copy(), units.copy(), subs.copy()
        ns, *_ = fn(r, T, 1, xc, 10, 0.3, 0.3, 2.0, 5.0, s_, u_, b_, np.ones(1, np.float32),
                    tpos, tofs, np.array([0.0, 100.0, 0.0]), 5)
        assert ns.size == 0 and u_[0] == 2
        assert np.allclose(r, resid)  # left as it was
