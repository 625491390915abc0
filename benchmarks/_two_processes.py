"""Detect on two cores with nothing shared: two processes, one half each.

Used by ``bench_detect_speed.py``. Two worker processes (``spawn``: they
share nothing but the samples, copied once) each hold one half of the
recording (by time) and run the one-thread ``detect_spontaneous`` on it
when told to. The wall time from "go" to both answers is what two cores
give this very workload at that moment without threads: no interpreter
lock, allocator or candidate pool shared between the halves, only the
machine (cores, caches, memory bandwidth, the host).
``t_one_thread_whole / t_two_processes`` is read next to
``threads_2_vs_1``: where it is low, the machine, not the threads, holds
the two-thread figure down. It is a reference, not a ceiling: the two
processes each fault in their own memory, so threads, which share theirs,
can do better.
"""

from __future__ import annotations

import gc
import os
import time

import numpy as np


def _worker(conn, shm_name: str, shape: tuple, dtype: str, lo: int, hi: int,
            fs: float) -> None:  # pragma: no cover - runs in the child process
    for var in ("NUMBA_NUM_THREADS", "OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS",
                "MKL_NUM_THREADS"):
        os.environ[var] = "1"
    from multiprocessing import shared_memory

    from motorsign.recording import Recording
    from motorsign.spontaneous import detect_spontaneous

    shm = shared_memory.SharedMemory(name=shm_name)
    try:
        part = np.array(np.ndarray(shape, np.dtype(dtype), shm.buf)[lo:hi])  # its own copy
    finally:
        shm.close()
    names = [f"EMG{i + 1}" for i in range(part.shape[1])]

    def run(x):
        return len(detect_spontaneous(Recording.from_array(x, fs, names)).discharges)

    run(part[: int(min(6.0, part.shape[0] / fs) * fs)])  # load the compiled kernels
    run(part)
    conn.send("ready")
    while True:
        order = conn.recv()
        if order == "prepare":  # untimed: collect the garbage (tens of ms here)
            gc.collect()
            conn.send("prepared")
        elif order == "go":
            t0 = time.perf_counter()
            n = run(part)
            conn.send((time.perf_counter() - t0, n))
        else:
            return


class TwoProcesses:
    """Two worker processes running one-thread detect on halves of ``data``.

    Parameters
    ----------
    data : ndarray, shape (n_samples, n_channels)
        The recording (float32 µV); split in two halves by time.
    fs : float
        Sampling rate (Hz).
    """

    def __init__(self, data: np.ndarray, fs: float):
        from multiprocessing import get_context, shared_memory

        ctx = get_context("spawn")
        self._shm = shared_memory.SharedMemory(create=True, size=max(1, data.nbytes))
        np.ndarray(data.shape, data.dtype, self._shm.buf)[:] = data
        half = data.shape[0] // 2
        self._conns, self._procs = [], []
        try:
            for lo, hi in ((0, half), (half, 2 * half)):
                mine, theirs = ctx.Pipe()
                proc = ctx.Process(target=_worker, daemon=True,
                                   args=(theirs, self._shm.name, data.shape, str(data.dtype),
                                         lo, hi, fs))
                proc.start()
                self._conns.append(mine)
                self._procs.append(proc)
            for conn in self._conns:
                if conn.recv() != "ready":
                    raise RuntimeError("a detect worker process did not start")
        except BaseException:
            self.close()
            raise

    def run(self) -> tuple[float, int]:
        """Wall seconds until both halves are detected, and their discharges in all."""
        for conn in self._conns:
            conn.send("prepare")
        for conn in self._conns:
            conn.recv()
        t0 = time.perf_counter()
        for conn in self._conns:
            conn.send("go")
        answers = [conn.recv() for conn in self._conns]
        return time.perf_counter() - t0, sum(n for _, n in answers)

    def close(self) -> None:
        """Stop the workers and free the shared samples."""
        for conn in self._conns:
            try:
                conn.send(None)
            except OSError:
                pass
        for proc in self._procs:
            proc.join(30)
            if proc.is_alive():
                proc.kill()
        self._shm.close()
        self._shm.unlink()
