"""Quick runs of the evoked-response benchmarks, so they cannot rot."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[1] / "benchmarks"


def _load(name: str):
    spec = importlib.util.spec_from_file_location(name, BENCH / f"{name}.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_bench_mep_speed_quick(tmp_path):
    assert _load("bench_mep_speed").main(["--quick", "--out", str(tmp_path)]) == 0
    r = json.loads((tmp_path / "bench_mep_speed.json").read_text())
    assert r["numba_trials_per_s"] > r["numpy_trials_per_s"] > 0
    # same algorithms: the numba and numpy onsets agree
    for m, a in r["agreement_numba_vs_numpy"].items():
        assert a["n_only_numba"] == a["n_only_numpy"] == 0, m
        assert a["max_abs_diff_ms"] is not None and a["max_abs_diff_ms"] < 1e-6, m


def test_bench_mep_accuracy_quick(tmp_path):
    assert _load("bench_mep_accuracy").main(["--quick", "--out", str(tmp_path)]) == 0
    r = json.loads((tmp_path / "bench_mep_accuracy.json").read_text())
    assert r["meets_mae"] and r["meets_absent"]
    assert (tmp_path / "bench_mep_accuracy.png").stat().st_size > 0


def test_bench_nerve_accuracy_quick(tmp_path):
    assert _load("bench_nerve_accuracy").main(["--quick", "--out", str(tmp_path)]) == 0
    r = json.loads((tmp_path / "bench_nerve_accuracy.json").read_text())
    assert r["meets"]["m_onset_mae_ms"] and r["meets"]["persistence_abs_error"]
    assert r["overall"]["f_min_abs_error_ms"] < 0.5


@pytest.mark.realdata
def test_bench_mep_realdata_quick(tmp_path, realdata):
    mod = _load("bench_mep_realdata")
    assert mod.main(["--quick", "--out", str(tmp_path), "--data", str(realdata / "mepfeatx")]) == 0
    r = json.loads((tmp_path / "bench_mep_realdata.json").read_text())
    c = r["recordings"]["ID04"]["onset_ms"]["consensus"]
    assert c["n"] >= 18 and c["median_abs_diff"] <= 1.0


@pytest.mark.realdata
def test_real_fdi_meps_agree_with_mepfeatx(realdata):
    mod = _load("bench_mep_realdata")
    table, feats = mod.analyse(realdata / "mepfeatx", "ID01")
    ba = mod.bland_altman(table["onset_ms"].to_numpy(float), feats["Latency"].to_numpy(float))
    assert ba["n"] == 152 and ba["median_abs_diff"] <= 1.0 and abs(ba["bias"]) < 0.5
    amp = mod.bland_altman(table["peak_to_peak_uv"].to_numpy(float), feats["Amplitude"].to_numpy(float))
    assert abs(amp["bias"]) < 20
