"""Plain numpy/scipy versions of the MUP kernels (same steps, no numba).

They exist so the speed benchmark can compare like with like and so the
compiled kernels can be checked against an independent implementation. The
results match :mod:`motorsign.mup.kernels` up to ties.
"""

from __future__ import annotations

import numpy as np

__all__ = ["detect_peaks_np", "peel_np", "clip_mask_np"]


def detect_peaks_np(sig: np.ndarray, thr: float, dead: int, valid: np.ndarray) -> np.ndarray:
    """Local maxima of ``|sig|`` above ``thr`` with a ±``dead`` dead time (scipy.ndimage).

    Parameters
    ----------
    sig : ndarray of float32
    thr : float
    dead : int
    valid : ndarray of uint8
        0 where peaks are ignored.

    Returns
    -------
    ndarray of int64
    """
    from scipy.ndimage import maximum_filter1d

    a = np.abs(np.asarray(sig, dtype=np.float32))
    if a.size == 0:
        return np.zeros(0, dtype=np.int64)
    # largest within ±dead (ties: the earliest sample wins, as in the kernel)
    full = maximum_filter1d(a, size=2 * dead + 1, mode="constant", cval=-np.inf)
    before = np.full(a.size, -np.inf, dtype=np.float32)
    if a.size > 1:
        # max over [i - dead, i - 1]
        before[1:] = maximum_filter1d(a, size=dead, mode="constant", cval=-np.inf,
                                      origin=(dead - 1) // 2)[:-1]
    ok = (a > thr) & (a >= full) & (a > before) & (np.asarray(valid) != 0)
    return np.flatnonzero(ok).astype(np.int64)


def clip_mask_np(x: np.ndarray, lo_val: float, hi_val: float, run: int, guard: int) -> np.ndarray:
    """Mask (1 = usable) excluding runs of >= ``run`` samples at the extremes (numpy).

    Parameters
    ----------
    x : ndarray
    lo_val, hi_val : float
    run, guard : int

    Returns
    -------
    ndarray of uint8
    """
    n = x.size
    ext = (x >= hi_val) | (x <= lo_val)
    valid = np.ones(n, dtype=np.uint8)
    if not ext.any():
        return valid
    # runs of equal consecutive values
    change = np.flatnonzero(np.diff(x) != 0) + 1
    starts = np.concatenate(([0], change))
    stops = np.concatenate((change, [n]))
    keep = ((stops - starts) >= run) & ext[starts]
    for a, b in zip(starts[keep], stops[keep]):
        valid[max(0, a - guard) : min(n, b + guard)] = 0
    return valid


def peel_np(
    resid: np.ndarray,
    templates: np.ndarray,
    n_sub: int,
    anchors: np.ndarray,
    thr: float,
    dead: int,
    shift: int,
    accept: float,
    n_passes: int,
    valid: np.ndarray,
    tol: float = 0.0,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Greedy template subtraction, as :func:`motorsign.mup.kernels.peel` (numpy).

    Parameters and returns are those of :func:`motorsign.mup.kernels.peel`.
    """
    n = resid.size
    m_tot, L = templates.shape
    n_units = m_tot // n_sub
    T = templates.astype(np.float64)
    norms = (T * T).sum(axis=1)
    # every (template, anchor, shift) as a (template row, offset) pair
    rows, offs = [], []
    for u in range(n_units):
        for a in anchors[u]:
            if a < 0:
                break
            for p in range(n_sub):
                for s in range(-shift, shift + 1):
                    rows.append(u * n_sub + p)
                    offs.append(s - a)
    rows = np.asarray(rows, dtype=np.int64)
    offs = np.asarray(offs, dtype=np.int64)
    lag = np.arange(L)
    out_s, out_u, out_p, out_sc = [], [], [], []
    floor = np.zeros(n, dtype=np.float32)
    for _ in range(n_passes):
        peaks = detect_peaks_np(resid, thr, dead, valid)
        if peaks.size == 0:
            break
        order = np.argsort(-np.abs(resid[peaks]), kind="stable")
        n_acc = 0
        for q in peaks[order]:
            if abs(resid[q]) <= thr + floor[q]:
                continue
            st = q + offs
            ok = (st >= 0) & (st + L <= n)
            if not ok.any():
                continue
            st_ok, rows_ok = st[ok], rows[ok]
            X = resid[st_ok[:, None] + lag[None, :]].astype(np.float64)
            red = 2.0 * np.einsum("ij,ij->i", X, T[rows_ok]) - norms[rows_ok]
            b = int(np.argmax(red))
            m = int(rows_ok[b])
            if red[b] <= accept * norms[m]:
                continue
            resid[st_ok[b] : st_ok[b] + L] -= templates[m]
            sl = slice(st_ok[b], st_ok[b] + L)
            floor[sl] = np.maximum(floor[sl], tol * np.abs(templates[m]))
            out_s.append(int(st_ok[b]))
            out_u.append(m // n_sub)
            out_p.append(m % n_sub)
            out_sc.append(red[b] / norms[m])
            n_acc += 1
        if n_acc == 0:
            break
    return (
        np.asarray(out_s, dtype=np.int64),
        np.asarray(out_u, dtype=np.int64),
        np.asarray(out_p, dtype=np.int64),
        np.asarray(out_sc, dtype=np.float32),
    )
