"""Unit choice by likelihood with each unit's own variability (``relabel_var``)."""

from __future__ import annotations

import numpy as np

from motorsign.mup.kernels import _support, _var_score, relabel_var

L = 101  # template length (samples)
t = np.arange(L) - 50.0
SIGMA = 2.0  # noise SD (µV)


def _spike(amp: float, width: float = 3.0) -> np.ndarray:
    return (amp * (1 - (t / width) ** 2) * np.exp(-0.5 * (t / width) ** 2)).astype(np.float32)


# unit 0: a steady spike; unit 1: a slightly wider one whose size varies from discharge to discharge
T = np.ascontiguousarray(np.stack([_spike(-100.0), _spike(-100.0, 3.4)]))
ANCHORS = np.array([[50, -1, -1, -1], [50, -1, -1, -1]], np.int64)


def _case(gain: float, sd1_frac: float, label: int = 0, seed: int = 3):
    """One discharge of unit 1 at ``gain`` × its template, currently labelled ``label``.

    Unit 1's discharge-to-discharge SD is ``sd1_frac`` × its template; unit 0's is zero.
    """
    n, st = 600, 200
    x = np.random.default_rng(seed).normal(0, SIGMA, n).astype(np.float32)
    x[st:st + L] += gain * T[1]
    resid = x.copy()
    resid[st:st + L] -= T[label]
    var = np.zeros((2, L), np.float32)
    var[1] = (sd1_frac * T[1]) ** 2
    return resid, x, var, np.array([st], np.int64), np.array([label], np.int64), \
        np.zeros(1, np.int64), np.ones(1, np.float32)


def _run(resid, var, starts, units, subs, scores, tie=0.05, margin=0.0):
    return relabel_var(resid, T, var, SIGMA ** 2, 1, ANCHORS, 12, 3, 0.3, margin, tie,
                       starts, units, subs, scores)


def _reductions(x, st=200):
    seg = x[st:st + L].astype(np.float64)
    return [2 * seg @ T[u] - T[u] @ T[u] for u in (0, 1)]


def test_small_discharge_of_variable_unit_moves_to_it():
    # a discharge of unit 1 at 72 % of its mean size: unit 0's smaller template removes a
    # little more energy (the blind fit's choice), but unit 1's size varies by 25 % and unit
    # 0 is steady, so the likelihood says unit 1
    resid, x, var, starts, units, subs, scores = _case(0.72, 0.25)
    r0, r1 = _reductions(x)
    assert r1 < r0 < r1 / 0.95  # precondition: energy prefers unit 0, a near-tie
    assert _run(resid, var, starts, units, subs, scores) == 1
    assert units[0] == 1 and abs(starts[0] - 200) <= 1
    # the residual holds what unit 1's template leaves (the 28 % size difference), not more
    assert np.abs(resid[200:200 + L]).max() < 0.3 * 100 + 4 * SIGMA


def test_no_move_when_both_units_are_steady():
    # equal (zero) variability: the likelihood is the energy criterion, which prefers unit 0
    resid, x, var, starts, units, subs, scores = _case(0.72, 0.0)
    before = resid.copy()
    assert _run(resid, var, starts, units, subs, scores) == 0
    assert units[0] == 0 and starts[0] == 200
    np.testing.assert_allclose(resid, before, atol=1e-3)  # put back unchanged


def test_tie_limits_the_likelihood_to_near_ties():
    # the same case: unit 1 removes about 1 % less energy than unit 0; it is a candidate
    # only when the energy tolerance covers that
    resid, x, var, starts, units, subs, scores = _case(0.72, 0.25)
    r0, r1 = _reductions(x)
    assert 0.98 * r0 < r1 < 0.995 * r0
    assert _run(resid, var, starts, units, subs, scores, tie=0.0) == 0
    assert _run(resid, var, starts, units, subs, scores, tie=0.005) == 0
    assert units[0] == 0
    assert _run(resid, var, starts, units, subs, scores, tie=0.03) == 1
    assert units[0] == 1


def test_margin_blocks_small_advantage():
    resid, _, var, starts, units, subs, scores = _case(0.72, 0.25)
    assert _run(resid, var, starts, units, subs, scores, margin=1e6) == 0
    assert units[0] == 0


def test_var_score_is_energy_reduction_without_variability():
    rng = np.random.default_rng(0)
    r = rng.normal(0, 5, 300).astype(np.float32)
    lo, hi = _support(T)
    var = np.zeros((2, L), np.float32)
    a, b = lo[1], hi[1]  # the row's non-zero span, over which the score runs
    seg = r[40 + a:40 + b].astype(np.float64)
    t1 = T[1, a:b].astype(np.float64)
    red = 2 * seg @ t1 - t1 @ t1
    assert np.isclose(_var_score(r, T, var, lo, hi, 1, 1, 40, 4.0), red / 4.0, rtol=1e-5)
    # variability lowers the penalty of the misfit, at the cost of log(1 + v/s2) per sample
    var[1] = 9.0
    exp = seg @ seg / 4.0 - ((seg - t1) ** 2).sum() / 13.0 - (b - a) * np.log1p(9.0 / 4.0)
    assert np.isclose(_var_score(r, T, var, lo, hi, 1, 1, 40, 4.0), exp, rtol=1e-5)


def test_relabel_var_runs_through_the_sorter():
    # end to end on a simulated myopathic muscle at 4 kHz: some discharges re-decided, the
    # muscle's reading unchanged; off reproduces the sorter without the step
    from motorsign import analyze_mups
    from motorsign.simulate import voluntary

    sim = voluntary.generate(seed=5, fs=4000.0, duration_s=6.0, condition="myopathic")
    rec = sim.to_recording()
    on = analyze_mups(rec)
    off = analyze_mups(rec, params={"relabel_var": False})
    assert on.summary["EMG"]["classification"] == off.summary["EMG"]["classification"]
    assert len(on.units) > 0
    assert not on.discharges.equals(off.discharges)
