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
once share the workers without deadlock: they only wait their turn. A pool
task that itself calls :func:`run_all`, :func:`submit_all` or
:func:`alongside` (an analysis run inside a batch on this pool) has its
calls run in its own thread, one after the other.
"""

from __future__ import annotations

import functools
import os
import threading
from collections.abc import Callable, Iterable
from concurrent.futures import Future, ThreadPoolExecutor

__all__ = ["shared_executor", "submit_all", "run_all", "collect", "collect_quietly", "alongside"]

_lock = threading.Lock()
_executor: ThreadPoolExecutor | None = None
_size = 0
_thread_state = threading.local()  # ``in_pool``: set in the pool's own threads


def _mark_pool_thread() -> None:
    _thread_state.in_pool = True


def _in_pool_thread() -> bool:
    return getattr(_thread_state, "in_pool", False)


def _ensure(n_workers: int) -> ThreadPoolExecutor:
    # with _lock held: the pool, replaced by a larger one when it is too small
    global _executor, _size
    if _executor is None or _size < n_workers:
        old = _executor
        _executor = ThreadPoolExecutor(max_workers=n_workers, thread_name_prefix="motorsign",
                                       initializer=_mark_pool_thread)
        _size = n_workers
        if old is not None:
            old.shutdown(wait=False)  # its threads end once their tasks are done
    return _executor


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
        for another of its tasks. Another thread asking for more workers
        replaces it (and shuts it down) at any time, so submit through
        :func:`submit_all`, which cannot race with that.
    """
    with _lock:
        return _ensure(max(1, int(n_workers)))


def submit_all(calls: Iterable[Callable[[], object]], n_workers: int,
               stop: threading.Event | None = None) -> list[Future]:
    """Submit ``calls`` to the shared pool (at least ``n_workers`` threads).

    The pool is not replaced while they are submitted. Should a submission
    fail, ``stop`` (when given) is set, the calls submitted so far are
    cancelled or awaited, and the failure is raised. With ``stop``, a call
    that fails sets it too, so that queue workers sharing it stop early.
    From a thread of the pool itself the calls are run here and now, one
    after the other (until one fails; the rest are cancelled): waiting for
    pool threads from a pool thread can deadlock.

    Parameters
    ----------
    calls : iterable of callables without arguments
    n_workers : int
        Threads to use at most.
    stop : threading.Event | None
        The flag the calls poll to stop early.

    Returns
    -------
    list of concurrent.futures.Future
        Wait for them with :func:`collect`.
    """
    calls = list(calls)  # not while holding the lock: producing them may ask for the pool
    if stop is not None:
        calls = [functools.partial(_stopping, c, stop) for c in calls]
    if _in_pool_thread():
        return _run_here(calls)
    futures: list[Future] = []
    try:
        with _lock:
            ex = _ensure(max(1, int(n_workers)))
            for c in calls:
                futures.append(ex.submit(c))
    except BaseException:
        if stop is not None:
            stop.set()
        for fut in futures:
            fut.cancel()  # those not started; the others are awaited
        collect_quietly(futures)
        raise
    return futures


def _run_here(calls: list[Callable[[], object]]) -> list[Future]:
    futures = [Future() for _ in calls]
    for i, (call, fut) in enumerate(zip(calls, futures)):
        try:
            fut.set_result(call())
        except BaseException as exc:
            fut.set_exception(exc)
            for rest in futures[i + 1:]:
                rest.cancel()
            break
    return futures


def _stopping(call: Callable[[], object], stop: threading.Event) -> object:
    try:
        return call()
    except BaseException:
        stop.set()
        raise


def collect_quietly(futures: list[Future]) -> None:
    """Wait for every future and ignore their failures (the caller raises its own)."""
    try:
        collect(futures)
    except BaseException:
        pass  # the caller raises its own failure


def run_all(calls: Iterable[Callable[[], object]], n_workers: int) -> list:
    """Run ``calls`` on the shared pool and return their results in order.

    Every call has finished, failed or been cancelled before it started
    when this returns or raises, so no worker still touches the caller's
    data; the first failure is re-raised after that.

    Parameters
    ----------
    calls : iterable of callables without arguments
    n_workers : int
        Threads to use at most.
    """
    return collect(submit_all(calls, n_workers))


def collect(futures: list[Future]) -> list:
    """Wait for every future, then return their results (the first failure re-raised).

    After a failure (of a call, or of the wait itself: ``KeyboardInterrupt``)
    the calls not started yet are cancelled; those running are awaited.
    """
    error: BaseException | None = None
    out = []
    for fut in futures:
        while True:
            try:
                out.append(fut.result())
                break
            except BaseException as exc:  # wait for the others before raising
                if error is None:
                    error = exc
                    for other in futures:
                        other.cancel()  # only those not started: they never will
                if fut.done():
                    out.append(None)
                    break
                # the wait itself was interrupted (Ctrl-C): this call still runs
    if error is not None:
        raise error
    return out


def alongside(work: Callable[[], object], n_others: int,
              stop: threading.Event | None = None) -> None:
    """Run ``work`` in the calling thread and in ``n_others`` pool threads at once.

    For work that takes its items from a shared queue until none is left.
    If any thread's ``work`` fails, ``stop`` (when given) is set so the
    others stop early; every thread has returned before anything is raised
    (the calling thread's failure first).
    """
    futures = submit_all([work] * n_others, n_others, stop)
    try:
        work()
    except BaseException:
        if stop is not None:
            stop.set()
        collect_quietly(futures)  # the calling thread's failure is the one reported
        raise
    collect(futures)


def _forget_after_fork() -> None:
    # a forked child has none of the parent's threads: start its own on first use
    global _executor, _size, _lock
    _executor = None
    _size = 0
    _lock = threading.Lock()
    _thread_state.in_pool = False  # forked from a pool thread: not one of the child's


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_after_fork)
