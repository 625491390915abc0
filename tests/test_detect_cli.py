"""``motorsign detect``: files per the contract, bad input, real recordings."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from motorsign.cli import main
from motorsign.spontaneous.detect import DISCHARGE_COLUMNS

needle_emg = pytest.importorskip("motorsign.simulate.needle_emg")
pytest.importorskip("motorsign.io")


@pytest.fixture(scope="module")
def sim_files(tmp_path_factory):
    out = tmp_path_factory.mktemp("sim")
    paths = needle_emg.simulate(out, seed=7, duration_s=15.0, n_channels=2, fasc_units=1,
                                muscle="FDI", side="R")
    return paths


def test_detect_writes_contract_files(sim_files, tmp_path, capsys):
    out = tmp_path / "res"
    code = main(["detect", str(sim_files["vhdr"]), "--out", str(out), "--muscle", "FDI",
                 "--side", "R", "--n-jobs", "2"])
    assert code == 0
    d = pd.read_csv(out / "discharges.csv")
    assert list(d.columns[: len(DISCHARGE_COLUMNS)]) == list(DISCHARGE_COLUMNS)
    assert len(d) > 50
    s = json.loads((out / "summary.json").read_text())
    assert set(s["channels"]) == {"EMG1", "EMG2"}
    ch = s["channels"]["EMG1"]
    assert ch["muscle"] == "FDI" and ch["side"] == "R"
    assert ch["fib_psw_grade"] in {"0", "1+", "2+", "3+", "4+"}
    assert (out / "intervals.csv").is_file()
    # the file's events/times read through motorsign.io line up with the truth
    truth = pd.read_csv(sim_files["truth"])
    from motorsign.scoring import score_discharges

    sc = score_discharges(truth, d, tolerance_ms=1.0).set_index("kind")
    assert sc.loc["any", "f1"] > 0.9


def test_detect_channel_selection_and_params(sim_files, tmp_path):
    out = tmp_path / "one"
    assert main(["detect", str(sim_files["vhdr"]), "--out", str(out), "--channels", "EMG2",
                 "--param", "threshold_k=6"]) == 0
    s = json.loads((out / "summary.json").read_text())
    assert list(s["channels"]) == ["EMG2"]
    assert s["parameters"]["threshold_k"] == 6.0


def test_detect_bad_input_is_one_line(tmp_path, capsys):
    assert main(["detect", str(tmp_path / "missing.vhdr"), "--out", str(tmp_path / "o")]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "missing.vhdr" in err[0]
    assert main(["detect", str(tmp_path / "x.vhdr"), "--out", str(tmp_path / "o"),
                 "--param", "nonsense=1"]) == 1


def test_detect_unknown_channel(sim_files, tmp_path, capsys):
    assert main(["detect", str(sim_files["vhdr"]), "--out", str(tmp_path / "o"),
                 "--channels", "NOPE"]) == 1
    assert "NOPE" in capsys.readouterr().err


def test_execute_on_array_file(tmp_path):
    from motorsign.commands.detect import execute

    sim = needle_emg.generate(seed=1, duration_s=5.0, n_channels=1, fs=10000.0)
    path = tmp_path / "rest.npy"
    np.save(path, sim.data_uv[:, 0])
    summary = execute(path, tmp_path / "o", read_options={"fs": 10000.0, "stim_sample": 0, "units": "uV"})
    assert summary["sampling_rate_hz"] == 10000.0
    assert (tmp_path / "o" / "discharges.csv").is_file()


@pytest.mark.realdata
@pytest.mark.parametrize("record", ["emg_healthy", "emg_myopathy", "emg_neuropathy"])
def test_physionet_voluntary_is_not_spontaneous(realdata, record):
    from motorsign.io import read
    from motorsign.spontaneous import detect_spontaneous

    rec = read(realdata / "physionet_emgdb" / f"{record}.hea")
    res = detect_spontaneous(rec)
    ch = next(iter(res.summary["channels"].values()))
    assert ch["counts"]["fasciculation"] == 0
    assert ch["counts"]["fibrillation"] + ch["counts"]["positive_sharp_wave"] == 0
    assert ch["counts"]["motor_unit_potential"] > 20
    assert ch["activity_s"] > 0.8 * ch["duration_s"]


@pytest.mark.parametrize("fmt", ["edf", "bdf", "rhd", "smr"])
def test_detect_reads_other_formats(tmp_path, fmt):
    """The same simulated signal written as EDF, BDF, Intan RHD and Spike2 gives the same answer."""
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from motorsign.commands.detect import execute
    from motorsign.scoring import score_discharges

    fs = 20000.0
    sim = needle_emg.generate(seed=2, duration_s=6.0, n_channels=1, fs=fs, fib_trains=2,
                              psw_trains=1)
    x = sim.data_uv[:, :1].astype(np.float64)
    if fmt in ("edf", "bdf"):
        from writers.edf import write_edf

        path = write_edf(tmp_path / f"rec.{fmt}", x, fs, ["EMG1"], ["uV"], [(-3000.0, 3000.0)],
                         bdf=fmt == "bdf")
    elif fmt == "smr":
        from writers.spike2 import write_smr

        scale = 5.0  # ADC full scale +-5 mV: 0.76 µV per step
        adc = np.clip(np.round(x / 1000.0 * 6553.6 / scale), -32768, 32767).astype(int)
        path = write_smr(tmp_path / "rec.smr", adc, fs, ["EMG1"], ["mV"], [scale], [0.0])
    else:
        from writers.intan import write_rhd

        n = (x.shape[0] // 60) * 60
        raw = np.clip(np.round(x[:n] / 0.195) + 32768, 0, 65535).astype("<u2")
        path = write_rhd(tmp_path / "rec.rhd", raw, fs, ["EMG1"])
    out = tmp_path / "out"
    execute(path, out)
    d = pd.read_csv(out / "discharges.csv")
    truth = sim.truth.assign(channel=d["channel"].iloc[0] if len(d) else "EMG1")
    sc = score_discharges(truth, d, tolerance_ms=1.0).set_index("kind")
    assert sc.loc["any", "f1"] > 0.85, sc.loc["any"].to_dict()


def test_mains_option_reaches_the_detector(sim_files, tmp_path):
    out = tmp_path / "m"
    assert main(["detect", str(sim_files["vhdr"]), "--out", str(out), "--mains", "off",
                 "--param", "mains=60"]) == 0
    s = json.loads((out / "summary.json").read_text())
    assert s["parameters"]["mains"] == "off"  # --mains wins over --param mains=
    assert s["mains"]["setting"] == "off" and s["mains"]["notched_hz"] == []
    assert set(s["mains"]["noise_inflation"]) == {"EMG1", "EMG2"}
    out2 = tmp_path / "m2"
    assert main(["detect", str(sim_files["vhdr"]), "--out", str(out2), "--mains", "50"]) == 0
    s2 = json.loads((out2 / "summary.json").read_text())
    # forced: every harmonic of 50 Hz up to mains_max_hz
    assert s2["mains"]["notched_hz"] == [50.0 * h for h in range(1, 21)]
