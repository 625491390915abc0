"""The process-wide worker pool (motorsign.workers)."""

import multiprocessing
import sys
import threading
import time

import pytest

from motorsign import workers


def test_run_all_returns_results_in_order_from_pool_threads():
    names = workers.run_all([lambda i=i: (i, threading.current_thread().name) for i in range(6)], 2)
    assert [i for i, _ in names] == list(range(6))
    assert all(n.startswith("motorsign") for _, n in names)


def test_pool_is_reused_and_grows_on_demand():
    a = workers.shared_executor(1)
    assert workers.shared_executor(1) is a
    b = workers.shared_executor(a._max_workers + 1)
    assert b is not a and b._max_workers == a._max_workers + 1
    assert workers.shared_executor(1) is b


def test_run_all_waits_for_every_call_before_raising():
    finished = threading.Event()

    def slow():
        time.sleep(0.2)
        finished.set()

    def fail():
        raise ValueError("boom")

    with pytest.raises(ValueError, match="boom"):
        workers.run_all([fail, slow], 2)
    assert finished.is_set()


def test_alongside_stops_the_others_when_the_caller_fails():
    stop = threading.Event()
    calls = []
    lock = threading.Lock()

    def work():
        with lock:
            calls.append(threading.current_thread() is threading.main_thread())
        if threading.current_thread() is threading.main_thread():
            time.sleep(0.05)
            raise RuntimeError("caller failed")
        while not stop.is_set():  # a queue worker polls the stop flag
            time.sleep(0.005)

    with pytest.raises(RuntimeError, match="caller failed"):
        workers.alongside(work, 1, stop)
    assert stop.is_set() and sorted(calls) == [False, True]


def _child(q, n):
    q.put(workers.run_all([lambda i=i: i for i in range(n)], n))


@pytest.mark.skipif(sys.platform == "win32", reason="fork")
def test_forked_child_starts_its_own_threads():
    # the parent starts every thread of its pool and leaves them idle: a child
    # that reused the parent's pool object would queue its tasks to threads it
    # does not have, and hang
    n = workers.shared_executor(2)._max_workers
    barrier = threading.Barrier(n)
    workers.run_all([lambda: barrier.wait(5)] * n, n)
    ctx = multiprocessing.get_context("fork")
    q = ctx.Queue()
    p = ctx.Process(target=_child, args=(q, n))
    p.start()
    p.join(10)
    if p.exitcode is None:
        p.kill()
    assert p.exitcode == 0
    assert q.get(timeout=1) == list(range(n))
