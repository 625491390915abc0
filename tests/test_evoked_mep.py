"""MEP measures: accuracy on simulated sessions, absent trials, artifacts, bursts, failures."""

from __future__ import annotations

import math

import numpy as np
import pytest

from motorsign.errors import AnalysisError, ConfigError, InputError
from motorsign.evoked.epochs import group_bursts, make_epochs
from motorsign.evoked.mep import (
    MepOptions,
    analyze_meps,
    fit_recruitment,
    measure_epochs,
    summarize,
)
from motorsign.evoked.tables import MepWindow, mep_window
from motorsign.recording import Event, Recording
from motorsign.simulate.tms import generate


def _merged(res, **kw):
    table, _ = analyze_meps(res.to_recording(), "TMS", **kw)
    return table.merge(res.truth, on=["trial", "channel"], suffixes=("", "_true"))


@pytest.mark.parametrize("fs,muscles", [(5000.0, "APB,TA"), (3000.0, "FDI")])
def test_onset_accuracy_and_absent_trials(fs, muscles):
    m = _merged(generate(seed=3, fs=fs, muscles=muscles, n_trials=40))
    assert (m["present"] == m["present_true"]).all()
    err = (m["onset_ms"] - m["onset_ms_true"])[m["present_true"]]
    assert err.notna().all()
    assert err.abs().mean() <= 0.3
    assert m.loc[~m["present_true"], "onset_ms"].isna().all()
    assert (m["method"] == "consensus").all()


def test_low_snr_never_invents_onsets_for_absent_trials():
    m = _merged(generate(seed=5, n_trials=40, noise_uv=25.0, absent_fraction=0.5))
    absent = ~m["present_true"]
    assert absent.sum() > 10
    assert (m.loc[absent, "present"] == False).mean() >= 0.98  # noqa: E712
    assert m.loc[absent & ~m["present"], "onset_ms"].isna().all()


def test_stimulus_artifact_is_not_a_response():
    fs, n_tr, stim = 5000.0, 20, 250
    rng = np.random.default_rng(0)
    x = rng.normal(0, 5, (n_tr, 750)).astype(np.float32)
    # a large artifact with a slow tail reaching into an early window
    tail = 3000 * np.exp(-np.arange(500) / (2.0 * fs / 1000))
    x[:, stim:stim + 500] += tail.astype(np.float32)
    r = measure_epochs(x, stim, fs, MepWindow("x", 2.0, 30.0, 50.0))
    assert not r["present"].any()
    assert np.isnan(r["onset_ms"]).all()
    assert np.all(r["flags"] & 16)  # onset_before_window: the deflection began in the blank


def test_artifact_tail_subtracted_and_flagged():
    fs, stim = 3000.0, 150
    t = np.arange(601)
    rng = np.random.default_rng(1)
    tr = []
    for _ in range(5):
        y = rng.normal(0, 1.0, 601)
        y[stim:] += 600 * np.exp(-(t[stim:] - stim) / (25.0 * fs / 1000))  # 25 ms decay
        on = stim + int(30 * fs / 1000)
        u = (t - on) / (6 * fs / 1000)
        y += np.where((u >= 0) & (u < 1), -400 * np.sin(np.pi * u), 0)
        tr.append(y)
    r = measure_epochs(np.array(tr, np.float32), stim, fs, mep_window("TA"))
    assert r["present"].all()
    assert np.all(np.abs(r["onset_ms"] - 30.0) < 1.5)
    assert np.all(r["flags"] & 16384)


def test_saturated_trial_is_flagged_and_amplitude_not_reported():
    res = generate(seed=2, n_trials=10, absent_fraction=0.0, amp_min_uv=2000, amp_max_uv=3000)
    data = res.data_uv.copy()
    np.clip(data, -600, 600, out=data)
    rec = Recording.from_array(data, res.fs, res.channel_names, events=res.to_recording().events)
    table, _ = analyze_meps(rec, "TMS")
    assert table["flags"].str.contains("saturated").all()
    assert table["peak_to_peak_uv"].isna().all()


