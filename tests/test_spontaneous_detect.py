"""detect_spontaneous: accuracy on simulated needle EMG, bad input, invariances."""

from __future__ import annotations

import json

import numpy as np
import pytest

from motorsign.errors import ConfigError, InputError
from motorsign.recording import Recording
from motorsign.spontaneous import DetectParams, detect_spontaneous
from motorsign.spontaneous.detect import DISCHARGE_COLUMNS

needle_emg = pytest.importorskip("motorsign.simulate.needle_emg")
scoring = pytest.importorskip("motorsign.scoring")


def _sim(seed=0, **kw):
    opts = dict(duration_s=20.0, n_channels=1, fasc_units=2, fasc_rate_per_min=20.0)
    opts.update(kw)
    return needle_emg.generate(seed=seed, **opts)


def _f1(sim, res):
    sc = scoring.score_discharges(sim.truth, res.discharges, tolerance_ms=1.0,
                                  intervals=sim.intervals).set_index("kind")
    return sc


@pytest.fixture(scope="module")
def sim20k():
    return _sim(seed=11)


@pytest.fixture(scope="module")
def res20k(sim20k):
    return detect_spontaneous(sim20k.to_recording())


def test_finds_and_classifies_simulated_discharges(sim20k, res20k):
    sc = _f1(sim20k, res20k)
    for kind in ("fibrillation", "positive_sharp_wave", "fasciculation"):
        assert sc.loc[kind, "n_truth"] > 5
        assert sc.loc[kind, "f1"] >= 0.85, (kind, sc.loc[kind].to_dict())
    assert sc.loc["any", "precision"] >= 0.95


def test_contract_columns_and_summary(sim20k, res20k):
    d = res20k.discharges
    assert list(d.columns[: len(DISCHARGE_COLUMNS)]) == list(DISCHARGE_COLUMNS)
    assert set(d["initial_polarity"]) <= {"positive", "negative"}
    assert set(d["kind"]) <= {"fibrillation", "positive_sharp_wave", "fasciculation",
                              "motor_unit_potential", "end_plate", "complex_repetitive",
                              "artifact", "unclassified"}
    ch = res20k.summary["channels"][sim20k.channel_names[0]]
    for key in ("muscle", "side", "duration_s", "rest_s", "counts", "rates_per_min",
                "fib_psw_grade", "fasciculation_rate_per_min", "trains"):
        assert key in ch
    assert ch["duration_s"] == pytest.approx(20.0)
    assert ch["rest_s"] == pytest.approx(20.0)
    assert ch["fib_psw_grade"] in ("1+", "2+", "3+", "4+")
    assert "rest_too_short_to_exclude_fasciculations" in ch["flags"]
    n_fasc = int((d["kind"] == "fasciculation").sum())
    assert ch["fasciculation_rate_per_min"] == pytest.approx(n_fasc / (20.0 / 60.0))
    for t in ch["trains"]:
        assert set(t) >= {"train_id", "kind", "n", "rate_hz", "isi_cv"}
        assert (d["train_id"] == t["train_id"]).sum() == t["n"]
    assert "per minute of rest" in res20k.summary["fib_psw_grade_rule"]
    fib_trains = [t for t in ch["trains"] if t["kind"] == "fibrillation"]
    assert fib_trains and any(t["regular"] for t in fib_trains)
    fasc_trains = [t for t in ch["trains"] if t["kind"] == "fasciculation"]
    assert all(not t["regular"] for t in fasc_trains)


def test_time_is_the_largest_recorded_peak(sim20k, res20k):
    truth = sim20k.truth
    d = res20k.discharges
    det = np.sort(d["time_s"].to_numpy())
    err = []
    for t in truth["time_s"]:
        j = np.searchsorted(det, t)
        cand = det[max(0, j - 1): j + 1]
        if cand.size:
            e = np.min(np.abs(cand - t))
            if e < 0.001:
                err.append(e)
    err = np.array(err)
    assert err.size > 0.8 * len(truth)
    assert np.median(err) < 0.0001
    assert np.mean(err <= 0.0005) > 0.97


