"""Every threshold of the MUP analysis, named and documented in one place.

:class:`MupParams` is a frozen dataclass; pass a modified copy
(``dataclasses.replace(MupParams(), detect_k=5.0)``) or a plain ``dict`` of
overrides to :func:`motorsign.mup.analyze_mups`. The definitions the
parameters belong to are written in ``docs/mup.md``.
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace
from typing import Any

from motorsign.errors import ConfigError

__all__ = ["MupParams", "resolve_params"]


@dataclass(frozen=True)
class MupParams:
    """Parameters of MUP detection, sorting, quantification and classification.

    Attributes
    ----------
    wide_highpass_hz : float
        High-pass corner (zero-phase Butterworth, order 2) of the "wide-band"
        signal on which MUPs are measured (the clinical 2 Hz–10 kHz band, with
        drift removed). Default 10 Hz.
    wide_lowpass_hz : float
        Low-pass corner of the wide-band signal; applied only below 0.45·fs.
    detect_band_hz : (float, float)
        Pass band of the detection signal (spiky part of MUPs, zero-phase
        Butterworth order 2 each side). The upper corner is capped at 0.45·fs.
    mains : {"auto", "off", "50", "60"}
        Mains hum. ``auto`` looks for 50 or 60 Hz and its harmonics in three
        2-s stretches of the channel (:func:`motorsign.signal.mains.estimate_mains`)
        and notches the harmonics present (zero phase, 4 Hz wide, up to
        1 kHz) in both signals when the hum's RMS in the wide band reaches
        ``mains_min_uv``; ``50``/``60`` notch every harmonic of that
        frequency; ``off`` nothing. Hum shifts the onset and end of MUPs
        (measured at ``duration_level_uv``), hence their duration.
    mains_min_uv : float
        See ``mains``.
    internal_rate_hz : float
        Analysis rate. A recording sampled below it is resampled (band-limited,
        by the smallest integer factor reaching it) before filtering, and
        detection, sorting and the templates work at that rate
        (:mod:`motorsign.mup.preprocess`). At 4 kHz a 0.1–0.2 ms spike falls
        between samples: its sampled peak, the windows cut around it and the
        per-sample comparisons of templates depend on where the samples fall
        (band-limited simulator, ``bench_mup_accuracy.py --fs 4000``, seeds
        0–29: discharges assigned to the right unit 85.3 % at the native
        4 kHz, 91.2 % resampled to 20 kHz; at 10 kHz 91.6 % and 93.0 %). 0
        analyses every recording at its own rate. Default 20 kHz.
    detect_k : float
        Detection threshold in robust noise SDs of the detection signal
        (noise SD = median absolute value / 0.6745 over the whole channel).
        Candidates above it are clustered into units.
    peel_k : float
        Peak threshold of the template matching (:func:`motorsign.mup.kernels.peel`),
        in the same noise SDs, at most ``detect_k``; also the least peak of a
        cluster's template for it to become a unit. Once the units are known,
        a discharge is accepted on its fit (``accept_frac`` of its template's
        energy removed), which is a matched-filter test: a small unit's
        discharge whose sampled peak falls just below ``detect_k`` is still
        recognised by its whole shape. 0 uses ``detect_k``. Default 3.5.
    dead_ms : float
        A candidate peak must be the largest absolute value within ±dead_ms.
    window_ms : float
        Half-width of the detection-band window used for clustering and
        template matching.
    cluster_window_ms : float
        Half-width of the central part of each window that is clustered
        (the unit's main spikes; wider windows mostly add other units).
    max_cluster_events : int
        At most this many candidates (evenly spread over the recording) are
        clustered; the rest are sorted by template matching only.
    n_pca : int
        Principal components used for clustering.
    max_clusters : int
        The Ward tree is cut into at most this many clusters before merging.
    merge_noise_k : float
        Two templates are merged when their best-aligned squared difference,
        summed over the S samples where either template exceeds σ (the
        detection noise SD), is below ``merge_noise_k · S · σ²``. With 2 (the
        default) the templates differ by less than two discharges of one
        unit do (the difference of two noisy copies has variance 2σ²), so
        single discharges could not be told apart.
    merge_rel : float
        ... or when the RMS of the difference is below this fraction of the
        larger template's RMS (the same unit drifting slightly); 0 (default)
        leaves merging to the noise criterion and to the train test below.
    min_cluster_fraction : float
        Clusters holding fewer than this fraction of the clustered candidates
        (and fewer than ``min_discharges`` members) are dropped before matching.
    anchor_frac : float
        Template peaks at least this fraction of the template's largest
        absolute value are anchors: a candidate peak is tried against each
        anchor (so a polyphasic unit is found from any of its spikes).
    anchor_shift_ms : float
        Alignment search around each anchor (± this many ms).
    subsample_us : float
        Templates are interpolated at sub-sample shifts so that the alignment
        step is at most this many µs (20 kHz: 4 sub-shifts, 4 kHz: 20). A
        half-sample error on a 0.1–0.2 ms spike changes its apparent size by
        several per cent, as much as two similar units differ; the search
        refines each unit's best whole-sample alignment (two-stage, see
        :func:`motorsign.mup.kernels.peel`).
    template_support_k : float
        Template samples outside the span where the template exceeds this
        many noise SDs are set to zero for matching (below the noise; they
        only cost time).
    accept_frac : float
        A template is subtracted when it reduces the residual energy by more
        than ``accept_frac`` × its own energy.
    residual_tol : float
        Where a template was subtracted, a later peak must exceed the
        threshold plus ``residual_tol`` × the template's absolute value
        there: large units vary from discharge to discharge (jitter, jiggle)
        and their residual must not be sorted as another unit.
    residual_var_k : float
        From the second sorting round on, the rule above uses each unit's
        measured discharge-to-discharge variability instead: a later peak
        under a subtracted template must exceed the threshold plus
        ``residual_var_k`` × that unit's SD (beyond noise) at that sample
        (jitter of a polyphasic unit's spikes, amplitude variation), so
        a second unit overlapping a steady one is not hidden. 0 keeps
        ``residual_tol`` throughout.
    n_passes : int
        Peeling passes (each re-detects peaks on the residual).
    refit_iter : int
        Sweeps of the refit after peeling (:func:`motorsign.mup.kernels.refit`):
        each discharge is explained again with all the others subtracted, so
        a superposition first taken for one larger unit is re-decided once
        the overlapping units are known. 0 turns it off.
    refit_all_rounds : bool
        Refit in every sorting round (templates re-estimated from refitted
        discharges) rather than only in the last one.
    pair_gain : float
        In the last round, a discharge whose residual stays above
        ``pair_trigger`` noise energies is tested for two overlapping units
        taken for one (:func:`motorsign.mup.kernels.resolve_pairs`): the best
        pair of templates of two units replaces it when it removes at least
        ``pair_gain`` × the smaller template's energy more than the best
        single template (each member must also remove more than
        ``accept_frac`` of its own energy given the other, and pass the
        firing veto ``pair_isi_frac``). 0 turns it off. Default 0.05: the
        sum of two overlapping discharges is often explained to a good part
        by a third unit's template, and the pair of the right units then
        removes only 0.1–0.4 of the smaller one's energy more (simulator,
        4 kHz, units of jittery multi-spike myopathic muscles); 0.3 left
        those to the single template (benchmark seeds 0–29 and 120–149 at
        4 kHz: 88.6 % of discharges assigned with 0.3, 89.3 % with 0.05;
        seeds 0–29 at 10 / 20 kHz: 93.0 → 93.4 %, 92.4 → 92.7 %).
    pair_reach_ms : float
        Both members' main peaks lie within ± this of the discharge's (and
        ``pair_close`` pairs lie this close).
    pair_trigger : float
        Residual energy within ±pair_reach_ms, in noise energies, above which
        a discharge is tested.
    pair_isi_frac : float
        A pair member may not fire closer to another discharge of its unit
        than this fraction of the unit's median ISI (from the previous
        round): the firing pattern vetoes pairs that a regular train rules out.
    pair_close : bool
        In the last round, two discharges whose main peaks lie within
        ±``pair_reach_ms`` are re-decided jointly as the best pair of units
        (:func:`motorsign.mup.sorting._repair_close`).
    overlap_rounds : int
        Rounds of overlap resolution in the last sorting round (needs
        ``pair_gain`` > 0). The first is refit, pairs and close pairs; each
        further one first peels the residual again — with the residual
        floors of its own subtractions only, so a peak that the first pass
        left under the floor of an early fit (often of the wrong unit, or
        of a superposition taken for one unit) is visited now that its
        neighbours are known — then refits every discharge once and looks
        for pairs and close pairs again. Default 2 (benchmark seeds 0–29
        and 120–149 at 4 kHz, with ``pair_gain`` 0.05: 89.3 % with 1 round,
        89.8 % with 2, 89.8 % with 3; seeds 0–29 at 10 / 20 kHz: 94.5 /
        93.9 % with 2).
    template_skip_late : bool
        Discharges found by the re-peel of a later overlap round enter the
        trains but not the wide-band (MUP) templates: they lay under other
        units' residual and their windows hold parts of those units, which
        lengthened the median MUP (simulator, myopathic muscles at 10 kHz:
        0.1–0.4 ms longer muscle means; two held-out muscles then read
        normal). A unit with fewer than ``min_discharges`` other windows
        uses them all. Default True.
    train_reassign : bool
        Firing-train re-assignment in the last round
        (:func:`motorsign.mup.kernels.train_reassign`), after the overlap
        rounds: a discharge of unit B closer to another discharge of B than
        ``train_short_frac`` × B's median ISI (from the previous round) moves
        to a unit A whose train has a gap there (A's neighbouring discharges
        ``train_gap_range`` × A's median ISI apart, both new intervals at least
        ``train_short_frac`` × it) when A's template removes more than
        ``accept_frac`` of its energy and at least (1 − ``train_margin``) ×
        what B's removes. Of the two discharges of the short interval only
        the one that breaks B's rhythm may move: with it kept (the other
        removed), the intervals to B's discharges before and after the pair
        must be further from one or two median ISIs than with the other
        kept. Only units with a regular train (``train_max_cv``) take part,
        as source or target. Default True (simulator, 4 kHz, seeds 0–29 and
        120–149: see ``docs/mup.md``, *Firing trains*).
    train_margin : float
        See ``train_reassign``: how much less of the discharge's energy A's
        template may explain than B's.
    train_gap_fill : bool
        Gap search in the last round (:func:`motorsign.mup.kernels.train_gaps`),
        after ``train_reassign``: for each interval of a regular unit's train
        ``train_gap_range`` × its median ISI long, the unit's template is slid
        over the residual with its main peak within ±``train_gap_reach`` ×
        the median ISI of the place where a missing discharge is expected
        (an interval of about k + 1 median ISIs misses k discharges, looked
        for evenly spaced); the best fit becomes a discharge when it removes
        more than ``train_gap_accept`` × the template's energy. Such
        discharges, like the re-peel's, enter the trains but not the
        wide-band templates (``template_skip_late``). Default True.
    train_gap_accept : float
        Acceptance (fraction of the template's energy removed) of a
        discharge found by the gap search: lower than ``accept_frac``
        because the firing has already said where a discharge of this unit
        must be; the template is only asked to fit there better than
        nothing. Default 0.05.
    train_gap_range : (float, float)
        An interval between these many median ISIs holds missing discharges
        (gap search) or a gap a discharge may fill (re-assignment; there the
        new intervals must also respect ``train_short_frac``).
    train_gap_reach : float
        Half-width, in median ISIs, of the gap search around the interval's
        middle (the missing discharge of a train with ISI CV c lies within
        about ±0.7·c median ISIs of it, one SD).
    train_short_frac : float
        An interval shorter than this fraction of a unit's median ISI breaks
        its firing (``train_reassign``).
    train_max_cv : float
        A unit takes part in the train steps when the robust coefficient of
        variation of its ISIs within ``isi_range_ms`` (1.4826 × MAD / median)
        is at most this and it has at least ``min_discharges`` discharges.
        Voluntary units fire with an ISI CV of about 0.1–0.3 at low-moderate
        effort; a sorted train reads less regular than its unit (wrong and
        missed members), two units sorted as one far less. Default 0.4
        (0.3 and 0.5 gave 0.1–0.2 % fewer assigned discharges, see the docs).
    train_union_merge : float
        Last round, after the train merge: two units join when their
        trains together fire more regularly than either alone — the robust
        ISI CV of the union at most ``train_max_cv`` and at least this much
        below each one's, with no more short ISIs (``train_merge_viol``)
        than the worse of the two — a unit the sorting split in two at
        random leaves two irregular halves of one regular train, while two
        independent units together are less regular than the more regular
        one (:func:`motorsign.mup.sorting._union_merge`). 0 turns it off.
        Default 0.05 (0.02 gave the same, 0.1 a little less).
    n_refine : int
        Template re-estimation rounds (templates from the sorted discharges,
        each window re-aligned on its sub-sample position, then sorting
        again).
    template_dedupe : bool
        Templates are re-estimated only from the discharges kept once
        duplicates are removed (``duplicate_ms``): a discharge fitted twice,
        at two alignments of a polyphasic unit with similar spikes, would
        otherwise pull the next template towards the wrong alignment, round
        after round (simulator seed 1, 6 s at 4 kHz: 40 % of a reinnervated
        unit's discharges ended up timed 2.35 ms off). Default True.
    train_merge_corr : float
        Two units whose templates correlate at least this much (best shift)
        are merged when their joint train respects the refractory period
        (see :func:`motorsign.mup.sorting._train_merge`).
    train_merge_energy : float
        ... and their template energies are within this factor.
    train_merge_viol : float
        Allowed increase of the fraction of ISIs in [duplicate_ms,
        refractory_ms) when two trains are joined.
    train_merge_cross : float
        Where two independent trains of their sizes would give at least
        ``train_merge_min_expected`` pairs of discharges (one from each)
        closer than [duplicate_ms, refractory_ms), this test replaces the one
        above: the trains are joined when such pairs number at most this
        fraction of that expectation (the halves of one unit come that close
        only through their few wrong members, however mixed either already
        is). 0 keeps the violation rule throughout.
    train_merge_min_expected : float
        See ``train_merge_cross`` (fewer expected pairs cannot tell one unit
        from two).
    min_discharges : int
        A unit needs at least this many discharges to be reported.
    duplicate_ms : float
        Discharges of one unit closer than this are one discharge found twice
        (the best-matching one is kept): no motor neuron fires twice within
        a few ms. In the last sorting round with ``split_close`` such pairs
        are decided on the signal instead.
    split_close : bool
        Last round: two fits of one unit whose main peaks lie closer than
        ``duplicate_ms`` are added back and kept as two discharges only when
        together they remove more than ``accept_frac`` × the smaller
        template's energy beyond the best single template
        (:func:`~motorsign.mup.kernels.split_close`); otherwise the single
        fit replaces them. Such a pair is one discharge fitted twice, or two
        discharges of similar units sorted as one (or overlapping): the rule
        above dropped the second whatever the signal said (simulator, 4 kHz,
        seeds 0-29 and 120-149: 3.7 % of the scored discharges had no sorted
        discharge within 1 ms, a third of them next to a kept discharge of
        their unit's sorted unit that matched another unit's discharge).
        Intervals under ``duplicate_ms`` are then not firing intervals: they
        are left out of ``isi_violation_fraction``. Default True.
    match_highpass_hz : float
        Lower corner (Hz) of the **match** band (upper corner that of
        ``detect_band_hz``), on which the last sorting round re-decides each
        discharge's unit (:func:`~motorsign.mup.kernels.relabel_wide`):
        alignment and acceptance stay on the detection band, the choice
        between the units whose detection-band fit is accepted is made on the
        energy their match-band templates remove. The slow part of small
        MUPs, which the 300-Hz corner drops, tells similar units apart
        (run after the overlap rounds, before the firing-train steps). 0
        leaves the unit choice to the detection band (the sorter before
        this step, exactly). Default 0 (off): at 100 Hz assignment on the
        simulator rises at every rate (4 kHz held-out 90.6 -> 91.6 %,
        89.5 -> 90.7 %, 88.2 -> 88.6 %), but the mean MUP durations of the
        three PhysioNet recordings shorten by about 1 ms and the healthy one
        reads myopathic under one perturbation (``wide_highpass_hz`` 2), a
        shift not understood yet; an option for research until it is.
    relabel_margin : float
        With ``match_highpass_hz``: a discharge moves to another unit when
        that unit's match-band template removes more than its current unit's
        by at least this fraction of the smaller match-band template energy.
    template_skip_moved : bool
        With ``match_highpass_hz``: discharges the match band moved to
        another unit enter that unit's train but not its wide-band MUP
        template (as ``template_skip_late``); with them the myopathic
        muscles' mean durations grew (simulator, 10 kHz, seeds 5 and 17).
    relabel_var : bool
        Last round: re-decide each discharge's unit by its Gaussian
        likelihood with each unit's own discharge-to-discharge variability
        (:func:`~motorsign.mup.kernels.relabel_var`; alignment and acceptance
        as in refitting), in every overlap round before the pairs are looked
        for and once after the overlap rounds (after the match band, before
        the firing-train steps). The blind fits choose the template that
        removes most energy, as if every unit were an exact waveform in white
        noise; a unit whose discharges vary (spike jitter) then loses
        discharges to a similar, steadier one. Only near-ties of the energy
        are re-decided (``relabel_var_tie``). Moved discharges stay in the
        wide-band MUP templates (``relabel_var_skip_moved``).
        Default True (simulator, seeds 0-29 and 120-149 at 4 kHz 91.93 ->
        92.15 % assigned, seeds 0-29 at 10 kHz 95.24 -> 95.92 %, 20 kHz
        95.21 -> 95.96 %; held-out sets in docs/mup.md, *Limits*; the
        step in *Variability-aware unit choice*).
    relabel_var_margin : float
        With ``relabel_var``: the log-likelihood advantage (twice the log
        ratio) another unit needs to take a discharge. Default 0.
    relabel_var_skip_moved : bool
        With ``relabel_var``: discharges it moved enter their new unit's
        train but not its wide-band MUP template (as ``template_skip_moved``
        for the match band). Default False: left out, they changed the MUP
        templates of the PhysioNet recordings enough that the healthy one
        read myopathic under ``wide_highpass_hz`` 2 (mean duration 7.43 ->
        7.10 ms against a lower limit of about 7.2 ms).
    relabel_var_tie : float
        With ``relabel_var``: only units whose fit removes at least
        (1 − this) × the energy the current unit's fit removes are compared
        by likelihood. Without it (any accepted fit compared) units with a
        large variability (two units sorted as one, jittery reinnervated
        units) drew discharges of another shape: neurogenic purity at 10 kHz
        89 -> 82 %, PhysioNet healthy mean duration 9.24 -> 7.93 ms (with
        ``relabel_var_skip_moved``). Default 0.05 (0.1: healthy 8.92 ms;
        0.2: the PhysioNet myopathy recording indeterminate; both with
        ``relabel_var_skip_moved``).
    duplicate_min_ms : float
        With ``split_close``: fits of one unit closer than this are always
        one discharge (the absolute refractory period of a motor axon is
        about 1 ms).
    refractory_ms : float
        ISIs (at least ``duplicate_ms``) shorter than this are physiologically implausible for one unit;
        counted in the unit's ``isi_violation_fraction``.
    max_isi_violation : float
        Units with a larger fraction of such ISIs are flagged ``mixed`` and not
        used in the muscle means.
    isi_range_ms : (float, float)
        ISIs inside this range enter the firing rate (1 / median ISI); longer
        ones are pauses.
    quant_pre_ms, quant_post_ms : float
        Wide-band template window before/after the discharge time.
    baseline_ms : float
        Baseline = median of the template's first and last ``baseline_ms``.
    duration_level_uv : float
        Onset/end level: the template must deviate from baseline by more than
        max(duration_level_uv, duration_noise_k · template noise SD).
    duration_noise_k : float
        See ``duration_level_uv``.
    quiet_ms : float
        Onset (end) is the last supra-level sample before (after) the main
        peak that is followed outward by at least ``quiet_ms`` of sub-level
        signal.
    duration_level_span : float
        Level-averaged onset/end: onset and end are the means of the onsets
        and ends found at ``duration_level_steps`` levels spread
        geometrically from λ / √span to λ · √span (levels whose scan reaches
        the window edge are left out; the nominal λ must close). 1: the
        single level λ. A slow tail lying near λ then moves the duration by
        the fraction of the levels it crosses, not by its whole length (real
        4-kHz templates, split-half: see ``docs/mup.md``).
    duration_level_steps : int
        Number of levels of ``duration_level_span``.
    duration_smooth_ms : float
        Onset/end are found on the template smoothed by a centred moving
        average of this length (0: unsmoothed).
    phase_min_uv : float
        A phase counts when its peak deviation from baseline exceeds this (µV)
        and the level above; smaller excursions merge into their neighbours.
    turn_min_uv : float
        A turn is a change of direction of at least this many µV from the
        previous turn point (within onset–end).
    max_rise_time_ms : float
        Units whose template rises more slowly than this (from the preceding
        opposite peak to the main peak) are distant from the needle and are
        not used in the muscle means (standard acceptance: < 0.5 ms). Applied
        only when the sampling rate gives at least 5 samples over this limit
        (10 kHz for 0.5 ms) and the rise time is measurable.
    polyphasic_min_phases : int
        A MUP with at least this many phases is polyphasic.
    max_template_avg : int
        At most this many discharges (evenly spread) are averaged (median) per
        unit for the wide-band template.
    clip_run : int
        A run of at least this many equal samples at the channel's extreme
        values is clipping.
    clip_guard_ms : float
        Samples within this distance of clipping are excluded.
    max_clipped_fraction : float
        More clipped (guarded) time than this fraction of the recording makes
        the channel indeterminate.
    activity_window_ms : float
        Window of the activity check.
    min_active_s : float
        Less voluntary activity than this (time in windows holding a
        candidate) makes the channel indeterminate.
    min_units : int
        Fewer sorted (clean) units than this make the MUP-based classification
        indeterminate.
    min_total_discharges : int
        Fewer assigned discharges than this: indeterminate.
    ip_turn_uv : float
        Interference-pattern turns criterion (Willison: 100 µV).
    ip_epoch_ms : float
        Interference-pattern epoch length.
    recruitment_ratio_upper : float
        Recruitment ratio (highest firing rate / number of units) above this
        supports reduced (neurogenic) recruitment (Daube: normal < 5, > 10
        reduced).
    """

    wide_highpass_hz: float = 10.0
    wide_lowpass_hz: float = 10000.0
    detect_band_hz: tuple[float, float] = (300.0, 3000.0)
    mains: str = "auto"
    mains_min_uv: float = 2.0
    internal_rate_hz: float = 20000.0
    detect_k: float = 5.0
    peel_k: float = 3.5
    template_dedupe: bool = True
    dead_ms: float = 0.6
    window_ms: float = 5.0
    cluster_window_ms: float = 1.0
    max_cluster_events: int = 1500
    n_pca: int = 6
    max_clusters: int = 32
    merge_noise_k: float = 2.0
    merge_rel: float = 0.0
    min_cluster_fraction: float = 0.01
    anchor_frac: float = 0.5
    anchor_shift_ms: float = 0.15
    subsample_us: float = 12.5
    template_support_k: float = 0.5
    accept_frac: float = 0.3
    residual_tol: float = 0.5
    residual_var_k: float = 3.0
    n_passes: int = 3
    refit_iter: int = 1
    refit_all_rounds: bool = False
    pair_gain: float = 0.05
    pair_reach_ms: float = 1.5
    pair_trigger: float = 2.0
    pair_isi_frac: float = 0.6
    pair_close: bool = True
    overlap_rounds: int = 2
    template_skip_late: bool = True
    train_reassign: bool = True
    train_margin: float = 0.25
    train_gap_fill: bool = True
    train_gap_accept: float = 0.05
    train_gap_range: tuple[float, float] = (1.6, 3.5)
    train_gap_reach: float = 0.3
    train_short_frac: float = 0.6
    train_max_cv: float = 0.4
    train_union_merge: float = 0.05
    n_refine: int = 3
    train_merge_corr: float = 0.5
    train_merge_energy: float = 4.0
    train_merge_viol: float = 0.03
    train_merge_cross: float = 0.3
    train_merge_min_expected: float = 5.0
    min_discharges: int = 10
    duplicate_ms: float = 5.0
    split_close: bool = True
    duplicate_min_ms: float = 1.0
    match_highpass_hz: float = 0.0
    relabel_margin: float = 0.0
    template_skip_moved: bool = True
    relabel_var: bool = True
    relabel_var_margin: float = 0.0
    relabel_var_tie: float = 0.05
    relabel_var_skip_moved: bool = False
    refractory_ms: float = 20.0
    max_isi_violation: float = 0.1
    isi_range_ms: tuple[float, float] = (20.0, 500.0)
    quant_pre_ms: float = 20.0
    quant_post_ms: float = 20.0
    baseline_ms: float = 3.0
    duration_level_uv: float = 10.0
    duration_noise_k: float = 3.0
    quiet_ms: float = 2.0
    duration_level_span: float = 4.0
    duration_level_steps: int = 9
    duration_smooth_ms: float = 0.5
    phase_min_uv: float = 20.0
    turn_min_uv: float = 25.0
    max_rise_time_ms: float = 0.5
    polyphasic_min_phases: int = 5
    max_template_avg: int = 200
    clip_run: int = 3
    clip_guard_ms: float = 25.0
    max_clipped_fraction: float = 0.25
    activity_window_ms: float = 200.0
    min_active_s: float = 1.0
    min_units: int = 2
    min_total_discharges: int = 50
    ip_turn_uv: float = 100.0
    ip_epoch_ms: float = 500.0
    recruitment_ratio_upper: float = 10.0

    def to_dict(self) -> dict[str, Any]:
        """The parameters as a plain dict (for provenance and summaries)."""
        return {f.name: getattr(self, f.name) for f in fields(self)}


def resolve_params(params: MupParams | dict | None) -> MupParams:
    """Return a :class:`MupParams` from ``None``, an instance or a dict of overrides.

    Parameters
    ----------
    params : MupParams | dict | None
        Overrides; unknown keys raise.

    Returns
    -------
    MupParams

    Raises
    ------
    ConfigError
        On an unknown parameter name.
    """
    if params is None:
        return MupParams()
    if isinstance(params, MupParams):
        return params
    names = {f.name for f in fields(MupParams)}
    bad = sorted(set(params) - names)
    if bad:
        raise ConfigError(f"unknown MUP parameter(s): {', '.join(bad)}")
    params = dict(params)
    if "mains" in params:
        m = str(params["mains"]).strip().lower().removesuffix("hz").strip()
        m = {"50.0": "50", "60.0": "60", "none": "off", "false": "off"}.get(m, m)
        if m not in ("auto", "off", "50", "60"):
            raise ConfigError(f"MUP parameter mains must be auto, off, 50 or 60, got {params['mains']!r}")
        params["mains"] = m
    return replace(MupParams(), **params)
