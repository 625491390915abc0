"""M-waves and F-waves on simulated nerve sessions; repeaters; artifact helpers."""

from __future__ import annotations

import numpy as np
import pytest

from motorsign.errors import AnalysisError
from motorsign.evoked.nerve import NerveOptions, analyze_nerve, find_repeaters, summarize_nerve
from motorsign.signal.artifact import interpolate_gaps
from motorsign.simulate.nerve import generate


@pytest.mark.parametrize("muscle,fs", [("APB", 10000.0), ("TA", 5000.0)])
def test_m_and_f_waves_against_truth(muscle, fs):
    res = generate(seed=1, muscle=muscle, fs=fs, n_trials=30)
    table = analyze_nerve(res.to_recording(), "ES")
    s = summarize_nerve(table)[muscle]
    tr = res.truth
    m = table.merge(tr, on=["trial", "channel"], suffixes=("", "_true"))
    assert (m["m_onset_ms"] - m["m_onset_ms_true"]).abs().mean() <= 0.2
    assert abs(s["f_min_latency_ms"] - tr["f_latency_ms"].min()) <= 0.3
    assert abs(s["f_persistence"] - tr["f_present"].mean()) <= 0.05
    assert abs(s["cmap_amplitude_mv"] - tr["m_amplitude_mv"].median()) < 0.2
    both = m["f_present"] & m["f_present_true"]
    assert (m.loc[both, "f_latency_ms"] - m.loc[both, "f_latency_ms_true"]).abs().median() < 0.3
    assert m.loc[~m["f_present"], "f_latency_ms"].isna().all()
    assert s["f_chronodispersion_ms"] > 0 and s["n_stimuli"] == 30


def test_no_f_waves_means_zero_persistence_and_nan_latency():
    res = generate(seed=2, n_trials=12, persistence=0.0)
    s = summarize_nerve(analyze_nerve(res.to_recording(), "ES"))["APB"]
    assert s["f_persistence"] == 0.0
    assert np.isnan(s["f_min_latency_ms"]) and np.isnan(s["f_chronodispersion_ms"])


def test_window_past_the_recording_is_an_error():
    res = generate(seed=0, n_trials=3)
    with pytest.raises(AnalysisError, match="too short"):
        analyze_nerve(res.to_recording(), "ES", post_ms=30.0)


def test_repeaters_grouped_by_latency_and_shape():
    t = np.linspace(0, 1, 50)
    a, b = np.sin(6 * t), np.cos(9 * t)
    segs = np.array([a, a * 1.1, b, a, b + 0.001])
    ids = find_repeaters(segs, np.array([26.0, 26.1, 27.0, 29.0, 27.2]), 0.4, 0.9)
    assert ids[0] == ids[1] >= 0 and ids[2] == ids[4] >= 0 and ids[0] != ids[2] and ids[3] == -1


def test_repeaters_from_the_simulator():
    res = generate(seed=3, n_trials=30, persistence=1.0)
    table = analyze_nerve(res.to_recording(), "ES", options=NerveOptions())
    m = table.merge(res.truth, on=["trial", "channel"], suffixes=("", "_true"))
    found = m[m["f_repeater_id"] >= 0]
    # trials sharing a repeater id come from the same motoneuron
    purity = found.groupby("f_repeater_id")["motoneuron"].nunique()
    assert len(found) > 10 and (purity == 1).mean() >= 0.8


def test_interpolate_gaps_is_linear():
    x = np.arange(20, dtype=np.float32)[None, :].repeat(2, 0).copy()
    x[:, 5:9] = 1000
    interpolate_gaps(x, np.array([5, 5]), np.array([9, 9]))
    assert np.allclose(x[0], np.arange(20))
