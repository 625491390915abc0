"""The mep and nerve verbs end to end (BrainVision and epoched .mat), and their errors."""

from __future__ import annotations

import csv
import json

import pytest

from motorsign.cli import main
from motorsign.commands import mep as mep_cmd
from motorsign.commands import nerve as nerve_cmd
from motorsign.evoked.mep import MEP_COLUMNS
from motorsign.evoked.nerve import RESPONSE_COLUMNS
from motorsign.simulate import nerve as sim_nerve
from motorsign.simulate import tms as sim_tms


@pytest.fixture(scope="module")
def tms_session(tmp_path_factory):
    d = tmp_path_factory.mktemp("tms")
    paths = sim_tms.simulate(d, seed=11, n_trials=12, muscles="APB", epoched=True)
    return d, paths


def _rows(path):
    with open(path, newline="") as fh:
        return list(csv.DictReader(fh))


def test_mep_cli_on_brainvision(tms_session, tmp_path):
    d, paths = tms_session
    out = tmp_path / "out"
    assert main(["mep", str(paths["vhdr"]), "--out", str(out), "--trigger", "TMS", "--side", "R"]) == 0
    rows = _rows(out / "meps.csv")
    assert list(rows[0])[: len(MEP_COLUMNS)] == list(MEP_COLUMNS)
    truth = _rows(d / "truth.csv")
    assert len(rows) == len(truth) == 12
    for r, t in zip(rows, truth):
        assert r["present"] == t["present"]
        if t["present"] == "True":
            assert abs(float(r["onset_ms"]) - float(t["onset_ms"])) < 0.6
        else:
            assert r["onset_ms"] == "NaN"
    s = json.loads((out / "summary.json").read_text())["channels"]["APB"]
    for k in ("n_trials", "n_present", "onset_ms_min", "onset_ms_median", "peak_to_peak_uv_median"):
        assert k in s
    assert s["n_trials"] == 12 and s["side"] == "R"


def test_mep_execute_on_epoched_mat_matches_continuous(tms_session, tmp_path):
    d, paths = tms_session
    a = mep_cmd.execute(paths["vhdr"], tmp_path / "a", trigger="Stimulus/TMS")
    b = mep_cmd.execute(paths["mat_APB"], tmp_path / "b", muscle="APB")
    sa, sb = a["channels"]["APB"], b["channels"]["meps"]
    assert sa["n_present"] == sb["n_present"]
    assert sa["onset_ms_min"] == pytest.approx(sb["onset_ms_min"], abs=1e-6)


def test_mep_cli_errors(tms_session, tmp_path, capsys):
    d, paths = tms_session
    assert main(["mep", str(paths["vhdr"]), "--out", str(tmp_path / "x"), "--trigger", "Nope"]) == 1
    err = capsys.readouterr().err
    assert "matches no event" in err and "Stimulus/TMS" in err and "Traceback" not in err
    assert main(["mep", str(paths["vhdr"]), "--out", str(tmp_path / "x"), "--trigger", "TMS",
                 "--window", "30,10"]) == 1
    assert "--window" in capsys.readouterr().err
    assert main(["mep", str(paths["vhdr"]), "--out", str(tmp_path / "x"), "--trigger", "TMS",
                 "--post-ms", "20"]) == 1
    assert "too short for the window" in capsys.readouterr().err
    assert main(["mep", str(paths["vhdr"]), "--out", str(tmp_path / "x")]) == 1
    assert "--trigger is required" in capsys.readouterr().err


def test_nerve_cli_and_cmct_from_folders(tms_session, tmp_path, capsys):
    nd = tmp_path / "nsim"
    p = sim_nerve.simulate(nd, seed=5, n_trials=15)
    out = tmp_path / "nerve"
    assert main(["nerve", str(p["vhdr"]), "--out", str(out), "--trigger", "ES"]) == 0
    rows = _rows(out / "responses.csv")
    assert list(rows[0])[: len(RESPONSE_COLUMNS)] == list(RESPONSE_COLUMNS) and len(rows) == 15
    s = json.loads((out / "summary.json").read_text())["channels"]["APB"]
    for k in ("m_onset_ms", "cmap_amplitude_mv", "f_min_latency_ms", "f_mean_latency_ms", "f_persistence",
              "f_chronodispersion_ms"):
        assert k in s
    summary = nerve_cmd.execute(p["vhdr"], tmp_path / "n2", trigger="ES", f_window_ms="18,50")
    assert summary["channels"]["APB"]["f_window_ms"].endswith("50.0")
    mep_out = tmp_path / "mep"
    mep_cmd.execute(tms_session[1]["vhdr"], mep_out, trigger="TMS")
    assert main(["cmct", "--mep", str(mep_out), "--nerve", str(out), "--json"]) == 0
    res = json.loads(capsys.readouterr().out)
    assert res["method"] == "f_wave" and res["muscle"] == "APB" and 0 < res["cmct_ms"] < 15


def test_intensities_give_a_recruitment_fit(tms_session, tmp_path, capsys):
    d, paths = tms_session
    vals = ",".join(str(100 + 5 * i) for i in range(12))
    s = mep_cmd.execute(paths["vhdr"], tmp_path / "r", trigger="TMS", intensities=vals)
    rec = s["channels"]["APB"]["recruitment"]
    assert rec["n"] == 12 and set(rec) >= {"amax_uv", "i50", "k", "r2", "ok"}
    assert main(["mep", str(paths["vhdr"]), "--out", str(tmp_path / "r2"), "--trigger", "TMS",
                 "--intensities", "100,110"]) == 1
    assert "2 stimulus intensities for 12 trials" in capsys.readouterr().err
