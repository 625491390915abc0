"""Numba kernel: candidate discharges by threshold excursions, both polarities."""

from __future__ import annotations

import numba
import numpy as np

from motorsign.signal.simd import LANES, excursion_scan_lanes8

__all__ = ["detect_excursions_nb"]


@numba.njit(nogil=True, cache=True)
def detect_excursions_nb(y, thr, core_start, core_stop, dead):  # pragma: no cover - compiled
    """Largest absolute sample of each supra-threshold excursion.

    Parameters
    ----------
    y : float32 array (n, c)
        Band-passed signal (chunk with margins).
    thr : float64 array (c,)
        Threshold per channel (µV); channels with a non-finite or
        non-positive threshold are skipped.
    core_start, core_stop : int
        Only peaks with ``core_start <= index < core_stop`` are returned (the
        margins belong to the neighbouring chunks).
    dead : int
        An excursion ends after ``dead`` consecutive samples below threshold.

    Returns
    -------
    idx : int64 array
        Peak sample index in ``y``.
    ch : int64 array
        Channel of each peak.

    Peaks are sorted by channel, each channel's in time order (groups of 8
    channels run as vector code, :func:`motorsign.signal.simd.excursion_scan_lanes8`).
    """
    n, c = y.shape
    # an excursion needs one sample above and `dead` below: this bounds the count
    cap = n * c // max(1, dead) + c + 1
    idx = np.empty(cap, np.int64)
    chs = np.empty(cap, np.int64)
    m = 0
    t = np.empty(c, np.float32)
    for j in range(c):
        v = thr[j]
        t[j] = v if v > 0.0 else np.inf
    best = np.full(c, -1, np.int64)
    bestv = np.zeros(c, np.float32)
    below = np.zeros(c, np.int64)
    lanes = c - c % LANES if y.strides[1] == 4 else 0
    # groups of 8 channels: vector scan until an excursion ends, then emit it here
    for g in range(0, lanes, LANES):
        r = 0
        while r < n:
            r = excursion_scan_lanes8(y, g, r, n, t, dead, best, bestv, below)
            for j in range(g, g + LANES):
                b = best[j]
                if b >= 0 and below[j] >= dead:
                    best[j] = -1
                    if core_start <= b < core_stop:
                        idx[m] = b
                        chs[m] = j
                        m += 1
        for j in range(g, g + LANES):
            b = best[j]
            if b >= 0 and core_start <= b < core_stop:
                idx[m] = b
                chs[m] = j
                m += 1
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
                        b = best[j]
                        best[j] = -1
                        if core_start <= b < core_stop:
                            idx[m] = b
                            chs[m] = j
                            m += 1
        for j in range(lanes, c):
            b = best[j]
            if b >= 0 and core_start <= b < core_stop:
                idx[m] = b
                chs[m] = j
                m += 1
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
