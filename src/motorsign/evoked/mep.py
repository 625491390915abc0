"""Motor evoked potentials: per-trial measures, per-channel summary, recruitment.

:func:`measure_epochs` is the vectorised core (one channel, all trials:
artifact blanking then the numba kernel of :mod:`motorsign.evoked.onset`);
:func:`analyze_meps` runs it on a recording around its stimuli and returns
the ``meps.csv`` table; :func:`summarize` gives the ``summary.json`` entry
of each channel; :func:`fit_recruitment` fits a Boltzmann curve of
amplitude against stimulus intensity.

The ``onset_ms`` column comes from one method (``method``, default
``crossing``); every method's onset is kept in its own column and a trial
whose valid onsets spread over more than ``disagree_ms`` is flagged
``methods_disagree``. Absent responses have ``present = False`` and NaN
onsets; trials that could not be measured (incomplete epoch, no baseline)
are flagged ``not_measured`` and left out of the summary counts.
"""

from __future__ import annotations

import logging
import math
import re
from dataclasses import asdict, dataclass, replace

import numpy as np

from motorsign.errors import ConfigError
from motorsign.evoked import onset as K
from motorsign.evoked.baseline import (
    baseline_groups,
    detect_mains,
    parse_mains,
    remove_interference,
)
from motorsign.evoked.tables import MepWindow, load_windows, mep_window
from motorsign.signal.artifact import ArtifactOptions, blank_artifacts, remove_decay

__all__ = ["MepOptions", "MEP_COLUMNS", "measure_epochs", "analyze_meps", "summarize",
           "fit_recruitment", "channel_muscle"]

log = logging.getLogger(__name__)

#: Methods whose median is the ``consensus`` onset (Teager-Kaiser is left out:
#: on the smooth leading edge of an MEP its energy barely exceeds the noise's,
#: so it fails or lags, the more so the higher the sampling rate).
CONSENSUS_METHODS = ("threshold", "crossing", "derivative", "cusum", "extrapolation")

#: Every onset method a user can choose for ``onset_ms``.
ONSET_METHODS = (*K.METHODS, "consensus")

#: Epoch length after the pulse (ms) when the silent period is measured
#: (asked for, or the baseline shows a contracted muscle).
SILENT_PERIOD_EPOCH_MS = 400.0

#: Contract columns of ``meps.csv`` (extra columns follow them).
MEP_COLUMNS = ("trial", "channel", "trigger_time_s", "present", "onset_ms", "peak_to_peak_uv",
               "area_uvms", "duration_ms", "silent_period_ms", "method", "flags")