@pytest.mark.parametrize("fs", [4000.0, 48000.0])
def test_any_sampling_rate(fs):
    sim = _sim(seed=3, fs=fs, duration_s=12.0)
    res = detect_spontaneous(sim.to_recording())
    sc = _f1(sim, res)
    assert sc.loc["any", "f1"] >= 0.8
    assert sc.loc["positive_sharp_wave", "f1"] >= 0.75


def test_both_polarities_found():
    fs = 20000.0
    rng = np.random.default_rng(0)
    x = rng.normal(0, 3, size=int(10 * fs)).astype(np.float32)
    t = np.arange(-40, 41) / fs
    spike = (60 * t / 0.0003 * np.exp(-0.5 * (t / 0.0003) ** 2)).astype(np.float32)
    times = np.arange(0.5, 9.5, 0.25)
    for k, tt in enumerate(times):
        i = int(tt * fs)
        x[i - 40: i + 41] += spike if k % 2 else -spike
    res = detect_spontaneous(Recording.from_array(x, fs, ["A"]))
    det = res.discharges["time_s"].to_numpy()
    found = sum(np.min(np.abs(det - tt)) < 0.001 for tt in times)
    assert found == len(times)


def test_threads_give_the_same_result(sim20k, res20k):
    res2 = detect_spontaneous(sim20k.to_recording(), n_jobs=2)
    assert res2.discharges.equals(res20k.discharges)


@pytest.mark.parametrize("n_jobs", [1, 2])
def test_chunk_batches_change_no_number(monkeypatch, n_jobs):
    # chunks read and analysed together in one compiled call (and the pool filled
    # a batch at a time) give what chunks one by one give; 3 segments, 0.5-s chunks
    import motorsign.spontaneous.detect as det

    sim = _sim(seed=4, n_channels=3, duration_s=14.0)
    x = sim.data_uv
    rec = Recording.from_array([x[:90000], x[90000:100000], x[100000:]], sim.fs, sim.channel_names)
    params = {"chunk_s": 0.5}
    monkeypatch.setattr(det, "_BATCH_BYTES", 0)  # one chunk per call
    one = detect_spontaneous(rec, n_jobs=n_jobs, params=params)
    monkeypatch.setattr(det, "_BATCH_BYTES", 8 << 20)
    ctx = det._Context(rec, np.arange(3), det.make_params(params), measure_mains=False)
    run = det._ChunkRun(ctx, n_jobs)
    assert max(len(b) for b in run.batches) >= 2  # batches do form
    batched = detect_spontaneous(rec, n_jobs=n_jobs, params=params)
    assert batched.discharges.equals(one.discharges)
    assert batched.intervals.equals(one.intervals)
    # NaN-safe: the summaries as JSON text
    assert json.dumps(batched.summary, sort_keys=True, default=str) == json.dumps(
        one.summary, sort_keys=True, default=str)


@pytest.mark.parametrize("n_jobs", [1, 2, 3])
def test_chunk_batches_shrink_towards_the_end_with_threads(n_jobs):
    # every chunk once, in order; with threads the last batches are single chunks
    # (the threads finish within about one chunk of each other), serially not
    import motorsign.spontaneous.detect as det

    rec = Recording.from_array(np.zeros((20000 * 120, 4), np.float32), 20000.0,
                               ["a", "b", "c", "d"])
    ctx = det._Context(rec, np.arange(4), det.make_params({"chunk_s": 0.5}), measure_mains=False)
    ctx.mains = {}
    run = det._ChunkRun(ctx, n_jobs)
    sizes = [len(b) for b in run.batches]
    assert [k for b in run.batches for k in b] == list(range(len(run.tasks)))
    assert max(sizes) >= 4
    if n_jobs == 1:
        assert len(set(sizes[:-1])) == 1
    else:
        assert sizes[-2 * n_jobs:] == [1] * (2 * n_jobs)
        assert all(a >= b for a, b in zip(sizes[-12:], sizes[-11:]))


def test_noise_only_gives_no_fibrillations():
    sim = needle_emg.generate(seed=5, duration_s=20.0, n_channels=2, fib_trains=0,
                              psw_trains=0, fasc_units=0)
    res = detect_spontaneous(sim.to_recording())
    for ch in res.summary["channels"].values():
        assert ch["fib_psw_grade"] == "0"
        assert ch["counts"]["fasciculation"] == 0
        assert ch["counts"]["fibrillation"] + ch["counts"]["positive_sharp_wave"] <= 3


