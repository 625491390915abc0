"""Quantitative-EMG features of one MUP template (definitions in ``docs/mup.md``).

All measurements are made on the wide-band template ``t`` (µV) after the
baseline is removed: ``x = t − b`` with ``b`` the straight line through the
medians of the template's first and last ``baseline_ms`` (a flat line when
both ends agree).

* **Level** ``λ = max(duration_level_uv, duration_noise_k · σ_t)`` with
  ``σ_t`` the template's noise SD.
* **Onset / end** (deviation-from-baseline rule in the manner of Stålberg
  and Nandedkar, averaged over levels): the scan runs on ``x_s``, ``x``
  smoothed by a centred moving average of ``duration_smooth_ms``. At one
  level ``L``, from the template's largest absolute value (of ``x``) scan
  outward; the onset (end) is the last sample with ``|x_s| > L`` before a
  stretch of at least ``quiet_ms`` with ``|x_s| ≤ L``. Onset and end are the
  means of those found at ``duration_level_steps`` levels spread
  geometrically from ``λ/√s`` to ``λ·√s`` (``s = duration_level_span``;
  levels whose scan reaches the window edge are left out). When the scan at
  ``λ`` itself reaches the window edge, the MUP does not fit the window or
  the baseline is not quiet: the duration and everything measured between
  onset and end are NaN and the flag ``duration_unreliable`` is set.
  (Averaging over levels: a slow tail lying near ``λ`` moves the duration by
  the fraction of the levels it crosses instead of by its whole length.)
* **Duration**: end − onset (ms); amplitude, phases, turns and area are
  measured on ``x`` between onset and end rounded to samples.
* **Amplitude**: peak-to-peak, max(x) − min(x) between onset and end (µV).
* **Phases**: the onset–end signal is split into runs of one sign of ``x``;
  runs whose largest ``|x|`` is below ``max(phase_min_uv, λ)`` are dropped
  and neighbouring runs of the same sign joined; phases = remaining runs
  (= significant baseline crossings + 1). Polyphasic: phases ≥
  ``polyphasic_min_phases``.
* **Turns**: changes of direction of at least ``turn_min_uv`` from the
  previous turning point (peaks and troughs, baseline crossing or not).
* **Area**: ∫|x| dt between onset and end (µV·ms).
* **Thickness**: area / amplitude (ms); **size index** (Sonoo & Stålberg
  1993): ``2·log10(amplitude in mV) + thickness``.
* **Initial polarity**: sign of the first phase (recorded voltage).
* **Rise time**: time from the turning point that precedes the largest
  peak (the signal moves monotonically from it to the peak) to the largest
  peak; NaN when the peak rises from the onset itself. A short rise time (< 0.5 ms) means the needle is close to the unit,
  the standard acceptance criterion for quantitative MUP analysis.
"""

from __future__ import annotations

import math

import numpy as np

from motorsign.mup.params import MupParams
from motorsign.signal.morphology import count_turns

__all__ = ["quantify_mup", "count_turns", "count_phases", "FEATURE_NAMES"]

FEATURE_NAMES = (
    "amplitude_uv",
    "duration_ms",
    "phases",
    "turns",
    "area_uvms",
    "thickness_ms",
    "size_index",
    "initial_polarity",
    "onset_ms",
    "end_ms",
    "level_uv",
    "duration_unreliable",
    "rise_time_ms",
)


def count_phases(x: np.ndarray, min_dev: float) -> tuple[int, int]:
    """Phases of a baseline-removed segment and the sign of the first one.

    Parameters
    ----------
    x : ndarray
        Baseline-removed segment (onset to end).
    min_dev : float
        Runs of one sign whose largest ``|x|`` is below this are not phases.

    Returns
    -------
    (n_phases, first_sign)
        ``first_sign`` is +1 or −1 (0 when there is no phase).
    """
    if x.size == 0:
        return 0, 0
    s = np.sign(x)
    # zeros take the previous sign
    for i in range(1, s.size):
        if s[i] == 0:
            s[i] = s[i - 1]
    change = np.flatnonzero(np.diff(s) != 0) + 1
    starts = np.concatenate(([0], change))
    stops = np.concatenate((change, [x.size]))
    signs = []
    for a, b in zip(starts, stops):
        if np.abs(x[a:b]).max() >= min_dev and s[a] != 0:
            if not signs or signs[-1] != s[a]:
                signs.append(int(s[a]))
    return len(signs), (signs[0] if signs else 0)


def _scan_out(above: np.ndarray, quiet: int) -> int:
    """Index of the last supra-level sample of ``above`` (scanned from index 0, which
    counts as supra-level) before ``quiet`` sub-level samples; -1 when the end comes first."""
    pts = np.concatenate(([0], np.flatnonzero(above[1:]) + 1))
    gaps = np.diff(np.append(pts, above.size)) - 1  # sub-level samples after each point
    gaps[0] += not above[0]  # a sub-level start counts itself
    hit = np.flatnonzero(gaps >= quiet)
    return int(pts[hit[0]]) if hit.size else -1


