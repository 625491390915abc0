"""Mains hum: finding it, sizing it, notching it, and what detect does with it."""

from __future__ import annotations

import json

import numpy as np
import pytest

from motorsign.errors import ConfigError
from motorsign.recording import Recording
from motorsign.signal.filters import design_sos, sosfiltfilt_nb
from motorsign.signal.mains import design_notches, estimate_mains, notch_settling_s
from motorsign.spontaneous import detect_spontaneous
from motorsign.spontaneous.params import make_params

FS = 10000.0
BAND = np.vstack([design_sos(FS, 3000.0, "lowpass", 2), design_sos(FS, 100.0, "highpass", 2)])


def _hum(n, fs, f0, amp, harmonics=((1, 1.0), (3, 0.5), (5, 0.3)), seed=0):
    rng = np.random.default_rng(seed)
    t = np.arange(n) / fs
    return sum(amp * rel * np.sin(2 * np.pi * h * f0 * t + rng.uniform(0, 6.3))
               for h, rel in harmonics)


@pytest.mark.parametrize("f0", [50.0, 60.0])
def test_finds_the_mains_frequency_and_its_harmonics(f0):
    n = int(4 * FS)
    rng = np.random.default_rng(1)
    x = np.stack([rng.normal(0, 8, n) + _hum(n, FS, f0, 20.0),
                  rng.normal(0, 8, n)], axis=1).astype(np.float32)
    est = estimate_mains([x], FS, BAND)
    assert est.hz == f0
    assert est.harmonics_hz == [f0, 3 * f0, 5 * f0]
    # the hum raises the band noise of its channel (1.0 on the clean one)
    assert est.inflation[0] > 1.5 and abs(est.inflation[1] - 1.0) < 0.02
    assert est.hum_uv[0] > 5.0 and est.hum_uv[1] < 0.5


def test_threads_split_channels_without_changing_a_number():
    # 20 channels: blocks of whole filter vectors (8) and a scalar rest, several windows
    rng = np.random.default_rng(3)
    n = int(3 * FS)
    windows = [(rng.normal(0, 5, (n, 20))
                + _hum(n, FS, 50.0, 25.0, seed=k)[:, None] * rng.uniform(0.2, 1.0, 20)
                ).astype(np.float32) for k in range(3)]
    ref = estimate_mains(windows, FS, BAND, n_jobs=1)
    assert ref.hz == 50.0 and np.all(ref.inflation > 1.0)
    for n_jobs in (2, 3):
        est = estimate_mains(windows, FS, BAND, n_jobs=n_jobs)
        assert est.harmonics_hz == ref.harmonics_hz
        for name in ("hum_uv", "noise_uv", "inflation"):
            np.testing.assert_array_equal(getattr(est, name), getattr(ref, name))


@pytest.mark.parametrize("setting,hum_uv", [("auto", 0.0), ("auto", 30.0), ("50", 30.0),
                                             ("off", 30.0)])
def test_hum_measured_alongside_the_chunks_changes_nothing(setting, hum_uv):
    # with threads the hum is measured while the first chunks run with the notches
    # known beforehand; hum that calls for notches (auto, 30 µV) makes them run again
    rng = np.random.default_rng(7)
    n = int(12 * FS)
    x = (rng.normal(0, 8, (n, 3)) + _hum(n, FS, 50.0, hum_uv)[:, None]).astype(np.float32)
    x[::4000] += 150.0  # discharges to find
    rec = Recording.from_array(x, FS, ["A", "B", "C"])
    ref = detect_spontaneous(rec, params={"mains": setting, "chunk_s": 1.0})
    assert (len(ref.summary["mains"]["notched_hz"]) > 0) == (hum_uv > 0 and setting != "off")
    for n_jobs in (2, 3):
        res = detect_spontaneous(rec, params={"mains": setting, "chunk_s": 1.0}, n_jobs=n_jobs)
        assert res.discharges.equals(ref.discharges)
        assert res.intervals.equals(ref.intervals)
        assert json.dumps(res.summary, sort_keys=True, default=str) == json.dumps(
            ref.summary, sort_keys=True, default=str)  # NaN-safe


def test_no_hum_in_white_noise():
    for seed in range(5):
        x = np.random.default_rng(seed).normal(0, 10, (int(4 * FS), 3)).astype(np.float32)
        est = estimate_mains([x], FS, BAND)
        assert est.hz is None and est.harmonics_hz == []


