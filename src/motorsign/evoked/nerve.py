"""M-waves and F-waves after peripheral nerve stimulation.

Per stimulus: the M-wave (CMAP) onset = distal motor latency, its
baseline-to-peak and peak-to-peak amplitudes (mV), duration and area, then
in a window after the M-wave the F-wave: presence, onset latency and
peak-to-peak amplitude. Over the stimuli: minimal, mean and maximal F
latency, persistence (stimuli with an F-wave / stimuli measured),
chronodispersion (max - min latency) and repeater F-waves (F-waves of
identical latency and shape in several trials: the same motoneuron firing
back again).

Onsets use the MEP machinery (:func:`motorsign.evoked.mep.measure_epochs`):
the same named methods and the ``consensus`` median, with a short stimulus
artifact blank.

The F window starts ``f_gap_ms`` after the end of the channel's median
M-wave and never before ``f_min_ms``; it ends at ``f_max_ms`` (defaults by
region of the muscle, :data:`F_WINDOWS`).
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass, field, replace

import numpy as np

from motorsign.errors import ConfigError
from motorsign.evoked.mep import MepOptions, channel_muscle, measure_epochs
from motorsign.evoked.onset import FLAG_BITS, flags_to_text
from motorsign.evoked.tables import MepWindow, load_windows, window_row
from motorsign.signal.artifact import ArtifactOptions

__all__ = ["NerveOptions", "RESPONSE_COLUMNS", "F_WINDOWS", "analyze_nerve", "summarize_nerve",
           "find_repeaters"]

log = logging.getLogger(__name__)

#: Default baseline before each stimulus (ms): two periods of 50 Hz, so that mains hum
#: can be fitted and removed (:mod:`motorsign.evoked.baseline`; a 10 ms baseline holds
#: half a period, which looks like a slope) and the noise SD is well estimated.
NERVE_PRE_MS = 40.0

#: ``f_low_sensitivity`` when the F detection limit (peak-to-peak, µV) exceeds this: F-waves
#: are mostly 60-500 µV (about 1-5 % of a normal CMAP), so above it a fair share of them is
#: missed (simulated 60-400 µV F-waves: persistence exact at a 60 µV limit, 0.1 low at 95 µV,
#: 0.25 low at 120 µV).
LOW_SENSITIVITY_UV = 80.0

RESPONSE_COLUMNS = ("trial", "channel", "m_onset_ms", "m_amplitude_mv", "f_present", "f_latency_ms",
                    "f_amplitude_uv")

#: (M onset window lo, hi, F window lo, hi) in ms, by region of the muscle.
F_WINDOWS = {
    "hand": (1.0, 12.0, 18.0, 50.0),
    "forearm": (1.0, 10.0, 15.0, 45.0),
    "arm": (1.0, 10.0, 12.0, 40.0),
    "shoulder": (1.0, 10.0, 10.0, 35.0),
    "leg": (1.0, 15.0, 25.0, 70.0),
    "foot": (1.0, 15.0, 30.0, 75.0),
    "thigh": (1.0, 15.0, 20.0, 60.0),
    "any": (1.0, 15.0, 18.0, 70.0),
}


@dataclass(frozen=True)
class NerveOptions:
    """Parameters of the M-/F-wave measures.

    Attributes
    ----------
    method : str
        Onset method (see :class:`motorsign.evoked.mep.MepOptions`); default
        ``extrapolation`` (the leading edge extended back to the baseline:
        M- and F-waves rise steeply and the edge is long), falling back to
        ``consensus`` in the trials where it fails (flag ``onset_fallback``).
    m_window_ms, f_window_ms : (float, float) | None
        M onset and F onset search windows (ms after the stimulus); None:
        from :data:`F_WINDOWS` by the muscle's region.
    m_floor_uv : float
        Smallest peak-to-peak M-wave (100 µV).
    f_floor_uv : float
        Smallest peak-to-peak F-wave (20 µV).
    presence_k : float
        Largest deflection in baseline SD for a present response.
    f_gap_ms : float
        The F window starts this long after the median M-wave's end.

    f_response_ms : float
        Span after the F window's end still used for the F amplitude.
    repeater_latency_ms, repeater_r : float
        Two F-waves are the same (repeaters) when their latencies differ by
        at most this and their shapes correlate at least this much.
    repeater_span_ms : float
        Length of the F-wave compared for repeaters.
    mains : str | float
        Mains hum removal (see :class:`motorsign.evoked.mep.MepOptions`):
        ``"auto"``, ``"off"`` or a frequency in Hz.
    artifact : ArtifactOptions
        Short blank: electrical stimuli settle fast and the M-wave follows
        within ms.
    """

    method: str = "extrapolation"
    m_window_ms: tuple[float, float] | None = None
    f_window_ms: tuple[float, float] | None = None
    m_floor_uv: float = 100.0
    f_floor_uv: float = 20.0
    presence_k: float = 6.0
    f_gap_ms: float = 3.0
    f_response_ms: float = 12.0
    repeater_latency_ms: float = 0.4
    repeater_r: float = 0.95
    repeater_span_ms: float = 8.0
    mains: str | float = "auto"
    artifact: ArtifactOptions = field(default_factory=lambda: ArtifactOptions(
        pre_ms=0.2, min_blank_ms=0.5, max_blank_ms=1.5, settle_ms=0.3, settle_k=6.0))


def _windows(muscle: str | None, o: NerveOptions):
    region = "any"
    if muscle:
        w = window_row(muscle, load_windows())
        if w is not None and w.region:
            region = w.region
    m_lo, m_hi, f_lo, f_hi = F_WINDOWS.get(region, F_WINDOWS["any"])
    if o.m_window_ms is not None:
        m_lo, m_hi = map(float, o.m_window_ms)
    if o.f_window_ms is not None:
        f_lo, f_hi = map(float, o.f_window_ms)
    if not (0 <= m_lo < m_hi and 0 <= f_lo < f_hi):
        raise ConfigError("nerve windows must be increasing non-negative ms pairs")
    return (m_lo, m_hi), (f_lo, f_hi), region


def find_repeaters(segments: np.ndarray, latencies: np.ndarray, max_dlat: float, min_r: float) -> np.ndarray:
    """Group F-waves of the same latency and shape.

    Parameters
    ----------
    segments : ndarray (n, m)
        Each F-wave from its onset (same length).
    latencies : ndarray (n,)
        Onset latencies (ms).
    max_dlat, min_r : float
        Same group when latencies differ by at most ``max_dlat`` and the
        Pearson correlation of the segments is at least ``min_r``.

    Returns
    -------
    ndarray (n,) int
        Group id per F-wave (groups of 2 or more), -1 for unique F-waves.
    """
    n = len(latencies)
    ids = np.full(n, -1, dtype=np.int64)
    if n < 2:
        return ids
    z = segments - segments.mean(axis=1, keepdims=True)
    nrm = np.linalg.norm(z, axis=1)
    nrm[nrm == 0] = np.inf
    z = z / nrm[:, None]
    r = z @ z.T
    nxt = 0
    for i in range(n):
        if ids[i] >= 0:
            continue
        members = [j for j in range(i + 1, n) if ids[j] < 0
                   and abs(latencies[j] - latencies[i]) <= max_dlat and r[i, j] >= min_r]
        if members:
            ids[i] = nxt
            ids[members] = nxt
            nxt += 1
    return ids


def analyze_nerve(recording, trigger: str | None = None, *, channels=None, muscle: str | None = None,
                  side: str | None = None, options: NerveOptions | None = None, pre_ms: float = NERVE_PRE_MS,
                  post_ms: float | None = None, pulse: str | int = "first",
                  burst_gap_ms: float | None = None):
    """M- and F-waves of a recording, stimulus by stimulus.

    Parameters
    ----------
    recording : Recording
    trigger : str | None
        Trigger spec (None for epoched arrays).
    channels : names | None
    muscle, side : str | None
    options : NerveOptions | None
    pre_ms, post_ms : float
        Epoch span (``pre_ms`` default :data:`NERVE_PRE_MS`; ``post_ms`` default: F window end + ``f_response_ms`` + 5 ms).
    pulse, burst_gap_ms :
        Burst handling (see :mod:`motorsign.evoked.epochs`).

    Returns
    -------
    pandas.DataFrame
        ``responses.csv`` rows.
    """
    import pandas as pd

    from motorsign.evoked.epochs import make_epochs

    o = options or NerveOptions()
    from motorsign.evoked.epochs import signal_channels

    ch_idx = signal_channels(recording, trigger, channels)
    chans = [recording.channels[i] for i in ch_idx]
    plans = {}
    for c in chans:
        m = channel_muscle(c.name, muscle or c.muscle)
        plans[c.name] = (m, *_windows(m, o))
    if post_ms is None:
        post_ms = max(p[2][1] for p in plans.values()) + o.f_response_ms + 5.0
    ep = make_epochs(recording, trigger, channels=[c.name for c in chans], pre_ms=pre_ms,
                     post_ms=post_ms, pulse=pulse, burst_gap_ms=burst_gap_ms)
    fs = ep.fs
    frames = []
    # merge_fraction 1: no phase merging (M- and F-waves rise from the baseline in one edge)
    base = MepOptions(method=o.method, presence_k=o.presence_k, tail_k=0.0, artifact=o.artifact, mains=o.mains,
                      sd_floor_fraction=0.001, lookback_ms=5.0, merge_fraction=1.0)
    for ci, c in enumerate(chans):
        mus, (m_lo, m_hi), (f_lo, f_hi), region = plans[c.name]
        end_ms = (ep.n_samples - 1 - ep.stim) / fs * 1000.0
        if f_hi > end_ms:
            from motorsign.errors import AnalysisError

            raise AnalysisError(f"epochs end {end_ms:.1f} ms after the stimulus, before the end of the "
                                f"F window ({f_hi:g} ms): recording too short for the window", recording.path)
        mres = measure_epochs(ep.data[ci], ep.stim, fs,
                              MepWindow(mus or "m", m_lo, m_hi, min(m_hi + 25.0, f_hi)),
                              replace(base, amplitude_floor_uv=o.m_floor_uv, k_band=3.0),
                              extra_pulses=ep.extra_pulses, stim_offset=ep.stim_offset)
        # F window: after the median M-wave's end
        m_end = np.nanmedian(np.where(mres["present"], mres["onset_ms"] + mres["duration_ms"], np.nan)) \
            if mres["present"].any() else math.nan
        f_start = max(f_lo, m_end + o.f_gap_ms) if math.isfinite(m_end) else f_lo
        if f_start >= f_hi:
            f_start = f_lo
        fres = measure_epochs(ep.data[ci], ep.stim, fs,
                              MepWindow(mus or "f", f_start, f_hi, f_hi + o.f_response_ms),
                              replace(base, amplitude_floor_uv=o.f_floor_uv),
                              extra_pulses=ep.extra_pulses, stim_offset=ep.stim_offset)
        fallback = np.zeros(ep.n_trials, dtype=bool)
        for r in (mres, fres):
            miss = r["present"] & ~np.isfinite(r["onset_ms"])
            r["onset_ms"] = np.where(miss, r["onset_consensus_ms"], r["onset_ms"])
            fallback |= miss & np.isfinite(r["onset_ms"])
        # baseline-to-peak of the M-wave: the largest deflection of its first phase
        m_bp = _first_phase_peak(ep, ci, mres, fs)
        flags = np.where(ep.complete, 0, FLAG_BITS["not_measured"] | FLAG_BITS["epoch_truncated"])
        # no baseline (stimulus at the start of the sweep): nothing is measured, and an F-wave
        # not found there is not an absent F-wave
        no_base = ((mres["flags"] | fres["flags"]) & FLAG_BITS["no_baseline"]) > 0
        flags = flags | np.where(no_base, FLAG_BITS["no_baseline"] | FLAG_BITS["not_measured"], 0)
        # NaN/inf samples, a stimulus artifact before the trigger: not measured either
        unusable = (mres["flags"] & (FLAG_BITS["non_finite"] | FLAG_BITS["artifact_before_trigger"])) > 0
        flags = flags | (mres["flags"] & (FLAG_BITS["non_finite"] | FLAG_BITS["artifact_before_trigger"]
                                         | FLAG_BITS["mains_removed"] | FLAG_BITS["trend_removed"]))
        flags = flags | np.where(unusable, FLAG_BITS["not_measured"], 0)
        measured = ep.complete & ~no_base & ~unusable
        flags = flags | (fres["flags"] & (FLAG_BITS["saturated"] | FLAG_BITS["methods_disagree"]))
        flags = flags | (mres["flags"] & (FLAG_BITS["saturated"] | FLAG_BITS["artifact_long"]))
        flags = flags | np.where(fallback, FLAG_BITS["onset_fallback"], 0)
        f_present = fres["present"] & measured
        # repeaters
        rep = np.full(ep.n_trials, -1, dtype=np.int64)
        idx = np.flatnonzero(f_present & np.isfinite(fres["onset_ms"]))
        if idx.size >= 2:
            span = int(round(o.repeater_span_ms * fs / 1000.0))
            segs = []
            for t in idx:
                s0 = int(round(ep.stim + fres["onset_ms"][t] * fs / 1000.0)) - int(round(0.5 * fs / 1000))
                seg = ep.data[ci, t, max(s0, 0): s0 + span]
                segs.append(np.pad(seg, (0, span - seg.size)))
            rep[idx] = find_repeaters(np.asarray(segs, dtype=float), fres["onset_ms"][idx],
                                      o.repeater_latency_ms, o.repeater_r)
        df = pd.DataFrame({
            "trial": np.arange(ep.n_trials),
            "channel": c.name,
            "m_onset_ms": np.where(measured, mres["onset_ms"], np.nan),
            "m_amplitude_mv": np.where(measured & mres["present"], m_bp / 1000.0, np.nan),
            "f_present": f_present,
            "f_latency_ms": np.where(f_present, fres["onset_ms"], np.nan),
            "f_amplitude_uv": np.where(f_present, fres["peak_to_peak_uv"], np.nan),
            "trigger_time_s": ep.trigger_time_s,
            "segment": ep.segment,  # trigger_time_s is counted from this segment's start
            "m_present": mres["present"] & measured,
            "m_peak_to_peak_mv": np.where(measured & mres["present"], mres["peak_to_peak_uv"] / 1000.0, np.nan),
            "m_duration_ms": np.where(measured, mres["duration_ms"], np.nan),
            "m_area_mvms": np.where(measured, mres["area_uvms"] / 1000.0, np.nan),
            "f_repeater_id": rep,
            "f_window_ms": f"{f_start:.1f},{f_hi:.1f}",
            "muscle": mus,
            "side": side or c.side,
            "flags": [flags_to_text(f) for f in flags],
            "measured": measured,
            "baseline_sd_uv": np.where(measured, fres["baseline_sd_uv"], np.nan),
        })
        frames.append(df)
    return pd.concat(frames, ignore_index=True)


def _first_phase_peak(ep, ci: int, mres: dict, fs: float) -> np.ndarray:
    # |deviation| at the end of the first phase = baseline-to-peak amplitude
    out = np.full(ep.n_trials, np.nan)
    pre = ep.data[ci, :, : max(ep.stim - 2, 1)]
    mu = pre.mean(axis=1)
    for t in range(ep.n_trials):
        on = mres["onset_ms"][t]
        pol = mres["polarity"][t]
        if not (mres["present"][t] and np.isfinite(on) and np.isfinite(pol)):
            continue
        a = int(round(ep.stim + on * fs / 1000.0))
        b = int(round(ep.stim + (on + mres["duration_ms"][t]) * fs / 1000.0)) + 1
        seg = pol * (ep.data[ci, t, a:b] - mu[t])
        if seg.size:
            # first phase: up to the first return across the baseline
            neg = np.flatnonzero(seg < 0)
            first = seg[: neg[0]] if neg.size and neg[0] > 0 else seg
            out[t] = float(first.max())
    return out


def summarize_nerve(table, *, presence_k: float = NerveOptions.presence_k,
                    f_floor_uv: float = NerveOptions.f_floor_uv) -> dict:
    """Per-channel summary of a ``responses.csv`` table.

    ``f_detection_limit_uv`` is the smallest F-wave peak-to-peak that the
    baseline noise lets through (2 x ``presence_k`` x median baseline SD);
    ``f_low_sensitivity`` is True when it exceeds :data:`LOW_SENSITIVITY_UV`
    (or ``f_floor_uv`` if larger): small F-waves are then
    missed and the persistence and minimal latency are biased (persistence
    low, minimal latency late), which the flag says instead of leaving it
    silent.

    Returns
    -------
    dict
        channel -> ``m_onset_ms`` (median over stimuli), ``cmap_amplitude_mv``
        (median baseline-to-peak), ``f_min_latency_ms``, ``f_mean_latency_ms``,
        ``f_persistence``, ``f_chronodispersion_ms`` (contract) plus
        ``f_max_latency_ms``, ``f_minus_m_ms``, ``n_stimuli``, ``n_f``,
        ``f_repeater_fraction``, ``cmap_peak_to_peak_mv``, ...
    """
    out = {}
    for ch, g in table.groupby("channel", sort=False):
        meas = g[g["measured"]]
        f = meas["f_latency_ms"].to_numpy(float)
        f = f[np.isfinite(f)]
        mon = meas["m_onset_ms"].to_numpy(float)
        mon = mon[np.isfinite(mon)]
        n = len(meas)
        f_min = float(f.min()) if f.size else math.nan
        m_on = float(np.median(mon)) if mon.size else math.nan
        rep = meas.loc[meas["f_present"], "f_repeater_id"].to_numpy()
        sd = meas["baseline_sd_uv"].to_numpy(float) if "baseline_sd_uv" in meas else np.array([])
        sd = sd[np.isfinite(sd)]
        f_limit = float(2.0 * presence_k * np.median(sd)) if sd.size else math.nan
        f_floor = float(f_floor_uv)
        out[str(ch)] = {
            "m_onset_ms": m_on,
            "cmap_amplitude_mv": float(np.nanmedian(meas["m_amplitude_mv"])) if meas["m_amplitude_mv"].notna().any() else math.nan,
            "f_min_latency_ms": f_min,
            "f_mean_latency_ms": float(f.mean()) if f.size else math.nan,
            "f_persistence": float(meas["f_present"].sum() / n) if n else math.nan,
            "f_chronodispersion_ms": float(f.max() - f.min()) if f.size >= 2 else math.nan,
            "f_max_latency_ms": float(f.max()) if f.size else math.nan,
            "f_minus_m_ms": f_min - m_on,
            "n_stimuli": int(n),
            "n_f": int(f.size),
            "n_not_measured": int(len(g) - n),
            "f_repeater_fraction": float(np.mean(rep >= 0)) if rep.size else math.nan,
            "f_amplitude_uv_median": float(np.nanmedian(meas["f_amplitude_uv"])) if f.size else math.nan,
            "cmap_peak_to_peak_mv": float(np.nanmedian(meas["m_peak_to_peak_mv"])) if meas["m_peak_to_peak_mv"].notna().any() else math.nan,
            "m_duration_ms": float(np.nanmedian(meas["m_duration_ms"])) if meas["m_duration_ms"].notna().any() else math.nan,
            "m_area_mvms": float(np.nanmedian(meas["m_area_mvms"])) if meas["m_area_mvms"].notna().any() else math.nan,
            "muscle": g["muscle"].iloc[0],
            "side": g["side"].iloc[0],
            "f_window_ms": str(g["f_window_ms"].iloc[0]),
            "low_stimulus_count": bool(n < 10),
            # the smallest F-wave (peak-to-peak) that can be told from this noise: a
            # symmetric wave needs a peak of presence_k baseline SD
            "f_detection_limit_uv": f_limit,
            # unknown (null) when no measured trial gave a baseline SD
            "f_low_sensitivity": (bool(f_limit > max(LOW_SENSITIVITY_UV, f_floor))
                                  if math.isfinite(f_limit) else None),
        }
    return out
