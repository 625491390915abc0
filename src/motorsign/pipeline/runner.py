"""Running a validated pipeline: plan, cache check, execute, collect.

Layout of ``OUT``::

    OUT/<recording id>/<analysis>/   the files of the single verb + completion manifest
    OUT/cmct/<cmct id>/cmct.json     CMCTs of [[cmct]] pairs
    OUT/errors.csv                   recording, analysis, error (one row per failure)
    OUT/evidence.json                with [fusion]
    OUT/provenance.json              versions, options, input sha256, timings
    OUT/report.html                  one self-contained page
"""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from motorsign.outputs import write_csv, write_json
from motorsign.pipeline import cache
from motorsign.pipeline.config import Pipeline

__all__ = ["RunResult", "plan_tasks", "interleave", "run_pipeline", "EXIT_OK", "EXIT_PARTIAL", "EXIT_NOTHING"]

log = logging.getLogger(__name__)

#: exit code when every task ran (or was already complete)
EXIT_OK = 0
#: exit code when some tasks failed and others ran
EXIT_PARTIAL = 3
#: exit code when nothing could run
EXIT_NOTHING = 1

ERROR_COLUMNS = ("recording", "analysis", "error")
#: file in OUT that remembers input hashes by file stat between runs
HASH_CACHE = ".motorsign-hashes.json"
#: threads hashing the inputs
HASH_THREADS = 4


@dataclass
class RunResult:
    """What :func:`run_pipeline` did.

    Attributes
    ----------
    exit_code : int
        0 all ran, 3 some failed, 1 nothing could run.
    ran, cached, failed : list of (recording id, analysis)
    errors : list of dict
        Rows of ``errors.csv``.
    out_dir : Path
    elapsed_s : float
    """

    exit_code: int
    out_dir: Path
    ran: list = field(default_factory=list)
    cached: list = field(default_factory=list)
    failed: list = field(default_factory=list)
    errors: list = field(default_factory=list)
    elapsed_s: float = 0.0


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def _task_options(rec, analysis: str, function: str) -> dict:
    return {
        "analysis": analysis,
        "function": function,
        "kwargs": {
            "muscle": rec.muscle,
            "side": rec.side,
            "channels": list(rec.channels) if rec.channels is not None else None,
            "read_options": dict(rec.read_options),
            **rec.options.get(analysis, {}),
        },
        "trigger": rec.trigger,
    }


def plan_tasks(pipeline: Pipeline, out_dir: Path, *, force: bool = False) -> tuple[list, list, list, dict]:
    """Hash the inputs and split the work into tasks to run and results to reuse.

    Returns
    -------
    tasks : list of dict
        Tasks for :func:`motorsign.pipeline.tasks.run_task`, in :func:`interleave` order.
    cached : list of (recording id, analysis)
    errors : list of dict
        Recordings that could not even be hashed.
    inputs : dict
        Recording id -> input digest (``sha256``, ``combined_sha256``, ``files``).
    """
    from motorsign import __version__
    from motorsign.pipeline.analyses import ANALYSES

    tasks, cached, errors, inputs = [], [], [], {}
    hashes = cache.HashCache(out_dir / HASH_CACHE)

    def digest_of(rec):
        try:
            d = cache.input_digest(rec.path, hashes)
            size = sum(p.stat().st_size for p in cache.input_files(rec.path))
            return d, size, None
        except OSError as exc:
            return None, 0, exc

    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=HASH_THREADS) as pool:  # hashlib releases the GIL
        digests = list(pool.map(digest_of, pipeline.recordings))
    hashes.save()
    for rec, (digest, size, exc) in zip(pipeline.recordings, digests):
        cache.clean_leftovers(out_dir / rec.id)
        if exc is not None:
            msg = f"{rec.path}: cannot read ({exc.strerror or exc})"
            errors += [{"recording": rec.id, "analysis": a, "error": msg} for a in rec.analyses]
            continue
        inputs[rec.id] = digest
        for analysis in rec.analyses:
            function = ANALYSES[analysis]
            opts = _task_options(rec, analysis, function)
            key = cache.task_key(digest["combined_sha256"], opts, __version__)
            final = out_dir / rec.id / analysis
            if not force and cache.is_complete(final, key):
                cached.append((rec.id, analysis))
                continue
            tasks.append({
                "recording": rec.id,
                "analysis": analysis,
                "function": function,
                "path": str(rec.path),
                "final_dir": str(final),
                "key": key,
                "kwargs": opts["kwargs"],
                "trigger": rec.trigger,
                "size": size,
                "manifest_info": {
                    "recording": rec.id, "analysis": analysis, "input": str(rec.path),
                    "input_sha256": digest["sha256"], "input_files": digest["files"],
                    "options": opts, "motorsign_version": __version__,
                },
            })
    return interleave(tasks), cached, errors, inputs