@dataclass(frozen=True)
class MepOptions:
    """Parameters of the MEP measures (thresholds in baseline SD unless stated).

    Attributes
    ----------
    method : str
        Onset method reported in ``onset_ms``: one of :data:`ONSET_METHODS`
        (default ``consensus``: the median of the valid onsets of
        :data:`CONSENSUS_METHODS`, which cancels their opposite biases: the
        crossing and derivative onsets fall early, threshold and CUSUM late;
        on simulated MEPs the median's mean absolute error is about a third
        lower than the best single method's, and it agrees best with
        MEPFeatX on real MEPs).
    amplitude_floor_uv : float
        Smallest peak-to-peak amplitude of a present MEP (50 µV, the usual
        resting-MEP criterion).
    presence_k : float
        The largest deflection must also exceed this many baseline SD.
    k_band : float
        Half-width of the baseline band (crossing method, offset).
    quiet_ms : float
        Time within the band that counts as baseline (crossing, offset).
    k_threshold, k_tkeo : float
        Threshold method (rectified mean + k SD) and Teager-Kaiser threshold.
    min_run_ms : float
        Minimum time above threshold (threshold, tkeo).
    smooth_ms, lookback_ms : float
        Smoothing of the derivative method and the longest look-back from
        the first peak (derivative, cusum).
    cusum_drift, cusum_h : float
        CUSUM drift and alarm level.
    disagree_ms : float
        Spread of the valid onsets above which a trial is flagged.
    preactivation_rms_uv : float
        Baseline RMS above which the muscle counts as pre-activated.
    saturation_run : int
        Equal consecutive samples at the extreme that mean clipping.
    saturation_k : float
        ... when the extreme lies more than this many SD from the baseline.
    sp_window_ms, sp_silence, sp_return, sp_min_ms : float
        Silent period: RMS envelope width; silence below ``sp_silence`` x
        baseline RMS; EMG back at ``sp_return`` x baseline RMS; shortest
        silence reported (shorter: no silent period).
    silent_period : bool
        Measure the silent period even without pre-activation.
    baseline_guard_ms : float
        The baseline ends this long before the pulse.
    sd_floor_fraction : float
        Onset thresholds use a noise SD of at least this fraction of the
        peak-to-peak amplitude (0.5 %): on very clean or filtered traces a
        slow post-stimulus drift of a few µV is not an onset.
    extrap_frac : float
        Top of the leading edge fitted by the extrapolation method, as a
        fraction of the first peak.
    merge_gap_ms, merge_fraction : float
        A phase of at least ``merge_fraction`` x peak-to-peak ending within
        ``merge_gap_ms`` before the quiet stretch found walking back from the
        peak belongs to the response (small first phase, slow polarity
        change), so the onset is searched before it.
    presmooth_ms : float
        SD of a zero-phase Gaussian smoothing applied after the artifact
        blank (0: none). Beware: smoothing correlates the noise, and the
        walk-back onset methods (crossing, derivative) then fall earlier.
    tail_k : float
        An artifact tail whose mean offset between the blank and the onset
        window exceeds this many baseline SD is fitted by an exponential and
        subtracted (flag ``artifact_tail_removed``); 0 disables it.
    mains : str | float
        Mains hum removal (:mod:`motorsign.evoked.baseline`): ``"auto"``
        (default: 50 or 60 Hz and harmonics, removed only when the channel's
        baselines show a spectral line), a frequency in Hz, or ``"off"``.
        Trials where it was subtracted are flagged ``mains_removed``.
    trend_t : float
        A linear baseline trend (DC drift) whose t statistic reaches this is
        extrapolated and subtracted (flag ``trend_removed``); 0 disables it.
    min_baseline_ms : float
        A baseline shorter than this (after the guard before the pulse) gives
        no reliable noise estimate: the trial is ``no_baseline`` and not
        measured.
    artifact : ArtifactOptions
        Stimulus-artifact blanking.
    """

    method: str = "consensus"
    amplitude_floor_uv: float = 50.0
    presence_k: float = 6.0
    k_band: float = 2.0
    quiet_ms: float = 1.0
    k_threshold: float = 3.0
    k_tkeo: float = 5.0
    min_run_ms: float = 0.5
    smooth_ms: float = 0.4
    lookback_ms: float = 10.0
    cusum_drift: float = 1.0
    cusum_h: float = 8.0
    disagree_ms: float = 2.0
    preactivation_rms_uv: float = 15.0
    saturation_run: int = 3
    saturation_k: float = 20.0
    sp_window_ms: float = 5.0
    sp_silence: float = 0.3
    sp_return: float = 0.5
    sp_min_ms: float = 20.0
    silent_period: bool = False
    baseline_guard_ms: float = 1.0
    sd_floor_fraction: float = 0.005
    extrap_frac: float = 0.3
    merge_gap_ms: float = 5.0
    merge_fraction: float = 0.1
    presmooth_ms: float = 0.0
    tail_k: float = 5.0
    mains: str | float = "auto"
    trend_t: float = 6.0
    min_baseline_ms: float = 5.0
    artifact: ArtifactOptions = ArtifactOptions()

    def check(self) -> MepOptions:
        """Validate; returns self (raises :class:`ConfigError`)."""
        if self.method not in ONSET_METHODS:
            raise ConfigError(f"--method must be one of {', '.join(ONSET_METHODS)}, got {self.method!r}")
        for name in ("presence_k", "k_band", "quiet_ms", "min_run_ms", "smooth_ms", "lookback_ms",
                     "cusum_h", "sp_window_ms"):
            v = getattr(self, name)
            if not (isinstance(v, (int, float)) and math.isfinite(v) and v > 0):
                raise ConfigError(f"MEP option {name} must be positive, got {v!r}")
        m = parse_mains(self.mains)
        if not isinstance(m, str) and not (math.isfinite(m) and m > 0):
            raise ConfigError(f"option mains (--mains) must be auto, off or a frequency in Hz such as 50, "
                              f"got {self.mains!r}")
        v = self.amplitude_floor_uv
        if not (isinstance(v, (int, float)) and math.isfinite(v) and v >= 0):
            raise ConfigError(f"MEP option amplitude_floor_uv (--floor-uv) must be >= 0 µV, got {v!r}")
        return self


