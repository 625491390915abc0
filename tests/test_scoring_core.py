"""Tests of motorsign.scoring: matching, discharge scores, latency scores."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from motorsign.scoring import (
    compare_discharges,
    match_events,
    score_discharges,
    score_latencies,
)


def _truth(rng, n=400, duration=120.0, channels=("EMG1", "EMG2")):
    kinds = np.array(["fibrillation", "positive_sharp_wave", "fasciculation"])
    rows = []
    for ch in channels:
        # at least 5 ms apart so a 1 ms tolerance never sees two candidates
        t = np.sort(rng.choice(int(duration * 200), n, replace=False)) / 200.0
        k = kinds[rng.integers(0, 3, n)]
        rows.append(pd.DataFrame({"channel": ch, "time_s": t, "kind": k}))
    return pd.concat(rows, ignore_index=True)


def test_match_events_hand_made():
    truth = [1.0, 2.0, 3.0, 3.0015]
    det = [1.0008, 2.0021, 3.0009, 5.0]
    pairs, ut, ud = match_events(truth, det, 0.001)
    # 1.0 <-> 1.0008; 2.0 vs 2.0021 too far; 3.0009 pairs with the closer 3.0
    # or 3.0015 (both within 1 ms): optimal pairs it with 3.0015 (0.6 ms)
    assert pairs.tolist() == [[0, 0], [3, 2]]
    assert ut.tolist() == [1, 2]
    assert ud.tolist() == [1, 3]


def test_match_events_maximises_pairs_not_greedy():
    # greedy nearest-first would pair 1.0005<->1.0006 and leave two unmatched
    truth = [1.0, 1.0006]
    det = [1.0005, 1.0014]
    pairs, ut, ud = match_events(truth, det, 0.001)
    assert len(pairs) == 2 and ut.size == 0 and ud.size == 0
    assert sorted(pairs.tolist()) == [[0, 0], [1, 1]]


def test_match_events_unsorted_and_nan():
    truth = np.array([5.0, np.nan, 1.0])
    det = np.array([1.0002, 4.9995])
    pairs, ut, ud = match_events(truth, det, 0.001)
    assert pairs.tolist() == [[0, 1], [2, 0]]
    assert ut.tolist() == [1]
    assert ud.size == 0


def test_match_events_large_is_fast_and_exact(rng):
    t = np.sort(rng.uniform(0, 2000, 100_000))
    d = t + rng.uniform(-3e-4, 3e-4, t.size)
    pairs, ut, ud = match_events(t, d, 4e-4)
    # every jittered copy is within the tolerance of its own event, so a
    # maximum matching pairs everything
    assert len(pairs) == t.size and ut.size == 0 and ud.size == 0
    assert np.all(np.abs(t[pairs[:, 0]] - d[pairs[:, 1]]) <= 4e-4)


def test_match_events_bad_tolerance():
    with pytest.raises(ValueError):
        match_events([1.0], [1.0], -1)


def test_truth_against_itself_scores_one(rng):
    truth = _truth(rng)
    scores = score_discharges(truth, truth.copy())
    assert (scores["f1"] == 1.0).all()
    assert (scores["fp"] == 0).all() and (scores["fn"] == 0).all()
    assert scores.iloc[-1]["kind"] == "any"
    assert scores.iloc[-1]["tp"] == len(truth)


def test_jittered_copy_still_matches(rng):
    truth = _truth(rng)
    det = truth.copy()
    det["time_s"] = det["time_s"] + rng.uniform(-3e-4, 3e-4, len(det))
    det = det.sample(frac=1.0, random_state=1)  # order must not matter
    comp = compare_discharges(truth, det, tolerance_ms=1.0)
    assert (comp.scores["f1"] == 1.0).all()
    assert comp.pairs["error_ms"].abs().max() <= 0.3 + 1e-9


def test_random_detector_scores_low(rng):
    truth = _truth(rng)
    det = truth.copy()
    det["time_s"] = rng.uniform(0, 120, len(det))
    det["kind"] = rng.permutation(det["kind"].to_numpy())
    scores = score_discharges(truth, det).set_index("kind")
    # chance of a random time within ±1 ms of one of 400 events in 120 s ~ 0.7 %
    assert scores.loc["any", "f1"] < 0.05
    assert (scores["f1"] < 0.05).all()


def test_known_counts_and_confusion():
    truth = pd.DataFrame(
        {
            "channel": ["A", "A", "A", "B", "B"],
            "time_s": [1.0, 2.0, 3.0, 1.0, 4.0],
            "kind": ["fibrillation", "fibrillation", "positive_sharp_wave", "fibrillation", "fasciculation"],
        }
    )
    det = pd.DataFrame(
        {
            "channel": ["A", "A", "A", "B", "B"],
            "time_s": [1.0005, 3.0002, 7.0, 1.0, 4.0003],
            "kind": ["fibrillation", "fibrillation", "fibrillation", "positive_sharp_wave", "fasciculation"],
        }
    )
    comp = compare_discharges(truth, det, tolerance_ms=1.0)
    s = comp.scores.set_index("kind")
    assert s.loc["fibrillation", ["tp", "fp", "fn"]].tolist() == [1, 2, 2]
    assert s.loc["positive_sharp_wave", ["tp", "fp", "fn"]].tolist() == [0, 1, 1]
    assert s.loc["fasciculation", ["tp", "fp", "fn"]].tolist() == [1, 0, 0]
    assert s.loc["any", ["tp", "fp", "fn"]].tolist() == [4, 1, 1]
    assert s.loc["fibrillation", "precision"] == pytest.approx(1 / 3)
    assert s.loc["fibrillation", "recall"] == pytest.approx(1 / 3)
    c = comp.confusion
    assert c.loc["positive_sharp_wave", "fibrillation"] == 1
    assert c.loc["fibrillation", "positive_sharp_wave"] == 1
    assert c.loc["fibrillation", "(missed)"] == 1
    assert c.loc["(spurious)", "fibrillation"] == 1
    json.dumps(comp.to_dict(), allow_nan=True)


def test_channel_matters():
    truth = pd.DataFrame({"channel": ["A"], "time_s": [1.0], "kind": ["fibrillation"]})
    det = pd.DataFrame({"channel": ["B"], "time_s": [1.0], "kind": ["fibrillation"]})
    s = score_discharges(truth, det).set_index("kind")
    assert s.loc["any", ["tp", "fp", "fn"]].tolist() == [0, 1, 1]


def test_intervals_exclude_both_sides():
    truth = pd.DataFrame(
        {"channel": ["A", "A", "A"], "time_s": [1.0, 5.0, 5.5], "kind": ["fibrillation", "motor_unit_potential", "fibrillation"]}
    )
    det = pd.DataFrame({"channel": ["A", "A"], "time_s": [1.0, 5.2], "kind": ["fibrillation", "fasciculation"]})
    iv = pd.DataFrame({"channel": ["*"], "start_s": [4.0], "stop_s": [6.0], "kind": ["voluntary"]})
    comp = compare_discharges(truth, det, 1.0, iv)
    s = comp.scores.set_index("kind")
    assert s.loc["any", ["tp", "fp", "fn"]].tolist() == [1, 0, 0]
    assert comp.n_excluded_truth == 2 and comp.n_excluded_detected == 1
    # an interval on another channel excludes nothing on A
    iv2 = iv.assign(channel="B")
    s2 = score_discharges(truth, det, 1.0, iv2).set_index("kind")
    assert s2.loc["any", ["tp", "fp", "fn"]].tolist() == [1, 1, 2]


def test_latencies_mep():
    truth = pd.DataFrame(
        {
            "trial": [0, 1, 2, 3, 4, 5],
            "channel": ["ADM"] * 6,
            "present": [True, True, True, True, False, False],
            "onset_ms": [20.0, 21.0, 22.0, 23.0, np.nan, np.nan],
        }
    )
    det = pd.DataFrame(
        {
            "trial": [0, 1, 2, 3, 4, 5],
            "channel": ["ADM"] * 6,
            "present": [True, True, True, False, True, False],
            "onset_ms": [20.5, 20.0, 22.0, np.nan, 30.0, np.nan],
        }
    )
    r = score_latencies(truth, det, "onset_ms", tolerance_ms=0.6)
    assert r["n"] == 3
    assert r["mean_error_ms"] == pytest.approx((0.5 - 1.0 + 0.0) / 3)
    assert r["mae_ms"] == pytest.approx(0.5)
    assert r["detection_rate"] == pytest.approx(0.75)
    assert r["false_present_rate"] == pytest.approx(0.5)
    assert r["within_tolerance_rate"] == pytest.approx(0.5)
    assert r["p95_abs_error_ms"] == pytest.approx(np.percentile([0.5, 1.0, 0.0], 95))


def test_latencies_missing_trials_are_not_detected():
    truth = pd.DataFrame({"trial": [0, 1], "channel": ["APB", "APB"], "m_onset_ms": [3.0, 3.1]})
    det = pd.DataFrame({"trial": [0], "channel": ["APB"], "m_onset_ms": [3.05]})
    r = score_latencies(truth, det, "m_onset_ms")
    assert r["n"] == 1 and r["detection_rate"] == 0.5
    assert np.isnan(r["false_present_rate"])


def _greedy_max_pairs(t, d, tol):
    """Maximum number of pairs on a line (earliest-deadline greedy)."""
    t = np.sort(t)
    d = np.sort(d)
    j = 0
    n = 0
    for x in t:
        while j < len(d) and d[j] < x - tol:
            j += 1
        if j < len(d) and d[j] <= x + tol:
            n += 1
            j += 1
    return n


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.integers(0, 400), max_size=40),
    st.lists(st.integers(0, 400), max_size=40),
    st.integers(0, 6),
)
def test_matching_is_maximum_and_valid(t_ms, d_ms, tol_ms):
    t = np.asarray(t_ms, float) / 1000.0
    d = np.asarray(d_ms, float) / 1000.0
    tol = tol_ms / 1000.0 + 1e-9
    pairs, ut, ud = match_events(t, d, tol)
    assert len(pairs) == _greedy_max_pairs(t, d, tol)
    assert len(set(pairs[:, 0])) == len(pairs) and len(set(pairs[:, 1])) == len(pairs)
    assert np.all(np.abs(t[pairs[:, 0]] - d[pairs[:, 1]]) <= tol)
    assert len(pairs) + len(ut) == len(t) and len(pairs) + len(ud) == len(d)


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.integers(0, 60), min_size=1, max_size=12),
    st.lists(st.integers(0, 60), min_size=1, max_size=12),
    st.integers(1, 8),
)
def test_matching_minimises_error_like_hungarian(t_ms, d_ms, tol_ms):
    """Same pair count and summed error as a dense Hungarian assignment."""
    from scipy.optimize import linear_sum_assignment

    t = np.asarray(t_ms, float)
    d = np.asarray(d_ms, float)
    tol = float(tol_ms)
    diff = np.abs(t[:, None] - d[None, :])
    ok = diff <= tol
    big = tol * (min(t.size, d.size) + 1) + 1.0
    r, c = linear_sum_assignment(np.where(ok, diff - big, 0.0))
    keep = ok[r, c]
    pairs, _, _ = match_events(t, d, tol)
    assert len(pairs) == int(keep.sum())
    assert np.abs(t[pairs[:, 0]] - d[pairs[:, 1]]).sum() == pytest.approx(diff[r[keep], c[keep]].sum())
