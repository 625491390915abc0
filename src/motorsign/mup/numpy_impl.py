"""Plain numpy/scipy versions of the MUP kernels (same steps, no numba).

They exist so the speed benchmark can compare like with like and so the
compiled kernels can be checked against an independent implementation. The
results match :mod:`motorsign.mup.kernels` up to ties.
"""

from __future__ import annotations

import numpy as np

__all__ = ["detect_peaks_np", "peel_np", "refit_np", "resolve_pairs_np", "template_xcorr_np",
           "clip_mask_np"]


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


def _best_fit_np(resid, T, norms, n_sub, anchors, q, shift):
    """Two-stage search of :func:`motorsign.mup.kernels._best_fit` (numpy)."""
    n = resid.size
    L = T.shape[1]
    n_units = T.shape[0] // n_sub
    lag = np.arange(L)
    best, b_start, b_m = -1e30, -1, -1
    for u in range(n_units):
        a = anchors[u][anchors[u] >= 0]
        st = (q - a[:, None] + np.arange(-shift, shift + 1)[None, :]).ravel()
        st = st[(st >= 0) & (st + L <= n)]
        if st.size == 0:
            continue
        m = u * n_sub
        red = 2.0 * (resid[st[:, None] + lag].astype(np.float64) @ T[m]) - norms[m]
        k = int(np.argmax(red))
        ub, u_st, u_m = float(red[k]), int(st[k]), m
        if n_sub > 1:
            st1 = u_st
            cand = [(u * n_sub + pp, b) for pp in range(1, n_sub) for b in (st1 - 1, st1)
                    if b >= 0 and b + L <= n]
            if cand:
                rows = np.array([c[0] for c in cand])
                bs = np.array([c[1] for c in cand])
                X = resid[bs[:, None] + lag].astype(np.float64)
                red2 = 2.0 * np.einsum("ij,ij->i", X, T[rows]) - norms[rows]
                k2 = int(np.argmax(red2))
                if red2[k2] > ub:
                    ub, u_st, u_m = float(red2[k2]), int(bs[k2]), int(rows[k2])
        if ub > best:
            best, b_start, b_m = ub, u_st, u_m
    return best, b_start, b_m


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
    floors: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Greedy template subtraction, as :func:`motorsign.mup.kernels.peel` (numpy).

    Parameters and returns are those of :func:`motorsign.mup.kernels.peel`.
    """
    n = resid.size
    L = templates.shape[1]
    T = templates.astype(np.float64)
    norms = (T * T).sum(axis=1)
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
            best, b_st, m = _best_fit_np(resid, T, norms, n_sub, anchors, q, shift)
            if m < 0 or best <= accept * norms[m]:
                continue
            resid[b_st : b_st + L] -= templates[m]
            sl = slice(b_st, b_st + L)
            f = tol * np.abs(templates[m])
            if floors is not None:
                f = np.maximum(f, floors[m])
            floor[sl] = np.maximum(floor[sl], f)
            out_s.append(int(b_st))
            out_u.append(m // n_sub)
            out_p.append(m % n_sub)
            out_sc.append(best / norms[m])
            n_acc += 1
        if n_acc == 0:
            break
    return (
        np.asarray(out_s, dtype=np.int64),
        np.asarray(out_u, dtype=np.int64),
        np.asarray(out_p, dtype=np.int64),
        np.asarray(out_sc, dtype=np.float32),
    )


def refit_np(
    resid: np.ndarray,
    templates: np.ndarray,
    n_sub: int,
    anchors: np.ndarray,
    dead: int,
    shift: int,
    accept: float,
    n_iter: int,
    starts: np.ndarray,
    units: np.ndarray,
    subs: np.ndarray,
) -> tuple[np.ndarray, int]:
    """Re-decide every discharge, as :func:`motorsign.mup.kernels.refit` (numpy).

    Parameters and returns are those of :func:`motorsign.mup.kernels.refit`.
    """
    n = resid.size
    L = templates.shape[1]
    T = templates.astype(np.float64)
    norms = (T * T).sum(axis=1)
    pk = np.argmax(np.abs(templates), axis=1)
    scores = np.zeros(starts.size, dtype=np.float32)
    n_changed = 0
    for _ in range(n_iter):
        changed = 0
        for e in range(starts.size):
            if units[e] < 0:
                continue
            m0 = int(units[e] * n_sub + subs[e])
            st0 = int(starts[e])
            resid[st0 : st0 + L] += templates[m0]
            c = st0 + int(pk[m0])
            lo, hi = max(0, c - dead), min(n, c + dead + 1)
            q = lo + int(np.argmax(np.abs(resid[lo:hi])))
            best, b_st, m = _best_fit_np(resid, T, norms, n_sub, anchors, q, shift)
            if m < 0 or best <= accept * norms[m]:
                units[e] = -1
                scores[e] = 0.0
                changed += 1
                continue
            resid[b_st : b_st + L] -= templates[m]
            if m != m0 or b_st != st0:
                changed += 1
            starts[e] = b_st
            units[e] = m // n_sub
            subs[e] = m % n_sub
            scores[e] = best / norms[m]
        n_changed += changed
        if changed == 0:
            break
    return scores, n_changed


def template_xcorr_np(templates: np.ndarray) -> np.ndarray:
    """Template cross-products, as :func:`motorsign.mup.kernels.template_xcorr` (numpy)."""
    T = templates.astype(np.float64)
    m_tot, L = T.shape
    out = np.zeros((m_tot, m_tot, 2 * L - 1))
    for a in range(m_tot):
        for b in range(m_tot):
            # out[a, b, d + L - 1] = sum_i T[a, i] T[b, i - d]
            out[a, b] = np.correlate(T[a], T[b], mode="full")
    return out


def _xc_at_np(xc: np.ndarray, a: int, b: np.ndarray | int, d, L: int):
    d = np.asarray(d)
    inside = (d > -L) & (d < L)
    val = xc[a, b, np.clip(d, -(L - 1), L - 1) + L - 1]
    return np.where(inside, val, 0.0)


def resolve_pairs_np(
    resid: np.ndarray,
    templates: np.ndarray,
    n_sub: int,
    xc: np.ndarray,
    reach: int,
    accept: float,
    gain: float,
    trigger: float,
    sigma: float,
    starts: np.ndarray,
    units: np.ndarray,
    subs: np.ndarray,
    scores: np.ndarray,
    train_pos: np.ndarray,
    train_ofs: np.ndarray,
    min_isi: np.ndarray,
    dup: int,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, int]:
    """Pair test of each discharge, as :func:`motorsign.mup.kernels.resolve_pairs` (numpy).

    Parameters and returns are those of :func:`motorsign.mup.kernels.resolve_pairs`.
    """
    n = resid.size
    m_tot, L = templates.shape
    T = templates.astype(np.float64)
    norms = (T * T).sum(axis=1)
    pk = np.argmax(np.abs(templates), axis=1)
    W = 2 * reach + 1
    n_units = m_tot // n_sub
    unit_of = np.arange(m_tot) // n_sub
    jj = np.arange(W)
    lag = np.arange(L)
    out_s, out_u, out_b, out_sc = [], [], [], []
    n_tested = 0
    noise_e = sigma * sigma * W
    for e in range(starts.size):
        if units[e] < 0:
            continue
        m0 = int(units[e] * n_sub + subs[e])
        st0 = int(starts[e])
        c = st0 + int(pk[m0])
        seg = resid[max(0, c - reach) : min(n, c + reach + 1)].astype(np.float64)
        if (seg * seg).sum() <= trigger * noise_e:
            continue
        n_tested += 1
        resid[st0 : st0 + L] += templates[m0]
        st = c - pk[:, None] + jj[None, :] - reach  # (m, W) starts
        ok = (st >= 0) & (st + L <= n)
        D = np.full((m_tot, W), 0.0)
        idx = np.clip(st, 0, n - L)
        X = resid[idx[..., None] + lag].astype(np.float64)  # (m, W, L)
        D = np.einsum("mwl,ml->mw", X, T)
        R1 = np.where(ok, 2.0 * D - norms[:, None], -1e30)
        # firing plausibility of each candidate (see the compiled kernel)
        pos = st + pk[:, None]
        isi_ok = np.ones((m_tot, W), dtype=bool)
        for m in range(m_tot):
            u = unit_of[m]
            if min_isi[u] > 0:
                tr = train_pos[train_ofs[u] : train_ofs[u + 1]]
                dd = np.abs(tr[None, :] - pos[m][:, None])
                isi_ok[m] = ~((dd < min_isi[u]) & (dd > dup)).any(axis=1)
        ok2 = ok & isi_ok
        best1 = float(R1.max())
        u_best = np.full(n_units, -1e30)
        u_m = np.full(n_units, -1)
        u_j = np.zeros(n_units, dtype=np.int64)
        for u in range(n_units):
            blk = R1[u * n_sub : (u + 1) * n_sub]
            f = int(np.argmax(blk))
            if blk.flat[f] > -1e30:
                u_best[u] = blk.flat[f]
                u_m[u] = u * n_sub + f // W
                u_j[u] = f % W
        order = np.argsort(-u_best, kind="mergesort")
        bp_r, bp, b_marg = -1e30, None, (0.0, 0.0)
        for t in range(min(3, n_units)):
            u1 = int(order[t])
            if u_m[u1] < 0:
                continue
            mp, jp = int(u_m[u1]), int(u_j[u1])
            mb = ma = -1
            jb = 0
            for _ in range(2):
                sp = c - pk[mp] + jp - reach
                Rb = np.where(ok2 & (unit_of != unit_of[mp])[:, None],
                              2.0 * (D - _xc_at_np(xc, mp, np.arange(m_tot)[:, None], st - sp, L))
                              - norms[:, None], -1e30)
                f = int(np.argmax(Rb))
                if Rb.flat[f] <= -1e30:
                    mb = -1
                    break
                mb, jb = f // W, f % W
                sb = c - pk[mb] + jb - reach
                Ra = np.where(ok2 & (unit_of != unit_of[mb])[:, None],
                              2.0 * (D - _xc_at_np(xc, mb, np.arange(m_tot)[:, None], st - sb, L))
                              - norms[:, None], -1e30)
                f = int(np.argmax(Ra))
                if Ra.flat[f] <= -1e30:
                    ma = -1
                    break
                ma, ja = f // W, f % W
                mp, jp = ma, ja
            if mb < 0 or ma < 0:
                continue
            sp = c - pk[mp] + jp - reach
            sb = c - pk[mb] + jb - reach
            x = float(_xc_at_np(xc, mp, mb, sb - sp, L))
            r_pair = 2.0 * (D[mp, jp] + D[mb, jb] - x) - norms[mp] - norms[mb]
            marg_p = 2.0 * (D[mp, jp] - x) - norms[mp]
            marg_b = 2.0 * (D[mb, jb] - x) - norms[mb]
            if marg_p <= accept * norms[mp] or marg_b <= accept * norms[mb]:
                continue
            if r_pair > bp_r:
                bp_r, bp = r_pair, (mp, jp, mb, jb)
                b_marg = (marg_p / norms[mp], marg_b / norms[mb])
        if bp is not None and bp_r > best1 + gain * min(norms[bp[0]], norms[bp[2]]):
            mp, jp, mb, jb = bp
            sp = int(c - pk[mp] + jp - reach)
            sb = int(c - pk[mb] + jb - reach)
            resid[sp : sp + L] -= templates[mp]
            resid[sb : sb + L] -= templates[mb]
            starts[e], units[e], subs[e] = sp, mp // n_sub, mp % n_sub
            scores[e] = b_marg[0]
            out_s.append(sb)
            out_u.append(mb // n_sub)
            out_b.append(mb % n_sub)
            out_sc.append(b_marg[1])
        else:
            resid[st0 : st0 + L] -= templates[m0]
    return (np.asarray(out_s, dtype=np.int64), np.asarray(out_u, dtype=np.int64),
            np.asarray(out_b, dtype=np.int64), np.asarray(out_sc, dtype=np.float32), n_tested)