def _onset_end(above: np.ndarray, main: int, quiet: int) -> tuple[int, int]:
    """Onset and end: from ``main`` outward, the last supra-level sample before
    ``quiet`` sub-level samples; -1 where the template's edge comes first."""
    end = _scan_out(above[main:], quiet)
    onset = _scan_out(above[main::-1], quiet)
    return (main - onset if onset >= 0 else -1), (main + end if end >= 0 else -1)


def quantify_mup(template: np.ndarray, fs: float, noise_uv: float,
                 params: MupParams | None = None) -> dict:
    """Measure one MUP template.

    Parameters
    ----------
    template : ndarray
        Wide-band template (µV); it must include quiet baseline at both ends.
    fs : float
        Sampling rate (Hz).
    noise_uv : float
        Noise SD of the template (µV); NaN is treated as 0.
    params : MupParams | None

    Returns
    -------
    dict
        Keys :data:`FEATURE_NAMES` (``onset_ms``/``end_ms`` relative to the
        template's first sample).
    """
    p = params or MupParams()
    t = np.asarray(template, dtype=np.float64)
    nb = max(1, int(round(p.baseline_ms * 1e-3 * fs)))
    # straight baseline through the medians of the two ends (a slow offset
    # left by filters or by the unit's own after-potential is not a phase)
    b0, b1 = float(np.median(t[:nb])), float(np.median(t[-nb:]))
    c0, c1 = (nb - 1) / 2.0, t.size - 1 - (nb - 1) / 2.0
    ramp = b0 + (b1 - b0) * (np.arange(t.size) - c0) / max(1.0, c1 - c0)
    x = t - ramp
    noise = 0.0 if not math.isfinite(noise_uv) else float(noise_uv)
    level = max(p.duration_level_uv, p.duration_noise_k * noise)
    nan = float("nan")
    out = dict.fromkeys(FEATURE_NAMES, nan)
    out["level_uv"] = level
    out["duration_unreliable"] = True
    out["initial_polarity"] = ""
    ax = np.abs(x)
    if ax.size == 0 or not ax.max() > level:
        return out
    main = int(np.argmax(ax))
    quiet = max(1, int(round(p.quiet_ms * 1e-3 * fs)))
    # onset/end are judged on the template smoothed over duration_smooth_ms (the
    # template's residual noise alone crosses a level of 3 noise SDs now and then)
    nsm = int(round(p.duration_smooth_ms * 1e-3 * fs))
    axs = np.abs(np.convolve(x, np.ones(nsm) / nsm, mode="same")) if nsm > 1 else ax
    on0, end0 = _onset_end(axs > level, main, quiet)
    if on0 < 0 or end0 < 0:
        return out
    onset_f, end_f = float(on0), float(end0)
    if p.duration_level_span > 1.0 and p.duration_level_steps > 1:
        # level-averaged onset/end: the mean over levels spread geometrically around λ
        # (a tail near one level moves the mean by a fraction of its length, not all of it)
        ons, ends = [], []
        for f in p.duration_level_span ** np.linspace(-0.5, 0.5, int(p.duration_level_steps)):
            a, b = _onset_end(axs > level * f, main, quiet)
            if a >= 0 and b >= 0:
                ons.append(a)
                ends.append(b)
        onset_f, end_f = float(np.mean(ons)), float(np.mean(ends))
    onset, end = int(round(onset_f)), int(round(end_f))
    seg = x[onset : end + 1]
    amp = float(seg.max() - seg.min())
    n_ph, first = count_phases(seg, max(p.phase_min_uv, level))
    area = float(np.abs(seg).sum() / fs * 1e3)
    # rise time: back from the main peak to the turning point that precedes it
    sgn = 1.0 if x[main] > 0 else -1.0
    k = main
    while k > onset and (x[k - 1] - x[k]) * sgn < 0:
        k -= 1
    rise = (main - k) / fs * 1e3 if k > onset else float("nan")
    out.update(
        rise_time_ms=rise,
        amplitude_uv=amp,
        duration_ms=(end_f - onset_f) / fs * 1e3,
        phases=n_ph,
        turns=count_turns(seg, p.turn_min_uv),
        area_uvms=area,
        thickness_ms=area / amp if amp > 0 else nan,
        size_index=2 * math.log10(amp / 1000.0) + area / amp if amp > 0 else nan,
        initial_polarity="positive" if first > 0 else ("negative" if first < 0 else ""),
        onset_ms=onset_f / fs * 1e3,
        end_ms=end_f / fs * 1e3,
        duration_unreliable=False,
    )
    return out
