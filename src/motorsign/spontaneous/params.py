"""Every threshold of the spontaneous-activity detector, named and documented.

:class:`DetectParams` gathers them. Pass a dict of overrides as ``params=`` to
:func:`motorsign.spontaneous.detect_spontaneous` (unknown names raise
:class:`~motorsign.errors.ConfigError`). The defaults follow the figures in
``reference/discharges.md`` (Preston & Shapiro; AANEM glossary; Zhou 2012).
"""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass, fields
from typing import Any

from motorsign.errors import ConfigError

__all__ = ["DetectParams", "make_params"]


log = logging.getLogger(__name__)

#: Parameters of earlier versions, still accepted (with a warning) and ignored.
REMOVED_PARAMS = {
    name: "the PSW tail feature was removed in 0.1 (no classification rule used it)"
    for name in ("psw_tail_start_ms", "psw_tail_end_ms", "psw_tail_smooth_ms")
}


@dataclass(frozen=True)
class DetectParams:
    """Parameters of :func:`~motorsign.spontaneous.detect_spontaneous`.

    Filtering and detection
    -----------------------
    highpass_hz : float
        Lower edge of the detection band (Butterworth high-pass, zero phase).
        Removes baseline wander and most mains hum before thresholding.
    lowpass_hz : float
        Upper edge of the detection band (Butterworth low-pass, zero phase);
        capped at ``lowpass_max_fraction`` of the sampling rate. The
        low-passed recording (before the high-pass) is the wide-band signal
        the features and the discharge time are measured on, after removing
        a local baseline: peaks are not delayed (zero phase) and slow
        components (the PSW's negative phase) are kept.
    lowpass_max_fraction : float
        Largest upper edge as a fraction of the sampling rate.
    filter_order : int
        Butterworth order of the band-pass (applied forward and backward).
    threshold_k : float
        Detection threshold in units of the robust noise (MAD / 0.6745 of the
        band-passed signal), both polarities.
    noise_block_s : float
        Length of the blocks the robust noise is estimated on; the threshold
        of a chunk uses the median of its blocks, so it follows slow changes
        of the noise level.
    dead_time_ms : float
        A threshold excursion ends when the signal stayed below threshold for
        this long; one candidate (its largest absolute sample) per excursion.
    satellite_ratio : float
        A candidate inside the extent (onset to end) of a neighbour whose
        detection-band peak is at least this many times larger is part of
        that discharge (a late MUP phase, a PSW's slow phase), not a
        discharge of its own.
    satellite_window_ms : float
        A smaller candidate (``satellite_ratio``) that is not a sharp spike
        (half width > ``spike_max_half_width_ms``) within this time of a
        neighbour is a satellite too (a PSW's slow phase outlasts its
        measured extent).
    peak_search_ms : float
        The discharge time is the largest absolute deflection of the
        recorded (baseline-corrected) signal within this distance of the
        band-passed peak.
    peak_search_wide_ms : float
        ... or, when larger by ``peak_search_wide_margin``, the largest
        within the deflection's own extent and this distance (MUPs whose
        largest phase is not the sharpest).
    peak_search_wide_margin : float
        See ``peak_search_wide_ms``.
    mains : {"auto", "off", "50", "60"}
        Mains hum. ``auto`` looks for 50 or 60 Hz and its harmonics in
        ``mains_probe_windows`` stretches of ``mains_probe_s`` spread over
        the recording's longest segment (:func:`motorsign.signal.mains.estimate_mains`) and
        notches the harmonics present (up to ``mains_max_hz`` and the
        low-pass) when the hum raises the robust noise of the detection band
        (hence the threshold) ``mains_min_inflation``-fold (median over the
        channels: one set of notches serves them all);
        ``50``/``60`` notch every harmonic of that frequency up to those
        limits; ``off`` notches nothing (the hum is still measured, and a
        channel where it reaches ``mains_min_inflation`` is flagged
        ``mains_interference``: its sensitivity is reduced). The notches are zero phase and come
        before the low-pass, so the features are measured without hum.
    mains_min_inflation : float
        See ``mains``: robust noise of the detection band with the hum over
        that noise with the present harmonics notched, from which the hum is
        removed (or, with ``mains="off"``, flagged). 1.1 means the hum costs
        a tenth of the threshold's headroom.
    mains_min_excess_db : float
        A harmonic is present when its spectral line stands this far above
        the median of the neighbouring bins (1-Hz bins).
    mains_max_hz : float
        Highest harmonic notched.
    mains_bandwidth_hz : float
        -3 dB width of each notch. Its transients decay with time constant
        ``1 / (pi * width)``; chunk margins grow to five of them while
        notching, and segments are continued past their ends by their own
        samples a whole number of hum periods away, so the notches start up
        outside them (segments too short for that leave their ends out of
        detection, as ``artifact`` intervals).
    mains_probe_s, mains_probe_windows : float, int
        Length and number of the stretches the hum is measured on.
    chunk_s : float
        Samples processed per chunk (memory is bounded by the chunk size).
    margin_s : float
        Margin read on both sides of each chunk so the filters settle and
        discharges at chunk borders are measured whole.

    Features (measured on the recorded signal)
    ------------------------------------------
    window_pre_ms, window_post_ms : float
        Longest extent searched for the onset before and the end after the
        peak (PSWs need a long post window).
    baseline_ms : float
        Length of the stretch whose median is the local baseline removed
        before measuring; it ends ``baseline_gap_ms`` before the onset of
        the deflection in the detection band.
    baseline_gap_ms : float
        See ``baseline_ms``.
    level_k_noise : float
        Onset/end level: the signal departs from baseline when its absolute
        value exceeds ``max(level_k_noise * noise, level_fraction * peak)``.
    level_fraction : float
        See ``level_k_noise``.
    quiet_ms : float
        Onset is the first sample of the deflection that follows at least
        this long (and at least 3 samples) below the level (end: last sample
        before such a stretch).
    turn_k_noise : float
        A turn is a change of direction of at least ``max(turn_k_noise *
        noise, turn_fraction * amplitude)`` µV.
    turn_fraction : float
        See ``turn_k_noise``.
    snippet_pre_ms, snippet_post_ms : float
        Waveform kept (band-passed) around each discharge for shape
        comparison (trains and recurrence).
    snippet_rate_hz : float
        Snippets are kept at about this rate (every k-th sample; the
        detection band ends well below its Nyquist frequency).

    Rest, activity and artifacts
    ----------------------------
    segment_window_s : float
        Window length for the rest/activity/artifact decision.
    activity_spike_min_uv : float
        Candidates at least this large (peak-to-peak) count as motor unit
        potentials for the density rule.
    activity_min_rate_hz : float
        A window whose MUP-sized candidates fire at least this fast (all
        units together) is voluntary activity, unless they are a single
        perfectly periodic source (a CRD, see ``crd_max_isi_cv``).
    activity_rms_factor : float
        A window whose band-passed RMS exceeds this factor times the
        channel's resting noise (its quietest windows) is activity
        (interference pattern) when it also holds at least
        ``activity_rms_min_spikes`` MUP-sized candidates.
    activity_rms_min_spikes : int
        See ``activity_rms_factor``.
    activity_merge_s : float
        Activity windows closer than this are merged (a pause in a
        contraction is not rest).
    activity_pad_s : float
        Activity intervals are widened by this on both sides (recruitment
        and derecruitment tails).
    activity_min_s : float
        Shorter activity runs are discarded (isolated doublets of
        fasciculations are not a contraction).
    flat_run_ms : float
        A run of identical samples this long is clipping or a dead channel.
    movement_min_uv : float
        A window whose slow component (5-ms means) spans at least this many
        µV holds a movement artifact.
    artifact_pad_s : float
        Artifact intervals are widened by this on both sides.
    rest_min_s : float
        Rest shorter than this is too short to call fasciculations absent
        (about 2 minutes gives a 0.95 probability of seeing five; Zhou 2012).
    flat_noise_uv : float
        A channel whose robust noise is below this is flat (disconnected).

    Classification (morphology)
    ---------------------------
    artifact_min_uv : float
        Peak-to-peak above this is an artifact (no physiological discharge at
        rest is that large in needle EMG).
    fib_max_half_width_ms : float
        Fibrillation spikes are sharp: the main peak's width at half height
        is at most this (more robust than the total duration in dense
        recordings, where neighbouring discharges lengthen it).
    spike_max_half_width_ms : float
        A deflection this sharp (half width) is a single-fibre spike, not
        MUP-like unless at least ``spike_mup_min_uv``.
    spike_mup_min_uv : float
        See ``spike_max_half_width_ms``: sharp spikes this large may be
        either a large fibrillation or a fasciculation; their firing pattern
        decides (regular: fibrillation).
    fib_max_uv : float
        Largest fibrillation potential (peak-to-peak).
    fib_min_rate_hz : float
        Slowest regular fibrillation train (fasciculating units fire more
        slowly than this, and irregularly).
    psw_min_half_width_ms : float
        PSW: the positive peak is wide at half height (sharp rise, slow
        exponential fall) ...
    psw_max_neg_ratio : float
        ... and the most negative sample within ``psw_neg_window_ms`` after
        the peak stays below this fraction of the positive peak
        (fibrillation spikes and MUPs have a large, quick negative phase).
    psw_neg_window_ms : float
        See ``psw_max_neg_ratio``.
    mup_min_uv : float
        Smallest MUP-like discharge (fasciculation / MUP).
    mup_min_duration_ms, mup_max_duration_ms : float
        Duration range of MUP-like discharges.
    endplate_max_half_width_ms : float
        Sharpest end-plate potential (negative first): half width at most this.
    endplate_max_uv : float
        Largest end-plate potential.
    isolated_min_snr : float
        A fibrillation/PSW/end-plate-shaped discharge that belongs to no
        recurring source must be at least this many times the noise
        (peak-to-peak) to be called; smaller lone spikes are noise
        crossings and stay ``unclassified``.
    source_vote_min_fraction : float
        Discharges of one source (same shape, recurring) share a kind: when at
        least this fraction of a source's rest discharges (and at least
        ``train_min_n``) have one spontaneous kind, the others (fibrillation,
        PSW, end-plate or unclassified by shape) take it.

    Classification (firing pattern)
    -------------------------------
    shape_min_corr : float
        Two discharges belong to the same source when their snippets
        correlate at least this much (noise-free; the threshold is scaled
        down by the correlation a noisy copy can reach at the snippet's
        signal-to-noise ratio, but not below ``shape_floor_corr``) ...
    shape_floor_corr : float
        See ``shape_min_corr``.
    shape_max_amp_ratio : float
        ... and their amplitudes differ by at most this factor.
    train_min_n : int
        Fewest discharges that make a train.
    regular_max_isi_cv : float
        A train is regular when the CV of its intervals (after removing
        missed-discharge gaps) is below this. Fibrillations and PSWs fire
        regularly.
    regular_min_consistent : float
        ... and at least this fraction of its intervals is near a multiple of
        the median interval (missed discharges allowed, Poisson firing not).
    fasc_max_rate_hz : float
        Fasciculating units fire slower than this (well under 1 Hz).
    voluntary_min_rate_hz : float
        A regular MUP-like train at least this fast is a voluntary unit.
    crd_max_isi_cv : float
        Complex repetitive discharges are time-locked: interval CV below this.
    crd_min_rate_hz : float
        Slowest CRD.
    crd_min_phases : int
        CRD complexes have at least this many phases.
    endplate_min_rate_hz : float
        Negative-first discharges firing irregularly at least this fast
        (per source) are end-plate activity.

    Multi-channel (HD-sEMG)
    -----------------------
    coincidence_ms : float
        Candidates on different channels within this time are one event.
    spread_min_channels : int
        A surface fasciculation is seen on at least this many channels.
    surface_min_uv : float
        Smallest surface fasciculation on its largest channel (SPiQE's
        exclusion threshold is 100 µV).
    grid_activity_fraction : float
        Surface grids: a window is voluntary activity for every channel when
        at least this fraction of the channels found activity in it.

    Grading
    -------
    grade_rates_per_min : tuple of float
        Fibrillation/PSW grade from discharges per minute of rest: rates at
        or above the 1st, 2nd, 3rd, 4th value give 1+, 2+, 3+, 4+; a grade
        above 0 also needs at least one regular fibrillation/PSW train.
    """

    highpass_hz: float = 100.0
    lowpass_hz: float = 3000.0
    lowpass_max_fraction: float = 0.4
    filter_order: int = 2
    threshold_k: float = 4.5
    noise_block_s: float = 0.25
    dead_time_ms: float = 1.5
    satellite_ratio: float = 2.0
    satellite_window_ms: float = 8.0
    peak_search_ms: float = 1.0
    peak_search_wide_ms: float = 3.0
    peak_search_wide_margin: float = 1.1
    mains: str = "auto"
    mains_min_inflation: float = 1.1
    mains_min_excess_db: float = 10.0
    mains_max_hz: float = 1000.0
    mains_bandwidth_hz: float = 4.0
    mains_probe_s: float = 2.0
    mains_probe_windows: int = 3
    chunk_s: float = 2.0
    margin_s: float = 0.1

    window_pre_ms: float = 10.0
    window_post_ms: float = 35.0
    baseline_ms: float = 1.0
    baseline_gap_ms: float = 0.5
    level_k_noise: float = 2.5
    level_fraction: float = 0.08
    quiet_ms: float = 1.0
    turn_k_noise: float = 2.0
    turn_fraction: float = 0.05
    snippet_pre_ms: float = 1.5
    snippet_post_ms: float = 6.0
    snippet_rate_hz: float = 10000.0

    segment_window_s: float = 0.5
    activity_spike_min_uv: float = 150.0
    activity_min_rate_hz: float = 12.0
    activity_rms_factor: float = 6.0
    activity_rms_min_spikes: int = 4
    activity_merge_s: float = 1.0
    activity_pad_s: float = 0.25
    activity_min_s: float = 1.0
    flat_run_ms: float = 2.0
    movement_min_uv: float = 2000.0
    artifact_pad_s: float = 0.1
    rest_min_s: float = 120.0
    flat_noise_uv: float = 0.05

    artifact_min_uv: float = 8000.0
    fib_max_half_width_ms: float = 1.0
    spike_max_half_width_ms: float = 0.55
    spike_mup_min_uv: float = 150.0
    fib_max_uv: float = 350.0
    fib_min_rate_hz: float = 0.3
    psw_min_half_width_ms: float = 0.65
    psw_max_neg_ratio: float = 0.6
    psw_neg_window_ms: float = 3.0
    mup_min_uv: float = 100.0
    mup_min_duration_ms: float = 3.0
    mup_max_duration_ms: float = 30.0
    endplate_max_half_width_ms: float = 0.65
    endplate_max_uv: float = 400.0
    source_vote_min_fraction: float = 0.5
    isolated_min_snr: float = 10.0

    shape_min_corr: float = 0.92
    shape_floor_corr: float = 0.6
    shape_max_amp_ratio: float = 1.6
    train_min_n: int = 4
    regular_max_isi_cv: float = 0.3
    regular_min_consistent: float = 0.75
    fasc_max_rate_hz: float = 2.0
    voluntary_min_rate_hz: float = 4.0
    crd_max_isi_cv: float = 0.08
    crd_min_rate_hz: float = 5.0
    crd_min_phases: int = 4
    endplate_min_rate_hz: float = 15.0

    coincidence_ms: float = 2.0
    spread_min_channels: int = 2
    surface_min_uv: float = 100.0
    grid_activity_fraction: float = 0.1

    grade_rates_per_min: tuple = (6.0, 60.0, 300.0, 1200.0)

    def to_dict(self) -> dict[str, Any]:
        """The parameters as a plain dict (for provenance)."""
        d = asdict(self)
        d["grade_rates_per_min"] = list(self.grade_rates_per_min)
        return d


