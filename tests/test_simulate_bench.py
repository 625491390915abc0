"""Smoke test of benchmarks/bench_simulate.py (--quick), so it cannot rot."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_bench_simulate_quick(tmp_path):
    res = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "bench_simulate.py"), "--quick", "--out", str(tmp_path)],
        capture_output=True, text=True, timeout=300,
    )
    assert res.returncode == 0, res.stderr[-3000:]
    data = json.loads((tmp_path / "bench_simulate_quick.json").read_text())
    assert data["quick"] is True
    assert set(data["shapes"]) >= {"fibrillation", "positive_sharp_wave", "end_plate_spike", "mup_normal"}
    assert data["shapes"]["fibrillation"]["fraction_in_reference"] >= 0.8
    assert data["simulator"]["signal_s_per_cpu_s"] > 0
    assert all(r["exact"] for r in data["scoring"])
    assert (tmp_path / "bench_simulate_quick.png").stat().st_size > 5000
