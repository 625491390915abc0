"""One executor interface over serial, process-pool and Dask execution.

:func:`make_executor` turns the ``--scheduler`` value into an executor:

``serial``
    in this process, one task after the other (debugging, tiny batches);
``processes`` (default)
    a :class:`concurrent.futures.ProcessPoolExecutor` with the ``spawn``
    start method and ``--workers N`` processes, one compute thread each;
``dask``
    a local Dask cluster (``distributed.LocalCluster``) on 127.0.0.1 with N
    single-threaded worker processes;
``tcp://HOST:PORT``
    an existing Dask scheduler (a lab cluster, e.g. from dask-jobqueue);
    its workers must see the same file system and have motorsign installed.

Every executor has :meth:`Executor.map_unordered`, which yields
``(item, result, exception)`` as tasks finish, and is a context manager.
Dask is imported only for the last two.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from motorsign.errors import ConfigError

__all__ = ["Executor", "SerialExecutor", "ProcessExecutor", "DaskExecutor", "make_executor",
           "check_scheduler", "default_workers"]

log = logging.getLogger(__name__)

#: address prefixes of an existing Dask scheduler
DASK_PROTOCOLS = ("tcp://", "tls://", "ucx://", "inproc://")
#: seconds to wait for an existing Dask scheduler to answer
DASK_CONNECT_TIMEOUT_S = 10


def default_workers() -> int:
    """Default worker count: the CPUs this process may use."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not Linux
        return max(1, os.cpu_count() or 1)


class Executor:
    """Runs a top-level function over items; subclasses decide where."""

    name = "executor"
    workers = 1

    def map_unordered(
        self, fn: Callable[[Any], Any], items: Iterable[Any]
    ) -> Iterator[tuple[Any, Any, BaseException | None]]:
        """Yield ``(item, result, None)`` or ``(item, None, exception)`` as tasks finish."""
        raise NotImplementedError

    def describe(self) -> dict:
        """What ran the tasks (kept in provenance.json)."""
        return {"kind": self.name, "workers": self.workers}

    def close(self) -> None:
        """Release the workers."""

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.close()


class SerialExecutor(Executor):
    """Tasks one after the other in this process."""

    name = "serial"

    def map_unordered(self, fn, items):
        for item in items:
            try:
                yield item, fn(item), None
            except Exception as exc:  # noqa: BLE001
                yield item, None, exc


