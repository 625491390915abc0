"""Mains hum and slow drift: fitted on each trial's baseline and subtracted.

A 50/60 Hz hum of 10-50 µV or a slow DC drift raises the baseline SD (so a
real MEP falls under the presence threshold) and adds deflections in the
response window that the onset methods take for the MEP's edge. A notch
filter is no cure for evoked responses: it rings with the stimulus artifact
on both sides of the pulse. Instead, each trial's pre-stimulus baseline is
fitted by least squares with

    constant + slope * t + sum_h (a_h cos(2 pi h f0 t) + b_h sin(2 pi h f0 t))

and the fitted hum (and the trend, when it is significant in that trial) is
extrapolated over the whole epoch and subtracted. The grid's frequency
wanders by a fraction of a hertz around its nominal value, so the
fundamental is first refined on the baselines (:func:`refine_mains_hz`):
with the right frequency the hum's phase carries over the few hundred ms of
an epoch.

Hum is only removed where it is there: a harmonic ``h f0`` is *present* on
a channel when, over its trials, the median F statistic of the harmonic's
(cos, sin) pair is at least :data:`MIN_F` and at least :data:`LINE_RATIO`
times the median F of the same fit at neighbouring off-mains frequencies (a
spectral line, not the broad spectrum of background EMG or noise) and the
hum is at least :data:`MIN_HUM_TO_NOISE` times the rest of the baseline's
noise and at least :data:`MIN_HUM_UV` RMS. On clean
recordings nothing is subtracted, so results are unchanged there. The trend
is subtracted trial by trial when its t statistic (corrected for the
residuals' sample-to-sample correlation) reaches ``trend_t`` and
the baseline lasts at least :data:`MIN_TREND_BASELINE_S`; hum is looked for
only over baselines of at least :data:`MIN_CYCLES` periods (nerve studies:
give a baseline of 30 ms or more).
"""

from __future__ import annotations

import logging
import math

import numba
import numpy as np

__all__ = ["MAINS_HZ", "MIN_F", "LINE_RATIO", "MAX_HARMONICS", "baseline_groups", "detect_mains",
           "parse_mains", "refine_mains_hz", "remove_interference"]

log = logging.getLogger(__name__)

#: Mains frequencies considered by ``mains="auto"``.
MAINS_HZ = (50.0, 60.0)
#: Smallest median F statistic (2 numerator dof) of a present mains harmonic.
MIN_F = 20.0
#: A present harmonic's median F is at least this many times the off-mains reference's.
LINE_RATIO = 4.0
#: Hum is removed only when it matters: its RMS (all present harmonics) is at least this
#: many times the SD of what remains of the baseline (the hum at least doubles the noise
#: variance). Smaller hum barely moves the thresholds, and its extrapolation is not free.
MIN_HUM_TO_NOISE = 1.0
#: ... and its RMS is at least this (µV). Smaller hum moves neither the presence decision
#: (6 SD of it stays well under half the 50 µV MEP floor) nor the onsets by much, while
#: subtracting it from a very clean recording shrinks the baseline band so far that the
#: walk-back onset methods start at slow pre-MEP shifts (the real MEPFeatX recordings
#: carry 1-2 µV of 50 Hz: removing it widened the disagreement with MEPFeatX).
MIN_HUM_UV = 3.0
#: The mains fundamental is refined within this of the nominal frequency (Hz)...
MAINS_SEARCH_HZ = 1.0
#: ... in steps of this (Hz), see :func:`refine_mains_hz`.
MAINS_STEP_HZ = 0.01
#: Harmonics of the mains frequency looked for (1 = the fundamental only).
MAX_HARMONICS = 3
#: Reference frequencies of the line test: each harmonic +- this fraction of f0.
_REF_OFFSETS = (-0.5, 0.5)
#: Hum detection looks at most at this many trials (evenly spread): a median needs no more.
MAX_DETECT_TRIALS = 64
#: Hum is fitted only on baselines spanning at least this many of its periods (shorter
#: ones cannot tell a sinusoid from an offset and a slope).
MIN_CYCLES = 1.5
#: A trend is fitted only on baselines at least this long (s): over a shorter one, half a
#: mains cycle looks like a slope, and extrapolating it over the epoch would invent drift.
MIN_TREND_BASELINE_S = 0.02
#: At least this many baseline samples per fitted parameter.
_MIN_SAMPLES_PER_PARAM = 4


