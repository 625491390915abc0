"""Rest, voluntary activity and artifacts: per-window statistics and intervals.

The detector computes, per window and channel, statistics that need the
samples (:func:`window_stats_nb`, inside the chunk loop); the decision
(:func:`segment_channel`) runs afterwards on these small tables together
with the candidate discharges, so the recording is read only once.

Rules (thresholds in :class:`~motorsign.spontaneous.params.DetectParams`):

* **artifact**: a run of identical samples (clipping, dead channel) of at
  least ``flat_run_ms``; NaNs; a slow excursion (range of 5-ms means) of at
  least ``movement_min_uv`` (movement).
* **activity** (voluntary): MUP-sized candidates (``activity_spike_min_uv``)
  firing together at ``activity_min_rate_hz`` or more in a window, unless
  they are one perfectly periodic source (a CRD); or a band-passed RMS of
  ``activity_rms_factor`` times the resting noise with MUP-sized candidates
  (interference pattern). Runs closer than ``activity_merge_s`` merge; runs
  shorter than ``activity_min_s`` are dropped; ``activity_pad_s`` is added.
* **rest**: everything else.
"""

from __future__ import annotations

import numba
import numpy as np

from motorsign.signal.simd import LANES, rows_contiguous, window_sums_lanes8

__all__ = ["WINDOW_STATS", "window_stats_nb", "segment_channel", "intervals_from_mask"]

#: Columns of the per-window statistics.
WINDOW_STATS = ("rms_uv", "flat_run_ms", "n_nan", "slow_range_uv", "n_samples")


@numba.njit(nogil=True, cache=True)
def window_stats_nb(raw, y, start, stop, win, sub, fs):  # pragma: no cover - compiled
    """Statistics of consecutive windows of ``win`` samples over ``[start, stop)``.

    Parameters
    ----------
    raw : float32 (n, c)
        Recorded signal of the chunk (with margins).
    y : float32 (n, c)
        Band-passed signal.
    start, stop : int
        Core of the chunk in buffer coordinates.
    win : int
        Window length (samples); the last window may be shorter.
    sub : int
        Sub-block length (samples) of the slow-component means.
    fs : float
        Sampling rate.

    Returns
    -------
    float64 array (n_windows, c, 5): see :data:`WINDOW_STATS`.

    Raises
    ------
    ValueError
        When ``y`` does not have the shape of ``raw``, ``[start, stop)`` is
        not inside its rows, or ``win`` or ``sub`` is below 1.
    """
    n, c = raw.shape
    if y.shape[0] != n or y.shape[1] != c:
        raise ValueError("window_stats_nb: y must have the shape of raw")
    if not 0 <= start <= stop <= n:
        raise ValueError("window_stats_nb: start, stop must satisfy 0 <= start <= stop <= rows")
    if win < 1 or sub < 1:
        raise ValueError("window_stats_nb: win and sub must be at least 1")
    nw = (stop - start + win - 1) // win
    out = np.zeros((nw, c, 5))
    ss = np.zeros(c)
    cnt = np.zeros(c, np.int64)
    nnan = np.zeros(c, np.int64)
    run = np.ones(c, np.int64)
    best_run = np.ones(c, np.int64)
    prev = np.zeros(c, np.float32)
    smin = np.zeros(c)
    smax = np.zeros(c)
    sacc = np.zeros(c)
    scnt = np.zeros(c, np.int64)
    lanes = 0
    if rows_contiguous(raw) and rows_contiguous(y):
        lanes = c - c % LANES  # lanes g .. g + 7 < lanes <= c
    for w in range(nw):
        a = start + w * win
        e = min(stop, a + win)
        for j in range(c):
            ss[j] = 0.0
            cnt[j] = 0
            nnan[j] = 0
            run[j] = 1
            best_run[j] = 1
            prev[j] = raw[a, j]
            smin[j] = 1e30
            smax[j] = -1e30
            sacc[j] = 0.0
            scnt[j] = 0
        sb = a
        while sb < e:
            se = min(e, sb + sub)
            for j in range(c):
                sacc[j] = 0.0
                scnt[j] = 0
            # groups of 8 channels as vector code (same operations), the rest scalar
            for g in range(0, lanes, LANES):
                window_sums_lanes8(raw, y, g, sb, se, a, ss, sacc, cnt, nnan, run, best_run,
                                   scnt, prev)
            for i in range(sb, se):
                for j in range(lanes, c):
                    v = raw[i, j]
                    if v != v:
                        nnan[j] += 1
                        run[j] = 1
                    else:
                        yv = y[i, j]
                        ss[j] += yv * yv
                        cnt[j] += 1
                        if v == prev[j] and i > a:
                            run[j] += 1
                            if run[j] > best_run[j]:
                                best_run[j] = run[j]
                        else:
                            run[j] = 1
                        sacc[j] += v
                        scnt[j] += 1
                    prev[j] = v
            for j in range(c):
                if scnt[j] > 0:
                    mval = sacc[j] / scnt[j]
                    if mval < smin[j]:
                        smin[j] = mval
                    if mval > smax[j]:
                        smax[j] = mval
            sb = se
        for j in range(c):
            out[w, j, 0] = np.sqrt(ss[j] / cnt[j]) if cnt[j] > 0 else np.nan
            out[w, j, 1] = best_run[j] * 1000.0 / fs
            out[w, j, 2] = nnan[j]
            out[w, j, 3] = (smax[j] - smin[j]) if smax[j] >= smin[j] else 0.0
            out[w, j, 4] = e - a
    return out


