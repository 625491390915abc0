"""A plain per-trial numpy/scipy implementation of the MEP measures.

The baseline of the speed benchmark (``bench_mep_speed.py``): the same
algorithms as :mod:`motorsign.evoked.onset` and
:mod:`motorsign.signal.artifact`, written the ordinary way (a Python loop
over trials, numpy inside each trial). Its onsets are compared with the
numba kernels' so the speed-up is measured on equal work.
"""

from __future__ import annotations

import numpy as np
from scipy.ndimage import uniform_filter1d

from motorsign.evoked.mep import CONSENSUS_METHODS, MepOptions
from motorsign.evoked.tables import MepWindow


def _runs(mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Start and length of each True run."""
    d = np.diff(np.concatenate([[0], mask.astype(np.int8), [0]]))
    starts = np.flatnonzero(d == 1)
    stops = np.flatnonzero(d == -1)
    return starts, stops - starts


def _first_run(mask: np.ndarray, run: int) -> float:
    s, n = _runs(mask)
    ok = np.flatnonzero(n >= run)
    return float(s[ok[0]]) if ok.size else np.nan


def measure_trial(x: np.ndarray, stim: int, fs: float, w: MepWindow, o: MepOptions) -> dict:
    """All onsets of one trial (float ms after the pulse; NaN when absent/failed)."""
    n = lambda ms, lo=1: max(lo, int(round(ms * fs / 1000.0)))  # noqa: E731
    x = x.astype(np.float64).copy()
    a = o.artifact
    pre, lo_b, hi_b, settle = n(a.pre_ms, 0), n(a.min_blank_ms), n(a.max_blank_ms), max(2, n(a.settle_ms))
    b_stop = max(stim - pre, 0)
    dn = np.mean(np.abs(np.diff(x[:b_stop]))) * 1.2533141373155001
    d = np.abs(np.diff(x))  # d[i-1] = |x[i] - x[i-1]|
    idx = np.arange(stim + lo_b, min(len(x) - 1, stim + hi_b) + 1)
    ok = d[idx - 1] < a.settle_k * dn
    s, ln = _runs(ok)
    hit = np.flatnonzero(ln >= settle)
    end = int(idx[s[hit[0]]]) if hit.size else int(min(len(x) - 1, stim + hi_b))
    g0, g1 = stim - pre, end
    x[g0:g1] = np.interp(np.arange(g0, g1), [g0 - 1, g1], [x[g0 - 1], x[g1]])
    guard = n(o.baseline_guard_ms)
    base = x[: stim - guard]
    mu, sd = base.mean(), base.std(ddof=1)
    y = x - mu
    rb = np.abs(y[: stim - guard])
    rmean, rsd = rb.mean(), rb.std(ddof=1)
    lo = max(stim + n(w.onset_min_ms, 0), end)
    we = min(stim + n(w.response_end_ms), len(x))
    seg = y[lo:we]
    p2p = seg.max() - seg.min()
    ipk = lo + int(np.argmax(np.abs(seg)))
    z = np.abs(seg).max() / sd
    out = {m: np.nan for m in (*CONSENSUS_METHODS, "consensus")}
    present = p2p >= o.amplitude_floor_uv and z >= o.presence_k
    ratio = max(1.0, o.sd_floor_fraction * p2p / sd)
    sd_e = sd * ratio
    rmean, rsd = rmean * ratio, rsd * ratio
    band = o.k_band * sd_e
    quiet, min_run = max(2, n(o.quiet_ms)), n(o.min_run_ms)
    # crossing: last quiet run before the peak
    inside = np.abs(y[lo:ipk + 1]) <= band
    s, ln = _runs(inside)
    ok = np.flatnonzero(ln >= quiet)
    if not ok.size or not present:
        return out
    k = ok[-1]
    j = lo + int(s[k] + ln[k])  # first sample after the quiet run
    merge_gap, merge_level = n(o.merge_gap_ms), max(o.merge_fraction * p2p, 2.0 * band)
    while True:  # an earlier large phase just before the quiet run: walk back from it
        qs = j - quiet
        a_ = max(lo, qs - merge_gap)
        big = np.flatnonzero(np.abs(y[a_:qs]) >= merge_level)
        if not big.size:
            break
        hit = a_ + int(big[-1])
        s, ln = _runs(np.abs(y[lo:hit + 1]) <= band)
        ok = np.flatnonzero(ln >= quiet)
        if not ok.size:
            return out
        k = ok[-1]
        j = lo + int(s[k] + ln[k])
    # the first excursion beyond the band lasting min_run samples and reaching 2 x band
    seg = y[j:ipk + 1]
    beyond = np.abs(seg) > band
    sgn = np.sign(seg) * beyond
    d = np.diff(np.concatenate([[0], sgn, [0]]))
    starts = np.flatnonzero(d != 0)
    for a_, b_ in zip(starts[:-1], starts[1:]):
        if sgn[a_] != 0 and b_ - a_ >= min_run and np.max(np.abs(seg[a_:b_])) >= 2 * band:
            j = j + int(a_)
            break
    pol = 1.0 if y[j] > 0 else -1.0
    c = j
    while c > lo and pol * y[c] > 0:
        c -= 1
    if pol * y[c] <= 0 and c < j:
        onset_c = c + y[c] / (y[c] - y[c + 1])
    else:
        onset_c = float(j)
    out["crossing"] = onset_c
    # first peak of the first phase
    after = pol * y[j:we]
    stop = np.flatnonzero(after <= -band)
    ph = after[: stop[0]] if stop.size else after
    fp = j + int(np.argmax(ph))
    # threshold
    out["threshold"] = lo + _first_run(np.abs(y[lo:fp + 1]) > rmean + o.k_threshold * rsd, min_run)
    # derivative
    look = n(o.lookback_ms)
    a0 = max(lo, fp - look)
    sm_w = n(o.smooth_ms)
    sm_w += 1 - sm_w % 2
    sm = uniform_filter1d(y, sm_w, mode="nearest")
    up = pol * np.diff(sm[a0 - 1: fp + 1]) > 0
    s, ln = _runs(up)
    if ln.size and ln.max() >= 2:
        k = int(np.flatnonzero(ln == ln.max())[-1])
        out["derivative"] = float(a0 - 1 + s[k])
    # cusum
    g, last = 0.0, a0 - 1
    for i in range(a0, fp + 1):
        g = max(0.0, g + pol * y[i] / sd_e - o.cusum_drift)
        if g == 0.0:
            last = i
        elif g > o.cusum_h:
            out["cusum"] = float(last + 1)
            break
    # extrapolation
    top = o.extrap_frac * pol * y[fp]
    edge = pol * y[j:fp + 1]
    reach = np.flatnonzero(edge >= top)
    m = max(2, int(reach[reach >= 1][0]) + 1) if (reach >= 1).any() else edge.size
    if m >= 2:
        slope, icpt = np.polyfit(np.arange(j, j + m), edge[:m], 1)
        if slope > 0:
            x0 = -icpt / slope
            if c - 1 <= x0 <= j + 1:
                out["extrapolation"] = x0
    to_ms = 1000.0 / fs
    for key in CONSENSUS_METHODS:
        out[key] = (out[key] - stim) * to_ms
    vals = np.array([out[k] for k in CONSENSUS_METHODS])
    vals = vals[np.isfinite(vals)]
    out["consensus"] = float(np.median(vals)) if vals.size else np.nan
    return out


def measure_epochs_reference(epochs: np.ndarray, stim: int, fs: float, w: MepWindow,
                             o: MepOptions | None = None) -> dict[str, np.ndarray]:
    """Loop :func:`measure_trial` over trials."""
    o = o or MepOptions()
    rows = [measure_trial(tr, stim, fs, w, o) for tr in epochs]
    return {k: np.array([r[k] for r in rows]) for k in rows[0]}