def make_params(params: DetectParams | dict[str, Any] | None) -> DetectParams:
    """Validate user overrides into a :class:`DetectParams`.

    Parameters
    ----------
    params : DetectParams | dict | None
        Overrides by name (``None``: the defaults).

    Returns
    -------
    DetectParams

    Raises
    ------
    ConfigError
        For an unknown name or a non-positive value where one is needed.
    """
    if params is None:
        return DetectParams()
    if isinstance(params, DetectParams):
        return params
    if not isinstance(params, dict):
        raise ConfigError(f"detect params must be a dict, got {type(params).__name__}")
    names = {f.name: f for f in fields(DetectParams)}
    gone = sorted(set(params) & set(REMOVED_PARAMS))
    if gone:
        for k in gone:
            log.warning("detect parameter %s is ignored: %s", k, REMOVED_PARAMS[k])
        params = {k: v for k, v in params.items() if k not in REMOVED_PARAMS}
    unknown = sorted(set(params) - set(names))
    if unknown:
        raise ConfigError(
            f"unknown detect parameter(s) {', '.join(unknown)}; known: {', '.join(sorted(names))}"
        )
    clean: dict[str, Any] = {}
    for k, v in params.items():
        if k == "mains":
            v = str(v).strip().lower().removesuffix("hz").strip()
            v = {"50.0": "50", "60.0": "60", "none": "off", "false": "off"}.get(v, v)
            if v not in ("auto", "off", "50", "60"):
                raise ConfigError(f"detect parameter mains must be auto, off, 50 or 60, got {v!r}")
        elif k == "grade_rates_per_min":
            v = tuple(float(x) for x in v)
            if len(v) != 4 or any(b < a for a, b in zip(v, v[1:])):
                raise ConfigError("grade_rates_per_min must be 4 increasing rates")
        else:
            try:
                v = type(getattr(DetectParams, k))(v)
            except (TypeError, ValueError) as exc:
                raise ConfigError(f"detect parameter {k}={v!r} is not a number") from exc
            if v < 0:
                raise ConfigError(f"detect parameter {k} must be >= 0, got {v}")
        clean[k] = v
    p = DetectParams(**clean)
    if p.highpass_hz <= 0 or p.lowpass_hz <= p.highpass_hz:
        raise ConfigError(
            f"detection band {p.highpass_hz}-{p.lowpass_hz} Hz is invalid (need 0 < low < high)"
        )
    if p.threshold_k <= 0 or p.chunk_s <= 0:
        raise ConfigError("threshold_k and chunk_s must be positive")
    return p