def parse_mains(value) -> str | float:
    """``"auto"``, ``"off"`` or a frequency (Hz) from an option value.

    Accepts ``auto``, ``off``/``none``/``0``/None, a number, or a number with
    ``Hz`` (``"50 Hz"``); anything else comes back as NaN for the caller to
    refuse.
    """
    if value is None:
        return "off"
    if isinstance(value, str):
        v = value.strip().lower()
        if v in ("auto", "off", "none", ""):
            return "off" if v in ("none", "") else v
        v = v.removesuffix("hz").strip()
        try:
            value = float(v)
        except ValueError:
            return math.nan
    f = float(value)
    return "off" if f == 0 else f


def _design(n0: int, n1: int, fs: float, stim: int, freqs: list[float], span_s: float) -> np.ndarray:
    """Columns 1, t / span_s, then cos/sin of each frequency, over samples ``n0 .. n1-1``."""
    t = (np.arange(n0, n1, dtype=float) - stim) / fs
    cols = [np.ones_like(t), t / span_s]
    for f in freqs:
        w = 2.0 * math.pi * f * t
        cols += [np.cos(w), np.sin(w)]
    return np.column_stack(cols)


def _fit(y: np.ndarray, X: np.ndarray):
    """Least squares of every column of ``y`` (samples, trials).

    Returns
    -------
    coef : ndarray (n_params, n_trials)
    var : ndarray (n_trials,)
        Residual variance.
    cov : ndarray (n_params, n_params)
        ``(X'X)^-1``.
    """
    xtx = X.T @ X
    try:
        cov = np.linalg.inv(xtx)
    except np.linalg.LinAlgError:
        cov = np.linalg.pinv(xtx)
    coef = cov @ (X.T @ y)
    res = y - X @ coef
    var = np.einsum("ij,ij->j", res, res) / max(X.shape[0] - X.shape[1], 1)
    return coef, var, cov


def _pair_f(coef: np.ndarray, var: np.ndarray, cov: np.ndarray, k: int) -> np.ndarray:
    """F statistic (per trial) of the (cos, sin) pair in columns ``k, k+1``."""
    try:
        inv = np.linalg.inv(cov[k:k + 2, k:k + 2])
    except np.linalg.LinAlgError:
        return np.zeros(coef.shape[1])
    c = coef[k:k + 2]
    q = np.einsum("it,ij,jt->t", c, inv, c)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(var > 0, q / (2.0 * var), 0.0)


