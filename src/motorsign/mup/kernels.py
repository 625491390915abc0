"""Numba kernels of the MUP analysis (peak detection, template peeling).

All kernels are ``@numba.njit(nogil=True, cache=True)``, take contiguous
float32 arrays and work on one chunk (with margins) at a time. The plain
numpy/scipy versions of the same steps live in :mod:`motorsign.mup.numpy_impl`
(used by the speed benchmark and selectable with ``engine="numpy"``).
"""

from __future__ import annotations

import numba
import numpy as np

__all__ = ["detect_peaks", "peel", "clip_mask", "turn_points"]


@numba.njit(nogil=True, cache=True)
def detect_peaks(sig, thr, dead, valid):  # pragma: no cover - compiled
    """Indices of local maxima of ``|sig|`` above ``thr``.

    Parameters
    ----------
    sig : float32 array
        Detection signal.
    thr : float
        Threshold on ``|sig|``.
    dead : int
        A peak must be the largest absolute value within ±dead samples
        (ties go to the earliest sample).
    valid : uint8 array
        0 where samples must be ignored (clipping).

    Returns
    -------
    int64 array of peak indices, increasing.
    """
    n = sig.shape[0]
    out = np.empty(n // (dead + 1) + 2, dtype=np.int64)
    k = 0
    i = 0
    while i < n:
        a = abs(sig[i])
        if a <= thr or valid[i] == 0:
            i += 1
            continue
        lo = max(0, i - dead)
        hi = min(n, i + dead + 1)
        is_max = True
        for j in range(lo, hi):
            b = abs(sig[j])
            if (j < i and b >= a) or (j > i and b > a):
                is_max = False
                break
        if is_max:
            out[k] = i
            k += 1
            i += dead + 1
        else:
            i += 1
    return out[:k]


@numba.njit(nogil=True, cache=True)
def clip_mask(x, lo_val, hi_val, run, guard):  # pragma: no cover - compiled
    """Mask (1 = usable) excluding runs of >= ``run`` samples at the extremes.

    Parameters
    ----------
    x : float32 array
        Raw signal.
    lo_val, hi_val : float
        The channel's extreme values (clipping levels).
    run : int
        Minimum run of samples at an extreme to count as clipping.
    guard : int
        Samples excluded on each side of a clipped run.

    Returns
    -------
    uint8 array
    """
    n = x.shape[0]
    valid = np.ones(n, dtype=np.uint8)
    i = 0
    while i < n:
        v = x[i]
        if v >= hi_val or v <= lo_val:
            j = i
            while j < n and x[j] == v:
                j += 1
            if j - i >= run:
                a = max(0, i - guard)
                b = min(n, j + guard)
                for m in range(a, b):
                    valid[m] = 0
            i = max(j, i + 1)
        else:
            i += 1
    return valid


@numba.njit(nogil=True, cache=True)
def peel(resid, templates, n_sub, anchors, thr, dead, shift, accept, n_passes, valid, tol):
    """Greedy template subtraction ("peeling") on one chunk, in place.

    In each pass the peaks of ``|resid|`` above ``thr`` are visited from the
    largest down; for each, every template (at every sub-sample shift) is
    aligned so that one of its anchors falls within ±``shift`` samples of the
    peak, and the alignment that removes the most energy is kept when it
    removes more than ``accept`` × the template's energy. The template is then
    subtracted. Peaks already explained by an earlier subtraction (now below
    ``thr``) are skipped.

    Parameters
    ----------
    resid : float32 array
        Detection-band signal; modified in place (the residual).
    templates : float32 array (n_units * n_sub, L)
        Template ``u * n_sub + p`` is unit ``u`` delayed by ``p / n_sub`` samples.
    n_sub : int
        Sub-sample shifts per unit.
    anchors : int64 array (n_units, n_anchor)
        Anchor sample indices of each unit's template, -1 padded.
    thr : float
        Peak threshold.
    dead : int
        Peak dead time (samples).
    shift : int
        Alignment search around an anchor (± samples).
    accept : float
        Acceptance fraction of the template energy.
    n_passes : int
        Maximum passes.
    valid : uint8 array
        Peaks at samples with 0 are ignored.
    tol : float
        After a subtraction, a peak under the subtracted template must exceed
        ``thr + tol * |template|`` there: the residual of a large unit whose
        discharges vary (jitter, jiggle) is not taken for another unit.

    Returns
    -------
    starts : int64 array
        First sample of each subtracted template.
    units : int64 array
    subs : int64 array
        Sub-sample shift index.
    scores : float32 array
        Energy removed / template energy.
    """
    n = resid.shape[0]
    m_tot = templates.shape[0]
    L = templates.shape[1]
    n_units = m_tot // n_sub
    norms = np.zeros(m_tot, dtype=np.float64)
    for m in range(m_tot):
        s = 0.0
        for i in range(L):
            s += templates[m, i] * templates[m, i]
        norms[m] = s
    cap = 1024
    starts = np.empty(cap, dtype=np.int64)
    units = np.empty(cap, dtype=np.int64)
    subs = np.empty(cap, dtype=np.int64)
    scores = np.empty(cap, dtype=np.float32)
    k = 0
    floor = np.zeros(n, dtype=np.float32)
    for _ in range(n_passes):
        peaks = detect_peaks(resid, thr, dead, valid)
        if peaks.shape[0] == 0:
            break
        amps = np.empty(peaks.shape[0], dtype=np.float32)
        for j in range(peaks.shape[0]):
            amps[j] = -abs(resid[peaks[j]])
        order = np.argsort(amps)
        n_acc = 0
        for jj in range(order.shape[0]):
            q = peaks[order[jj]]
            if abs(resid[q]) <= thr + floor[q]:
                continue
            best = -1e30
            b_start = -1
            b_m = -1
            for u in range(n_units):
                for a_i in range(anchors.shape[1]):
                    a = anchors[u, a_i]
                    if a < 0:
                        break
                    for p in range(n_sub):
                        m = u * n_sub + p
                        for s in range(-shift, shift + 1):
                            st = q - a + s
                            if st < 0 or st + L > n:
                                continue
                            dot = 0.0
                            for i in range(L):
                                dot += resid[st + i] * templates[m, i]
                            red = 2.0 * dot - norms[m]
                            if red > best:
                                best = red
                                b_start = st
                                b_m = m
            if b_m < 0 or best <= accept * norms[b_m]:
                continue
            for i in range(L):
                resid[b_start + i] -= templates[b_m, i]
                f = tol * abs(templates[b_m, i])
                if f > floor[b_start + i]:
                    floor[b_start + i] = f
            if k == cap:
                cap *= 2
                starts = _grow_i(starts, cap)
                units = _grow_i(units, cap)
                subs = _grow_i(subs, cap)
                scores = _grow_f(scores, cap)
            starts[k] = b_start
            units[k] = b_m // n_sub
            subs[k] = b_m % n_sub
            scores[k] = best / norms[b_m]
            k += 1
            n_acc += 1
        if n_acc == 0:
            break
    return starts[:k], units[:k], subs[:k], scores[:k]


@numba.njit(nogil=True, cache=True)
def _grow_i(a, cap):  # pragma: no cover - compiled
    out = np.empty(cap, dtype=np.int64)
    out[: a.shape[0]] = a
    return out


@numba.njit(nogil=True, cache=True)
def _grow_f(a, cap):  # pragma: no cover - compiled
    out = np.empty(cap, dtype=np.float32)
    out[: a.shape[0]] = a
    return out


@numba.njit(nogil=True, cache=True)
def turn_points(x, turn):  # pragma: no cover - compiled
    """Values of the turning points of ``x`` (direction changes >= ``turn``).

    Parameters
    ----------
    x : float32 array
    turn : float
        Minimum excursion from the previous turning point.

    Returns
    -------
    float64 array of the turning points' values, in time order.
    """
    n = x.shape[0]
    out = np.empty(n + 1, dtype=np.float64)
    k = 0
    if n == 0:
        return out[:0]
    direction = 0
    ext = float(x[0])
    start = ext
    for i in range(1, n):
        v = float(x[i])
        if direction == 0:
            if v - start >= turn:
                direction = 1
                ext = v
            elif start - v >= turn:
                direction = -1
                ext = v
        elif direction == 1:
            if v > ext:
                ext = v
            elif ext - v >= turn:
                out[k] = ext
                k += 1
                direction = -1
                ext = v
        else:
            if v < ext:
                ext = v
            elif v - ext >= turn:
                out[k] = ext
                k += 1
                direction = 1
                ext = v
    return out[:k]
