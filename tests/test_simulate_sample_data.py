"""The bundled sample data is regenerable: same script, same bytes."""

from __future__ import annotations

import hashlib
import importlib.util
from pathlib import Path

import pandas as pd
import pytest

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "sample_data"


def _load_script():
    spec = importlib.util.spec_from_file_location("make_sample_data", SAMPLE / "make_sample_data.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_sample_data_regenerates_identically(tmp_path):
    mod = _load_script()
    assert {"needle_fdi_r", "needle_biceps_r", "needle_ta_r"} <= set(mod.ENTRIES)
    if not (SAMPLE / "needle_ta_r.eeg").is_file():
        pytest.skip("sample data not generated in this checkout")
    assert mod.main(["--out", str(tmp_path), "--only", "needle_ta_r"]) == 0
    for suffix in (".eeg", ".vhdr", ".vmrk", "_truth.csv", "_truth_intervals.csv"):
        name = f"needle_ta_r{suffix}"
        a = hashlib.sha256((SAMPLE / name).read_bytes()).hexdigest()
        b = hashlib.sha256((tmp_path / name).read_bytes()).hexdigest()
        assert a == b, f"{name} differs from a fresh run of make_sample_data.py"


def test_sample_data_content():
    if not (SAMPLE / "needle_biceps_r_truth.csv").is_file():
        pytest.skip("sample data not generated in this checkout")
    total = sum(p.stat().st_size for p in SAMPLE.iterdir() if p.is_file())
    assert total < 20 * 1024 * 1024
    needle = sum(p.stat().st_size for p in SAMPLE.glob("needle_*") if p.is_file())
    assert needle < 13.5 * 1024 * 1024
    fdi = pd.read_csv(SAMPLE / "needle_fdi_r_truth.csv")
    assert {"fibrillation", "positive_sharp_wave", "motor_unit_potential"} <= set(fdi["kind"])
    biceps = pd.read_csv(SAMPLE / "needle_biceps_r_truth.csv")
    iv = pd.read_csv(SAMPLE / "needle_biceps_r_truth_intervals.csv")
    rest = 140.0 - float((iv["stop_s"] - iv["start_s"]).sum())
    assert rest >= 120.0
    assert (biceps["kind"] == "fasciculation").sum() >= 20
    ta = pd.read_csv(SAMPLE / "needle_ta_r_truth.csv")
    assert set(ta["kind"]) == {"motor_unit_potential"}  # no spontaneous activity
    assert (pd.read_csv(SAMPLE / "needle_ta_r_truth_intervals.csv")["kind"] == "voluntary").all()
