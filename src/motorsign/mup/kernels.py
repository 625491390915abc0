"""Numba kernels of the MUP analysis (peak detection, template peeling).

All kernels are ``@numba.njit(nogil=True, cache=True)``, take contiguous
float32 arrays and work on one chunk (with margins) at a time. The plain
numpy/scipy versions of the same steps live in :mod:`motorsign.mup.numpy_impl`
(used by the speed benchmark and selectable with ``engine="numpy"``); the
firing-train steps (:func:`train_reassign`, :func:`train_gaps`),
:func:`split_close` and the re-labelling steps (:func:`relabel_wide`,
:func:`relabel_var`) have none yet and run compiled under either engine.
"""

from __future__ import annotations

import numba
import numpy as np

__all__ = ["detect_peaks", "peel", "refit", "resolve_pairs", "template_xcorr", "clip_mask", "turn_points",
           "train_reassign", "train_gaps", "split_close", "relabel_wide", "relabel_var"]


@numba.njit(nogil=True, cache=True)
def _largest_in(resid, lo, hi, default):  # pragma: no cover - compiled
    """Index of the largest ``|resid|`` in ``[lo, hi)`` (the first on ties); ``default`` if empty."""
    q = default
    top = -1.0
    for j in range(lo, hi):
        if abs(resid[j]) > top:
            top = abs(resid[j])
            q = j
    return q


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
def _energy_peak(templates):  # pragma: no cover - compiled
    """Energy (sum of squares) and index of the largest absolute sample of each template row."""
    m_tot = templates.shape[0]
    L = templates.shape[1]
    norms = np.zeros(m_tot, dtype=np.float64)
    pk = np.zeros(m_tot, dtype=np.int64)
    for m in range(m_tot):
        s = 0.0
        top = -1.0
        for i in range(L):
            s += templates[m, i] * templates[m, i]
            if abs(templates[m, i]) > top:
                top = abs(templates[m, i])
                pk[m] = i
        norms[m] = s
    return norms, pk


@numba.njit(nogil=True, cache=True)
def _support(templates):  # pragma: no cover - compiled
    """First and one-past-last non-zero sample of each template row."""
    m_tot = templates.shape[0]
    L = templates.shape[1]
    lo = np.zeros(m_tot, dtype=np.int64)
    hi = np.zeros(m_tot, dtype=np.int64)
    for m in range(m_tot):
        a = 0
        while a < L and templates[m, a] == 0.0:
            a += 1
        b = L
        while b > a and templates[m, b - 1] == 0.0:
            b -= 1
        lo[m] = a
        hi[m] = b
    return lo, hi


@numba.njit(nogil=True, cache=True)
def _reduction(resid, templates, norms, lo, hi, m, st):  # pragma: no cover - compiled
    """Energy removed from ``resid`` by subtracting template row ``m`` at start ``st``.

    ``2 <resid, t> - |t|^2`` over the row's non-zero span ``lo``-``hi``.
    """
    dot = 0.0
    for i in range(lo[m], hi[m]):
        dot += resid[st + i] * templates[m, i]
    return 2.0 * dot - norms[m]


@numba.njit(nogil=True, cache=True)
def _subsample_rows(resid, templates, norms, lo, hi, n_sub, m, best, st1):  # pragma: no cover - compiled
    """Stage 2 of a fit: the sub-sample delayed rows ``m + 1 .. m + n_sub - 1`` one sample either side.

    ``best`` is the reduction of row ``m`` (un-shifted) at start ``st1``.
    Returns the best ``(reduction, start, row)`` of all of them.
    """
    n = resid.shape[0]
    L = templates.shape[1]
    b_st = st1
    b_m = m
    for p in range(1, n_sub):
        mp = m + p
        for st in (st1 - 1, st1):
            if st < 0 or st + L > n:
                continue
            red = _reduction(resid, templates, norms, lo, hi, mp, st)
            if red > best:
                best = red
                b_st = st
                b_m = mp
    return best, b_st, b_m


@numba.njit(nogil=True, cache=True)
def _best_fit(resid, templates, norms, lo, hi, n_sub, anchors, q, shift):  # pragma: no cover - compiled
    """Best (energy reduction, start, template row) for the peak at ``q``.

    Stage 1: every unit's un-shifted template with each anchor within
    ±``shift`` samples of ``q``. Stage 2: around each unit's best start, its
    sub-sample delayed copies (rows ``u * n_sub + p``) one sample either side,
    so the alignment is resolved to 1/``n_sub`` sample at a cost of
    2·``n_sub`` dot products per unit instead of ``n_sub`` times stage 1.
    Dot products run over each row's non-zero span ``lo``–``hi`` only.
    """
    n_units = templates.shape[0] // n_sub
    best = -1e30
    b_start = -1
    b_m = -1
    for u in range(n_units):
        ub, u_st, u_m = _unit_fit(resid, templates, norms, lo, hi, n_sub, anchors, u, q, shift)
        if ub > best:
            best = ub
            b_start = u_st
            b_m = u_m
    return best, b_start, b_m


