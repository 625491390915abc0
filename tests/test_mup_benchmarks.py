"""Quick runs of the MUP benchmarks, so they cannot rot."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

BENCH = Path(__file__).resolve().parents[1] / "benchmarks"


def _load(name: str):
    spec = importlib.util.spec_from_file_location(name, BENCH / f"{name}.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_bench_mup_speed_quick(tmp_path):
    assert _load("bench_mup_speed").main(["--quick", "--out", str(tmp_path)]) == 0
    r = json.loads((tmp_path / "bench_mup_speed.json").read_text())
    assert r["numba_s"] > 0 and r["numpy_s"] > 0
    assert r["agreement_numba_vs_numpy"]["matched_fraction"] > 0.95
    assert (tmp_path / "bench_mup_speed.png").stat().st_size > 0


def test_bench_mup_accuracy_quick(tmp_path):
    assert _load("bench_mup_accuracy").main(["--quick", "--out", str(tmp_path)]) == 0
    r = json.loads((tmp_path / "bench_mup_accuracy.json").read_text())
    assert r["n_cases"] == 3 and 0 <= r["classification_accuracy"] <= 1
    assert r["assignment_accuracy"] > 0.5
    assert (tmp_path / "bench_mup_accuracy.png").stat().st_size > 0


def test_bench_mup_aliasing_quick(tmp_path):
    assert _load("bench_mup_aliasing").main(["--quick", "--out", str(tmp_path)]) == 0
    r = json.loads((tmp_path / "bench_mup_aliasing.json").read_text())
    s20, s4 = r["summary"]["20000"], r["summary"]["4000"]
    # band-limited at 20 kHz, aliased at 4 kHz (the simulator renders without anti-alias filter)
    assert s20["aliasing_residual_median"] < 0.02 < 0.2 < s4["aliasing_residual_median"]
    assert s4["confusion_oracle_mean"] < s4["confusion_bandlimited_mean"]
    assert (tmp_path / "bench_mup_aliasing.png").stat().st_size > 0
