"""needle-emg simulator: truth consistency, firing patterns, files, determinism."""

from __future__ import annotations

import hashlib
import importlib.util

import numpy as np
import pandas as pd
import pytest

from motorsign.cli import main
from motorsign.errors import ConfigError
from motorsign.simulate import needle_emg
from motorsign.simulate.base import DISCHARGE_TRUTH_COLUMNS, INTERVAL_COLUMNS

QUIET = {"noise_uv": 0.0, "mains_uv": 0.0, "wander_uv": 0.0}
SMALL = {
    "duration_s": 12.0,
    "fs": 10000.0,
    "n_channels": 2,
    "fib_trains": 2,
    "psw_trains": 1,
    "fasc_units": 1,
    "fasc_rate_per_min": 30.0,
    "voluntary": 1,
    "voluntary_units": 2,
    "voluntary_s": (2.0, 2.5),
    "artifacts": 1,
    "end_plate_channels": 1,
    "end_plate_spike_fibres": 1,
    "crd_episodes": 1,
}


@pytest.fixture(scope="module")
def clean():
    return needle_emg.generate(seed=3, **SMALL, **QUIET)


def test_truth_columns_and_kinds(clean):
    t = clean.truth
    assert list(t.columns) == list(DISCHARGE_TRUTH_COLUMNS)
    kinds = set(t["kind"])
    assert {"fibrillation", "positive_sharp_wave", "fasciculation", "end_plate", "complex_repetitive",
            "motor_unit_potential"} <= kinds
    assert set(t["initial_polarity"]) <= {"positive", "negative"}
    assert (t.loc[t.kind == "fibrillation", "initial_polarity"] == "positive").all()
    assert (t.loc[t.kind == "positive_sharp_wave", "initial_polarity"] == "positive").all()
    assert (t.loc[t.kind == "end_plate", "initial_polarity"] == "negative").all()
    assert (t.loc[t.kind == "fasciculation", "train_id"] == -1).all()
    assert t["time_s"].between(0, SMALL["duration_s"]).all()
    assert clean.data_uv.dtype == np.float32 and clean.data_uv.shape == (120000, 2)
    assert list(clean.intervals.columns) == list(INTERVAL_COLUMNS)
    assert set(clean.intervals["kind"]) == {"voluntary", "artifact", "end_plate_zone"}


def test_voluntary_units_fire_only_in_voluntary_intervals(clean):
    t, iv = clean.truth, clean.intervals
    vol = iv[iv.kind == "voluntary"].iloc[0]
    mup = t[t.kind == "motor_unit_potential"]
    assert len(mup) > 10
    assert mup["time_s"].between(vol.start_s, vol.stop_s).all()
    for _, g in mup.groupby(["channel", "unit_id"]):
        if len(g) > 5:
            rate = 1.0 / np.median(np.diff(g["time_s"]))
            assert 6.0 <= rate <= 22.0


def test_time_is_the_largest_peak(clean):
    """At isolated discharges, the largest |sample| is at time_s (within a sample)."""
    t, x, fs = clean.truth, clean.data_uv, clean.fs
    times = t["time_s"].to_numpy()
    checked = 0
    for ch_i, ch in enumerate(clean.channel_names):
        tc = np.sort(times[t.channel == ch])
        for _, row in t[(t.channel == ch) & t.kind.isin(["fibrillation", "fasciculation", "end_plate"])].iterrows():
            gap = np.abs(tc - row.time_s)
            if np.sort(gap)[1] < 0.04:  # another discharge within 40 ms
                continue
            i0 = int(round(row.time_s * fs))
            w = int(0.003 * fs)
            seg = x[i0 - w : i0 + w + 1, ch_i]
            assert abs(int(np.argmax(np.abs(seg))) - w) <= 1, (row.kind, row.time_s)
            checked += 1
    assert checked >= 5


def test_trains_are_regular_and_fasciculations_irregular():
    res = needle_emg.generate(
        seed=5, duration_s=30.0, fs=8000.0, n_channels=1, fib_trains=3, psw_trains=0,
        fasc_units=2, fasc_rate_per_min=40.0, train_full_fraction=1.0, **QUIET,
    )
    t = res.truth
    for _, g in t[t.kind == "fibrillation"].groupby("train_id"):
        isi = np.diff(g["time_s"].to_numpy())
        assert 0.4 <= 1 / isi[:3].mean() <= 16.0
        # regular: little interval-to-interval change (slow drift only)
        assert np.std(np.diff(isi)) / isi.mean() < 0.1
    for _, g in t[t.kind == "fasciculation"].groupby("unit_id"):
        isi = np.diff(g["time_s"].to_numpy())
        assert len(isi) >= 8
        assert isi.std() / isi.mean() > 0.4  # Poisson-like
        assert len(g) / 30.0 < 1.5  # well under ~1 Hz per unit on average