def _n(ms: float, fs: float, minimum: int = 1) -> int:
    return max(minimum, int(round(ms * fs / 1000.0)))


def measure_epochs(epochs: np.ndarray, stim: int, fs: float, window: MepWindow,
                   options: MepOptions | None = None, *, extra_pulses: np.ndarray | None = None,
                   stim_offset: np.ndarray | None = None, copy: bool = True) -> dict[str, np.ndarray]:
    """Measure the MEP of every trial of one channel.

    Parameters
    ----------
    epochs : ndarray (n_trials, n_samples)
        One channel's epochs in µV, the pulse at sample ``stim``.
    stim : int
        Pulse sample.
    fs : float
        Sampling rate (Hz).
    window : MepWindow
        Onset search window and response end (ms after the pulse).
    options : MepOptions | None
    extra_pulses : ndarray (n_trials, k) | None
        Further pulses in the epochs (blanked as well), -1 padded.
    stim_offset : ndarray (n_trials,) | None
        Sub-sample position of the true pulse relative to ``stim``.
    copy : bool
        Work on a copy (the blanking writes into the array).

    Returns
    -------
    dict of str to ndarray
        ``present`` (bool), ``onset_ms`` (chosen method), ``onset_<method>_ms``
        for each method, ``onset_spread_ms``, ``peak_to_peak_uv``,
        ``peak_latency_ms``, ``area_uvms``, ``duration_ms``, ``phases``,
        ``polarity``, ``baseline_sd_uv``, ``silent_period_ms``, ``flags``
        (int bit mask).
    """
    o = (options or MepOptions()).check()
    x = np.array(epochs, dtype=np.float32, order="C", copy=copy)
    n_tr, n_s = x.shape
    # NaN/inf samples (gaps, export errors): the trial is not measured (a NaN would
    # otherwise pass every comparison silently); zeros keep the kernels finite
    bad_values = ~np.isfinite(x).all(axis=1)
    if bad_values.any():
        x[~np.isfinite(x)] = 0.0
    stim_arr = np.full(n_tr, int(stim), dtype=np.int64)
    blank_end, unsettled = blank_artifacts(x, stim_arr, fs, o.artifact, extra_pulses)
    guard = _n(o.baseline_guard_ms, fs)
    b_start = np.zeros(n_tr, dtype=np.int64)
    b_stop = np.full(n_tr, max(int(stim) - guard, 0), dtype=np.int64)
    if extra_pulses is not None and np.size(extra_pulses):
        # a pulse inside the baseline (the conditioning pulse of a pair, with --pulse N):
        # the baseline ends before the earliest such pulse when enough of it lies there
        # (the usual pre-conditioning baseline), else it starts after the pulse's artifact
        ep = np.asarray(extra_pulses).reshape(n_tr, -1)
        inb = (ep >= 0) & (ep < stim)
        first = np.where(inb, ep, n_s).min(axis=1)
        before = first - guard - _n(o.artifact.pre_ms, fs, 0)
        use_before = inb.any(axis=1) & (before - b_start >= _n(o.min_baseline_ms, fs, 4))
        b_stop = np.where(use_before, np.minimum(b_stop, before), b_stop)
        for j in range(ep.shape[1]):
            after = inb[:, j] & ~use_before
            b_start = np.where(after, np.maximum(b_start, ep[:, j] + _n(o.artifact.max_blank_ms, fs)), b_start)
    # too short a baseline gives no usable noise estimate: no_baseline (kernel) -> not measured
    short = (b_stop - b_start) < _n(o.min_baseline_ms, fs, 4)
    b_stop = np.where(short, b_start, b_stop)
    early = _artifact_before_trigger(x, b_start, b_stop, fs, o)
    b_stop = np.where(early, b_start, b_stop)
    hum = detect_mains(x, b_start, b_stop, fs, int(stim), o.mains)
    hum_done, trend_done = remove_interference(x, b_start, b_stop, fs, int(stim), hum, trend_t=float(o.trend_t))
    if o.presmooth_ms > 0:
        from scipy.ndimage import gaussian_filter1d

        x = np.ascontiguousarray(gaussian_filter1d(x, o.presmooth_ms * fs / 1000.0, axis=1, mode="nearest"),
                                 dtype=np.float32)
    tail = np.zeros(n_tr, dtype=bool)
    fit_stop = int(stim) + _n(window.onset_min_ms - 1.0, fs, 0)
    if o.tail_k > 0 and fit_stop > int(stim):
        tail = remove_decay(x, blank_end.astype(np.int64), min(fit_stop, n_s), 0,
                            max(int(stim) - guard, 0), float(o.tail_k), _n(1.0, fs), _n(200.0, fs))
    smooth = _n(o.smooth_ms, fs)
    smooth += 1 - smooth % 2
    vals, flags = K.measure_trials(
        x, stim_arr, blank_end.astype(np.int64), b_start, b_stop,
        _n(window.onset_min_ms, fs, 0), _n(window.onset_max_ms, fs), _n(window.response_end_ms, fs),
        _n(o.quiet_ms, fs, 2), _n(o.min_run_ms, fs), smooth, _n(o.lookback_ms, fs),
        float(o.k_band), float(o.k_threshold), float(o.k_tkeo), float(o.cusum_drift),
        float(o.cusum_h), float(o.presence_k), float(o.amplitude_floor_uv),
        float(o.preactivation_rms_uv), int(o.saturation_run), float(o.saturation_k),
        _n(o.sp_window_ms, fs, 2), float(o.sp_silence), float(o.sp_return), _n(o.sp_min_ms, fs),
        bool(o.silent_period), float(o.sd_floor_fraction), float(o.extrap_frac),
        _n(o.merge_gap_ms, fs), float(o.merge_fraction),
        int(K.QUIET_SLACK * _n(o.quiet_ms, fs, 2)),
    )
    flags = flags | np.where(unsettled, K.FLAG_BITS["artifact_long"], 0)
    flags = flags | np.where(tail, K.FLAG_BITS["artifact_tail_removed"], 0)
    flags = flags | np.where(hum_done, K.FLAG_BITS["mains_removed"], 0)
    flags = flags | np.where(trend_done, K.FLAG_BITS["trend_removed"], 0)
    flags = flags | np.where(early, K.FLAG_BITS["artifact_before_trigger"], 0)
    flags = flags | np.where(bad_values, K.FLAG_BITS["non_finite"] | K.FLAG_BITS["not_measured"], 0)
    vals[bad_values, K.F_PRESENT] = 0.0
    # a contracted muscle: background EMG as large as a small MEP. A trial whose window
    # exceeds the amplitude floor but whose largest deflection stays under presence_k
    # background SD may hold an MEP hidden in the EMG: undecided, never "absent"
    undecided = (((flags & K.FLAG_BITS["preactivated"]) > 0) & (vals[:, K.F_PRESENT] < 0.5)
                 & (vals[:, K.F_P2P] >= o.amplitude_floor_uv) & (vals[:, K.F_Z] < o.presence_k)
                 & ((flags & K.FLAG_BITS["not_measured"]) == 0))
    flags = flags | np.where(undecided, K.FLAG_BITS["presence_undecided"], 0)
    zero = float(stim) + (np.zeros(n_tr) if stim_offset is None else np.asarray(stim_offset, float))
    to_ms = 1000.0 / fs
    present = vals[:, K.F_PRESENT] > 0.5
    res: dict[str, np.ndarray] = {"present": present}
    onsets = []
    for m in K.METHODS:
        on = (vals[:, K.METHOD_FIELD[m]] - zero) * to_ms
        on = np.where(present, on, np.nan)
        res[f"onset_{m}_ms"] = on
        onsets.append(on)
    on_all = np.vstack([res[f"onset_{m}_ms"] for m in CONSENSUS_METHODS])
    with np.errstate(all="ignore"):
        valid = np.isfinite(on_all)
        nv = valid.sum(0)
        spread = np.where(nv >= 2,
                          np.max(np.where(valid, on_all, -np.inf), 0)
                          - np.min(np.where(valid, on_all, np.inf), 0), np.nan)
        srt = np.sort(np.where(valid, on_all, np.inf), axis=0)
        lo_i = np.maximum((nv - 1) // 2, 0)
        hi_i = np.maximum(nv // 2, 0)
        cols = np.arange(n_tr)
        consensus = np.where(nv > 0, 0.5 * (srt[lo_i, cols] + srt[hi_i, cols]), np.nan)
    res["onset_consensus_ms"] = consensus
    flags = flags | np.where(spread > o.disagree_ms, K.FLAG_BITS["methods_disagree"], 0)
    chosen = res[f"onset_{o.method}_ms"]
    flags = flags | np.where(present & ~np.isfinite(chosen), K.FLAG_BITS["onset_failed"], 0)
    res["onset_ms"] = chosen
    res["onset_spread_ms"] = spread
    sat = (flags & K.FLAG_BITS["saturated"]) > 0
    p2p = vals[:, K.F_P2P]
    res["peak_to_peak_uv"] = np.where(sat, np.nan, p2p)  # clipped: the true amplitude is unknown
    res["peak_latency_ms"] = np.where(present, (vals[:, K.F_PEAK] - zero) * to_ms, np.nan)
    res["area_uvms"] = np.where(present & ~sat, vals[:, K.F_AREA] * to_ms, np.nan)
    res["duration_ms"] = np.where(present, vals[:, K.F_DUR] * to_ms, np.nan)
    res["phases"] = np.where(present, vals[:, K.F_PHASES], np.nan)
    res["polarity"] = np.where(present, vals[:, K.F_POL], np.nan)
    res["baseline_sd_uv"] = vals[:, K.F_BSD]
    res["max_abs_z"] = vals[:, K.F_Z]
    sp_ref = np.where(present, vals[:, K.F_CROSS], zero)
    res["silent_period_ms"] = (vals[:, K.F_SP] - sp_ref) * to_ms
    res["flags"] = flags
    return res


#: A stimulus artifact before the trigger: a first difference this many times the
#: baseline's mean absolute first difference, in the baseline's last ms ...
EARLY_ARTIFACT_K = 30.0
#: ... searched over this long before the baseline's end (ms).
EARLY_ARTIFACT_MS = 10.0


def _artifact_before_trigger(x: np.ndarray, b_start: np.ndarray, b_stop: np.ndarray, fs: float,
                             o: MepOptions) -> np.ndarray:
    """Trials whose baseline ends in a stimulus artifact (trigger marked after the pulse).

    A marker written late (software markers, trigger delays) puts the pulse's
    artifact into the baseline: the baseline SD then explodes, the muscle looks
    pre-activated and every MEP falls under the presence threshold. Such a
    trial has, in the last :data:`EARLY_ARTIFACT_MS` of its baseline, a jump
    (first difference) of more than :data:`EARLY_ARTIFACT_K` times the mean
    absolute first difference of the baseline before (up to twice as long)
    and larger than the
    amplitude floor; it is flagged ``artifact_before_trigger`` and not
    measured (its latencies would count from the wrong time anyway).
    """
    n_tr = x.shape[0]
    out = np.zeros(n_tr, dtype=bool)
    w = _n(EARLY_ARTIFACT_MS, fs)
    for k0, k1 in baseline_groups(b_start, b_stop):
        b0, b1 = max(k0, 0), k1
        if b1 - b0 < 2 * w:
            continue
        sel = np.flatnonzero((b_start == k0) & (b_stop == k1))
        a = max(b0, b1 - 3 * w)
        seg = x[:, a:b1] if sel.size == n_tr else x[sel, a:b1]
        d = np.abs(np.diff(seg, axis=1))
        late = d[:, -w:].max(axis=1)
        typ = d[:, :-w].mean(axis=1)  # the baseline before it
        out[sel] = (late > EARLY_ARTIFACT_K * typ) & (late > max(o.amplitude_floor_uv, 1e-6))
    return out


_TOKEN = re.compile(r"[A-Za-z][A-Za-z0-9]*")


def channel_muscle(name: str, muscle: str | None = None) -> str | None:
    """The muscle of a channel: the one given, else a window-table muscle in its name.

    Parameters
    ----------
    name : str
        Channel name (``"APB"``, ``"APB_R"``, ``"EMG TA left"``).
    muscle : str | None
        Explicit muscle (wins).

    Returns
    -------
    str | None
    """
    if muscle:
        return muscle
    known = {k: w.muscle for k, w in load_windows().items() if k != "default"}
    for tok in _TOKEN.findall(name.replace("_", " ")):
        if tok.lower() in known:
            return known[tok.lower()]
    return None


def analyze_meps(recording, trigger: str | None = None, *, channels=None, muscle: str | None = None,
                 side: str | None = None, window: tuple[float, float] | None = None,
                 options: MepOptions | None = None, pre_ms: float = 50.0,
                 post_ms: float | None = None, pulse: str | int = "first",
                 burst_gap_ms: float | None = None, window_table=None,
                 intensities=None):
    """MEPs of a recording, trial by trial.

    Parameters
    ----------
    recording : Recording
        Continuous with stimulus events, or epoched.
    trigger : str | None
        Trigger spec (None for epoched arrays).
    channels : names | None
        Channels (default: every signal channel).
    muscle, side : str | None
        Muscle and side of the channels (default: from the recording or the
        channel name).
    window : (float, float) | None
        Onset search window (ms) overriding the muscle table.
    options : MepOptions | None
    pre_ms, post_ms : float
        Epoch span around the pulse (continuous recordings). ``post_ms``
        defaults to the response window end + 20 ms, or
        :data:`SILENT_PERIOD_EPOCH_MS` when the silent period is asked for or
        the median baseline shows a contracted muscle.
    pulse, burst_gap_ms :
        Paired-pulse / burst handling (see :mod:`motorsign.evoked.epochs`).
    window_table : path-like | None
        A lab's MEP window table.
    intensities : sequence of float | None
        Stimulus intensity per trial (recruitment curve).

    Returns
    -------
    table : pandas.DataFrame
        ``meps.csv`` rows.
    windows : dict of str to MepWindow
        The window used for each channel.
    """
    import pandas as pd

    from motorsign.evoked.epochs import make_epochs

    o = (options or MepOptions()).check()
    names = recording.channel_names
    from motorsign.evoked.epochs import signal_channels

    ch_idx = signal_channels(recording, trigger, channels)
    chans = [recording.channels[i] for i in ch_idx]
    wins = {}
    for c in chans:
        m = channel_muscle(c.name, muscle or c.muscle)
        wins[c.name] = mep_window(m, window, table=window_table)
    auto_post = post_ms is None
    if post_ms is None:
        post_ms = max(w.response_end_ms for w in wins.values()) + 20.0
        if o.silent_period:
            post_ms = max(post_ms, SILENT_PERIOD_EPOCH_MS)
    if burst_gap_ms is None:
        burst_gap_ms = post_ms
    ep = make_epochs(recording, trigger, channels=[names[i] for i in ch_idx], pre_ms=pre_ms,
                     post_ms=post_ms, pulse=pulse, burst_gap_ms=burst_gap_ms)
    if auto_post and post_ms < SILENT_PERIOD_EPOCH_MS:
        # a contracted muscle: longer epochs so the silent period fits (bursts unchanged)
        guard = int(round(o.baseline_guard_ms * ep.fs / 1000.0))
        base_sd = ep.data[:, ep.complete, : max(ep.stim - guard, 2)].std(axis=2)
        if base_sd.size and np.median(base_sd) > o.preactivation_rms_uv:
            post_ms = SILENT_PERIOD_EPOCH_MS
            ep = make_epochs(recording, trigger, channels=[names[i] for i in ch_idx], pre_ms=pre_ms,
                             post_ms=post_ms, pulse=pulse, burst_gap_ms=burst_gap_ms)
    if intensities is not None:
        intensities = np.asarray(intensities, dtype=float)
        if intensities.size != ep.n_trials:
            raise ConfigError(f"{intensities.size} stimulus intensities for {ep.n_trials} trials")
    frames = []
    for ci, c in enumerate(chans):
        w = wins[c.name]
        if ep.stim + int(round(w.onset_max_ms * ep.fs / 1000)) >= ep.n_samples:
            from motorsign.errors import AnalysisError

            raise AnalysisError(
                f"epochs end {ep.meta.get('post_ms', 0):.1f} ms after the pulse, before the end of the "
                f"onset window ({w.onset_max_ms:g} ms) of channel {c.name!r}: recording too short "
                "for the window", recording.path)
        r = measure_epochs(ep.data[ci], ep.stim, ep.fs, w, o, extra_pulses=ep.extra_pulses,
                           stim_offset=ep.stim_offset, copy=False)
        flags = r["flags"].copy()
        flags |= np.where(~ep.complete, K.FLAG_BITS["not_measured"] | K.FLAG_BITS["epoch_truncated"], 0)
        flags |= np.where(ep.overlapping, K.FLAG_BITS["overlapping_pulse"], 0)
        flags |= np.where((flags & K.FLAG_BITS["no_baseline"]) > 0, K.FLAG_BITS["not_measured"], 0)
        # a deflection already under way at the window start (an artifact or saturation
        # outlasting the blank, a response earlier than the window): whether an MEP is
        # there is unknown, so the trial is not counted as an absent MEP
        flags |= np.where((flags & K.FLAG_BITS["onset_before_window"]) > 0, K.FLAG_BITS["not_measured"], 0)
        measured = (flags & K.FLAG_BITS["not_measured"]) == 0
        df = pd.DataFrame({
            "trial": np.arange(ep.n_trials),
            "channel": c.name,
            "trigger_time_s": ep.trigger_time_s,
            "present": r["present"] & measured,
        })
        for col in ("onset_ms", "peak_to_peak_uv", "area_uvms", "duration_ms", "silent_period_ms"):
            df[col] = np.where(measured, r[col], np.nan)
        df["method"] = o.method
        df["flags"] = [K.flags_to_text(f) for f in flags]
        df["muscle"] = channel_muscle(c.name, muscle or c.muscle)
        df["side"] = side or c.side
        for m in ONSET_METHODS:
            df[f"onset_{m}_ms"] = np.where(measured, r[f"onset_{m}_ms"], np.nan)
        for col in ("onset_spread_ms", "peak_latency_ms", "phases", "polarity", "baseline_sd_uv"):
            df[col] = np.where(measured, r[col], np.nan)
        df["preactivated"] = (flags & K.FLAG_BITS["preactivated"]) > 0
        df["measured"] = measured
        df["n_pulses"] = ep.n_pulses
        df["segment"] = ep.segment  # trigger_time_s is counted from this segment's start
        df["intensity"] = intensities if intensities is not None else np.nan
        frames.append(df)
    table = pd.concat(frames, ignore_index=True)
    return table, wins


def _nanmedian(v) -> float:
    v = np.asarray(v, dtype=float)
    v = v[np.isfinite(v)]
    return float(np.median(v)) if v.size else math.nan


def summarize(table, windows: dict[str, MepWindow] | None = None) -> dict:
    """Per-channel summary of a ``meps.csv`` table.

    Parameters
    ----------
    table : pandas.DataFrame
        From :func:`analyze_meps`.
    windows : dict | None
        The windows used (written into the summary).

    Returns
    -------
    dict
        channel -> ``n_trials, n_present, onset_ms_min, onset_ms_median,
        peak_to_peak_uv_median`` (contract; ``n_trials`` counts the measured
        trials whose presence is decided: not those flagged
        ``presence_undecided``, whose silent period still counts) plus muscle, side, method,
        window, onset spread, silent period, pre-activation and the
        recruitment fit when intensities were given.
    """
    out = {}
    for ch, g in table.groupby("channel", sort=False):
        meas = g[g["measured"]] if "measured" in g else g
        undecided = meas["flags"].astype(str).str.contains("presence_undecided")
        decided = meas[~undecided]  # trials that are an MEP or surely none
        pres = meas[meas["present"].astype(bool)]
        on = pres["onset_ms"].to_numpy(float)
        on = on[np.isfinite(on)]
        entry = {
            "n_trials": int(len(decided)),
            "n_present": int(len(pres)),
            "onset_ms_min": float(on.min()) if on.size else math.nan,
            "onset_ms_median": float(np.median(on)) if on.size else math.nan,
            "peak_to_peak_uv_median": _nanmedian(pres["peak_to_peak_uv"]),
            "muscle": g["muscle"].iloc[0] if "muscle" in g else None,
            "side": g["side"].iloc[0] if "side" in g else None,
            "method": str(g["method"].iloc[0]),
            "n_not_measured": int(len(g) - len(meas)),
            "n_presence_undecided": int(undecided.sum()),
            "onset_ms_mean": float(on.mean()) if on.size else math.nan,
            "onset_ms_sd": float(on.std(ddof=1)) if on.size > 1 else math.nan,
            "peak_to_peak_uv_max": float(np.nanmax(pres["peak_to_peak_uv"])) if len(pres) and
            np.isfinite(pres["peak_to_peak_uv"]).any() else math.nan,
            "area_uvms_median": _nanmedian(pres["area_uvms"]),
            "duration_ms_median": _nanmedian(pres["duration_ms"]),
            "silent_period_ms_median": _nanmedian(meas["silent_period_ms"]),
            "fraction_preactivated": float(meas["preactivated"].mean()) if len(meas) else math.nan,
            "n_methods_disagree": int(meas["flags"].str.contains("methods_disagree").sum()),
            "n_saturated": int(meas["flags"].str.contains("saturated").sum()),
        }
        if windows and ch in windows:
            entry["window_ms"] = asdict(windows[ch])
        if "intensity" in g and np.isfinite(g["intensity"].to_numpy(float)).sum() >= 4:
            amp = np.where(meas["present"], meas["peak_to_peak_uv"], 0.0)
            entry["recruitment"] = fit_recruitment(meas["intensity"].to_numpy(float), amp)
        out[str(ch)] = entry
    return out


def fit_recruitment(intensity, amplitude_uv) -> dict:
    """Fit a Boltzmann recruitment curve ``A = Amax / (1 + exp((I50 - I) / k))``.

    Parameters
    ----------
    intensity : array
        Stimulus intensity per trial (% MSO or % RMT).
    amplitude_uv : array
        Peak-to-peak amplitude per trial (0 for absent MEPs).

    Returns
    -------
    dict
        ``amax_uv, i50, k, slope_uv_per_unit`` (at I50: Amax / 4k), ``r2``,
        ``n``, ``ok``; NaN values and ``ok = False`` when the fit fails.
    """
    from scipy.optimize import curve_fit

    i = np.asarray(intensity, dtype=float)
    a = np.asarray(amplitude_uv, dtype=float)
    keep = np.isfinite(i) & np.isfinite(a)
    i, a = i[keep], a[keep]
    res = {"amax_uv": math.nan, "i50": math.nan, "k": math.nan, "slope_uv_per_unit": math.nan,
           "r2": math.nan, "n": int(i.size), "ok": False}
    if i.size < 4 or np.ptp(i) <= 0 or a.max() <= 0:
        return res

    def boltz(x, amax, i50, k):
        return amax / (1.0 + np.exp((i50 - x) / k))

    p0 = (a.max(), float(np.median(i)), max(np.ptp(i) / 8.0, 1e-3))
    try:
        p, _ = curve_fit(boltz, i, a, p0=p0, maxfev=5000,
                         bounds=([0, i.min() - np.ptp(i), 1e-3], [10 * a.max(), i.max() + np.ptp(i), 10 * np.ptp(i)]))
    except (RuntimeError, ValueError):
        return res
    pred = boltz(i, *p)
    ss = float(np.sum((a - a.mean()) ** 2))
    res.update(amax_uv=float(p[0]), i50=float(p[1]), k=float(p[2]),
               slope_uv_per_unit=float(p[0] / (4 * p[2])),
               r2=float(1 - np.sum((a - pred) ** 2) / ss) if ss > 0 else math.nan, ok=True)
    return res


def options_from(**kw) -> MepOptions:
    """A :class:`MepOptions` with the given fields changed (unknown names raise)."""
    fields = MepOptions.__dataclass_fields__
    bad = [k for k in kw if k not in fields]
    if bad:
        raise ConfigError(f"unknown MEP option(s): {', '.join(bad)}")
    return replace(MepOptions(), **kw).check()
