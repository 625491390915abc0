"""Numba kernel: candidate discharges by threshold excursions, both polarities."""

from __future__ import annotations

import numba
import numpy as np

from motorsign.signal.simd import LANES, excursion_scan_lanes8, rows_contiguous

__all__ = ["detect_excursions_nb"]


@numba.njit(nogil=True, cache=True, inline="always")
def _emit(idx, chs, m, b, j, core_start, core_stop):  # pragma: no cover - compiled
    """Append peak ``b`` of channel ``j`` when it lies in the core; returns the new count."""
    if core_start <= b < core_stop:
        idx[m] = b
        chs[m] = j
        m += 1
    return m


@numba.njit(nogil=True, cache=True)
def detect_excursions_nb(y, thr, core_start, core_stop, dead):  # pragma: no cover - compiled
    """Largest absolute sample of each supra-threshold excursion.

    Parameters
    ----------
    y : float32 array (n, c)
        Band-passed signal (chunk with margins).
    thr : float64 array (c,)
        Threshold per channel (µV); channels with a non-finite or
        non-positive threshold are skipped (no candidate, even on infinite
        samples).
    core_start, core_stop : int
        Only peaks with ``core_start <= index < core_stop`` are returned (the
        margins belong to the neighbouring chunks).
    dead : int
        An excursion ends after ``dead`` consecutive samples below threshold
        (values below 1 count as 1: the first sample below ends it).

    Returns
    -------
    idx : int64 array
        Peak sample index in ``y``.
    ch : int64 array
        Channel of each peak.

    Peaks are sorted by channel, each channel's in time order (groups of 8
    channels run as vector code, :func:`motorsign.signal.simd.excursion_scan_lanes8`).

    Raises
    ------
    ValueError
        When ``thr`` does not have one value per channel.
    """
    n, c = y.shape
    if thr.shape[0] != c:
        raise ValueError("detect_excursions_nb: thr must have one value per channel")
    # below 1, the vector lanes' emission test (below >= dead) would also close open
    # excursions of other lanes; the scalar loop treats 0 as 1
    dead = max(dead, 1)
    # an excursion needs one sample above and `dead` below: this bounds the count
    cap = n * c // max(1, dead) + c + 1
    idx = np.empty(cap, np.int64)
    chs = np.empty(cap, np.int64)
    m = 0
    t = np.empty(c, np.float32)
    for j in range(c):
        v = thr[j]
        # NaN: |y| >= NaN is false for every sample, inf included (|inf| >= inf is true)
        t[j] = v if 0.0 < v < np.inf else np.nan
    best = np.full(c, -1, np.int64)
    bestv = np.zeros(c, np.float32)
    below = np.zeros(c, np.int64)
    # lanes g .. g + 7 < lanes <= c: every vector load of y, t, best, bestv, below stays inside
    lanes = c - c % LANES if rows_contiguous(y) else 0
    # groups of 8 channels: vector scan until an excursion ends, then emit it here
    for g in range(0, lanes, LANES):
        r = 0
        while r < n:
            r = excursion_scan_lanes8(y, g, r, n, t, dead, best, bestv, below)
            for j in range(g, g + LANES):
                b = best[j]
                if b >= 0 and below[j] >= dead:
                    best[j] = -1
                    m = _emit(idx, chs, m, b, j, core_start, core_stop)
        for j in range(g, g + LANES):
            if best[j] >= 0:
                m = _emit(idx, chs, m, best[j], j, core_start, core_stop)
    # the other channels, scalar
    if lanes < c:
        for i in range(n):
            for j in range(lanes, c):
                a = abs(y[i, j])
                if a >= t[j]:
                    if best[j] < 0 or a > bestv[j]:
                        best[j] = i
                        bestv[j] = a
                    below[j] = 0
                elif best[j] >= 0:
                    below[j] += 1
                    if below[j] >= dead:
                        m = _emit(idx, chs, m, best[j], j, core_start, core_stop)
                        best[j] = -1
        for j in range(lanes, c):
            if best[j] >= 0:
                m = _emit(idx, chs, m, best[j], j, core_start, core_stop)
    # by channel, each channel's peaks in time order (a stable counting sort)
    start = np.zeros(c + 1, np.int64)
    for k in range(m):
        start[chs[k] + 1] += 1
    for j in range(c):
        start[j + 1] += start[j]
    out_idx = np.empty(m, np.int64)
    out_ch = np.empty(m, np.int64)
    for k in range(m):
        q = start[chs[k]]
        out_idx[q] = idx[k]
        out_ch[q] = chs[k]
        start[chs[k]] = q + 1
    return out_idx, out_ch