def baseline_groups(b_start: np.ndarray, b_stop: np.ndarray) -> list[tuple[int, int]]:
    """The distinct ``(start, stop)`` baselines of a set of trials."""
    b_start = np.asarray(b_start, dtype=np.int64)
    b_stop = np.asarray(b_stop, dtype=np.int64)
    if b_start.size == 0:
        return []
    if (b_start == b_start[0]).all() and (b_stop == b_stop[0]).all():
        return [(int(b_start[0]), int(b_stop[0]))]
    lo = int(b_start.min())
    span = int(b_stop.max()) - min(lo, int(b_stop.min())) + 1
    keys = np.unique((b_start - lo) * span + (b_stop - min(lo, int(b_stop.min()))))
    return [(int(k // span) + lo, int(k % span) + min(lo, int(b_stop.min()))) for k in keys]


@numba.njit(nogil=True, cache=True)
def _detrend_kernel(x: np.ndarray, rows: np.ndarray, b0: int, b1: int, trend_t: float) -> np.ndarray:
    """Subtract, in place, the baseline's linear trend of every trial where it is significant.

    The trend is fitted on ``x[t, b0:b1]`` and extrapolated over the whole
    epoch, pivoted on the baseline's middle (the baseline mean is unchanged).
    Its t statistic is corrected for the residuals' lag-1 correlation r:
    effective size n (1 - r) / (1 + r).
    """
    n = b1 - b0
    done = np.zeros(rows.size, dtype=np.bool_)
    tc = 0.5 * (n - 1)
    sxx = 0.0
    for i in range(n):
        sxx += (i - tc) ** 2
    for k in range(rows.size):
        t = rows[k]
        my = 0.0
        for i in range(n):
            my += x[t, b0 + i]
        my /= n
        sxy = 0.0
        for i in range(n):
            sxy += (i - tc) * (x[t, b0 + i] - my)
        slope = sxy / sxx
        rss = 0.0
        lag = 0.0
        prev = 0.0
        for i in range(n):
            r = x[t, b0 + i] - my - slope * (i - tc)
            rss += r * r
            if i > 0:
                lag += r * prev
            prev = r
        if rss <= 0:
            continue
        r1 = min(max(lag / rss, 0.0), 0.99)
        var = rss / (n - 2)
        tstat = abs(slope) / np.sqrt(var / sxx) * np.sqrt((1.0 - r1) / (1.0 + r1))
        if tstat >= trend_t:
            c = b0 + tc
            for i in range(x.shape[1]):
                x[t, i] -= slope * (i - c)
            done[k] = True
    return done


def detect_mains(x: np.ndarray, b_start: np.ndarray, b_stop: np.ndarray, fs: float, stim: int,
                 mains: str | float = "auto", *, min_f: float = MIN_F, line_ratio: float = LINE_RATIO,
                 max_harmonics: int = MAX_HARMONICS, min_hum_to_noise: float = MIN_HUM_TO_NOISE,
                 min_hum_uv: float = MIN_HUM_UV) -> list[float]:
    """Mains harmonics present on one channel's epochs.

    Parameters
    ----------
    x : ndarray (n_trials, n_samples)
        Epochs (stimulus artifact already blanked).
    b_start, b_stop : ndarray (n_trials,) int
        Baseline ``[start, stop)`` of each trial.
    fs : float
        Sampling rate (Hz).
    stim : int
        Pulse sample (time zero of the fit).
    mains : "auto" | "off" | float
        ``"auto"`` looks for 50 and 60 Hz; a number looks for that frequency
        only; ``"off"`` (or 0) looks for none.
    min_f, line_ratio, max_harmonics, min_hum_to_noise, min_hum_uv :
        See :data:`MIN_F`, :data:`LINE_RATIO`, :data:`MAX_HARMONICS`,
        :data:`MIN_HUM_TO_NOISE`, :data:`MIN_HUM_UV`.

    Returns
    -------
    list of float
        The present harmonics (Hz), ascending; empty when none.
    """
    mains = parse_mains(mains)
    if mains == "off":
        return []
    cands = MAINS_HZ if mains == "auto" else (float(mains),)
    cands = [f for f in cands if f > 0]
    if not cands or x.shape[0] == 0:
        return []
    # the most common baseline (trials with a pulse in the baseline have a shorter one)
    keys, counts = np.unique(np.stack([b_start, b_stop]), axis=1, return_counts=True)
    k0, k1 = (int(v) for v in keys[:, int(np.argmax(counts))])
    b0, b1 = max(k0, 0), k1
    if b1 - b0 < _MIN_SAMPLES_PER_PARAM * 4:
        return []
    ok = (b_start == k0) & (b_stop == k1) & np.all(np.isfinite(x[:, b0:b1]), axis=1)
    idx = np.flatnonzero(ok)
    if idx.size == 0:
        return []
    if idx.size > MAX_DETECT_TRIALS:
        idx = idx[np.linspace(0, idx.size - 1, MAX_DETECT_TRIALS).astype(int)]
    y = np.asarray(x[idx, b0:b1], dtype=float).T
    span = (b1 - b0) / fs
    best: tuple[float, list[float], float] = (0.0, [], 0.0)
    for f0 in cands:
        found = []
        score = 0.0
        if span < MIN_CYCLES / f0:
            continue
        for h in range(1, max_harmonics + 1):
            f = h * f0
            if f >= 0.45 * fs:
                break
            stats = []
            for g in (f, *(f + d * f0 for d in _REF_OFFSETS)):
                if g <= 0 or g >= 0.5 * fs:
                    continue
                coef, var, cov = _fit(y, _design(b0, b1, fs, stim, [g], span))
                stats.append(float(np.median(_pair_f(coef, var, cov, 2))))
            if len(stats) < 2:
                continue
            f_line, f_ref = stats[0], max(stats[1:])
            if f_line >= min_f and f_line >= line_ratio * f_ref:
                found.append(f)
                score = max(score, f_line)
        if found:
            coef, var, _ = _fit(y, _design(b0, b1, fs, stim, found, span))
            hum_rms = np.sqrt(0.5 * (coef[2:] ** 2).sum(axis=0))
            if (float(np.median(hum_rms / np.sqrt(var))) < min_hum_to_noise
                    or float(np.median(hum_rms)) < min_hum_uv):
                log.debug("mains hum at %s Hz too small to matter", found)
                found = []
        if found and score > best[0]:
            best = (score, found, f0)
    if not best[1]:
        return []
    f0 = best[2]
    mult = [int(round(f / f0)) for f in best[1]]
    f_fit = refine_mains_hz(y, b0, b1, fs, stim, f0, mult, span)
    found = [h * f_fit for h in mult]
    log.info("mains hum at %s Hz fitted and subtracted", ", ".join(f"{f:.2f}" for f in found))
    return found


def refine_mains_hz(y: np.ndarray, b0: int, b1: int, fs: float, stim: int, f0: float,
                    harmonics: list[int], span: float, search_hz: float = MAINS_SEARCH_HZ,
                    step_hz: float = MAINS_STEP_HZ) -> float:
    """The mains frequency near ``f0`` that best fits the baselines (least total residual).

    The grid's frequency is never exactly nominal: 0.5 Hz off, a hum fitted at
    the nominal frequency on a 100-ms baseline drifts by a sixth of a cycle
    over the next 50 ms, and its extrapolation invents deflections of a
    third of the hum's amplitude in the response window. The fundamental is
    searched within ``search_hz`` of ``f0``, first in steps of ``10 *
    step_hz``, then of ``step_hz`` around the best, fitting all present
    ``harmonics`` (multiples of the fundamental) on every trial's baseline
    (``y``: samples x trials) at once.

    Returns
    -------
    float
        The fundamental (Hz).
    """
    def total(f):
        _, var, _ = _fit(y, _design(b0, b1, fs, stim, [h * f for h in harmonics], span))
        return float(np.sum(var))

    coarse = 10.0 * step_hz
    grid = f0 + np.arange(-search_hz, search_hz + coarse / 2, coarse)
    best = min(grid, key=total)
    fine = best + np.arange(-coarse, coarse + step_hz / 2, step_hz)
    return float(min(fine, key=total))


def remove_interference(x: np.ndarray, b_start: np.ndarray, b_stop: np.ndarray, fs: float, stim: int,
                        harmonics_hz: list[float], *, trend_t: float = 6.0) -> tuple[np.ndarray, np.ndarray]:
    """Subtract the fitted hum (and significant linear trends) from every trial, in place.

    Parameters
    ----------
    x : ndarray (n_trials, n_samples) float32
        Epochs (finite values); modified in place.
    b_start, b_stop : ndarray (n_trials,) int
        Baseline of each trial.
    fs : float
        Sampling rate (Hz).
    stim : int
        Pulse sample.
    harmonics_hz : list of float
        Hum frequencies to fit and subtract (from :func:`detect_mains`).
    trend_t : float
        The linear trend is subtracted in a trial when its t statistic is at
        least this (<= 0: never).

    Returns
    -------
    hum_removed, trend_removed : ndarray (n_trials,) bool
    """
    n_tr, n_s = x.shape
    hum_done = np.zeros(n_tr, dtype=bool)
    trend_done = np.zeros(n_tr, dtype=bool)
    if trend_t <= 0 and not harmonics_hz:
        return hum_done, trend_done
    n_par = 2 + 2 * len(harmonics_hz)
    for k0, k1 in baseline_groups(b_start, b_stop):
        b0, b1 = max(k0, 0), k1
        if b1 - b0 < _MIN_SAMPLES_PER_PARAM * n_par:
            continue
        sel = (b_start == k0) & (b_stop == k1)
        idx = np.flatnonzero(sel)
        span = (b1 - b0) / fs
        if not harmonics_hz:
            if trend_t > 0 and span >= MIN_TREND_BASELINE_S:
                trend_done[idx] = _detrend_kernel(x, idx.astype(np.int64), b0, b1, float(trend_t))
            continue
        y = np.asarray(x[:, b0:b1] if idx.size == n_tr else x[idx, b0:b1], dtype=float).T
        coef, var, cov = _fit(y, _design(b0, b1, fs, stim, harmonics_hz, span))
        with np.errstate(divide="ignore", invalid="ignore"):
            # residuals correlated from sample to sample (low-pass filtered or oversampled
            # recordings) carry fewer independent samples: AR(1) effective size n (1-r)/(1+r)
            res = y - _design(b0, b1, fs, stim, harmonics_hz, span) @ coef
            r1 = np.einsum("ij,ij->j", res[1:], res[:-1]) / np.einsum("ij,ij->j", res, res)
            r1 = np.clip(np.nan_to_num(r1), 0.0, 0.99)
            t_stat = np.abs(coef[1]) / np.sqrt(var * cov[1, 1]) * np.sqrt((1.0 - r1) / (1.0 + r1))
        if trend_t > 0 and span >= MIN_TREND_BASELINE_S:
            use_trend = t_stat >= trend_t
        else:
            use_trend = np.zeros(idx.size, dtype=bool)
        todo = np.ones(idx.size, dtype=bool) if harmonics_hz else use_trend
        if not todo.any():
            continue
        w = coef[:, todo].copy()
        w[0] = 0.0  # the offset stays (the kernels subtract the baseline mean)
        w[1] = np.where(use_trend[todo], w[1], 0.0)
        model = _design(0, n_s, fs, stim, harmonics_hz, span) @ w  # (n_samples, n_todo)
        # the subtracted model averages zero over the baseline (its mean stays put)
        model -= model[b0:b1].mean(axis=0, keepdims=True)
        x[idx[todo]] -= model.T.astype(x.dtype)
        hum_done[idx] = bool(harmonics_hz)
        trend_done[idx] = use_trend
    return hum_done, trend_done
