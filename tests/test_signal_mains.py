"""Mains hum: finding it, sizing it, notching it, and what detect does with it."""

from __future__ import annotations

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