def test_missing_trigger_and_short_recording():
    res = generate(seed=0, n_trials=3)
    rec = res.to_recording()
    with pytest.raises(InputError, match="matches no event"):
        analyze_meps(rec, "NotThere")
    short = Recording.from_array(np.zeros((100, 1), np.float32), 5000.0, ["APB"],
                                 events=[Event("Stimulus/TMS", 0.01)])
    with pytest.raises(AnalysisError, match="too short"):
        analyze_meps(short, "TMS")
    # a trial whose epoch runs past the end is flagged, not measured
    data = res.data_uv[: int((res.truth.trigger_time_s.iloc[-1] + 0.05) * res.fs)]
    rec2 = Recording.from_array(data, res.fs, res.channel_names, events=rec.events)
    t2, _ = analyze_meps(rec2, "TMS")
    last = t2.iloc[-1]
    assert "not_measured" in last["flags"] and not last["present"] and math.isnan(last["onset_ms"])
    assert summarize(t2)["APB"]["n_trials"] == 2


def test_paired_pulses_group_into_one_trial():
    res = generate(seed=4, n_trials=12, paired_pulse_ms=3.0)
    assert len(res.markers) == 24
    m = _merged(res)
    assert len(m) == 12
    assert (m["n_pulses"] == 2).all()
    err = (m["onset_ms"] - m["onset_ms_true"])[m["present_true"]]
    assert err.abs().mean() < 0.4
    rec = res.to_recording()
    ep_all = make_epochs(rec, "TMS", pulse="all")
    assert ep_all.n_trials == 24 and ep_all.overlapping.all()
    ep2 = make_epochs(rec, "TMS", pulse=2)
    assert ep2.n_trials == 12
    assert np.allclose(ep2.trigger_time_s - res.truth.trigger_time_s.to_numpy(), 0.003, atol=1e-3)


def test_group_bursts_rule():
    assert group_bursts(np.array([0.0, 0.0014, 1.0, 2.0, 2.05]), 0.1) == [[0, 1], [2], [3, 4]]


def test_preactivation_and_silent_period():
    res = generate(seed=7, n_trials=10, preactivation_uv=60.0, absent_fraction=0.0, silent_period_ms=100.0,
                   amp_min_uv=1000.0)
    table, _ = analyze_meps(res.to_recording(), "TMS")
    m = table.merge(res.truth, on=["trial", "channel"], suffixes=("", "_true"))
    assert m["preactivated"].all()
    assert m["present"].all()
    err = (m["silent_period_ms"] - m["silent_period_ms_true"]).abs()
    assert err.notna().mean() >= 0.8
    assert err.median() < 8.0


def test_recruitment_fit_recovers_boltzmann():
    i = np.linspace(90, 160, 29)
    a = 2000 / (1 + np.exp((125 - i) / 6.0)) + np.random.default_rng(0).normal(0, 20, i.size)
    r = fit_recruitment(i, a)
    assert r["ok"] and abs(r["i50"] - 125) < 2 and abs(r["amax_uv"] - 2000) < 150


def test_bad_options():
    with pytest.raises(ConfigError):
        MepOptions(method="nope").check()
    with pytest.raises(ConfigError):
        mep_window("APB", (30.0, 10.0))


def test_window_table_rows():
    w = mep_window("TA")
    assert w.onset_min_ms < w.typical_onset_min_ms and w.onset_max_ms > w.typical_onset_max_ms
    assert mep_window("unknown_muscle").muscle == "default"


def test_analog_trigger_subsample_latency():
    # a TMS session whose pulses are also a square wave on a trigger channel
    res = generate(seed=8, n_trials=8, absent_fraction=0.0)
    n = res.data_uv.shape[0]
    trig = np.zeros(n, np.float32)
    for s0 in (np.asarray(res.truth["trigger_time_s"]) * res.fs).round().astype(int):
        trig[s0:s0 + 50] = 5000.0
    data = np.column_stack([res.data_uv[:, 0], trig])
    rec = Recording.from_array(data, res.fs, ["APB", "TRIG"])
    table, _ = analyze_meps(rec, "analog:TRIG")
    assert list(table["channel"].unique()) == ["APB"]
    err = (table["onset_ms"] - res.truth["onset_ms"]).abs()
    assert len(table) == 8 and err.max() < 0.8


def test_trial_without_baseline_is_not_measured_not_absent():
    x = np.random.default_rng(0).normal(0, 5, (3, 600)).astype(np.float32)
    segs = [x[i][:, None] for i in range(3)]
    rec = Recording.from_array(segs, 5000.0, ["APB"], events=[Event("stimulus", 2 / 5000, i, "epoch")
                                                              for i in range(3)])
    table, _ = analyze_meps(rec, None, muscle="APB")
    assert (~table["measured"]).all() and table["flags"].str.contains("no_baseline").all()
    assert summarize(table)["APB"]["n_trials"] == 0
