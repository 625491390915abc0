"""Quick runs of the detect benchmarks, so they cannot rot."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[1] / "benchmarks"


def _load(name):
    spec = importlib.util.spec_from_file_location(name, BENCH / f"{name}.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


@pytest.mark.slow
def test_accuracy_benchmark_quick(tmp_path):
    r = _load("bench_detect_accuracy").main(["--quick", "--out", str(tmp_path)])
    data = json.loads((tmp_path / "bench_detect_accuracy_quick.json").read_text())
    assert (tmp_path / "bench_detect_accuracy_quick.png").is_file()
    assert set(data["by_rate"]) == {"10000", "20000", "48000"}
    for rate in data["by_rate"].values():
        assert rate["any"]["f1"] > 0.7
        assert rate["positive_sharp_wave"]["f1"] > 0.7
    assert r["segmentation"]["found_fraction"] > 0.8


@pytest.mark.slow
def test_speed_benchmark_quick(tmp_path):
    r = _load("bench_detect_speed").main(["--quick", "--no-spikeinterface", "--out", str(tmp_path)])
    assert (tmp_path / "bench_detect_speed_quick.json").is_file()
    assert r["timings_s"]["motorsign"] > 0 and r["timings_s"]["scipy"] > 0
    assert r["events"]["motorsign"] > 100
    assert r["speedup_vs_cpu"]["scipy"] > 0 and len(r["threads_2_vs_1_rounds"]) == r["repeats"]
    assert r["threads_2_vs_1_best"] == pytest.approx(
        min(r["wall_rounds_s"]["motorsign"]) / min(r["wall_rounds_s"]["motorsign_2_threads"]))
    assert all(len(v) == r["repeats"] and all(x > 0 for x in v)
               for v in r["machine_2_vs_1_rounds"].values())
    assert set(r["machine_2_vs_1"]) == {"compute", "memory_read", "band_filter",
                                        "detect_two_processes"}
    # the two processes detect the two halves: about the discharges of the whole
    assert r["events"]["detect_two_processes"] == pytest.approx(r["events"]["motorsign"], rel=0.05)
    assert r["threads_2_vs_two_processes"] == pytest.approx(
        r["two_processes_rounds_s"][0] / r["wall_rounds_s"]["motorsign_2_threads"][0])
    assert r["threads_2_vs_1_share_of_machine"] == pytest.approx(
        r["threads_2_vs_1"] / r["machine_2_vs_1"]["compute"])
    assert r["gc_collect_before_each_run"] is True
    # one untimed settle run per round before the timed motorsign runs
    assert len(r["settle_rounds_s"]) == r["repeats"] and all(x > 0 for x in r["settle_rounds_s"])
    assert r["speedup_vs_first_run"]["scipy"] > 0


@pytest.mark.slow
def test_memory_benchmark_quick(tmp_path):
    r = _load("bench_detect_memory").main(["--quick", "--out", str(tmp_path)])
    assert r["detect_exit_code"] == 0 and r["n_discharges"] > 100
    assert r["peak_rss_mb"] < 1024


@pytest.mark.slow
def test_hdsemg_benchmark_quick(tmp_path):
    r = _load("bench_detect_hdsemg").main(["--quick", "--out", str(tmp_path)])
    assert r["totals"]["n_true"] > 0
    assert r["sensitivity"] > 0.7 and r["specificity"] > 0.8
