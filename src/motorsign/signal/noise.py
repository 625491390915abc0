"""Robust noise estimates (median absolute deviation)."""

from __future__ import annotations

import numba
import numpy as np

__all__ = ["MAD_TO_SIGMA", "block_mad_nb", "median_inplace_nb", "nanmedian_cols_nb", "robust_noise"]

#: Factor from the median absolute value of zero-mean Gaussian noise to its SD.
MAD_TO_SIGMA = 1.0 / 0.6744897501960817


@numba.njit(nogil=True, cache=True)
def _select_nb(buf, k, lo, hi):  # pragma: no cover - compiled
    """Move the ``k``-th smallest of ``buf[lo:hi + 1]`` to ``buf[k]`` (Hoare quickselect,
    median-of-three pivot); smaller values end before it, larger after."""
    while hi > lo:
        mid = (lo + hi) // 2
        # median of three to buf[mid], then used as pivot
        if buf[mid] < buf[lo]:
            buf[mid], buf[lo] = buf[lo], buf[mid]
        if buf[hi] < buf[lo]:
            buf[hi], buf[lo] = buf[lo], buf[hi]
        if buf[hi] < buf[mid]:
            buf[hi], buf[mid] = buf[mid], buf[hi]
        pivot = buf[mid]
        i = lo
        j = hi
        while i <= j:
            while buf[i] < pivot:
                i += 1
            while buf[j] > pivot:
                j -= 1
            if i <= j:
                buf[i], buf[j] = buf[j], buf[i]
                i += 1
                j -= 1
        if k <= j:
            hi = j
        elif k >= i:
            lo = i
        else:
            return


@numba.njit(nogil=True, cache=True)
def median_inplace_nb(buf, k):  # pragma: no cover - compiled
    """Median of ``buf[:k]`` (no NaNs), reordering it; the value :func:`numpy.median` gives
    (NaN when ``k`` < 1)."""
    if k < 1:
        return np.nan
    half = k // 2
    _select_nb(buf, half, 0, k - 1)
    upper = buf[half]
    if k % 2:
        return upper
    lower = buf[0]
    for i in range(1, half):
        if buf[i] > lower:
            lower = buf[i]
    return (lower + upper) / 2


@numba.njit(nogil=True, cache=True)
def block_mad_nb(y, start, stop, block, max_points):  # pragma: no cover - compiled
    """Robust SD per block and channel of ``y[start:stop]`` (n, c).

    Each block of ``block`` samples gives ``median(|y|) / 0.6745`` computed
    on at most ``max_points`` evenly spaced samples (a subsample keeps the
    cost linear and small). NaNs are skipped. Returns (n_blocks, c) float64;
    a block without finite samples gives NaN.
    """
    n_total = stop - start
    c = y.shape[1]
    nb = max(1, (n_total + block - 1) // block)
    res = np.full((nb, c), np.nan)
    for b in range(nb):
        a = start + b * block
        e = min(stop, a + block)
        m = e - a
        if m <= 0:
            continue
        step = max(1, m // max_points)
        k = (m + step - 1) // step
        buf = np.empty(k)
        for j in range(c):
            cnt = 0
            for i in range(a, e, step):
                v = y[i, j]
                if v == v:
                    buf[cnt] = abs(v)
                    cnt += 1
            if cnt > 0:
                res[b, j] = median_inplace_nb(buf, cnt) * 1.4826022185056018
    return res


@numba.njit(nogil=True, cache=True)
def nanmedian_cols_nb(a):  # pragma: no cover - compiled
    """Median of each column of a 2-D float64 array, NaNs skipped (NaN if none)."""
    r, c = a.shape
    out = np.full(c, np.nan)
    buf = np.empty(r)
    for j in range(c):
        k = 0
        for i in range(r):
            v = a[i, j]
            if v == v:
                buf[k] = v
                k += 1
        if k > 0:
            out[j] = np.median(buf[:k])
    return out


def robust_noise(y: np.ndarray) -> np.ndarray:
    """Robust SD (MAD / 0.6745) of each column of a zero-mean signal.

    Parameters
    ----------
    y : ndarray, shape (n_samples,) or (n_samples, n_channels)
        Band-passed signal.

    Returns
    -------
    ndarray, shape (n_channels,) (a float for 1-D input)
    """
    a = np.asarray(y, dtype=np.float32)
    one = a.ndim == 1
    a2 = np.ascontiguousarray(a[:, None] if one else a)
    r = block_mad_nb(a2, 0, a2.shape[0], max(1, a2.shape[0]), 1 << 20)[0]
    return float(r[0]) if one else r
