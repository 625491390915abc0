"""Worker threads shared by the analyses of one process.

The chunk-parallel analyses (``detect``'s chunks and channels, the mains
probe) hand their work to threads. Starting new threads for every call
costs more than the threads themselves on short recordings and in batches
of many recordings run in one process: each new thread maps and faults in a
fresh stack and fresh scratch memory, and unmapping it interrupts the other
cores. One pool of threads per process, started on first use and grown
when a call asks for more, avoids that.

Tasks given to the pool must not wait on other tasks of the pool (the
calling thread waits; a task never does), so calls from several threads at
once share the workers without deadlock: they only wait their turn.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterable
from concurrent.futures import Future, ThreadPoolExecutor

__all__ = ["shared_executor", "run_all", "collect", "alongside"]

_lock = threading.Lock()
_executor: ThreadPoolExecutor | None = None
_size = 0


def shared_executor(n_workers: int) -> ThreadPoolExecutor:
    """The process's worker pool, with at least ``n_workers`` threads.

    Parameters
    ----------
    n_workers : int
        Threads the caller will keep busy at once (besides itself).

    Returns
    -------
    concurrent.futures.ThreadPoolExecutor
        Shared: do not shut it down, and never make one of its tasks wait
        for another of its tasks.
    """
    global _executor, _size
    n_workers = max(1, int(n_workers))
    with _lock:
        if _executor is None or _size < n_workers:
            old = _executor
            _executor = ThreadPoolExecutor(max_workers=n_workers, thread_name_prefix="motorsign")
            _size = n_workers
            if old is not None:
                old.shutdown(wait=False)  # its threads end once their tasks are done
        return _executor


def run_all(calls: Iterable[Callable[[], object]], n_workers: int) -> list:
    """Run ``calls`` on the shared pool and return their results in order.

    Every call has finished (or failed) when this returns or raises, so no
    worker still touches the caller's data; the first failure is re-raised
    after that.

    Parameters
    ----------
    calls : iterable of callables without arguments
    n_workers : int
        Threads to use at most.
    """
    ex = shared_executor(n_workers)
    futures: list[Future] = [ex.submit(c) for c in calls]
    return collect(futures)


def collect(futures: list[Future]) -> list:
    """Wait for every future, then return their results (the first failure re-raised)."""
    error: BaseException | None = None
    out = []
    for fut in futures:
        try:
            out.append(fut.result())
        except BaseException as exc:  # wait for the others before raising
            if error is None:
                error = exc
            out.append(None)
    if error is not None:
        raise error
    return out


def alongside(work: Callable[[], object], n_others: int,
              stop: threading.Event | None = None) -> None:
    """Run ``work`` in the calling thread and in ``n_others`` pool threads at once.

    For work that takes its items from a shared queue until none is left.
    If the calling thread's ``work`` fails, ``stop`` (when given) is set so
    the others stop early; every thread has returned before anything is
    raised.
    """
    ex = shared_executor(n_others)
    futures = [ex.submit(work) for _ in range(n_others)]
    try:
        work()
    except BaseException:
        if stop is not None:
            stop.set()
        try:
            collect(futures)
        except BaseException:
            pass  # the calling thread's failure is the one reported
        raise
    collect(futures)


def _forget_after_fork() -> None:
    # a forked child has none of the parent's threads: start its own on first use
    global _executor, _size, _lock
    _executor = None
    _size = 0
    _lock = threading.Lock()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_after_fork)