def test_notch_removes_its_line_and_keeps_the_rest():
    fs = 20000.0
    sos = design_notches(fs, [50.0, 150.0], 4.0)
    assert sos.shape == (2, 6)
    n = int(4 * fs)
    t = np.arange(n) / fs
    for f, kept in ((150.0, False), (50.0, False), (400.0, True), (1000.0, True)):
        x = np.sin(2 * np.pi * f * t).astype(np.float32)[:, None]
        y = np.empty_like(x)
        sosfiltfilt_nb(x, sos, y)
        core = y[n // 4: -n // 4, 0]
        core = core - core.mean()  # each pass starts from its first sample: a constant offset
        rms = float(np.sqrt(np.mean(core ** 2)))
        if kept:
            assert rms == pytest.approx(1 / np.sqrt(2), rel=0.02)
        else:
            assert rms < 0.01
    assert notch_settling_s(4.0) == pytest.approx(5 / (np.pi * 4.0))
    with pytest.raises(ConfigError, match="does not fit"):
        design_notches(1000.0, [500.0], 4.0)


def test_mains_parameter_is_validated():
    assert make_params({"mains": "50 Hz"}).mains == "50"
    assert make_params({"mains": 60}).mains == "60"
    assert make_params({"mains": "none"}).mains == "off"
    with pytest.raises(ConfigError, match="auto, off, 50 or 60"):
        make_params({"mains": "55"})


def test_detect_notches_strong_hum_and_recovers_fibrillations():
    """Hum of 30 µV hides most fibrillations; the automatic notch brings them back."""
    needle_emg = pytest.importorskip("motorsign.simulate.needle_emg")
    scoring = pytest.importorskip("motorsign.scoring")
    sim = needle_emg.generate(seed=5, duration_s=15.0, fs=FS, n_channels=1, mains_uv=0.0,
                              fasc_units=0)
    n = sim.data_uv.shape[0]
    x = sim.data_uv + _hum(n, FS, 60.0, 30.0)[:, None].astype(np.float32)
    rec = Recording.from_array(x, FS, sim.channel_names)
    f1 = {}
    for setting in ("off", "auto"):
        res = detect_spontaneous(rec, params={"mains": setting})
        sc = scoring.score_discharges(sim.truth, res.discharges, tolerance_ms=1.0,
                                      intervals=sim.intervals).set_index("kind")
        f1[setting] = float(sc.loc["fibrillation", "f1"])
        flags = res.summary["channels"][sim.channel_names[0]]["flags"]
        mains = res.summary["mains"]
        if setting == "auto":
            assert mains["hz"] == 60.0 and mains["notched_hz"][:3] == [60.0, 180.0, 300.0]
            assert "mains_notched" in flags
        else:
            assert mains["notched_hz"] == [] and "mains_notched" not in flags
    assert f1["off"] < 0.5, f1  # the hum does hide them ...
    assert f1["auto"] >= 0.9, f1  # ... and the notch recovers them


def test_hum_left_in_place_is_flagged():
    n = int(10 * FS)
    rng = np.random.default_rng(3)
    x = (rng.normal(0, 8, n) + _hum(n, FS, 50.0, 30.0))[:, None].astype(np.float32)
    rec = Recording.from_array(x, FS, ["EMG1"])
    res = detect_spontaneous(rec, params={"mains": "off"})
    assert res.summary["mains"]["notched_hz"] == []
    assert "mains_interference" in res.summary["channels"]["EMG1"]["flags"]
    assert "mains_notched" not in res.summary["channels"]["EMG1"]["flags"]


def test_hum_is_probed_on_the_longest_segment():
    """A short first segment must not hide the hum of the rest of the recording."""
    rng = np.random.default_rng(4)
    segs = []
    for dur in (0.5, 8.0):
        n = int(dur * FS)
        segs.append((rng.normal(0, 5, n) + _hum(n, FS, 50.0, 30.0))[:, None].astype(np.float32))
    res = detect_spontaneous(Recording.from_array(segs, FS, ["EMG1"]))
    assert res.summary["mains"]["hz"] == 50.0
    assert res.summary["mains"]["notched_hz"][:3] == [50.0, 150.0, 250.0]
    assert "mains_notched" in res.summary["channels"]["EMG1"]["flags"]


def test_every_notched_channel_is_flagged():
    """Forced notches reach every channel, hum or not: each one says so."""
    rng = np.random.default_rng(5)
    n = int(4 * FS)
    x = np.stack([rng.normal(0, 5, n), rng.normal(0, 5, n) + _hum(n, FS, 50.0, 30.0)],
                 axis=1).astype(np.float32)
    res = detect_spontaneous(Recording.from_array(x, FS, ["EMG1", "EMG2"]),
                             params={"mains": "50"})
    assert res.summary["mains"]["notched_hz"][:2] == [50.0, 100.0]
    for ch in ("EMG1", "EMG2"):
        assert "mains_notched" in res.summary["channels"][ch]["flags"]
        assert "mains_interference" not in res.summary["channels"][ch]["flags"]


def test_notch_start_up_at_segment_ends_gives_no_discharges():
    """Noise plus strong hum, three segments: once notched, nothing is found at their ends.

    The notches start from rest at each segment's ends and ring with the hum
    for a few of their time constants; before that stretch was left out of
    detection it gave a dozen "positive sharp waves" and "fasciculations"
    per segment at 100 µV of hum.
    """
    rng = np.random.default_rng(6)
    n = int(4 * FS)
    segs = [(rng.normal(0, 5, n) + _hum(n, FS, 50.0, 100.0, seed=k))[:, None].astype(np.float32)
            for k in range(3)]
    res = detect_spontaneous(Recording.from_array(segs, FS, ["EMG1"]))
    assert res.summary["mains"]["notched_hz"][:3] == [50.0, 150.0, 250.0]
    d = res.discharges
    within = d["time_s"].to_numpy() % 4.0  # segments end to end, 4 s each
    near_edge = (within < 0.5) | (within > 3.5)
    assert not near_edge.any(), d[["time_s", "kind"]].to_string()
    assert len(d) <= 2  # what noise alone gives at 4.5 SD over 12 s (0-1 here)
    # the segments were continued past their ends (whole hum periods away), so
    # everything was analysed: no artifact interval, all of it rest
    assert (res.intervals["kind"] == "artifact").sum() == 0
    assert res.summary["channels"]["EMG1"]["rest_s"] == pytest.approx(12.0, abs=0.01)


def test_segments_too_short_to_continue_leave_their_ends_out():
    """0.7-s sweeps cannot be continued by 0.4 s of their own: their ends become artifact."""
    rng = np.random.default_rng(8)
    n = int(0.7 * FS)
    segs = [(rng.normal(0, 5, n) + _hum(n, FS, 50.0, 100.0, seed=k))[:, None].astype(np.float32)
            for k in range(6)]
    res = detect_spontaneous(Recording.from_array(segs, FS, ["EMG1"]), params={"mains": "50"})
    d = res.discharges
    assert len(d) <= 1, d[["time_s", "kind"]].to_string()
    art = res.intervals[res.intervals["kind"] == "artifact"]
    assert len(art) >= 6  # each sweep's ends (merged where they cover the whole sweep)
    assert res.summary["channels"]["EMG1"]["rest_s"] < 0.5


def test_forced_notch_rule_names_the_highest_harmonic_notched():
    """mains=50 on a 2-kHz surface recording: notches up to the 450 Hz low-pass, and says so."""
    fs = 2000.0
    rng = np.random.default_rng(7)
    x = rng.normal(0, 5, (int(4 * fs), 1)).astype(np.float32)
    res = detect_spontaneous(Recording.from_array(x, fs, ["S1"]), params={"mains": "50"})
    m = res.summary["mains"]
    assert m["notched_hz"] == [50.0 * h for h in range(1, 10)]  # 50 .. 450 Hz
    assert "up to 450 Hz" in m["rule"] and "1000" not in m["rule"]


def test_hum_not_measurable_on_short_sweeps_is_said():
    """Sweeps of 1.5 s are too short to size the hum: flagged, never silently assumed absent."""
    segs = [np.random.default_rng(k).normal(0, 8, (int(1.5 * FS), 1)).astype(np.float32)
            for k in range(4)]
    res = detect_spontaneous(Recording.from_array(segs, FS, ["EMG1"]))
    assert res.summary["mains"]["measured"] is False
    assert "mains_not_measured" in res.summary["channels"]["EMG1"]["flags"]
    whole = detect_spontaneous(Recording.from_array(np.concatenate(segs), FS, ["EMG1"]))
    assert whole.summary["mains"]["measured"] is True
    assert "mains_not_measured" not in whole.summary["channels"]["EMG1"]["flags"]