def interleave(tasks: list[dict]) -> list[dict]:
    """Order tasks largest first, alternating between analyses.

    Largest first balances the workers (the long tasks do not come last);
    alternating analyses makes the first task of each worker a different
    analysis, so on a fresh machine the workers compile different numba
    kernels in parallel instead of all compiling the same ones.
    """
    groups: dict[str, list[dict]] = {}
    for t in sorted(tasks, key=lambda t: -t["size"]):
        groups.setdefault(t["analysis"], []).append(t)
    queues = sorted(groups.values(), key=lambda g: -g[0]["size"])
    out = []
    while queues:
        out += [q.pop(0) for q in queues]
        queues = [q for q in queues if q]
    return out


def _run_cmct(pipeline: Pipeline, out_dir: Path, ok: set) -> tuple[dict, list]:
    from motorsign.pipeline.analyses import CMCT_FUNCTION, resolve_analysis

    results, errors = {}, []
    for entry in pipeline.cmct:
        missing = [f"{rid}/{a}" for rid, a in ((entry.mep, "mep"), (entry.nerve, "nerve"))
                   if (rid, a) not in ok]
        if missing:
            errors.append({"recording": entry.id, "analysis": "cmct",
                           "error": f"needs {' and '.join(missing)}, which did not complete"})
            continue
        t0 = time.perf_counter()
        try:
            func = resolve_analysis(CMCT_FUNCTION)
            res = func(out_dir / entry.mep / "mep", out_dir / entry.nerve / "nerve",
                       out_dir / "cmct" / entry.id, entry=entry)
            results[entry.id] = {"status": "ok", "elapsed_s": time.perf_counter() - t0,
                                 "mep": entry.mep, "nerve": entry.nerve, "result": res}
        except Exception as exc:  # noqa: BLE001 - isolation
            log.debug("cmct %s failed", entry.id, exc_info=True)
            shutil.rmtree(out_dir / "cmct" / entry.id, ignore_errors=True)
            errors.append({"recording": entry.id, "analysis": "cmct", "error": _one_line(exc)})
            results[entry.id] = {"status": "failed", "error": _one_line(exc)}
    return results, errors


def _run_fusion(pipeline: Pipeline, out_dir: Path, ok: set, cmct: dict) -> tuple[dict | None, list]:
    from motorsign.pipeline.analyses import FUSION_FUNCTION, resolve_analysis

    if pipeline.fusion is None:
        return None, []
    t0 = time.perf_counter()
    try:
        func = resolve_analysis(FUSION_FUNCTION)
        func(pipeline, out_dir, ok, cmct, out_dir / "evidence.json")
        return {"status": "ok", "elapsed_s": time.perf_counter() - t0,
                "clinical": str(pipeline.fusion.clinical),
                "clinical_sha256": cache.file_sha256(pipeline.fusion.clinical)}, []
    except Exception as exc:  # noqa: BLE001 - isolation
        log.debug("fusion failed", exc_info=True)
        for name in ("evidence.json", "fusion_case.json"):  # never leave a stale verdict
            (out_dir / name).unlink(missing_ok=True)
        return ({"status": "failed", "error": _one_line(exc)},
                [{"recording": "(case)", "analysis": "fusion", "error": _one_line(exc)}])


def _one_line(exc: BaseException) -> str:
    from motorsign.errors import MotorsignError

    text = " ".join(str(exc).split()) or type(exc).__name__
    return text if isinstance(exc, MotorsignError) else f"{type(exc).__name__}: {text}"