class ProcessExecutor(Executor):
    """A spawn-based process pool, one compute thread per worker.

    Parameters
    ----------
    workers : int
        Number of worker processes.
    """

    name = "processes"

    def __init__(self, workers: int):
        if workers < 1:
            raise ConfigError(f"--workers must be at least 1, got {workers}")
        self.workers = int(workers)
        self._pool = None
        self._pool_size = 0

    def _new_pool(self, n: int):
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor

        from motorsign.pipeline.tasks import worker_init

        return ProcessPoolExecutor(
            max_workers=n, mp_context=multiprocessing.get_context("spawn"), initializer=worker_init
        )

    def _shared_pool(self, n_tasks: int):
        """The pool kept between calls (its workers have their imports done)."""
        if self._pool is None:
            self._pool_size = max(1, min(self.workers, n_tasks))
            self._pool = self._new_pool(self._pool_size)
        return self._pool

    def _drop_pool(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None

    def map_unordered(self, fn, items):
        from concurrent.futures import as_completed
        from concurrent.futures.process import BrokenProcessPool

        items = list(items)
        if not items:
            return
        broken = []
        pool = self._shared_pool(len(items))
        futures = {pool.submit(fn, item): item for item in items}
        try:
            for fut in as_completed(futures):
                item = futures[fut]
                try:
                    yield item, fut.result(), None
                except BrokenProcessPool:
                    broken.append(item)
                except Exception as exc:  # noqa: BLE001
                    yield item, None, exc
        except BaseException:
            self._drop_pool()
            raise
        if broken:
            self._drop_pool()
        else:
            return
        # A worker died and took the pool down: every unfinished task got the
        # error. Rerun those one at a time, so only the task that kills its
        # worker is reported and the innocent ones complete.
        log.warning("a worker process died; rerunning %d unfinished task(s) one at a time",
                    len(broken))
        single = None
        try:
            for item in broken:
                if single is None:
                    single = self._new_pool(1)
                try:
                    yield item, single.submit(fn, item).result(), None
                except BrokenProcessPool as exc:
                    single.shutdown(wait=True, cancel_futures=True)
                    single = None
                    yield item, None, RuntimeError(
                        f"the worker process died while running this task (crash or out of "
                        f"memory: {exc})")
                except Exception as exc:  # noqa: BLE001
                    yield item, None, exc
        finally:
            if single is not None:
                single.shutdown(wait=True, cancel_futures=True)

    def close(self) -> None:
        self._drop_pool()


class DaskExecutor(Executor):
    """Tasks on a Dask cluster: a local one, or an existing scheduler.

    Parameters
    ----------
    address : str | None
        ``tcp://HOST:PORT`` of an existing scheduler, or ``None`` for a local
        cluster on 127.0.0.1.
    workers : int
        Worker processes of the local cluster (ignored with ``address``).
    """

    name = "dask"

    def __init__(self, address: str | None = None, workers: int = 1):
        try:
            import distributed
        except ImportError:
            raise ConfigError(
                "--scheduler dask/tcp:// needs the optional dependency dask[distributed]: "
                "pip install 'motorsign[dask]'"
            ) from None
        from motorsign.pipeline.tasks import THREAD_ENV

        self.address = address
        self.cluster = None
        if address is None:
            if workers < 1:
                raise ConfigError(f"--workers must be at least 1, got {workers}")
            self.workers = int(workers)
            self.cluster = distributed.LocalCluster(
                n_workers=self.workers, threads_per_worker=1, processes=True,
                host="127.0.0.1", dashboard_address=None, env=dict(THREAD_ENV),
                silence_logs=logging.ERROR,
            )
            self.client = distributed.Client(self.cluster)
        else:
            try:
                self.client = distributed.Client(address, timeout=DASK_CONNECT_TIMEOUT_S)
            except (OSError, TimeoutError) as exc:
                raise ConfigError(
                    f"--scheduler: cannot reach the Dask scheduler at {address} ({exc})"
                ) from None
            info = self.client.scheduler_info()
            self.workers = sum(w.get("nthreads", 1) for w in info.get("workers", {}).values())
            if not self.workers:
                log.warning("the Dask scheduler at %s has no workers yet; tasks wait for one", address)

    def describe(self) -> dict:
        d = {"kind": "dask" if self.address is None else "dask-scheduler",
             "workers": self.workers}
        if self.address:
            d["address"] = self.address
        return d

    def map_unordered(self, fn, items):
        import uuid

        import distributed

        items = list(items)
        if not items:
            return
        futures = {}
        for i, item in enumerate(items):
            key = f"motorsign-task-{i}-{uuid.uuid4().hex[:8]}"
            futures[self.client.submit(fn, item, key=key, pure=False)] = item
        for fut in distributed.as_completed(list(futures)):
            item = futures[fut]
            try:
                yield item, fut.result(), None
            except Exception as exc:  # noqa: BLE001
                yield item, None, exc
            finally:
                fut.release()

    def close(self) -> None:
        try:
            self.client.close()
        finally:
            if self.cluster is not None:
                self.cluster.close()


def check_scheduler(scheduler: str | None, workers: int | None = None) -> str:
    """Validate ``--scheduler`` and ``--workers`` without starting anything.

    Returns
    -------
    str
        The scheduler, stripped (default ``processes``).

    Raises
    ------
    ConfigError
        For an unknown scheduler or a worker count below 1.
    """
    scheduler = (scheduler or "processes").strip()
    if workers is not None and int(workers) < 1:
        raise ConfigError(f"--workers must be at least 1, got {workers}")
    if scheduler in ("serial", "processes", "dask"):
        return scheduler
    if scheduler.startswith(DASK_PROTOCOLS) and len(scheduler.split("://", 1)[1]) > 0:
        return scheduler
    raise ConfigError(
        f"--scheduler: unknown value {scheduler!r}; use serial, processes, dask or tcp://HOST:PORT"
    )


def make_executor(scheduler: str | None = "processes", workers: int | None = None) -> Executor:
    """Build the executor named by ``--scheduler``.

    Parameters
    ----------
    scheduler : str | None
        ``serial``, ``processes`` (default), ``dask`` or ``tcp://HOST:PORT``.
    workers : int | None
        Worker count for ``processes`` and ``dask`` (default: the usable CPUs).

    Returns
    -------
    Executor

    Raises
    ------
    ConfigError
        For an unknown scheduler, a bad worker count, a missing Dask install
        or an unreachable scheduler.
    """
    scheduler = check_scheduler(scheduler, workers)
    n = default_workers() if workers is None else int(workers)
    if scheduler == "serial":
        return SerialExecutor()
    if scheduler == "processes":
        return ProcessExecutor(n)
    if scheduler == "dask":
        return DaskExecutor(None, n)
    return DaskExecutor(scheduler, n)