@pytest.mark.parametrize("fs", [4000.0, 48000.0])
def test_any_sampling_rate(fs):
    res = needle_emg.generate(seed=1, duration_s=3.0, fs=fs, n_channels=1, fib_trains=2, psw_trains=1, **QUIET)
    assert res.data_uv.shape == (int(3.0 * fs), 1)
    fib = res.truth[res.truth.kind == "fibrillation"]
    assert len(fib) > 0
    # amplitudes measured after the anti-alias filter stay in the reference range
    assert fib["amplitude_uv"].between(5, 300).all()


def test_snr_sets_noise():
    res = needle_emg.generate(seed=2, duration_s=4.0, fs=8000.0, n_channels=1, fib_trains=3, psw_trains=0,
                              snr_db=20.0, mains_uv=0.0, wander_uv=0.0)
    med = res.truth["amplitude_uv"].median()
    assert res.meta["noise_rms_uv"] == pytest.approx(med / 10.0)
    # the noise is really there: quiet stretches have about that RMS
    resid = res.data_uv[:, 0].astype(float)
    assert 0.5 * med / 10 < np.median(np.abs(resid)) / 0.6745 < 3 * med / 10


def test_bad_options():
    with pytest.raises(ConfigError, match="--fs"):
        needle_emg.generate(fs=10.0)
    with pytest.raises(ConfigError, match="unknown"):
        needle_emg.generate(fibs=3)
    with pytest.raises(ConfigError, match="do not fit"):
        needle_emg.generate(duration_s=3.0, voluntary=3, voluntary_s=(2.0, 2.0))


def _digest(folder):
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir())}


def test_same_seed_same_files(tmp_path):
    opts = {"duration_s": 2.0, "fs": 4000.0, "n_channels": 1, "fasc_units": 1, "voluntary": 1,
            "voluntary_units": 1, "voluntary_s": (0.5, 0.8)}
    a = needle_emg.simulate(tmp_path / "a", seed=9, **opts)
    b = needle_emg.simulate(tmp_path / "b", seed=9, **opts)
    needle_emg.simulate(tmp_path / "c", seed=10, **opts)
    assert set(a) == {"vhdr", "vmrk", "eeg", "truth", "intervals"}
    assert _digest(tmp_path / "a") == _digest(tmp_path / "b")
    assert _digest(tmp_path / "a")["needle_emg.eeg"] != _digest(tmp_path / "c")["needle_emg.eeg"]
    assert b["truth"].read_text() == a["truth"].read_text()


def test_files_and_cli(tmp_path, capsys):
    out = tmp_path / "cli"
    code = main(["simulate", "needle-emg", "--out", str(out), "--seed", "4", "--duration-s", "2",
                 "--fs", "5000", "--channel-names", "FDI_a,FDI_b,FDI_c", "--fib-trains", "1",
                 "--voluntary", "1", "--voluntary-s", "0.5,0.6", "--voluntary-units", "1"])
    assert code == 0
    eeg = np.fromfile(out / "needle_emg.eeg", dtype="<f4").reshape(-1, 3)
    assert eeg.shape == (10000, 3)
    hdr = (out / "needle_emg.vhdr").read_text()
    assert "Ch3=FDI_c" in hdr and "SamplingInterval=200.0" in hdr
    truth = pd.read_csv(out / "truth.csv")
    assert set(truth["channel"]) <= {"FDI_a", "FDI_b", "FDI_c"}
    iv = pd.read_csv(out / "truth_intervals.csv")
    assert (iv["kind"] == "voluntary").sum() == 3
    vmrk = (out / "needle_emg.vmrk").read_text()
    start = int(round(iv["start_s"].iloc[0] * 5000))
    assert f"Comment,voluntary,{start + 1}," in vmrk  # 1-based in the file
    assert main(["simulate", "needle-emg", "--out", str(out), "--fs", "10"]) == 1
    assert "--fs" in capsys.readouterr().err


@pytest.mark.skipif(importlib.util.find_spec("motorsign.io") is None, reason="motorsign.io not available yet")
def test_io_reads_simulated_file(tmp_path):
    from motorsign.io import read

    paths = needle_emg.simulate(tmp_path, seed=1, duration_s=3.0, fs=8000.0, n_channels=2, fib_trains=1,
                                voluntary=1, voluntary_s=(0.5, 0.7), voluntary_units=1)
    rec = read(paths["vhdr"])
    iv = pd.read_csv(paths["intervals"])
    assert [c.name for c in rec.channels] == ["EMG1", "EMG2"]
    assert rec.channels[0].sampling_rate_hz == 8000.0
    ev = [e for e in rec.events if e.label.endswith("voluntary")]
    assert len(ev) == 1
    assert ev[0].label == "Comment/voluntary"
    assert abs(ev[0].time_s - iv["start_s"].iloc[0]) <= 0.5 / 8000
    data = rec.get_traces()
    raw = np.fromfile(paths["eeg"], dtype="<f4").reshape(-1, 2)
    np.testing.assert_allclose(data, raw, rtol=1e-6, atol=1e-3)