def intervals_from_mask(mask: np.ndarray, win_s: float, n_total_s: float, *, merge_s: float = 0.0,
                        min_s: float = 0.0, pad_s: float = 0.0) -> list[tuple[float, float]]:
    """Turn a boolean per-window mask into merged, padded time intervals.

    Parameters
    ----------
    mask : ndarray of bool
        One value per window.
    win_s : float
        Window length in seconds.
    n_total_s : float
        Recording duration (intervals are clipped to it).
    merge_s : float
        Runs separated by less than this are merged.
    min_s : float
        Merged runs shorter than this are dropped (before padding).
    pad_s : float
        Added on both sides of each run.

    Returns
    -------
    list of (start_s, stop_s)
    """
    runs: list[list[float]] = []
    idx = np.flatnonzero(np.asarray(mask, bool))
    for w in idx:
        a, b = w * win_s, min((w + 1) * win_s, n_total_s)
        if runs and a - runs[-1][1] < merge_s - 1e-9:
            runs[-1][1] = b
        elif runs and a <= runs[-1][1] + 1e-9:
            runs[-1][1] = b
        else:
            runs.append([a, b])
    out: list[tuple[float, float]] = []
    for a, b in runs:
        if b - a < min_s - 1e-9:
            continue
        a, b = max(0.0, a - pad_s), min(n_total_s, b + pad_s)
        if out and a <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], b))
        else:
            out.append((a, b))
    return out


def _rate_and_cv(times: np.ndarray) -> tuple[float, float]:
    if times.size < 3:
        return 0.0, np.nan
    isi = np.diff(np.sort(times))
    m = isi.mean()
    return float(times.size), float(isi.std() / m) if m > 0 else np.nan


def segment_channel(stats: np.ndarray, cand_time_s: np.ndarray, cand_amp_uv: np.ndarray,
                    duration_s: float, params) -> dict:
    """Rest / activity / artifact intervals of one channel.

    Parameters
    ----------
    stats : ndarray (n_windows, 5)
        :func:`window_stats_nb` output of the channel (all chunks, in order).
    cand_time_s, cand_amp_uv : ndarray
        Times and peak-to-peak amplitudes of the channel's candidates.
    duration_s : float
        Duration of the recording.
    params : DetectParams
        Thresholds.

    Returns
    -------
    dict
        ``activity`` and ``artifact``: lists of (start_s, stop_s);
        ``rest_s``; ``resting_noise_uv`` (median RMS of the quietest windows);
        ``flags``: list of str.
    """
    win_s = params.segment_window_s
    nw = stats.shape[0]
    flags: list[str] = []
    rms = stats[:, 0]
    artifact = (stats[:, 1] >= params.flat_run_ms) | (stats[:, 2] > 0) | (
        stats[:, 3] >= params.movement_min_uv
    )
    if np.any(stats[:, 2] > 0):
        flags.append("nan_samples")
    if np.any(stats[:, 1] >= params.flat_run_ms):
        flags.append("flat_or_clipped")
    if np.any(stats[:, 3] >= params.movement_min_uv):
        flags.append("movement_artifact")
    finite = np.isfinite(rms) & ~artifact
    resting = float(np.percentile(rms[finite], 10)) if finite.any() else np.nan
    # density of MUP-sized candidates per window
    big = cand_amp_uv >= params.activity_spike_min_uv
    wi = np.minimum((cand_time_s[big] / win_s).astype(np.int64), nw - 1) if nw else np.zeros(0, int)
    active = np.zeros(nw, bool)
    if nw and wi.size:
        counts = np.bincount(wi, minlength=nw)
        tb = cand_time_s[big]
        order = np.argsort(tb)
        tb, wis = tb[order], wi[order]
        # windows dense in MUP-sized spikes, unless they fire time-locked (a CRD)
        dense = (counts > 0) & (counts / win_s >= params.activity_min_rate_hz)
        for w in np.flatnonzero(dense):
            tw = tb[wis == w]
            isi = np.diff(tw)
            cv = isi.std() / isi.mean() if isi.size >= 2 and isi.mean() > 0 else 1.0
            if cv > params.crd_max_isi_cv:
                active[w] = True
        if np.isfinite(resting) and resting > 0:
            loud = rms >= params.activity_rms_factor * resting
            active |= loud & (counts >= params.activity_rms_min_spikes)
    active &= ~artifact
    act_iv = intervals_from_mask(active, win_s, duration_s, merge_s=params.activity_merge_s,
                                 min_s=params.activity_min_s, pad_s=params.activity_pad_s)
    art_iv = intervals_from_mask(artifact, win_s, duration_s, pad_s=params.artifact_pad_s)
    covered = _union_length(act_iv + art_iv)
    rest_s = max(0.0, duration_s - covered)
    if rest_s <= 0:
        flags.append("no_rest")
    elif rest_s < params.rest_min_s:
        flags.append("rest_too_short_to_exclude_fasciculations")
    return {"activity": act_iv, "artifact": art_iv, "rest_s": rest_s,
            "resting_noise_uv": resting, "flags": flags}


def _union_length(iv: list[tuple[float, float]]) -> float:
    total = 0.0
    end = -np.inf
    for a, b in sorted(iv):
        if b <= end:
            continue
        total += b - max(a, end)
        end = b
    return total
