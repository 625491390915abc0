"""SimResult, write_result, the kind registry and the score verb."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from motorsign.cli import main
from motorsign.errors import ConfigError
from motorsign.simulate import KINDS, load_kind
from motorsign.simulate.base import SimResult, write_result


def _result():
    data = np.arange(20, dtype=float).reshape(10, 2)
    truth = pd.DataFrame({"channel": ["A"], "time_s": [0.002], "kind": ["fibrillation"]})
    iv = pd.DataFrame({"channel": ["*"], "start_s": [0.001], "stop_s": [0.003], "kind": ["voluntary"]})
    return SimResult(data, 1000, ["A", "B"], [("Stimulus", "TMS", 4, 1)], truth, iv, {"muscle": "FDI", "side": "R"})


def test_simresult_validates_and_converts():
    r = _result()
    assert r.data_uv.dtype == np.float32 and r.data_uv.flags.c_contiguous
    assert r.duration_s == pytest.approx(0.01)
    with pytest.raises(ValueError):
        SimResult(np.zeros((5, 2)), 1000, ["A"])
    empty = SimResult(np.zeros(5), 1000, ["A"])
    assert list(empty.intervals.columns) == ["channel", "start_s", "stop_s", "kind"]


def test_to_recording_events():
    rec = _result().to_recording()
    assert [e.label for e in rec.events] == ["Stimulus/TMS"]
    assert rec.events[0].time_s == pytest.approx(0.004)


def test_write_result(tmp_path):
    paths = write_result(_result(), tmp_path / "o", "rec")
    assert paths["vhdr"].name == "rec.vhdr" and paths["eeg"].is_file()
    raw = np.fromfile(paths["eeg"], dtype="<f4").reshape(10, 2)
    np.testing.assert_array_equal(raw, np.arange(20).reshape(10, 2))
    assert "Mk2=Stimulus,TMS,5,1,0" in paths["vmrk"].read_text()
    assert pd.read_csv(paths["truth"])["kind"].tolist() == ["fibrillation"]
    assert pd.read_csv(paths["intervals"]).columns.tolist() == ["channel", "start_s", "stop_s", "kind"]
    with pytest.raises(ConfigError):
        write_result(_result(), tmp_path, "a/b")


def test_registry(monkeypatch):
    assert set(KINDS) == {"needle-emg", "hdsemg", "tms", "nerve", "voluntary-emg"}
    assert hasattr(load_kind("needle-emg"), "generate")
    with pytest.raises(ConfigError, match="unknown simulation kind"):
        load_kind("eeg")
    monkeypatch.setitem(KINDS, "ghost", "motorsign.simulate.no_such_module")
    with pytest.raises(ConfigError, match="not available"):
        load_kind("ghost")


def test_score_cli(tmp_path, capsys):
    rng = np.random.default_rng(0)
    t = np.sort(rng.choice(10000, 200, replace=False)) / 100.0
    truth = pd.DataFrame({"channel": "EMG1", "time_s": t, "kind": "fibrillation"})
    truth.to_csv(tmp_path / "truth.csv", index=False)
    pd.DataFrame({"channel": ["EMG1"], "start_s": [10.0], "stop_s": [20.0], "kind": ["voluntary"]}).to_csv(
        tmp_path / "truth_intervals.csv", index=False
    )
    det = truth.assign(time_s=truth.time_s + rng.uniform(-3e-4, 3e-4, len(truth)), confidence=0.9)
    det.to_csv(tmp_path / "discharges.csv", index=False)
    code = main(["score", "discharges", "--truth", str(tmp_path / "truth.csv"),
                 "--detected", str(tmp_path / "discharges.csv"), "--json", str(tmp_path / "s.json")])
    assert code == 0
    out = json.loads(capsys.readouterr().out)
    n_in = int(((t >= 10) & (t <= 20)).sum())
    assert out["per_kind"]["fibrillation"]["f1"] == 1.0
    assert out["any"]["tp"] == 200 - n_in
    assert out["n_excluded_truth"] == n_in
    assert json.loads((tmp_path / "s.json").read_text())["any"]["f1"] == 1.0
    # missing file: one line, exit 1
    assert main(["score", "mep", "--truth", str(tmp_path / "nope.csv"), "--detected", str(tmp_path / "truth.csv")]) == 1
    assert "not found" in capsys.readouterr().err


def test_score_cli_mep_and_nerve(tmp_path, capsys):
    truth = pd.DataFrame({"trial": [0, 1, 2], "channel": "ADM", "present": [True, True, False],
                          "onset_ms": [20.0, 21.0, np.nan]})
    det = truth.assign(onset_ms=[20.4, 21.0, np.nan])
    truth.to_csv(tmp_path / "t.csv", index=False)
    det.to_csv(tmp_path / "d.csv", index=False)
    assert main(["score", "mep", "--truth", str(tmp_path / "t.csv"), "--detected", str(tmp_path / "d.csv")]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["n"] == 2 and out["mae_ms"] == pytest.approx(0.2)
    assert out["detection_rate"] == 1.0 and out["false_present_rate"] == 0.0
    nt = pd.DataFrame({"trial": [0, 1], "channel": "APB", "m_onset_ms": [3.0, 3.1], "f_present": [True, False],
                       "f_latency_ms": [28.0, np.nan]})
    nd = nt.assign(m_onset_ms=[3.1, 3.1], f_present=[True, True], f_latency_ms=[28.5, 30.0])
    nt.to_csv(tmp_path / "nt.csv", index=False)
    nd.to_csv(tmp_path / "nd.csv", index=False)
    assert main(["score", "nerve", "--truth", str(tmp_path / "nt.csv"), "--detected", str(tmp_path / "nd.csv")]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["m_onset_ms"]["mean_error_ms"] == pytest.approx(0.05)
    assert out["f_latency_ms"]["n"] == 1 and out["f_latency_ms"]["false_present_rate"] == 1.0
