"""analyze_mups on simulated voluntary EMG: sorting, features, classification, bad input."""

from __future__ import annotations

import numpy as np
import pytest

from motorsign.mup import DISCHARGE_COLUMNS, UNIT_COLUMNS, analyze_mups
from motorsign.mup.classify import classify_muscle
from motorsign.mup.params import MupParams, resolve_params
from motorsign.mup.reference import lookup_reference
from motorsign.recording import Recording
from motorsign.scoring import match_events
from motorsign.simulate.voluntary import generate


def _assignment(sim, res, factor=2.5):
    rms = sim.meta["signal_rms_uv"]
    n_true = n_ok = 0
    for uid, g in sim.truth.groupby("unit_id"):
        if sim.meta["units"][int(uid)]["amplitude_uv"] <= factor * rms:
            continue
        t = g["time_s"].to_numpy()
        best = max((len(match_events(t, d["time_s"].to_numpy(), 1e-3)[0])
                    for _, d in res.discharges.groupby("unit_id")), default=0)
        n_true += t.size
        n_ok += best
    return n_ok / n_true


@pytest.mark.parametrize("condition, seed", [("normal", 3), ("neurogenic", 4), ("myopathic", 2)])
def test_simulated_muscles_are_classified_and_sorted(condition, seed):
    sim = generate(seed=seed, condition=condition, duration_s=6.0)
    res = analyze_mups(sim.to_recording(), muscle="TA", age_years=50)
    s = res.summary["EMG"]
    assert s["classification"] == condition, s["reasons"]
    assert s["chronic_neurogenic"] == (condition == "neurogenic")
    assert _assignment(sim, res) >= 0.85
    assert list(res.units.columns) == list(UNIT_COLUMNS)
    assert list(res.discharges.columns) == list(DISCHARGE_COLUMNS)
    assert s["reference"]["muscle"] == "TA" and s["reference"]["duration_uln_ms"] == pytest.approx(11.21)
    # the means are those of the units used
    used = res.units[res.units.used]
    assert s["mean_duration_ms"] == pytest.approx(used.duration_ms.mean())
    t = res.templates["EMG"]
    assert t["templates"].shape[0] == len(res.units) and t["fs"] == sim.fs


def test_measured_units_match_their_true_features():
    sim = generate(seed=3, condition="normal", duration_s=6.0)
    res = analyze_mups(sim.to_recording(), muscle="TA")
    truth = {u["unit_id"]: u for u in sim.meta["units"]}
    checked = 0
    for uid, g in res.discharges.groupby("unit_id"):
        # the true unit holding most of this unit's discharges
        best = max(truth, key=lambda k: len(match_events(
            sim.truth[sim.truth.unit_id == k].time_s.to_numpy(), g.time_s.to_numpy(), 1e-3)[0]))
        row = res.units[res.units.unit_id == uid].iloc[0]
        if row.n_discharges < 30:
            continue
        assert row.amplitude_uv == pytest.approx(truth[best]["amplitude_uv"], rel=0.15)
        assert row.duration_ms == pytest.approx(truth[best]["duration_ms"], abs=2.0)
        if "mixed" not in str(row["flags"]):
            assert row.firing_rate_hz == pytest.approx(truth[best]["firing_rate_hz"], rel=0.15)
            checked += 1
    assert checked >= 2


def test_no_voluntary_activity_is_indeterminate(rng):
    rec = Recording.from_array(rng.normal(0, 8, (5 * 20000, 1)).astype(np.float32), 20000.0, ["EMG"])
    s = analyze_mups(rec, muscle="TA").summary["EMG"]
    assert s["classification"] == "indeterminate"
    assert any("no voluntary activity" in r or "too few" in r for r in s["reasons"])


def test_clipping_is_indeterminate():
    sim = generate(seed=3, condition="normal", duration_s=4.0)
    data = np.clip(sim.data_uv, -150.0, 150.0)
    rec = Recording.from_array(data, sim.fs, ["EMG"])
    s = analyze_mups(rec, muscle="TA").summary["EMG"]
    assert s["classification"] == "indeterminate"
    assert any(r.startswith("clipping") for r in s["reasons"])
    assert s["quality"]["clipped_fraction"] > 0.25


def test_too_few_discharges_is_indeterminate():
    sim = generate(seed=3, condition="normal", duration_s=0.6)
    s = analyze_mups(sim.to_recording(), muscle="TA").summary["EMG"]
    assert s["classification"] == "indeterminate"
    assert any("too few" in r for r in s["reasons"])


