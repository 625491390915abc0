"""CMCT: formula, norms, result folders and the CLI."""

from __future__ import annotations

import json
import math

import pytest

from motorsign.cli import main
from motorsign.errors import ConfigError, InputError
from motorsign.evoked.cmct import cmct_f_wave, cmct_from_results, cmct_root, compute_cmct
from motorsign.evoked.tables import find_norm, load_norms
from motorsign.outputs import write_json


def test_f_wave_formula_and_cli(capsys):
    assert cmct_f_wave(21.5, 27.0, 3.5) == (6.75, 14.75)
    assert main(["cmct", "--mep-latency", "21.5", "--f-latency", "27.0", "--m-latency", "3.5", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["cmct_ms"] == 6.75 and out["method"] == "f_wave" and out["peripheral_ms"] == 14.75
    for key in ("cmct_ms", "peripheral_ms", "method", "muscle", "uln_ms", "abnormal", "norm_source"):
        assert key in out


def test_root_method_and_missing_values():
    assert cmct_root(21.0, 13.5) == 7.5
    assert math.isnan(cmct_f_wave(math.nan, 27.0, 3.5)[0])
    r = compute_cmct(mep_latency_ms=21.0, root_latency_ms=13.5, muscle="APB")
    assert r["method"] == "root" and r["cmct_ms"] == 7.5
    with pytest.raises(ConfigError):
        compute_cmct(mep_latency_ms=21.0, f_latency_ms=27.0)


def test_norms_abnormal_and_lab_override(tmp_path):
    n = find_norm("APB", "cmct_ms")
    assert n is not None and n.limit == pytest.approx(7.8 + 2.5 * 1.3)
    assert "BMC Neurol" in n.source
    assert find_norm("APB", "cmct_ms", condition="140% MT").mean == 7.2
    r = compute_cmct(mep_latency_ms=30.0, f_latency_ms=27.0, m_latency_ms=3.5, muscle="APB")
    assert r["abnormal"] is True and r["uln_ms"] == pytest.approx(11.05)
    lab = tmp_path / "lab.csv"
    lab.write_text("muscle,measure,mean,sd,uln,source\nAPB,cmct_ms,6.0,0.5,,our lab 2025\n")
    r2 = compute_cmct(mep_latency_ms=21.5, f_latency_ms=27.0, m_latency_ms=3.5, muscle="APB", norms=lab)
    assert r2["norm_source"] == "our lab 2025" and r2["uln_ms"] == 7.25 and r2["abnormal"] is False
    r3 = compute_cmct(mep_latency_ms=21.5, f_latency_ms=27.0, m_latency_ms=3.5, muscle="nosuch")
    assert r3["abnormal"] is None and "no_norm" in r3["reasons"]
    assert all(x.source for x in load_norms())
    bad = tmp_path / "bad.csv"
    bad.write_text("muscle,mean\nAPB,1\n")
    with pytest.raises(InputError, match="lacks column"):
        load_norms(bad)


def test_from_result_folders(tmp_path, capsys):
    mep, nerve = tmp_path / "mep", tmp_path / "nerve"
    write_json(mep / "summary.json", {"channels": {"APB": {
        "n_trials": 10, "n_present": 9, "onset_ms_min": 21.5, "onset_ms_median": 22.4,
        "peak_to_peak_uv_median": 800.0, "peak_to_peak_uv_max": 1200.0, "muscle": "APB"}}})
    write_json(nerve / "summary.json", {"channels": {"APB": {
        "m_onset_ms": 3.5, "f_min_latency_ms": 27.0, "cmap_amplitude_mv": 8.0,
        "cmap_peak_to_peak_mv": 12.0}}})
    r = cmct_from_results(mep, nerve)
    assert r["cmct_ms"] == 6.75 and r["muscle"] == "APB" and r["mep_cmap_ratio_pct"] == pytest.approx(10.0)
    assert cmct_from_results(mep, nerve, mep_statistic="median")["cmct_ms"] == pytest.approx(7.65)
    out = tmp_path / "cmct.json"
    assert main(["cmct", "--mep", str(mep), "--nerve", str(nerve), "--out", str(out)]) == 0
    assert "6.75" in capsys.readouterr().out
    assert json.loads(out.read_text())["cmct_ms"] == 6.75
    # absent MEP: abnormal, no made-up CMCT
    write_json(mep / "summary.json", {"channels": {"APB": {
        "n_trials": 10, "n_present": 0, "onset_ms_min": None, "onset_ms_median": None, "muscle": "APB"}}})
    r = cmct_from_results(mep, nerve)
    assert r["cmct_ms"] is None or math.isnan(r["cmct_ms"])
    assert r["abnormal"] is True and "mep_absent" in r["reasons"]


def test_cli_errors(tmp_path, capsys):
    assert main(["cmct", "--mep-latency", "21.5"]) == 1
    assert "needs --f-latency" in capsys.readouterr().err
    assert main(["cmct", "--mep", str(tmp_path / "nope"), "--nerve", str(tmp_path)]) == 1
    assert "summary.json" in capsys.readouterr().err


def test_cmct_that_would_be_negative_is_nan_with_a_reason():
    # MEP onset 10 ms against a peripheral time (27 + 3.5 - 1) / 2 = 14.75 ms
    res = compute_cmct(mep_latency_ms=10.0, f_latency_ms=27.0, m_latency_ms=3.5, muscle="APB")
    assert math.isnan(res["cmct_ms"]) and res["peripheral_ms"] == 14.75
    assert "cmct_not_positive" in res["reasons"] and res["abnormal"] is None