@numba.njit(nogil=True, cache=True)
def peel(resid, templates, n_sub, anchors, thr, dead, shift, accept, n_passes, valid, tol,
         floors):
    """Greedy template subtraction ("peeling") on one chunk, in place.

    In each pass the peaks of ``|resid|`` above ``thr`` are visited from the
    largest down; for each, every template is aligned so that one of its
    anchors falls within ±``shift`` samples of the peak, then refined to
    sub-sample shifts (:func:`_best_fit`), and the alignment that removes the
    most energy is kept when it
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
        ``thr + max(tol * |template|, floors[template])`` there: the residual
        of a large unit whose discharges vary (jitter, jiggle) is not taken
        for another unit.
    floors : float32 array, like ``templates``
        Per template and sample: how much of the residual its own discharges
        may leave (a multiple of the unit's discharge-to-discharge variability;
        zeros when only ``tol`` applies).

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
    L = templates.shape[1]
    norms, _ = _energy_peak(templates)
    lo, hi = _support(templates)
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
            best, b_start, b_m = _best_fit(resid, templates, norms, lo, hi, n_sub, anchors, q, shift)
            if b_m < 0 or best <= accept * norms[b_m]:
                continue
            for i in range(L):
                resid[b_start + i] -= templates[b_m, i]
                f = max(tol * abs(templates[b_m, i]), floors[b_m, i])
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
def refit(resid, templates, n_sub, anchors, dead, shift, accept, n_iter, starts, units, subs):
    """Re-decide every subtracted discharge with all the others subtracted (in place).

    Greedy peeling decides each peak once, before the smaller units that
    overlap it are found; a superposition can then be taken for one larger
    unit. Here each discharge in turn is added back to the residual and
    explained again, exactly as :func:`peel` does it (every template at every
    anchor within ±``shift`` of the largest residual peak within ±``dead`` of
    the old one, largest energy reduction, accepted above ``accept`` × the
    template's energy), now that its neighbours have been subtracted; a
    discharge that no template explains any more is dropped. Sweeps repeat
    until nothing changes or ``n_iter`` sweeps were made (Gauss–Seidel).

    Parameters
    ----------
    resid : float32 array
        Residual after :func:`peel`; modified in place.
    templates, n_sub, anchors, dead, shift, accept
        As :func:`peel`.
    n_iter : int
        Maximum sweeps.
    starts, units, subs : int64 arrays
        The discharges found by :func:`peel`; modified in place (``units``
        is -1 for a dropped discharge).

    Returns
    -------
    scores : float32 array
        Energy removed / template energy for each discharge (0 if dropped).
    n_changed : int
        Discharges whose unit or alignment changed.
    """
    n = resid.shape[0]
    L = templates.shape[1]
    norms, pk = _energy_peak(templates)
    lo, hi = _support(templates)
    k_ev = starts.shape[0]
    scores = np.zeros(k_ev, dtype=np.float32)
    n_changed = 0
    for _ in range(n_iter):
        changed = 0
        for e in range(k_ev):
            if units[e] < 0:
                continue
            m0 = units[e] * n_sub + subs[e]
            st0 = starts[e]
            for i in range(L):
                resid[st0 + i] += templates[m0, i]
            c = st0 + pk[m0]
            q = _largest_in(resid, max(0, c - dead), min(n, c + dead + 1), c)
            best, b_start, b_m = _best_fit(resid, templates, norms, lo, hi, n_sub, anchors, q, shift)
            if b_m < 0 or best <= accept * norms[b_m]:
                units[e] = -1
                scores[e] = 0.0
                changed += 1
                continue
            for i in range(L):
                resid[b_start + i] -= templates[b_m, i]
            if b_m != m0 or b_start != st0:
                changed += 1
            starts[e] = b_start
            units[e] = b_m // n_sub
            subs[e] = b_m % n_sub
            scores[e] = best / norms[b_m]
        n_changed += changed
        if changed == 0:
            break
    return scores, n_changed


@numba.njit(nogil=True, cache=True)
def template_xcorr(templates):  # pragma: no cover - compiled
    """Cross-products of every pair of templates at every relative start.

    Returns
    -------
    float64 array (m, m, 2L - 1)
        ``[a, b, d + L - 1]`` = Σ_i templates[a, i] · templates[b, i - d]: the
        dot product of template ``a`` starting at 0 with ``b`` starting at ``d``.
    """
    m_tot = templates.shape[0]
    L = templates.shape[1]
    out = np.zeros((m_tot, m_tot, 2 * L - 1), dtype=np.float64)
    for a in range(m_tot):
        for b in range(m_tot):
            for d in range(-(L - 1), L):
                acc = 0.0
                for i in range(max(0, d), min(L, L + d)):
                    acc += templates[a, i] * templates[b, i - d]
                out[a, b, d + L - 1] = acc
    return out


@numba.njit(nogil=True, cache=True)
def _best_partner(fixed, fixed_j, c, pk, reach, m_tot, W, n_sub, ok, isi_ok, xc, L, D, norms):
    """Best template (of another unit) and start to pair with a fixed member.

    Returns ``(m, j)``, the partner's template index and start offset, or
    ``(-1, 0)`` when no allowed partner exists.
    """
    s_fixed = c - pk[fixed] + fixed_j - reach
    best = -1e30
    mb = -1
    jb = 0
    for m in range(m_tot):
        if m // n_sub == fixed // n_sub:
            continue
        for j in range(W):
            if ok[m, j] == 0 or isi_ok[m, j] == 0:
                continue
            x = _xc_at(xc, fixed, m, (c - pk[m] + j - reach) - s_fixed, L)
            r = 2.0 * (D[m, j] - x) - norms[m]
            if r > best:
                best = r
                mb = m
                jb = j
    return mb, jb


@numba.njit(nogil=True, cache=True)
def resolve_pairs(resid, templates, n_sub, xc, reach, accept, gain, trigger, sigma,
                  starts, units, subs, scores, train_pos, train_ofs, min_isi,
                  dup):  # pragma: no cover - compiled
    """Test each discharge for two overlapping units taken for one (in place on ``resid``).

    For a discharge whose residual within ±``reach`` samples of its main
    peak holds more than ``trigger`` × the noise energy, the discharge is
    added back and the best *pair* of templates of two different units, each
    with its main peak within ±``reach`` of that point, is sought (three best
    single units as first member; best second member given the first; first
    member re-fitted given the second). The pair replaces the single
    template when it removes at least ``gain`` × the smaller template's
    energy more than the best single template does, and each member removes
    more than ``accept`` × its own energy given the other (the test
    :func:`peel` applies to any discharge). Residual energies are computed
    exactly from the dot products of the signal with each template and of
    the templates with each other (``xc``, :func:`template_xcorr`).

    Parameters
    ----------
    resid : float32 array
        Residual after :func:`refit`; modified in place.
    templates : float32 array (n_units * n_sub, L)
    n_sub : int
    xc : float64 array
        :func:`template_xcorr` of ``templates``.
    reach : int
        Search half-width (samples) around the discharge's main peak.
    accept : float
        As :func:`peel`.
    gain : float
        Required extra energy removed by the pair, in units of the smaller
        member's energy.
    trigger : float
        Residual energy (in noise energies, ``sigma² × (2·reach + 1)``) above
        which a discharge is tested.
    sigma : float
        Noise SD of the signal.
    starts, units, subs : int64 arrays
        Discharges (``units`` -1: dropped, skipped); the first member of an
        accepted pair replaces the discharge in place.
    scores : float32 array
        Their scores (energy removed / template energy), updated in place.
    train_pos, train_ofs : int64 arrays
        Main-peak positions of every unit's discharges (sorted, unit ``u``
        in ``train_pos[train_ofs[u]:train_ofs[u + 1]]``).
    min_isi : float64 array
        Per unit, the shortest interval to another of its discharges that its
        firing makes plausible (0: no limit). A pair member that would fire
        closer than this to another discharge of its unit (but more than
        ``dup`` samples away: itself) is not considered.
    dup : int
        See ``min_isi``.

    Returns
    -------
    new_starts, new_units, new_subs : int64 arrays
        The second members of the accepted pairs.
    new_scores : float32 array
    n_tested : int
    """
    n = resid.shape[0]
    m_tot = templates.shape[0]
    L = templates.shape[1]
    norms, pk = _energy_peak(templates)
    lo, hi = _support(templates)
    W = 2 * reach + 1
    D = np.empty((m_tot, W), dtype=np.float64)
    ok = np.zeros((m_tot, W), dtype=np.uint8)
    n_units = m_tot // n_sub
    cap = 64
    ns = np.empty(cap, dtype=np.int64)
    nu = np.empty(cap, dtype=np.int64)
    nsb = np.empty(cap, dtype=np.int64)
    nsc = np.empty(cap, dtype=np.float32)
    b_marg = np.zeros(2)
    k = 0
    n_tested = 0
    noise_e = sigma * sigma * W
    top_n = 3
    isi_ok = np.ones((m_tot, W), dtype=np.uint8)
    for e in range(starts.shape[0]):
        if units[e] < 0:
            continue
        m0 = units[e] * n_sub + subs[e]
        st0 = starts[e]
        c = st0 + pk[m0]
        e_res = 0.0
        for j in range(max(0, c - reach), min(n, c + reach + 1)):
            e_res += resid[j] * resid[j]
        if e_res <= trigger * noise_e:
            continue
        n_tested += 1
        for i in range(L):
            resid[st0 + i] += templates[m0, i]
        # dot products with every template at every start in reach
        for m in range(m_tot):
            for j in range(W):
                st = c - pk[m] + j - reach
                if st < 0 or st + L > n:
                    ok[m, j] = 0
                    continue
                ok[m, j] = 1
                u = m // n_sub
                isi_ok[m, j] = 1
                if min_isi[u] > 0:
                    pos = st + pk[m]
                    a = train_ofs[u]
                    b = train_ofs[u + 1]
                    i0 = a + np.searchsorted(train_pos[a:b], pos - min_isi[u], side="right")
                    while i0 < b and train_pos[i0] < pos + min_isi[u]:
                        if abs(train_pos[i0] - pos) > dup:
                            isi_ok[m, j] = 0
                            break
                        i0 += 1
                acc = 0.0
                for i in range(lo[m], hi[m]):
                    acc += resid[st + i] * templates[m, i]
                D[m, j] = acc
        # best single and the best start of each unit
        best1 = -1e30
        u_best = np.full(n_units, -1e30)
        u_m = np.full(n_units, -1, dtype=np.int64)
        u_j = np.zeros(n_units, dtype=np.int64)
        for m in range(m_tot):
            u = m // n_sub
            for j in range(W):
                if ok[m, j] == 0:
                    continue
                r = 2.0 * D[m, j] - norms[m]
                if r > best1:
                    best1 = r
                if r > u_best[u]:
                    u_best[u] = r
                    u_m[u] = m
                    u_j[u] = j
        order = np.argsort(-u_best, kind="mergesort")
        bp_r = -1e30
        bp = np.zeros(4, dtype=np.int64)  # mP, jP, mB, jB
        for t in range(min(top_n, n_units)):
            u1 = order[t]
            if u_m[u1] < 0:
                continue
            mp = u_m[u1]
            jp = u_j[u1]
            mb = -1
            ma = -1
            jb = 0
            for _ in range(2):
                # second member given the first, then the first again given the second
                mb, jb = _best_partner(mp, jp, c, pk, reach, m_tot, W, n_sub, ok, isi_ok, xc, L, D, norms)
                if mb < 0:
                    break
                ma, ja = _best_partner(mb, jb, c, pk, reach, m_tot, W, n_sub, ok, isi_ok, xc, L, D, norms)
                if ma < 0:
                    break
                mp = ma
                jp = ja
            if mb < 0 or ma < 0:
                continue
            sp = c - pk[mp] + jp - reach
            sb = c - pk[mb] + jb - reach
            x = _xc_at(xc, mp, mb, sb - sp, L)
            r_pair = 2.0 * (D[mp, jp] + D[mb, jb] - x) - norms[mp] - norms[mb]
            marg_p = 2.0 * (D[mp, jp] - x) - norms[mp]
            marg_b = 2.0 * (D[mb, jb] - x) - norms[mb]
            if marg_p <= accept * norms[mp] or marg_b <= accept * norms[mb]:
                continue
            if r_pair > bp_r:
                bp_r = r_pair
                b_marg[0] = marg_p / norms[mp]
                b_marg[1] = marg_b / norms[mb]
                bp[0] = mp
                bp[1] = jp
                bp[2] = mb
                bp[3] = jb
        if bp_r > best1 + gain * min(norms[bp[0]], norms[bp[2]]):
            mp, jp, mb, jb = bp[0], bp[1], bp[2], bp[3]
            sp = c - pk[mp] + jp - reach
            sb = c - pk[mb] + jb - reach
            for i in range(L):
                resid[sp + i] -= templates[mp, i]
                resid[sb + i] -= templates[mb, i]
            starts[e] = sp
            units[e] = mp // n_sub
            subs[e] = mp % n_sub
            scores[e] = b_marg[0]
            if k == cap:
                cap *= 2
                ns = _grow_i(ns, cap)
                nu = _grow_i(nu, cap)
                nsb = _grow_i(nsb, cap)
                nsc = _grow_f(nsc, cap)
            ns[k] = sb
            nu[k] = mb // n_sub
            nsb[k] = mb % n_sub
            nsc[k] = b_marg[1]
            k += 1
        else:
            for i in range(L):
                resid[st0 + i] -= templates[m0, i]
    return ns[:k], nu[:k], nsb[:k], nsc[:k], n_tested


@numba.njit(nogil=True, cache=True)
def _xc_at(xc, a, b, d, L):  # pragma: no cover - compiled
    if d <= -L or d >= L:
        return 0.0
    return xc[a, b, d + L - 1]


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


@numba.njit(nogil=True, cache=True)
def _unit_fit(resid, templates, norms, lo, hi, n_sub, anchors, u, q, shift):  # pragma: no cover - compiled
    """Best (energy reduction, start, template row) of unit ``u`` for the peak at ``q``.

    The two-stage search of :func:`_best_fit` restricted to one unit: its
    un-shifted template with each anchor within ±``shift`` of ``q``, then its
    sub-sample delayed rows one sample either side of the best start.
    Returns ``(-1e30, -1, -1)`` when no alignment fits inside the signal.
    """
    n = resid.shape[0]
    L = templates.shape[1]
    m = u * n_sub
    ub = -1e30
    u_st = -1
    u_m = -1
    for a_i in range(anchors.shape[1]):
        a = anchors[u, a_i]
        if a < 0:
            break
        for s in range(-shift, shift + 1):
            st = q - a + s
            if st < 0 or st + L > n:
                continue
            red = _reduction(resid, templates, norms, lo, hi, m, st)
            if red > ub:
                ub = red
                u_st = st
                u_m = m
    if u_m < 0:
        return ub, u_st, u_m
    return _subsample_rows(resid, templates, norms, lo, hi, n_sub, m, ub, u_st)


@numba.njit(nogil=True, cache=True)
def _train_neighbours(train_pos, a, b, pos, gone, dup):  # pragma: no cover - compiled
    """Indices of the nearest discharges before and after ``pos`` in ``train_pos[a:b]``.

    Entries flagged in ``gone`` and entries within ``dup`` samples of ``pos``
    (the discharge itself) are skipped; -1 where there is none.
    """
    i = a + np.searchsorted(train_pos[a:b], pos)
    ip = i - 1
    while ip >= a and (gone[ip] != 0 or abs(train_pos[ip] - pos) <= dup):
        ip -= 1
    inx = i
    while inx < b and (gone[inx] != 0 or abs(train_pos[inx] - pos) <= dup):
        inx += 1
    if ip < a:
        ip = -1
    if inx >= b:
        inx = -1
    return ip, inx


@numba.njit(nogil=True, cache=True)
def _gap_at(train_pos, train_ofs, med_isi, filled, gone, a, p, dup, gap_lo, gap_hi,
            short_frac):  # pragma: no cover - compiled
    """Unit ``a``'s discharge before a gap around ``p`` (index in ``train_pos``), or -1.

    A gap: the interval between ``p``'s neighbours in ``a``'s train is
    ``gap_lo``-``gap_hi`` median ISIs, not filled yet, and ``p`` is at least
    ``short_frac`` median ISI from both neighbours.
    """
    md = med_isi[a]
    if md <= 0:
        return -1
    jp, jn = _train_neighbours(train_pos, train_ofs[a], train_ofs[a + 1], p, gone, dup)
    if jp < 0 or jn < 0 or filled[jp] != 0:
        return -1
    isi = train_pos[jn] - train_pos[jp]
    if gap_lo * md <= isi <= gap_hi * md and p - train_pos[jp] >= short_frac * md \
            and train_pos[jn] - p >= short_frac * md:
        return jp
    return -1


@numba.njit(nogil=True, cache=True)
def _isi_dev(isi, md):  # pragma: no cover - compiled
    """Distance of an interval from one or two median ISIs ``md`` (one missed discharge)."""
    return min(abs(isi - md), abs(isi - 2.0 * md))


@numba.njit(nogil=True, cache=True)
def train_reassign(resid, templates, n_sub, anchors, dead, shift, accept, starts, units, subs,
                   scores, train_pos, train_ofs, med_isi, short_frac, gap_lo, gap_hi, margin,
                   dup, odd_only):  # pragma: no cover - compiled
    """Move discharges that break their unit's firing to a unit with a gap there (in place).

    A discharge of unit B whose nearest other discharge of B is closer than
    ``short_frac`` × B's median ISI (an interval B's regular firing makes
    implausible) is moved to another unit A when (1) A's train has a gap
    there: A's neighbouring discharges are ``gap_lo``–``gap_hi`` × A's median
    ISI apart and the discharge would leave both intervals at least
    ``short_frac`` × that median; (2) A's template, fitted with the
    discharge added back to the residual (anchors within ±``shift`` of the
    largest residual peak within ±``dead``, sub-sample alignment), removes
    more than ``accept`` × its own energy and at least (1 − ``margin``) × the
    energy B's best fit removes there. Of several such units the best
    fitting one is taken. Each gap of A is filled once, and a moved
    discharge leaves B's train for the tests of later discharges.

    Parameters
    ----------
    resid : float32 array
        Residual with every discharge subtracted; modified in place.
    templates, n_sub, anchors, dead, shift, accept
        As :func:`refit`.
    starts, units, subs : int64 arrays
        The discharges (``units`` -1: dropped, skipped); modified in place.
    scores : float32 array
        Their scores, updated for moved discharges.
    train_pos, train_ofs : int64 arrays
        Main-peak positions of every unit's discharges in CSR layout (as
        :func:`resolve_pairs`).
    med_isi : float64 array
        Per unit, the median ISI in samples; 0 for a unit whose firing is
        not regular enough to judge (it is neither source nor target).
    short_frac, gap_lo, gap_hi, margin : float
        See above.
    dup : int
        Discharges of one unit within this many samples are the same one.
    odd_only : bool
        Of the two discharges of B's short interval, move only the one that
        breaks B's rhythm: with it kept instead of the other, the intervals
        to B's discharges before and after the pair lie further from one or
        two median ISIs (:func:`_isi_dev`). Without this test the right
        member moved about as often as the wrong one.

    Returns
    -------
    n_moved : int
    """
    n = resid.shape[0]
    L = templates.shape[1]
    n_units = templates.shape[0] // n_sub
    norms, pk = _energy_peak(templates)
    lo, hi = _support(templates)
    gone = np.zeros(train_pos.shape[0], dtype=np.uint8)  # left its unit's train
    filled = np.zeros(train_pos.shape[0], dtype=np.uint8)  # gap after this entry filled
    n_moved = 0
    for e in range(starts.shape[0]):
        b = units[e]
        if b < 0 or med_isi[b] <= 0:
            continue
        m0 = b * n_sub + subs[e]
        st0 = starts[e]
        p = st0 + pk[m0]
        a0 = train_ofs[b]
        a1 = train_ofs[b + 1]
        ip, inx = _train_neighbours(train_pos, a0, a1, p, gone, dup)
        near = 1e30
        f = -1  # the other member of the short interval
        if ip >= 0:
            near = p - train_pos[ip]
            f = ip
        if inx >= 0 and train_pos[inx] - p < near:
            near = train_pos[inx] - p
            f = inx
        if near >= short_frac * med_isi[b]:
            continue
        # of the two, the one that breaks B's rhythm moves: the other one must sit
        # better between the discharges around the pair
        if odd_only:
            fp = train_pos[f]
            lo_p = min(p, fp)
            hi_p = max(p, fp)
            kp, _ = _train_neighbours(train_pos, a0, a1, lo_p, gone, dup)
            _, kn = _train_neighbours(train_pos, a0, a1, hi_p, gone, dup)
            md_b = med_isi[b]
            dev_keep_e = 0.0  # how badly the train fits with e kept and f removed
            dev_keep_f = 0.0
            if kp >= 0:
                dev_keep_e += _isi_dev(p - train_pos[kp], md_b)
                dev_keep_f += _isi_dev(fp - train_pos[kp], md_b)
            if kn >= 0:
                dev_keep_e += _isi_dev(train_pos[kn] - p, md_b)
                dev_keep_f += _isi_dev(train_pos[kn] - fp, md_b)
            if kp < 0 and kn < 0 or dev_keep_f >= dev_keep_e:
                continue
        # units with a gap here
        any_gap = False
        for a in range(n_units):
            if a != b and _gap_at(train_pos, train_ofs, med_isi, filled, gone, a, p, dup, gap_lo,
                                  gap_hi, short_frac) >= 0:
                any_gap = True
                break
        if not any_gap:
            continue
        _add(resid, templates, m0, st0, 1.0)
        c = p
        q = _largest_in(resid, max(0, c - dead), min(n, c + dead + 1), c)
        red_b, _, _ = _unit_fit(resid, templates, norms, lo, hi, n_sub, anchors, b, q, shift)
        best = -1e30
        best_st = -1
        best_m = -1
        best_jp = -1
        for a in range(n_units):
            jp = -1 if a == b else _gap_at(train_pos, train_ofs, med_isi, filled, gone, a, p, dup,
                                           gap_lo, gap_hi, short_frac)
            if jp < 0:
                continue
            red, st, m = _unit_fit(resid, templates, norms, lo, hi, n_sub, anchors, a, q, shift)
            if m < 0 or red <= accept * norms[m] or red < (1.0 - margin) * red_b:
                continue
            if red > best:
                best = red
                best_st = st
                best_m = m
                best_jp = jp
        if best_m < 0:
            for i in range(L):
                resid[st0 + i] -= templates[m0, i]
            continue
        for i in range(L):
            resid[best_st + i] -= templates[best_m, i]
        # this discharge leaves B's train; A's gap is filled
        k = a0 + np.searchsorted(train_pos[a0:a1], p)
        if k < a1 and train_pos[k] == p:
            gone[k] = 1
        filled[best_jp] = 1
        starts[e] = best_st
        units[e] = best_m // n_sub
        subs[e] = best_m % n_sub
        scores[e] = best / norms[best_m]
        n_moved += 1
    return n_moved


@numba.njit(nogil=True, cache=True)
def train_gaps(resid, templates, n_sub, train_pos, train_ofs, med_isi, gap_lo, gap_hi, reach,
               accept, valid):  # pragma: no cover - compiled
    """Look for the discharge missing from a gap in a regular train (in place on ``resid``).

    For every unit with a median ISI (``med_isi`` > 0, samples) and every
    interval of its train ``gap_lo``–``gap_hi`` × that median long, the k
    missing discharges (interval ≈ (k + 1) medians, at least one) are looked
    for evenly spaced: at each expected place the unit's template is slid
    over the residual with its main peak within ±``reach`` × the median ISI
    of it (every whole-sample start, then the sub-sample delayed rows one
    sample either side of the best). The best fit is subtracted and becomes
    a discharge when it removes more than ``accept`` × the template's energy
    and its main peak lies on a valid sample.

    Parameters
    ----------
    resid : float32 array
        Residual with every discharge subtracted; modified in place.
    templates : float32 array (n_units * n_sub, L)
    n_sub : int
    train_pos, train_ofs : int64 arrays
        Main-peak positions of every unit's discharges (CSR, sorted per unit).
    med_isi : float64 array
        Per unit, median ISI in samples (0: not regular enough, skipped).
    gap_lo, gap_hi, reach, accept : float
        See above.
    valid : uint8 array
        0 where samples must be ignored (clipping).
    Returns
    -------
    starts, units, subs : int64 arrays
        The discharges found.
    scores : float32 array
    """
    n = resid.shape[0]
    L = templates.shape[1]
    n_units = templates.shape[0] // n_sub
    norms, pk = _energy_peak(templates)
    lo, hi = _support(templates)
    cap = 64
    ns = np.empty(cap, dtype=np.int64)
    nu = np.empty(cap, dtype=np.int64)
    nsb = np.empty(cap, dtype=np.int64)
    nsc = np.empty(cap, dtype=np.float32)
    k = 0
    for u in range(n_units):
        md = med_isi[u]
        if md <= 0:
            continue
        m = u * n_sub
        for t in range(train_ofs[u], train_ofs[u + 1] - 1):
            isi = train_pos[t + 1] - train_pos[t]
            if isi < gap_lo * md or isi > gap_hi * md:
                continue
            # discharges missing (k) and the one looked for, evenly spaced
            n_miss = max(1, int(isi / md + 0.5) - 1)
            for j_miss in range(1, n_miss + 1):
                if k == cap:
                    cap *= 2
                    ns = _grow_i(ns, cap)
                    nu = _grow_i(nu, cap)
                    nsb = _grow_i(nsb, cap)
                    nsc = _grow_f(nsc, cap)
                mid = train_pos[t] + (j_miss * isi) // (n_miss + 1)
                w = int(reach * md)
                k = _gap_one(resid, templates, n_sub, norms, lo, hi, pk, L, n, m, u, mid - w,
                             mid + w, accept, valid, ns, nu, nsb, nsc, k)
    return ns[:k], nu[:k], nsb[:k], nsc[:k]


@numba.njit(nogil=True, cache=True)
def _slide(resid, templates, n_sub, norms, lo, hi, pk, L, n, m, p_lo, p_hi):  # pragma: no cover - compiled
    """Best fit of template row ``m``'s unit with its main peak in ``p_lo``–``p_hi``.

    Every whole-sample start of the un-shifted row, then the sub-sample
    delayed rows one sample either side of the best. Returns
    ``(reduction, start, row)``, row -1 when nothing fits in the signal.
    """
    best = -1e30
    b_st = -1
    for pp in range(p_lo, p_hi + 1):
        st = pp - pk[m]
        if st < 0 or st + L > n:
            continue
        red = _reduction(resid, templates, norms, lo, hi, m, st)
        if red > best:
            best = red
            b_st = st
    if b_st < 0:
        return best, -1, -1
    return _subsample_rows(resid, templates, norms, lo, hi, n_sub, m, best, b_st)


@numba.njit(nogil=True, cache=True)
def _gap_one(resid, templates, n_sub, norms, lo, hi, pk, L, n, m, u, p_lo, p_hi, accept, valid,
             ns, nu, nsb, nsc, k):  # pragma: no cover - compiled
    """Best fit of unit ``u`` (row ``m``) with its main peak in ``p_lo``–``p_hi`` on the residual.

    Subtracted and written at ``k`` when it removes more than ``accept`` ×
    its energy on a valid sample; returns the new count.
    """
    best, b_st, b_m = _slide(resid, templates, n_sub, norms, lo, hi, pk, L, n, m, p_lo, p_hi)
    if b_m < 0 or best <= accept * norms[b_m] or valid[b_st + pk[b_m]] == 0:
        return k
    for i in range(L):
        resid[b_st + i] -= templates[b_m, i]
    ns[k] = b_st
    nu[k] = u
    nsb[k] = b_m % n_sub
    nsc[k] = best / norms[b_m]
    return k + 1


@numba.njit(nogil=True, cache=True)
def _add(resid, templates, m, st, sign):  # pragma: no cover - compiled
    """``resid[st:st + L] += sign * templates[m]``."""
    for i in range(templates.shape[1]):
        resid[st + i] += sign * templates[m, i]


@numba.njit(nogil=True, cache=True)
def split_close(resid, templates, n_sub, anchors, dead, shift, accept, dup, starts, units, subs,
                scores):  # pragma: no cover - compiled
    """Decide whether two close fits of one unit are two discharges or one (in place).

    Two fits of the same unit whose main peaks lie closer than ``dup``
    samples are either one discharge fitted twice (at two alignments of a
    polyphasic unit with similar spikes) or two discharges (overlapping
    discharges of similar units sorted as one). Both are added back to the
    residual and the pair is kept when the two together remove more than
    ``accept`` × the smaller template's energy beyond the best single
    template (any unit, every anchor within ±``shift`` of the largest
    residual peak between them; exact residual energies): the second member
    must explain a part of the signal that one discharge does not, the test
    :func:`peel` applies to every discharge. Otherwise the best single fit
    replaces the pair. A double fit of one discharge fails by construction
    (the pair removes no more than the right single alignment).

    Parameters
    ----------
    resid : float32 array
        Residual with every discharge subtracted; modified in place.
    templates, n_sub, anchors, dead, shift, accept
        As :func:`peel`.
    dup : int
        Main peaks of one unit's fits closer than this (samples) are tested.
    starts, units, subs : int64 arrays
        Modified in place (``units`` -1 for a fit merged into its neighbour).
    scores : float32 array
        Energy removed / template energy; modified in place.

    Returns
    -------
    n_tested : int
        Pairs tested.
    n_merged : int
        Pairs replaced by one discharge.
    """
    n = resid.shape[0]
    norms, pk = _energy_peak(templates)
    lo, hi = _support(templates)
    k_ev = starts.shape[0]
    stride = n + 4 * templates.shape[1]
    key = np.empty(k_ev, dtype=np.int64)
    for e in range(k_ev):
        if units[e] >= 0:
            key[e] = units[e] * stride + starts[e] + pk[units[e] * n_sub + subs[e]]
        else:
            key[e] = (templates.shape[0] // n_sub) * stride
    order = np.argsort(key)
    touched = np.zeros(k_ev, dtype=np.uint8)
    n_tested = 0
    n_merged = 0
    for jj in range(k_ev - 1):
        e1 = order[jj]
        e2 = order[jj + 1]
        if units[e1] < 0 or units[e1] != units[e2] or touched[e1] != 0 or touched[e2] != 0:
            continue
        m1 = units[e1] * n_sub + subs[e1]
        m2 = units[e2] * n_sub + subs[e2]
        s1 = starts[e1]
        s2 = starts[e2]
        c1 = s1 + pk[m1]
        c2 = s2 + pk[m2]
        if abs(c2 - c1) >= dup:
            continue
        n_tested += 1
        _add(resid, templates, m1, s1, 1.0)
        _add(resid, templates, m2, s2, 1.0)
        # energy the two remove together: the first on the whole, the second given the first
        red_pair = _reduction(resid, templates, norms, lo, hi, m1, s1)
        _add(resid, templates, m1, s1, -1.0)
        red_pair += _reduction(resid, templates, norms, lo, hi, m2, s2)
        _add(resid, templates, m1, s1, 1.0)
        q = _largest_in(resid, max(0, min(c1, c2) - dead), min(n, max(c1, c2) + dead + 1), c1)
        best, b_start, b_m = _best_fit(resid, templates, norms, lo, hi, n_sub, anchors, q, shift)
        if b_m >= 0 and best > accept * norms[b_m] and \
                red_pair - best <= accept * min(norms[m1], norms[m2]):
            _add(resid, templates, b_m, b_start, -1.0)
            keep = e1 if scores[e1] >= scores[e2] else e2
            drop = e2 if keep == e1 else e1
            starts[keep] = b_start
            units[keep] = b_m // n_sub
            subs[keep] = b_m % n_sub
            scores[keep] = best / norms[b_m]
            units[drop] = -1
            scores[drop] = 0.0
            touched[keep] = 1
            touched[drop] = 1
            n_merged += 1
        else:
            _add(resid, templates, m1, s1, -1.0)
            _add(resid, templates, m2, s2, -1.0)
    return n_tested, n_merged


@numba.njit(nogil=True, cache=True)
def relabel_wide(resid, templates, mres, mtemplates, n_sub, anchors, dead, shift, accept, margin,
                 starts, units, subs, scores):  # pragma: no cover - compiled
    """Re-decide each discharge's unit on a wider band (in place).

    Alignment and acceptance stay on the detection band: each discharge in
    turn is added back to both residuals, every unit is fitted to the
    largest detection-band residual peak within ±``dead`` of its old main
    peak as in :func:`refit` (:func:`_unit_fit`), and the units whose fit
    removes more than ``accept`` × their detection-band energy are compared
    by the energy their *match-band* template removes from the match-band
    residual at that alignment. The discharge moves to another unit when
    that unit removes more than its current unit does by at least
    ``margin`` × the smaller of the two match-band template energies;
    otherwise it is put back unchanged. The slow part of small MUPs, which
    the detection band drops, tells similar units apart.

    Parameters
    ----------
    resid : float32 array
        Detection-band residual with every discharge subtracted; modified in place.
    templates : float32 array (n_units * n_sub, L)
        Detection-band template rows (as :func:`peel`).
    mres : float32 array
        Match-band residual (match-band signal minus every discharge's
        match-band template at its alignment); modified in place.
    mtemplates : float32 array (n_units * n_sub, L)
        Match-band template rows, aligned like ``templates``.
    n_sub, anchors, dead, shift, accept
        As :func:`peel`.
    margin : float
        Required advantage of the new unit (fraction of the smaller
        match-band template energy).
    starts, units, subs : int64 arrays
        The discharges; modified in place.
    scores : float32 array
        Detection-band energy removed / template energy; updated for moved discharges.

    Returns
    -------
    int
        Discharges moved to another unit.
    """
    n = resid.shape[0]
    norms, pk = _energy_peak(templates)
    lo, hi = _support(templates)
    mnorms, _mpk = _energy_peak(mtemplates)
    mlo, mhi = _support(mtemplates)
    n_units = templates.shape[0] // n_sub
    n_moved = 0
    for e in range(starts.shape[0]):
        u = units[e]
        if u < 0:
            continue
        m0 = u * n_sub + subs[e]
        s0 = starts[e]
        _add(resid, templates, m0, s0, 1.0)
        _add(mres, mtemplates, m0, s0, 1.0)
        c = s0 + pk[m0]
        q = _largest_in(resid, max(0, c - dead), min(n, c + dead + 1), c)
        cur = _reduction(mres, mtemplates, mnorms, mlo, mhi, m0, s0)
        b_v = -1
        b_red = -1e30
        b_st = -1
        b_m = -1
        b_det = 0.0
        for v in range(n_units):
            if v == u:
                continue
            red, st, m = _unit_fit(resid, templates, norms, lo, hi, n_sub, anchors, v, q, shift)
            if m < 0 or not red > accept * norms[m]:
                continue
            rm = _reduction(mres, mtemplates, mnorms, mlo, mhi, m, st)
            if rm > b_red:
                b_red = rm
                b_v = v
                b_st = st
                b_m = m
                b_det = red
        if b_v >= 0 and b_red - cur > margin * min(mnorms[b_m], mnorms[m0]):
            starts[e] = b_st
            units[e] = b_v
            subs[e] = b_m - b_v * n_sub
            scores[e] = b_det / norms[b_m]
            _add(resid, templates, b_m, b_st, -1.0)
            _add(mres, mtemplates, b_m, b_st, -1.0)
            n_moved += 1
        else:
            _add(resid, templates, m0, s0, -1.0)
            _add(mres, mtemplates, m0, s0, -1.0)
    return n_moved


@numba.njit(nogil=True, cache=True)
def _var_score(resid, templates, var, lo, hi, m, u, st, s2):  # pragma: no cover - compiled
    """Log-likelihood ratio of unit ``u``'s row ``m`` at ``st`` against noise alone (×2).

    Gaussian per sample: the noise variance ``s2`` alone, or the template
    plus ``s2 + var[u, i]`` (the unit's discharge-to-discharge variance):
    ``sum r²/s2 - (r - t)²/(s2 + v) - log(1 + v/s2)`` over the row's span.
    """
    acc = 0.0
    for i in range(lo[m], hi[m]):
        r = resid[st + i]
        d = r - templates[m, i]
        v = var[u, i]
        acc += r * r / s2 - d * d / (s2 + v) - np.log1p(v / s2)
    return acc


@numba.njit(nogil=True, cache=True)
def relabel_var(resid, templates, var, s2, n_sub, anchors, dead, shift, accept, margin, tie,
                starts, units, subs, scores):  # pragma: no cover - compiled
    """Re-decide each discharge's unit by its likelihood with each unit's own variability (in place).

    The blind fits choose the unit whose template removes the most energy,
    which treats every unit as an exact waveform in white noise. A unit
    whose discharges vary (jitter of its spikes, amplitude) leaves a larger
    residual than a steady one, so a similar steady unit's template often
    removes more of its discharges' energy. Here each discharge in turn is
    added back to the residual, every unit is aligned on it as in
    :func:`refit` (:func:`_unit_fit`, the largest residual peak within
    ±``dead`` of its old main peak), and the units whose fit removes more
    than ``accept`` × their energy and at least (1 − ``tie``) × the energy
    its current unit removes at its current alignment are compared by the
    Gaussian log-likelihood ratio of :func:`_var_score` (per-sample variance
    = noise + the unit's own variability). The discharge moves to the best
    other unit when that exceeds its current unit's by more than
    ``margin``; otherwise it is put back unchanged. The energy test keeps
    the likelihood to near-ties of the blind fit: a unit with a large
    variability (two units sorted as one, a jittery reinnervated unit) would
    otherwise draw discharges of clearly different shape.

    Parameters
    ----------
    resid : float32 array
        Detection-band residual with every discharge subtracted; modified in place.
    templates : float32 array (n_units * n_sub, L)
        Template rows (as :func:`peel`).
    var : float32 array (n_units, L)
        Each unit's discharge-to-discharge variance per template sample (µV²).
    s2 : float
        Noise variance of the detection signal (µV²).
    n_sub, anchors, dead, shift, accept
        As :func:`peel`.
    margin : float
        Required log-likelihood advantage (×2) of the new unit.
    tie : float
        A candidate unit must remove at least (1 − ``tie``) × the energy
        the current unit removes.
    starts, units, subs : int64 arrays
        The discharges; modified in place.
    scores : float32 array
        Energy removed / template energy; updated for moved discharges.

    Returns
    -------
    int
        Discharges moved to another unit.
    """
    n = resid.shape[0]
    norms, pk = _energy_peak(templates)
    lo, hi = _support(templates)
    n_units = templates.shape[0] // n_sub
    n_moved = 0
    for e in range(starts.shape[0]):
        u = units[e]
        if u < 0:
            continue
        m0 = u * n_sub + subs[e]
        s0 = starts[e]
        _add(resid, templates, m0, s0, 1.0)
        c = s0 + pk[m0]
        q = _largest_in(resid, max(0, c - dead), min(n, c + dead + 1), c)
        cur = _var_score(resid, templates, var, lo, hi, m0, u, s0, s2)
        cur_red = _reduction(resid, templates, norms, lo, hi, m0, s0)
        b_v = -1
        b_ll = -1e30
        b_st = -1
        b_m = -1
        b_det = 0.0
        for v in range(n_units):
            if v == u:
                continue
            red, st, m = _unit_fit(resid, templates, norms, lo, hi, n_sub, anchors, v, q, shift)
            if m < 0 or not red > accept * norms[m] or red < (1.0 - tie) * cur_red:
                continue
            ll = _var_score(resid, templates, var, lo, hi, m, v, st, s2)
            if ll > b_ll:
                b_ll = ll
                b_v = v
                b_st = st
                b_m = m
                b_det = red
        if b_v >= 0 and b_ll - cur > margin:
            starts[e] = b_st
            units[e] = b_v
            subs[e] = b_m - b_v * n_sub
            scores[e] = b_det / norms[b_m]
            _add(resid, templates, b_m, b_st, -1.0)
            n_moved += 1
        else:
            _add(resid, templates, m0, s0, -1.0)
    return n_moved
