"""Stimulus-artifact handling for evoked responses (TMS pulses, electrical stimuli).

The artifact is found and replaced before any response is measured, so it is
never taken for one: for every trial the samples from a little before the
pulse to the detected end of the artifact are replaced by a straight line
between the last clean sample before and the first clean sample after.

The end of the artifact is where the trace has settled: the first sample,
at least ``min_blank_ms`` after the pulse, from which the absolute first
difference stays below ``settle_k`` times the baseline's first-difference
noise for ``settle_ms``; it is searched up to ``max_blank_ms`` (then the
blank ends there and the trial is flagged). Kernels work on one channel's
epochs ``(n_trials, n_samples)`` float32 and loop over trials in numba.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numba
import numpy as np

__all__ = ["ArtifactOptions", "blank_artifacts", "artifact_end", "interpolate_gaps"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ArtifactOptions:
    """Parameters of the stimulus-artifact blanking.

    Attributes
    ----------
    pre_ms : float
        Blank starts this long before each pulse (trigger jitter, coil
        recharge click). Default 0.5 ms.
    min_blank_ms : float
        The blank lasts at least this long after the pulse. Default 1.0 ms.
    max_blank_ms : float
        The settled point is searched up to this long after the pulse; if
        the trace has not settled by then the blank ends there and the trial
        is flagged ``artifact_long``. Default 6 ms (MEPs); nerve studies use
        a shorter cap so the M-wave is not blanked.
    settle_ms : float
        How long the trace must stay settled. Default 0.4 ms.
    settle_k : float
        Settled means ``|diff| < settle_k * baseline diff noise``. Default 6.
    clip_level_k : float
        ... and not a repeated value more than ``clip_level_k`` baseline SD
        from the baseline mean: a saturated (clipped) amplifier holds one
        value at its rail, whose first difference is zero although the trace
        has not recovered. Default 10.
    """

    pre_ms: float = 0.5
    min_blank_ms: float = 1.0
    max_blank_ms: float = 6.0
    settle_ms: float = 0.4
    settle_k: float = 6.0
    clip_level_k: float = 10.0


@numba.njit(nogil=True, cache=True)
def _diff_noise(x: np.ndarray, stop: int) -> float:
    # Robust SD of the first difference over x[:stop] (median-free: mean abs * sqrt(pi/2)).
    n = 0
    acc = 0.0
    for i in range(1, stop):
        acc += abs(x[i] - x[i - 1])
        n += 1
    if n == 0:
        return np.nan
    return acc / n * 1.2533141373155001


@numba.njit(nogil=True, cache=True)
def artifact_end(epochs: np.ndarray, stim: np.ndarray, lo: int, hi: int, settle: int,
                 settle_k: float, baseline_stop: np.ndarray, clip_level_k: float = 10.0) -> np.ndarray:
    """End sample (exclusive) of the artifact of each trial.

    Parameters
    ----------
    epochs : ndarray (n_trials, n_samples) float32
    stim : ndarray (n_trials,) int64
        Pulse sample of each trial.
    lo, hi : int
        Search the end between ``stim + lo`` and ``stim + hi`` samples.
    settle : int
        Samples the trace must stay settled.
    settle_k : float
        Threshold in units of the baseline first-difference noise.
    baseline_stop : ndarray (n_trials,) int64
        Baseline used for the noise estimate: ``[0, baseline_stop)``.
    clip_level_k : float
        A repeated value (zero first difference) farther than this many
        baseline SD from the baseline mean is saturation, not settled.

    Returns
    -------
    ndarray (n_trials,) int64
        End sample; negative (``-(stim + hi)``) when the trace did not settle.
    """
    n_tr, n_s = epochs.shape
    out = np.empty(n_tr, dtype=np.int64)
    for t in range(n_tr):
        x = epochs[t]
        s = stim[t]
        noise = _diff_noise(x, baseline_stop[t])
        stop = min(n_s - 1, s + hi)
        end = -stop
        # baseline level and spread: a value held far from it is a clipped rail
        nb = min(baseline_stop[t], n_s)
        mu = 0.0
        for i in range(nb):
            mu += x[i]
        mu = mu / nb if nb > 0 else 0.0
        var = 0.0
        for i in range(nb):
            var += (x[i] - mu) ** 2
        rail = clip_level_k * np.sqrt(var / nb) if nb > 1 else np.inf
        if np.isfinite(noise) and noise > 0:
            thr = settle_k * noise
            run = 0
            for i in range(s + lo, stop + 1):
                if i < 1 or i >= n_s:
                    continue
                d = abs(x[i] - x[i - 1])
                if d < thr and not (d == 0.0 and abs(x[i] - mu) > rail):
                    run += 1
                    if run >= settle:
                        end = i - settle + 1
                        break
                else:
                    run = 0
        out[t] = end
    return out


@numba.njit(nogil=True, cache=True)
def interpolate_gaps(epochs: np.ndarray, start: np.ndarray, stop: np.ndarray) -> None:
    """Replace ``epochs[t, start[t]:stop[t]]`` by a line, in place.

    The line joins the samples just outside the gap (``start - 1`` and
    ``stop``); at an edge the nearest clean sample is held.
    """
    n_tr, n_s = epochs.shape
    for t in range(n_tr):
        a = max(0, start[t])
        b = min(n_s, stop[t])
        if b <= a:
            continue
        if a == 0 and b == n_s:
            continue
        if a == 0:
            y0 = epochs[t, b]
            y1 = y0
        elif b == n_s:
            y0 = epochs[t, a - 1]
            y1 = y0
        else:
            y0 = epochs[t, a - 1]
            y1 = epochs[t, b]
        span = b - a + 1
        for i in range(a, b):
            f = (i - a + 1) / span
            epochs[t, i] = y0 + (y1 - y0) * f


def blank_artifacts(epochs: np.ndarray, stim: np.ndarray, fs: float,
                    options: ArtifactOptions | None = None,
                    extra_pulses: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Blank and interpolate the stimulus artifact of every trial, in place.

    Parameters
    ----------
    epochs : ndarray (n_trials, n_samples) float32, C-contiguous
        One channel's epochs; modified in place.
    stim : ndarray (n_trials,) int
        Pulse sample of each trial (the epoch's time zero).
    fs : float
        Sampling rate (Hz).
    options : ArtifactOptions | None
        Blanking parameters (defaults when None).
    extra_pulses : ndarray (n_trials, k) int | None
        Further pulses inside each epoch (bursts, paired pulses), -1 padded;
        each is blanked the same way.

    Returns
    -------
    blank_end : ndarray (n_trials,) int64
        First clean sample after the (last) pulse's artifact.
    unsettled : ndarray (n_trials,) bool
        True where the trace never settled before ``max_blank_ms``.
    """
    o = options or ArtifactOptions()
    stim = np.asarray(stim, dtype=np.int64)
    pre = int(round(o.pre_ms * fs / 1000.0))
    lo = max(1, int(round(o.min_blank_ms * fs / 1000.0)))
    hi = max(lo + 1, int(round(o.max_blank_ms * fs / 1000.0)))
    settle = max(2, int(round(o.settle_ms * fs / 1000.0)))
    base_stop = np.maximum(stim - pre, 0).astype(np.int64)
    pulses = [stim]
    if extra_pulses is not None and np.size(extra_pulses):
        ep = np.asarray(extra_pulses, dtype=np.int64).reshape(len(stim), -1)
        pulses += [ep[:, j] for j in range(ep.shape[1])]
    blank_end = np.zeros(len(stim), dtype=np.int64)
    unsettled = np.zeros(len(stim), dtype=bool)
    for p in pulses:
        valid = p >= 0
        if not valid.any():
            continue
        pv = np.where(valid, p, stim)
        end = artifact_end(epochs, pv, lo, hi, settle, float(o.settle_k), base_stop,
                           float(o.clip_level_k))
        bad = end < 0
        end = np.abs(end)
        start = np.where(valid, pv - pre, 0)
        stop = np.where(valid, end, 0)
        interpolate_gaps(epochs, start.astype(np.int64), stop.astype(np.int64))
        unsettled |= bad & valid
        blank_end = np.where(valid, np.maximum(blank_end, end), blank_end)
    return blank_end, unsettled


