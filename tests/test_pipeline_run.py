"""motorsign run: execution, failure isolation, resume, provenance, executors.

The analyses here are small fakes registered in the pipeline registry (the
real ones are tested by their owners); they are top-level functions of this
module so spawn-started workers and Dask workers can import them.
"""

from __future__ import annotations

import csv
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from motorsign.cli import main
from motorsign.errors import ConfigError
from motorsign.outputs import write_csv, write_json
from motorsign.pipeline import ANALYSES, load_pipeline, run_pipeline
from motorsign.pipeline.cache import MANIFEST, read_manifest
from motorsign.simulate.brainvision import write_brainvision

FS = 10_000.0
HERE = Path(__file__).resolve().parent


# ------------------------------------------------------------------ fakes
def fake_detect(path, out_dir, *, muscle=None, side=None, channels=None, read_options=None,
                threshold_uv=200.0, sleep_s=0.0, **options):
    """Peaks above a threshold, written with detect's contract columns."""
    from motorsign.io import read

    time.sleep(float(sleep_s))
    rec = read(path, **(read_options or {}))
    x = rec.get_traces(channels=channels)
    names = list(channels) if channels else rec.channel_names
    rows, summ = [], {}
    for j, ch in enumerate(names):
        idx = np.flatnonzero((x[1:-1, j] > threshold_uv) & (x[1:-1, j] >= x[:-2, j])
                             & (x[1:-1, j] > x[2:, j])) + 1
        for k, i in enumerate(idx):
            rows.append({"channel": ch, "time_s": i / rec.sampling_rate_hz,
                         "kind": "fibrillation" if k % 2 else "fasciculation",
                         "amplitude_uv": float(x[i, j]), "duration_ms": 2.0, "phases": 2,
                         "initial_polarity": "positive", "train_id": 0 if k % 2 else -1,
                         "confidence": 0.9})
        summ[ch] = {"muscle": muscle, "side": side, "duration_s": rec.duration_s(),
                    "rest_s": rec.duration_s(), "counts": {"fibrillation": len(idx) // 2},
                    "rates_per_min": {}, "fib_psw_grade": "2+" if len(idx) else "0",
                    "fasciculation_rate_per_min": 0.0, "trains": [],
                    "threads": os.environ.get("NUMBA_NUM_THREADS"), "pid": os.getpid()}
    write_csv(Path(out_dir) / "discharges.csv", rows,
              ["channel", "time_s", "kind", "amplitude_uv", "duration_ms", "phases",
               "initial_polarity", "train_id", "confidence"])
    summary = {"recording": str(path), "channels": summ,
               "options": {"threshold_uv": threshold_uv, **options}}
    write_json(Path(out_dir) / "summary.json", summary)
    return summary


def fake_fail(path, out_dir, **kwargs):
    """Always fails, like an analysis that finds nothing to analyse."""
    from motorsign.errors import AnalysisError

    raise AnalysisError("no trigger in the analysis window", path)


def fake_slow(path, out_dir, **kwargs):
    """Writes one file, waits, writes the other: a kill in between leaves half a result."""
    write_json(Path(out_dir) / "first.json", {"ok": True})
    time.sleep(float(kwargs.get("sleep_s", 1.5)))
    write_json(Path(out_dir) / "summary.json", {"recording": str(path), "channels": {}})
    return {}


# --------------------------------------------------------------- helpers
def make_recording(path: Path, seed: int = 0, n_spikes: int = 5, names=("EMG1", "EMG2"),
                   seconds: float = 1.0) -> Path:
    rng = np.random.default_rng(seed)
    n = int(FS * seconds)
    data = rng.normal(0, 10, (n, len(names))).astype(np.float32)
    for t in rng.integers(100, n - 100, n_spikes):
        data[t, 0] += 500.0
    markers = [("Stimulus", "TMS", int(s), 1) for s in range(1000, n - 1000, 2000)]
    return write_brainvision(path, data, FS, list(names), markers)


def write_pipeline(folder: Path, body: str, name: str = "p.toml") -> Path:
    p = folder / name
    p.write_text(body, encoding="utf-8")
    return p


@pytest.fixture
def fakes(monkeypatch):
    mod = Path(__file__).stem
    monkeypatch.setitem(ANALYSES, "fdetect", f"{mod}:fake_detect")
    monkeypatch.setitem(ANALYSES, "ffail", f"{mod}:fake_fail")
    monkeypatch.setitem(ANALYSES, "fslow", f"{mod}:fake_slow")
    monkeypatch.syspath_prepend(str(HERE))
    return ANALYSES


@pytest.fixture
def batch(tmp_path, fakes):
    data = tmp_path / "data"
    data.mkdir()
    for i in range(3):
        make_recording(data / f"rec{i}.vhdr", seed=i)
    (data / "corrupt.vhdr").write_text("this is not a BrainVision header\n")
    p = write_pipeline(tmp_path, """
name = "unit"
[defaults]
analyses = ["fdetect"]
muscle = "FDI"
side = "R"
[defaults.options.fdetect]
threshold_uv = 300.0
[[recordings]]
path = "data/rec0.vhdr"
[[recordings]]
path = "data/rec1.vhdr"
muscle = "biceps"
[[recordings]]
path = "data/rec2.vhdr"
id = "third"
[[recordings]]
path = "data/corrupt.vhdr"
""")
    return p


def read_errors(out: Path) -> list[dict]:
    with open(out / "errors.csv", newline="") as fh:
        return list(csv.DictReader(fh))


# ------------------------------------------------------------------ tests
def test_serial_run_isolates_failure_and_writes_contract(batch, tmp_path):
    out = tmp_path / "out"
    res = run_pipeline(load_pipeline(batch), out, scheduler="serial", report=False)
    assert res.exit_code == 3
    assert sorted(res.ran) == [("rec0", "fdetect"), ("rec1", "fdetect"), ("third", "fdetect")]
    errs = read_errors(out)
    assert [(e["recording"], e["analysis"]) for e in errs] == [("corrupt", "fdetect")]
    assert "corrupt.vhdr" in errs[0]["error"]
    for rid in ("rec0", "rec1", "third"):
        folder = out / rid / "fdetect"
        assert (folder / "discharges.csv").is_file()
        m = read_manifest(folder)
        assert m is not None and set(m["files"]) == {"discharges.csv", "summary.json"}
    assert not (out / "corrupt").exists() or not any((out / "corrupt").iterdir())
    summ = json.loads((out / "rec1" / "fdetect" / "summary.json").read_text())
    assert summ["channels"]["EMG1"]["muscle"] == "biceps"  # recording overrides defaults
    assert summ["options"] == {"threshold_uv": 300.0}
    prov = json.loads((out / "provenance.json").read_text())
    assert prov["environment"]["motorsign"]
    assert prov["environment"]["dependencies"]["numpy"] == np.__version__
    rec0 = prov["recordings"]["rec0"]
    import hashlib

    assert rec0["input_sha256"] == hashlib.sha256((batch.parent / "data/rec0.vhdr").read_bytes()).hexdigest()
    assert set(rec0["input_files"]) == {"rec0.vhdr", "rec0.vmrk", "rec0.eeg"}
    assert rec0["analyses"]["fdetect"]["status"] == "ok"
    assert rec0["analyses"]["fdetect"]["elapsed_s"] >= 0
    assert prov["recordings"]["corrupt"]["analyses"]["fdetect"]["status"] == "failed"
    assert prov["timings"]["total_s"] > 0 and prov["exit_code"] == 3


def test_resume_skips_complete_and_reruns_changed(batch, tmp_path):
    out = tmp_path / "out"
    pipe = load_pipeline(batch)
    run_pipeline(pipe, out, scheduler="serial", report=False)
    mtime = (out / "rec0" / "fdetect" / MANIFEST).stat().st_mtime_ns
    again = run_pipeline(load_pipeline(batch), out, scheduler="serial", report=False)
    assert again.ran == [] and len(again.cached) == 3
    assert again.exit_code == 3  # the corrupt file still fails, and is retried
    assert (out / "rec0" / "fdetect" / MANIFEST).stat().st_mtime_ns == mtime
    # new content of one input: only that one reruns
    make_recording(batch.parent / "data" / "rec1.vhdr", seed=99)
    # new options for another
    text = batch.read_text().replace('id = "third"', 'id = "third"\n[recordings.options.fdetect]\nthreshold_uv = 250.0')
    batch.write_text(text)
    third = run_pipeline(load_pipeline(batch), out, scheduler="serial", report=False)
    assert sorted(third.ran) == [("rec1", "fdetect"), ("third", "fdetect")]
    assert third.cached == [("rec0", "fdetect")]
    # a result folder with a file missing is not complete
    (out / "rec0" / "fdetect" / "discharges.csv").unlink()
    fourth = run_pipeline(load_pipeline(batch), out, scheduler="serial", report=False)
    assert ("rec0", "fdetect") in fourth.ran


def test_force_recomputes(batch, tmp_path):
    out = tmp_path / "out"
    run_pipeline(load_pipeline(batch), out, scheduler="serial", report=False)
    res = run_pipeline(load_pipeline(batch), out, scheduler="serial", report=False, force=True)
    assert len(res.ran) == 3 and res.cached == []


def test_exit_codes_all_ok_and_nothing(tmp_path, fakes):
    make_recording(tmp_path / "a.vhdr")
    ok = write_pipeline(tmp_path, '[[recordings]]\npath = "a.vhdr"\nanalyses = ["fdetect"]\n', "ok.toml")
    assert main(["run", str(ok), "--out", str(tmp_path / "o1"), "--scheduler", "serial",
                 "--no-report", "-q"]) == 0
    bad = write_pipeline(tmp_path, '[[recordings]]\npath = "a.vhdr"\nanalyses = ["ffail"]\n', "bad.toml")
    assert main(["run", str(bad), "--out", str(tmp_path / "o2"), "--scheduler", "serial",
                 "--no-report", "-q"]) == 1
    errs = read_errors(tmp_path / "o2")
    assert errs == [{"recording": "a", "analysis": "ffail",
                     "error": f"{tmp_path / 'a.vhdr'}: no trigger in the analysis window"}]
    assert not (tmp_path / "o2" / "a" / "ffail").exists()
    assert not [p for p in (tmp_path / "o2" / "a").iterdir()]  # no staging leftovers


def test_invalid_pipeline_exits_1_before_any_work(tmp_path, fakes, capsys):
    make_recording(tmp_path / "a.vhdr")
    p = write_pipeline(tmp_path, '[[recordings]]\npath = "a.vhdr"\nanalyses = ["fdetect"]\n'
                                 '[[recordings]]\npath = "missing.vhdr"\nanalyses = ["fdetect"]\n')
    assert main(["run", str(p), "--out", str(tmp_path / "o")]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "missing.vhdr" in err[0] and "[[recordings]] #2" in err[0]
    assert not (tmp_path / "o").exists()


def test_processes_pin_one_thread_per_worker(batch, tmp_path):
    out = tmp_path / "out"
    res = run_pipeline(load_pipeline(batch), out, scheduler="processes", workers=2, report=False)
    assert res.exit_code == 3 and len(res.ran) == 3
    pids = set()
    for rid in ("rec0", "rec1", "third"):
        ch = json.loads((out / rid / "fdetect" / "summary.json").read_text())["channels"]["EMG1"]
        assert ch["threads"] == "1"
        pids.add(ch["pid"])
    assert os.getpid() not in pids
    prov = json.loads((out / "provenance.json").read_text())
    assert prov["executor"] == {"kind": "processes", "workers": 2}


def test_unknown_scheduler_and_missing_dask(batch, tmp_path, monkeypatch):
    with pytest.raises(ConfigError, match="unknown value 'slurm'"):
        run_pipeline(load_pipeline(batch), tmp_path / "o", scheduler="slurm", report=False)
    assert not (tmp_path / "o").exists()
    with pytest.raises(ConfigError, match="--workers must be at least 1"):
        run_pipeline(load_pipeline(batch), tmp_path / "o", workers=0, report=False)
    monkeypatch.setitem(sys.modules, "distributed", None)
    with pytest.raises(ConfigError, match=r"pip install 'motorsign\[dask\]'"):
        run_pipeline(load_pipeline(batch), tmp_path / "o2", scheduler="dask", report=False)


def _env_with_tests_on_path() -> dict:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(HERE), env.get("PYTHONPATH", "")])
    return env