def test_classify_rules_and_reference_lookup():
    p = MupParams()
    ref = lookup_reference("ta", 60)
    assert ref["matched"] == "muscle"
    assert lookup_reference("deltoid")["matched"] == "fallback"
    base = dict(n_units_used=8, n_discharges=500, clipped_fraction=0.0, active_s=10.0,
                recruitment_ratio=3.0, polyphasic_fraction=0.1, mean_area_uvms=800.0)
    assert classify_muscle({**base, "mean_duration_ms": 9.5, "mean_amplitude_uv": 650}, ref, p)[0] == "normal"
    assert classify_muscle({**base, "mean_duration_ms": 14.0, "mean_amplitude_uv": 1500}, ref, p)[0] == "neurogenic"
    assert classify_muscle({**base, "mean_duration_ms": 6.0, "mean_amplitude_uv": 400}, ref, p)[0] == "myopathic"
    # long but small and polyphasic, recruitment not reduced: chronic myopathic pattern
    cls, why = classify_muscle({**base, "mean_duration_ms": 13.0, "mean_amplitude_uv": 380,
                                "polyphasic_fraction": 0.6}, ref, p)
    assert cls == "myopathic" and any("low-amplitude" in r for r in why)
    # short and large: conflicting
    assert classify_muscle({**base, "mean_duration_ms": 6.0, "mean_amplitude_uv": 1500}, ref, p)[0] == "indeterminate"
    # large with normal duration needs a supporting sign
    assert classify_muscle({**base, "mean_duration_ms": 10.0, "mean_amplitude_uv": 1500}, ref, p)[0] == "normal"
    assert classify_muscle({**base, "mean_duration_ms": 10.0, "mean_amplitude_uv": 1500,
                            "mean_area_uvms": 2000.0}, ref, p)[0] == "neurogenic"


def test_params_overrides_are_checked():
    from motorsign.errors import ConfigError

    assert resolve_params({"detect_k": 6.0}).detect_k == 6.0
    with pytest.raises(ConfigError, match="unknown MUP parameter"):
        resolve_params({"detect_kk": 1})


def test_numpy_engine_agrees():
    sim = generate(seed=3, condition="normal", duration_s=3.0)
    rec = sim.to_recording()
    a = analyze_mups(rec, muscle="TA").discharges
    b = analyze_mups(rec, muscle="TA", engine="numpy").discharges
    pairs, _, _ = match_events(a.time_s.to_numpy(), b.time_s.to_numpy(), 0.5e-3)
    assert len(pairs) >= 0.95 * max(len(a), len(b))


def test_a_short_gap_of_nan_samples_does_not_blank_the_channel():
    """20 ms of NaN (a gap) in a 5-s recording: the units are still found, and it is flagged."""
    sim = generate(seed=3, fs=20000.0, duration_s=5.0)
    x = np.asarray(sim.data_uv, np.float32).copy()
    clean = analyze_mups(Recording.from_array(x, sim.fs, sim.channel_names))
    x[20000:20400] = np.nan
    res = analyze_mups(Recording.from_array(x, sim.fs, sim.channel_names))
    ch = sim.channel_names[0]
    assert res.summary[ch]["n_units"] == clean.summary[ch]["n_units"] >= 3
    assert res.summary[ch]["n_discharges"] >= 0.9 * clean.summary[ch]["n_discharges"]
    assert "non_finite_samples" in res.summary[ch]["quality"]["flags"]
    assert "non_finite_samples" not in clean.summary[ch]["quality"]["flags"]


def test_mains_hum_is_notched_before_measuring():
    """30 µV of 50 Hz hum (with harmonics) is found and notched; mains=off leaves it."""
    sim = generate(seed=1, condition="myopathic", duration_s=10.0, fs=20000.0)
    t = np.arange(sim.data_uv.shape[0]) / sim.fs
    hum = 30.0 * (np.sin(2 * np.pi * 50 * t) + 0.5 * np.sin(2 * np.pi * 150 * t + 1)
                  + 0.3 * np.sin(2 * np.pi * 250 * t + 2))
    rec = Recording.from_array(sim.data_uv + hum[:, None].astype(np.float32), sim.fs,
                               sim.channel_names)
    on = next(iter(analyze_mups(rec, muscle="TA").summary.values()))
    assert on["quality"]["mains"]["notched_hz"] == [50.0, 150.0, 250.0]
    assert "mains_notched" in on["quality"]["flags"]
    assert on["classification"] == "myopathic"  # as without hum
    off = next(iter(analyze_mups(rec, muscle="TA", params={"mains": "off"}).summary.values()))
    assert off["quality"]["mains"]["notched_hz"] == [] and "mains_notched" not in off["quality"]["flags"]
    clean = next(iter(analyze_mups(sim.to_recording(), muscle="TA").summary.values()))
    assert clean["quality"]["mains"]["notched_hz"] == []