def run_pipeline(
    pipeline: Pipeline,
    out_dir: str | os.PathLike,
    *,
    scheduler: str = "processes",
    workers: int | None = None,
    force: bool = False,
    report: bool = True,
    progress: bool | None = None,
) -> RunResult:
    """Run every (recording, analysis) of a pipeline, then CMCT, fusion and the report.

    Parameters
    ----------
    pipeline : Pipeline
        A validated pipeline (:func:`motorsign.pipeline.load_pipeline`).
    out_dir : path-like
        Output folder (created).
    scheduler : str
        ``serial``, ``processes``, ``dask`` or ``tcp://HOST:PORT``.
    workers : int | None
        Worker processes (default: usable CPUs).
    force : bool
        Recompute results even when complete and unchanged.
    report : bool
        Write ``report.html``.
    progress : bool | None
        Force the progress bar on/off (default: only on a terminal).

    Returns
    -------
    RunResult
    """
    from motorsign.pipeline.executors import check_scheduler, make_executor
    from motorsign.pipeline.progress import Progress
    from motorsign.pipeline.provenance import environment
    from motorsign.pipeline.tasks import run_task

    scheduler = check_scheduler(scheduler, workers)  # before any work, even when all is cached
    t_start = time.perf_counter()
    started = _now()
    out = Path(out_dir).resolve()
    out.mkdir(parents=True, exist_ok=True)

    t0 = time.perf_counter()
    tasks, cached, errors, inputs = plan_tasks(pipeline, out, force=force)
    hash_s = time.perf_counter() - t0
    log.info("%d task(s) to run, %d already complete", len(tasks), len(cached))

    task_info: dict[tuple, dict] = {}
    for rid, a in cached:  # keep when and how long the reused result took
        m = cache.read_manifest(out / rid / a) or {}
        task_info[(rid, a)] = {"status": "cached", **{k: m[k] for k in (
            "started", "finished", "elapsed_s") if m.get(k) is not None}}
    for e in errors:
        task_info[(e["recording"], e["analysis"])] = {"status": "failed", "error": e["error"]}
    ran, failed = [], [(e["recording"], e["analysis"]) for e in errors]
    executor_desc = {"kind": scheduler, "workers": workers}
    bar = Progress(len(tasks) + len(cached), enabled=progress)
    for rid, a in cached:
        bar.update(f"{rid}/{a}", cached=True)
    t0 = time.perf_counter()
    with contextlib.ExitStack() as stack:
        # the workers stay up after the tasks to draw the report's sections
        ex = stack.enter_context(make_executor(scheduler, workers)) if tasks else None
        for task in tasks:  # serial runs in this process: its thread settings are the caller's
            task["pin_threads"] = scheduler != "serial"
        if ex is not None:
            executor_desc = ex.describe()
        for task, res, exc in (ex.map_unordered(run_task, tasks) if ex is not None else ()):
            k = (task["recording"], task["analysis"])
            if exc is not None:
                res = {"status": "failed", "error": _one_line(exc)}
            if res.get("status") == "ok":
                ran.append(k)
            else:
                failed.append(k)
                errors.append({"recording": k[0], "analysis": k[1], "error": res.get("error", "")})
                # an older result of other inputs/options must not pass for this one
                shutil.rmtree(task["final_dir"], ignore_errors=True)
                log.warning("%s/%s failed: %s", k[0], k[1], res.get("error"))
            task_info[k] = {key: res.get(key) for key in
                            ("status", "error", "elapsed_s", "cpu_s", "started", "pid", "host",
                             "warnings", "traceback") if res.get(key) not in (None, "", [])}
            bar.update(f"{k[0]}/{k[1]}", failed=res.get("status") != "ok")
        bar.close()
        exec_s = time.perf_counter() - t0

        ok = set(ran) | set(cached)
        t0 = time.perf_counter()
        cmct, cmct_errors = _run_cmct(pipeline, out, ok)
        fusion, fusion_errors = _run_fusion(pipeline, out, ok, cmct)
        errors += cmct_errors + fusion_errors
        steps_s = time.perf_counter() - t0

        write_csv(out / "errors.csv", errors, ERROR_COLUMNS)

        n_ok = len(ok)
        if n_ok == 0 and (failed or errors):
            code = EXIT_NOTHING
        elif errors:
            code = EXIT_PARTIAL
        else:
            code = EXIT_OK

        provenance = {
            "pipeline": {"path": str(pipeline.path), "name": pipeline.name,
                         "sha256": cache.file_sha256(pipeline.path)},
            "out_dir": str(out),
            "environment": environment(),
            "executor": executor_desc,
            "started": started,
            "recordings": {
                rec.id: {
                    "path": str(rec.path),
                    "input_sha256": inputs.get(rec.id, {}).get("sha256"),
                    "input_files": inputs.get(rec.id, {}).get("files"),
                    "muscle": rec.muscle, "side": rec.side,
                    "read_options": dict(rec.read_options), "trigger": rec.trigger,
                    "analyses": {
                        a: {**task_info.get((rec.id, a), {}),
                            "options": _task_options(rec, a, "")["kwargs"] | {"trigger": rec.trigger},
                            "output": f"{rec.id}/{a}"}
                        for a in rec.analyses
                    },
                }
                for rec in pipeline.recordings
            },
            "cmct": cmct,
            "fusion": fusion,
            "counts": {"ran": len(ran), "cached": len(cached), "failed": len(errors)},
            "exit_code": code,
        }

        report_s = None
        if report:
            t0 = time.perf_counter()
            try:
                from motorsign.report import write_report

                write_report(out, pipeline=pipeline, provenance=provenance, errors=errors,
                             executor=ex)
            except Exception as exc:  # noqa: BLE001 - the results stay valid without a report
                log.error("the report could not be written: %s", _one_line(exc), exc_info=log.isEnabledFor(logging.DEBUG))
                errors.append({"recording": "(run)", "analysis": "report", "error": _one_line(exc)})
                write_csv(out / "errors.csv", errors, ERROR_COLUMNS)
                if code == EXIT_OK:
                    code = EXIT_PARTIAL
            report_s = time.perf_counter() - t0

    elapsed = time.perf_counter() - t_start
    provenance.update(
        finished=_now(),
        exit_code=code,
        timings={"total_s": elapsed, "hash_s": hash_s, "execute_s": exec_s,
                 "cmct_fusion_s": steps_s, "report_s": report_s},
    )
    write_json(out / "provenance.json", provenance)
    return RunResult(exit_code=code, out_dir=out, ran=ran, cached=cached, failed=failed,
                     errors=errors, elapsed_s=elapsed)