@numba.njit(nogil=True, cache=True)
def remove_decay(epochs: np.ndarray, fit_start: np.ndarray, fit_stop: int, b_start: int,
                 b_stop: int, min_k: float, min_tau: float, max_tau: float) -> np.ndarray:
    """Subtract an exponential artifact tail that outlasts the blank, in place.

    Between ``fit_start[t]`` and ``fit_stop`` (a stretch where no response
    is expected) a trace that stays on one side of the baseline mean, more
    than ``min_k`` baseline SD away on average, is taken for the decay of
    the stimulus artifact (amplifier recovery, electrode polarisation):
    ``|x - mean|`` is fitted there by ``a * exp(-(i - fit_start) / tau)``
    (least squares on the logarithm) and the fitted decay is subtracted from
    ``fit_start`` to the end of the epoch.

    Parameters
    ----------
    epochs : ndarray (n_trials, n_samples) float32
    fit_start : ndarray (n_trials,) int64
        First sample after the blank.
    fit_stop : int
        End of the fitted stretch (exclusive): the start of the response search.
    b_start, b_stop : int
        Pre-stimulus baseline.
    min_k : float
        Mean offset (in baseline SD) from which a tail is removed.
    min_tau, max_tau : float
        Accepted time constants (samples); other fits are not applied.

    Returns
    -------
    ndarray (n_trials,) bool
        True where a tail was removed.
    """
    n_tr, n_s = epochs.shape
    done = np.zeros(n_tr, dtype=np.bool_)
    for t in range(n_tr):
        x = epochs[t]
        a0 = fit_start[t]
        if b_stop - b_start < 4 or fit_stop - a0 < 5 or fit_stop > n_s:
            continue
        mu = 0.0
        for i in range(b_start, b_stop):
            mu += x[i]
        mu /= b_stop - b_start
        var = 0.0
        for i in range(b_start, b_stop):
            var += (x[i] - mu) ** 2
        sd = np.sqrt(var / (b_stop - b_start - 1))
        m = 0.0
        for i in range(a0, fit_stop):
            m += x[i] - mu
        m /= fit_stop - a0
        if not (sd > 0) or abs(m) < min_k * sd:
            continue
        sgn = 1.0 if m > 0 else -1.0
        # log-linear least squares on samples on the tail's side of the mean
        sx = 0.0
        sy = 0.0
        sxx = 0.0
        sxy = 0.0
        n = 0
        floor = 0.5 * sd
        for i in range(a0, fit_stop):
            v = sgn * (x[i] - mu)
            if v > floor:
                u = float(i - a0)
                lv = np.log(v)
                sx += u
                sy += lv
                sxx += u * u
                sxy += u * lv
                n += 1
        if n < 5:
            continue
        den = n * sxx - sx * sx
        if den <= 0:
            continue
        slope = (n * sxy - sx * sy) / den
        icpt = (sy - slope * sx) / n
        if slope >= 0:
            continue
        tau = -1.0 / slope
        if tau < min_tau or tau > max_tau:
            continue
        amp = np.exp(icpt)
        for i in range(a0, n_s):
            x[i] -= sgn * amp * np.exp(-(i - a0) / tau)
        done[t] = True
    return done