_RUNNER = """
import sys
from motorsign.pipeline import ANALYSES
ANALYSES["fslow"] = "test_pipeline_run:fake_slow"
from motorsign.cli import main
sys.exit(main(sys.argv[1:]))
"""


def test_kill_9_midway_then_resume(tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    lines = ["[defaults]", 'analyses = ["fslow"]', "[defaults.options.fslow]", "sleep_s = 0.6"]
    for i in range(6):
        make_recording(data / f"r{i}.vhdr", seed=i, seconds=0.05)
        lines += ["[[recordings]]", f'path = "data/r{i}.vhdr"']
    p = write_pipeline(tmp_path, "\n".join(lines) + "\n")
    out = tmp_path / "out"
    cmd = [sys.executable, "-c", _RUNNER, "run", str(p), "--out", str(out), "--scheduler",
           "processes", "--workers", "2", "--no-report", "-q"]
    proc = subprocess.Popen(cmd, env=_env_with_tests_on_path(), start_new_session=True,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 60
    try:
        while time.monotonic() < deadline:
            done = [d for d in out.glob("r*/fslow") if (d / MANIFEST).is_file()]
            partial = list(out.glob("r*/.fslow.partial-*/first.json"))
            if done and partial:
                break
            assert proc.poll() is None, proc.stderr.read().decode()
            time.sleep(0.02)
        else:
            pytest.fail("the run never reached the middle")
    finally:
        os.killpg(proc.pid, signal.SIGKILL)  # the run and its workers, at once
        proc.wait()
    time.sleep(0.2)
    n_done = len([d for d in out.glob("r*/fslow")])
    assert 1 <= n_done < 6
    # every published folder is complete; unfinished work is only in hidden staging folders
    for d in out.glob("r*/fslow"):
        assert {f.name for f in d.iterdir()} == {"first.json", "summary.json", MANIFEST}
    assert list(out.glob("r*/.fslow.partial-*"))
    # the next run completes the rest and reuses what was done
    res = subprocess.run(cmd, env=_env_with_tests_on_path(), capture_output=True, timeout=120)
    assert res.returncode == 0, res.stderr.decode()
    for i in range(6):
        d = out / f"r{i}" / "fslow"
        assert (d / "summary.json").is_file() and read_manifest(d) is not None
    assert not list(out.glob("r*/.fslow.*"))  # leftovers cleaned
    prov = json.loads((out / "provenance.json").read_text())
    statuses = [r["analyses"]["fslow"]["status"] for r in prov["recordings"].values()]
    assert statuses.count("cached") == n_done and statuses.count("ok") == 6 - n_done


@pytest.mark.slow
def test_dask_scheduler_over_tcp(batch, tmp_path):
    pytest.importorskip("distributed")
    env = _env_with_tests_on_path()
    env.update(DASK_DISTRIBUTED__WORKER__DAEMON="False")
    sched_file = tmp_path / "scheduler.json"
    dask = [sys.executable, "-m", "distributed.cli.dask_scheduler"]
    sched = subprocess.Popen(dask + ["--host", "127.0.0.1", "--port", "0", "--no-dashboard",
                                     "--scheduler-file", str(sched_file)],
                             env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                             start_new_session=True)
    worker = None
    try:
        deadline = time.monotonic() + 60
        while not sched_file.is_file() and time.monotonic() < deadline:
            time.sleep(0.1)
        address = json.loads(sched_file.read_text())["address"]
        assert address.startswith("tcp://127.0.0.1:")
        worker = subprocess.Popen(
            [sys.executable, "-m", "distributed.cli.dask_worker", address, "--nthreads", "1",
             "--nworkers", "1", "--no-dashboard", "--host", "127.0.0.1"],
            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
        out = tmp_path / "out"
        res = run_pipeline(load_pipeline(batch), out, scheduler=address, report=False)
        assert res.exit_code == 3
        assert sorted(res.ran) == [("rec0", "fdetect"), ("rec1", "fdetect"), ("third", "fdetect")]
        assert read_errors(out)[0]["recording"] == "corrupt"
        prov = json.loads((out / "provenance.json").read_text())
        assert prov["executor"]["kind"] == "dask-scheduler"
        assert prov["executor"]["address"] == address
        pid = json.loads((out / "rec0" / "fdetect" / "summary.json").read_text())["channels"]["EMG1"]["pid"]
        assert pid != os.getpid()
    finally:
        for p in (worker, sched):
            if p is not None:
                os.killpg(p.pid, signal.SIGTERM)
                try:
                    p.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    os.killpg(p.pid, signal.SIGKILL)
                    p.wait()


def fake_crash(path, out_dir, **kwargs):
    """Kills its worker process, like a segfault in a reader."""
    if "crash" in str(path):
        os._exit(9)
    return fake_detect(path, out_dir, **kwargs)


def test_dead_worker_fails_only_its_task(tmp_path, fakes, monkeypatch):
    monkeypatch.setitem(ANALYSES, "fcrash", f"{Path(__file__).stem}:fake_crash")
    lines = ['[defaults]', 'analyses = ["fcrash"]']
    for name in ("a", "crash", "b", "c"):
        make_recording(tmp_path / f"{name}.vhdr", seconds=0.05)
        lines += ["[[recordings]]", f'path = "{name}.vhdr"']
    p = write_pipeline(tmp_path, "\n".join(lines) + "\n")
    res = run_pipeline(load_pipeline(p), tmp_path / "out", scheduler="processes", workers=2,
                       report=False)
    assert res.exit_code == 3
    assert sorted(r for r, _ in res.ran) == ["a", "b", "c"]
    errs = read_errors(tmp_path / "out")
    assert [e["recording"] for e in errs] == ["crash"] and "worker process died" in errs[0]["error"]


def test_progress_bar_only_on_a_terminal():
    import io

    from motorsign.pipeline.progress import Progress

    class Tty(io.StringIO):
        def isatty(self):
            return True

    quiet, tty = io.StringIO(), Tty()
    for stream in (quiet, tty):
        bar = Progress(4, stream=stream)
        bar.update("r1/detect")
        bar.update("r2/detect", failed=True)
        bar.close()
    assert quiet.getvalue() == ""
    text = tty.getvalue()
    assert "\r[" in text and "2/4" in text and "1 failed" in text and text.endswith("\n")


@pytest.mark.slow
def test_dask_local_cluster(batch, tmp_path):
    pytest.importorskip("distributed")
    out = tmp_path / "out"
    res = run_pipeline(load_pipeline(batch), out, scheduler="dask", workers=1, report=False)
    assert res.exit_code == 3 and len(res.ran) == 3
    ch = json.loads((out / "rec0" / "fdetect" / "summary.json").read_text())["channels"]["EMG1"]
    assert ch["threads"] == "1" and ch["pid"] != os.getpid()
    assert json.loads((out / "provenance.json").read_text())["executor"] == {"kind": "dask", "workers": 1}


def test_epoched_array_read_options_reach_the_reader(tmp_path, fakes):
    rng = np.random.default_rng(0)
    np.save(tmp_path / "trials.npy", rng.normal(0, 10, (500, 7)).astype(np.float32))
    p = write_pipeline(tmp_path, '[[recordings]]\npath = "trials.npy"\nanalyses = ["fdetect"]\n'
                                 'fs = 5000\nstim_sample = 100\nunits = "uV"\n'
                                 '[[recordings]]\npath = "trials.npy"\nid = "no_fs"\n'
                                 'analyses = ["fdetect"]\n')
    out = tmp_path / "out"
    res = run_pipeline(load_pipeline(p), out, scheduler="serial", report=False)
    assert res.ran == [("trials", "fdetect")]
    summ = json.loads((out / "trials" / "fdetect" / "summary.json").read_text())
    assert summ["channels"]["trials"]["duration_s"] == pytest.approx(7 * 500 / 5000)
    errs = read_errors(out)
    assert errs[0]["recording"] == "no_fs" and "--fs" in errs[0]["error"]
    prov = json.loads((out / "provenance.json").read_text())
    assert prov["recordings"]["trials"]["read_options"] == {"fs": 5000, "stim_sample": 100, "units": "uV"}


def test_serial_leaves_the_callers_threads_alone(tmp_path, fakes, monkeypatch):
    monkeypatch.delenv("NUMBA_NUM_THREADS", raising=False)
    make_recording(tmp_path / "a.vhdr", seconds=0.05)
    p = write_pipeline(tmp_path, '[[recordings]]\npath = "a.vhdr"\nanalyses = ["fdetect"]\n')
    assert run_pipeline(load_pipeline(p), tmp_path / "o", scheduler="serial", report=False).exit_code == 0
    assert "NUMBA_NUM_THREADS" not in os.environ


def test_limit_threads_with_numba_already_loaded(monkeypatch):
    import numba

    from motorsign.pipeline.tasks import THREAD_ENV, limit_threads

    for k in THREAD_ENV:  # restored after the test
        monkeypatch.delenv(k, raising=False)
    monkeypatch.setitem(sys.modules, "threadpoolctl", None)  # no process-wide BLAS limit here
    monkeypatch.setenv("NUMBA_NUM_THREADS", str(numba.config.NUMBA_NUM_THREADS))
    before = os.environ["NUMBA_NUM_THREADS"]
    limit_threads()
    try:
        assert os.environ["NUMBA_NUM_THREADS"] == before  # numba would refuse a new value
        assert numba.get_num_threads() == 1
        numba.config.reload_config()  # what numba does before compiling: must not raise
    finally:
        numba.set_num_threads(numba.config.NUMBA_NUM_THREADS)
