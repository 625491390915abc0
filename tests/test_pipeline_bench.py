"""Smoke test of benchmarks/bench_pipeline.py (--quick), so it cannot rot.

The Dask configuration of the benchmark is left out here (a local cluster
costs ~10 s to start on a loaded machine); the ``dask`` scheduler itself is
tested in test_pipeline_run.py."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.slow
def test_bench_pipeline_quick(tmp_path):
    res = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "bench_pipeline.py"), "--quick", "--no-dask", "--out",
         str(tmp_path)],
        capture_output=True, text=True, timeout=300,
    )
    assert res.returncode == 0, res.stderr[-3000:]
    data = json.loads((tmp_path / "bench_pipeline_quick.json").read_text())
    assert data["n_recordings"] == 2 and data["quick"] is True
    assert set(data["best_s"]) >= {"processes_w1", "processes_w2"}
    assert all(v > 0 for v in data["best_s"].values())
    assert data["speedup_w2_vs_w1"] == pytest.approx(
        data["best_s"]["processes_w1"] / data["best_s"]["processes_w2"])
    assert (tmp_path / "bench_pipeline_quick.png").stat().st_size > 1000


@pytest.mark.slow
def test_bench_pipeline_demo_quick(tmp_path):
    if not (ROOT / "sample_data" / "tms_apb_r.vhdr").is_file():
        pytest.skip("sample_data has not been generated")
    res = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "bench_pipeline_demo.py"), "--quick", "--out",
         str(tmp_path)], capture_output=True, text=True, timeout=300,
    )
    assert res.returncode == 0, res.stderr[-3000:]
    data = json.loads((tmp_path / "bench_pipeline_demo_quick.json").read_text())
    assert data["pipeline"] == "pipelines/tms_cmct.toml"
    assert data["runs"]["warm"]["counts"] == {"ran": 2, "cached": 0, "failed": 0}
    assert data["runs"]["resume"]["counts"] == {"ran": 0, "cached": 2, "failed": 0}
    assert data["runs"]["resume"]["wall_s"] < data["runs"]["warm"]["wall_s"]
