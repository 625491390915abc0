"""The process-wide worker pool (motorsign.workers)."""

import multiprocessing
import signal
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
    started = threading.Event()
    finished = threading.Event()

    def slow():
        started.set()
        time.sleep(0.2)
        finished.set()

    def fail():
        started.wait(5)  # the other call is running: it must be awaited
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


def test_pool_replaced_while_a_caller_submits_is_not_an_error():
    # a caller that got the pool and is still submitting when another caller
    # grows it (the old pool shut down) must not fail with "cannot schedule
    # new futures after shutdown"
    n = workers.shared_executor(1)._max_workers
    grown = threading.Event()

    def calls():
        yield lambda: 1
        grower = threading.Thread(target=lambda: (workers.shared_executor(n + 2), grown.set()))
        grower.start()
        grower.join(5)
        yield lambda: 2

    assert workers.run_all(calls(), n) == [1, 2]
    assert grown.is_set()


def test_alongside_waits_for_the_submitted_when_submitting_fails(monkeypatch):
    # the pool refuses the second task: the first is cancelled or, when it
    # already runs, told to stop and awaited before the failure is raised
    stop = threading.Event()
    started = threading.Event()
    returned = threading.Event()
    real = workers.shared_executor(2)
    n_submitted = []

    class Refusing:
        _max_workers = real._max_workers

        def submit(self, fn):
            if n_submitted:
                raise RuntimeError("cannot schedule new futures")
            n_submitted.append(fn)
            return real.submit(fn)

    monkeypatch.setattr(workers, "_executor", Refusing())
    monkeypatch.setattr(workers, "_size", 10**6)

    def work():
        started.set()
        while not stop.is_set():  # a queue worker polls the stop flag
            time.sleep(0.005)
        returned.set()

    try:
        with pytest.raises(RuntimeError, match="cannot schedule"):
            workers.alongside(work, 2, stop)
        was_stopped = stop.is_set()
        time.sleep(0.1)  # a task left behind would have started by now
        ran_on = started.is_set() and not returned.is_set()
    finally:
        stop.set()  # never leave a pool thread spinning
    assert was_stopped and not ran_on


def test_a_failing_worker_stops_the_others_and_the_caller():
    stop = threading.Event()
    done_by_caller = []

    def work():
        if threading.current_thread() is threading.main_thread():
            while not stop.is_set() and len(done_by_caller) < 400:
                done_by_caller.append(1)
                time.sleep(0.005)
            return
        time.sleep(0.02)
        raise ValueError("worker failed")

    with pytest.raises(ValueError, match="worker failed"):
        workers.alongside(work, 1, stop)
    assert stop.is_set() and len(done_by_caller) < 400


@pytest.mark.skipif(sys.platform == "win32" or threading.current_thread() is not threading.main_thread()
                    or signal.getsignal(signal.SIGINT) is not signal.default_int_handler,
                    reason="Ctrl-C sent to this process")
def test_an_interrupt_cancels_the_calls_not_started():
    # every pool thread is busy when Ctrl-C reaches the waiting caller: the
    # queued calls are cancelled (never start), and the running ones are
    # awaited, the one being waited for when the interrupt came included
    import os

    n = workers.shared_executor(1)._max_workers
    release_first = threading.Event()
    release = threading.Event()
    started = []

    def interrupt():
        os.kill(os.getpid(), signal.SIGINT)  # Ctrl-C (wakes the waiting caller)
        time.sleep(0.1)
        release.set()
        time.sleep(0.1)
        release_first.set()

    timer = threading.Timer(0.1, interrupt)
    timer.start()
    calls = ([lambda: release_first.wait(5)] + [lambda: release.wait(5)] * (n - 1)
             + [lambda i=i: started.append(i) for i in range(4)])
    try:
        with pytest.raises(KeyboardInterrupt):
            workers.run_all(calls, n)
        assert release_first.is_set()  # the running calls were awaited
    finally:
        timer.join()
        release_first.set()
        release.set()
    time.sleep(0.05)
    assert started == []


_NESTED = """
import threading
from motorsign import workers
n = 2
gate = threading.Barrier(n)
def outer(i):
    gate.wait(5)  # every pool thread runs an outer task: none is free for inner ones
    return sum(workers.run_all([lambda j=j: i * 10 + j for j in range(3)], n))
def queue_worker(i):
    gate.wait(5)
    items = list(range(5))
    done = []
    def work():
        while items:
            done.append(items.pop())
    workers.alongside(work, n - 1, threading.Event())
    return sorted(done)
print(workers.run_all([lambda i=i: outer(i) for i in range(n)], n),
      workers.run_all([lambda i=i: queue_worker(i) for i in range(n)], n))
"""


def test_a_pool_task_using_the_pool_runs_its_calls_itself():
    # an analysis run inside a pool task (a batch over recordings on the same
    # pool) must not wait for pool threads that are all busy waiting: deadlock
    import subprocess

    try:
        r = subprocess.run([sys.executable, "-c", _NESTED], capture_output=True, text=True, timeout=30)
    except subprocess.TimeoutExpired:
        pytest.fail("deadlock: a pool task waited for calls queued behind itself")
    assert r.returncode == 0, r.stderr
    assert r.stdout.split() == ["[3,", "33]", "[[0,", "1,", "2,", "3,", "4],", "[0,", "1,", "2,", "3,", "4]]"]
