"""The unit of work sent to a worker: one analysis of one recording.

Everything here is a top-level function taking and returning plain dicts,
so it pickles for ``spawn`` process pools and for Dask workers alike. A task
carries file paths and options, never arrays; the worker reads the file.
"""

from __future__ import annotations

import inspect
import logging
import os
import shutil
import time
import traceback
import warnings
from datetime import datetime, timezone
from pathlib import Path

__all__ = ["THREAD_ENV", "limit_threads", "worker_init", "run_task"]

log = logging.getLogger(__name__)

#: environment that pins numba, OpenMP and BLAS to one thread per worker
THREAD_ENV = {
    "NUMBA_NUM_THREADS": "1",
    "OMP_NUM_THREADS": "1",
    "OPENBLAS_NUM_THREADS": "1",
    "MKL_NUM_THREADS": "1",
    "VECLIB_MAXIMUM_THREADS": "1",
    "NUMEXPR_NUM_THREADS": "1",
}

#: analyses that always take the recording's trigger specification
TRIGGERED_ANALYSES = frozenset({"mep", "nerve"})


def limit_threads() -> None:
    """Pin this worker process to one compute thread (numba, OpenMP, BLAS).

    The environment variables act on libraries not yet imported. When numba
    is already imported (a long-lived Dask worker), ``NUMBA_NUM_THREADS`` is
    left alone (numba refuses a new value once its threads exist) and
    :func:`numba.set_num_threads` limits the threads used instead.
    """
    import sys

    numba_loaded = "numba" in sys.modules
    for k, v in THREAD_ENV.items():
        if k == "NUMBA_NUM_THREADS" and numba_loaded:
            continue
        os.environ[k] = v
    if numba_loaded:
        try:
            import numba

            numba.set_num_threads(1)
        except Exception:  # noqa: BLE001 - a numba without threading layer
            pass
    try:
        from threadpoolctl import threadpool_limits

        threadpool_limits(1)
    except ImportError:
        pass


def worker_init() -> None:
    """Initializer of worker processes (process pools)."""
    limit_threads()


def _accepts(func, name: str) -> bool:
    try:
        params = inspect.signature(func).parameters
    except (TypeError, ValueError):
        return False
    return name in params


def _one_line(exc: BaseException) -> str:
    from motorsign.errors import MotorsignError

    text = " ".join(str(exc).split()) or type(exc).__name__
    return text if isinstance(exc, MotorsignError) else f"{type(exc).__name__}: {text}"


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def run_task(task: dict) -> dict:
    """Run one analysis of one recording and publish its result folder.

    Parameters
    ----------
    task : dict
        ``recording`` (id), ``analysis`` (name), ``function`` (``"module:function"``),
        ``path`` (the file), ``final_dir`` (result folder), ``key`` (cache key),
        ``kwargs`` (keyword arguments of ``execute``), ``trigger``,
        ``manifest_info`` (kept in the completion manifest) and
        ``pin_threads`` (default True: one compute thread; False for the
        ``serial`` executor, which runs in the caller's process).

    Returns
    -------
    dict
        ``status`` (``"ok"`` / ``"failed"``), ``error`` (one line),
        ``traceback``, ``elapsed_s``, ``started``, ``warnings``, ``pid``.
        Failures are returned, not raised: one bad recording never stops
        the batch.
    """
    if task.get("pin_threads", True):  # not when running in the caller's own process
        limit_threads()
    from motorsign.pipeline import cache
    from motorsign.pipeline.analyses import resolve_analysis

    started = _now()
    t0 = time.perf_counter()
    cpu0 = time.process_time()
    final = Path(task["final_dir"])
    staging = None
    caught: list[str] = []
    result = {"recording": task["recording"], "analysis": task["analysis"], "started": started,
              "pid": os.getpid(), "host": os.uname().nodename if hasattr(os, "uname") else ""}
    try:
        func = resolve_analysis(task["function"])
        kwargs = dict(task.get("kwargs") or {})
        trigger = task.get("trigger")
        if trigger is not None and (task["analysis"] in TRIGGERED_ANALYSES or _accepts(func, "trigger")):
            kwargs.setdefault("trigger", trigger)
        staging = cache.staging_dir(final)
        with warnings.catch_warnings(record=True) as wlist:
            warnings.simplefilter("always")
            summary = func(task["path"], staging, **kwargs)
        caught = [f"{w.category.__name__}: {w.message}" for w in wlist][:50]
        elapsed = time.perf_counter() - t0
        info = dict(task.get("manifest_info") or {})
        info.update(started=started, finished=_now(), elapsed_s=round(elapsed, 4), warnings=caught)
        cache.write_manifest(staging, task["key"], info)
        cache.publish(staging, final)
        staging = None
        result.update(status="ok", error="", elapsed_s=elapsed, warnings=caught,
                      cpu_s=time.process_time() - cpu0,
                      summary_keys=sorted(summary) if isinstance(summary, dict) else [])
    except Exception as exc:  # noqa: BLE001 - isolation: report, never raise
        result.update(status="failed", error=_one_line(exc), traceback=traceback.format_exc(),
                      elapsed_s=time.perf_counter() - t0, warnings=caught)
    finally:
        if staging is not None:
            shutil.rmtree(staging, ignore_errors=True)
    return result