def test_flat_nan_and_clipped_channels_are_flagged_not_invented():
    fs = 10000.0
    n = int(10 * fs)
    rng = np.random.default_rng(1)
    flat = np.zeros(n, np.float32)
    nan = rng.normal(0, 4, n).astype(np.float32)
    nan[20000:40000] = np.nan
    t = np.arange(n) / fs
    clip = rng.normal(0, 4, n) + 3000 * np.sin(2 * np.pi * 0.5 * t)
    clip = np.clip(clip, -1000, 1000).astype(np.float32)  # amplifier saturation
    rec = Recording.from_array(np.stack([flat, nan, clip], 1), fs, ["flat", "nan", "clip"])
    res = detect_spontaneous(rec)
    ch = res.summary["channels"]
    assert "flat_channel" in ch["flat"]["flags"] and "flat_or_clipped" in ch["flat"]["flags"]
    assert (res.discharges["channel"] == "flat").sum() == 0
    assert "nan_samples" in ch["nan"]["flags"]
    nan_rows = res.discharges[(res.discharges["channel"] == "nan")
                              & (res.discharges["time_s"].between(2.0, 4.0))]
    assert set(nan_rows["kind"]) <= {"artifact"}
    assert ch["nan"]["rest_s"] < 8.5
    assert "flat_or_clipped" in ch["clip"]["flags"]
    assert ch["clip"]["counts"]["fibrillation"] == 0


def test_voluntary_activity_is_not_spontaneous():
    sim = needle_emg.generate(seed=2, duration_s=16.0, n_channels=1, fib_trains=0, psw_trains=0,
                              fasc_units=0, voluntary=1, voluntary_s=(6.0, 6.0))
    res = detect_spontaneous(sim.to_recording())
    iv = res.intervals[res.intervals["kind"] == "activity"]
    true = sim.intervals[sim.intervals["kind"] == "voluntary"].iloc[0]
    covered = sum(max(0.0, min(b, true.stop_s) - max(a, true.start_s))
                  for a, b in zip(iv.start_s, iv.stop_s))
    assert covered >= 0.9 * (true.stop_s - true.start_s)
    ch = next(iter(res.summary["channels"].values()))
    assert ch["counts"]["fasciculation"] <= 1
    assert ch["counts"]["motor_unit_potential"] > 20
    assert ch["rest_s"] < 11.0


def test_whole_recording_active_has_no_rest():
    sim = needle_emg.generate(seed=4, duration_s=8.0, n_channels=1, fib_trains=0, psw_trains=0,
                              fasc_units=0, voluntary=1, voluntary_s=(7.4, 7.4))
    res = detect_spontaneous(sim.to_recording())
    ch = next(iter(res.summary["channels"].values()))
    assert ch["rest_s"] < 1.0
    assert "rest_too_short_to_exclude_fasciculations" in ch["flags"] or "no_rest" in ch["flags"]
    assert ch["counts"]["fasciculation"] == 0


def test_bad_parameters_and_inputs():
    rec = Recording.from_array(np.zeros((1000, 1), np.float32), 20000.0, ["A"])
    with pytest.raises(ConfigError, match="unknown detect parameter"):
        detect_spontaneous(rec, params={"no_such": 1})
    with pytest.raises(ConfigError):
        detect_spontaneous(rec, params={"highpass_hz": 5000.0, "lowpass_hz": 3000.0})
    with pytest.raises(InputError, match="no channel named"):
        detect_spontaneous(rec, channels=["B"])
    slow = Recording.from_array(np.zeros((1000, 1), np.float32), 250.0, ["A"])
    with pytest.raises(InputError, match="sampling rate"):
        detect_spontaneous(slow)
    assert DetectParams().to_dict()["threshold_k"] > 0


def test_removed_psw_tail_parameters_are_ignored_with_a_warning(caplog):
    from motorsign.spontaneous.params import make_params

    with caplog.at_level("WARNING"):
        p = make_params({"psw_tail_end_ms": 20.0, "threshold_k": 5.0})
    assert p.threshold_k == 5.0
    assert "psw_tail_end_ms is ignored" in caplog.text
    with pytest.raises(ConfigError):
        make_params({"psw_tail_length_ms": 1.0})
