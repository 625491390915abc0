"""Sorting MUP discharges into motor units (one channel).

Steps (the names are those of :class:`~motorsign.mup.params.MupParams`):

1. **Statistics pass**: detection-signal noise SD (median absolute value /
   0.6745), wide-band RMS, the channel's extreme values (clipping levels).
2. **Candidates**: local maxima of ``|det|`` above ``detect_k`` noise SDs
   (dead time ``dead_ms``) outside clipped stretches; up to
   ``max_cluster_events`` of them (reservoir sample) are kept as windows.
3. **Clustering**: PCA (``n_pca``) of the ±``window_ms`` windows, Ward tree
   cut into ``max_clusters`` clusters, then clusters merged while their
   best-aligned templates (median waveforms, aligned to a sub-sample delay:
   :func:`_template_distance`) are closer than the noise (``merge_noise_k``)
   or than ``merge_rel`` of their size; tiny clusters are dropped.
4. **Peeling** (resolves overlaps): the peaks of the residual are visited from
   the largest down and explained by the best template (any anchor, then
   sub-sample shifts around each unit's best alignment); the template is
   subtracted, so overlapping discharges and the satellite spikes of
   polyphasic units are taken apart (:func:`peel`). Later peaks under a
   subtracted template must clear a floor set by that unit's own
   discharge-to-discharge variability (:func:`_variability`).
5. **Refinement**: templates are re-estimated from the sorted discharges
   (median) and step 4 is repeated ``n_refine`` times; units with fewer than
   ``min_discharges`` discharges are dropped. In the last round every
   discharge is re-decided with its neighbours subtracted (:func:`refit`) and
   poorly explained ones are tested for two overlapping units
   (:func:`resolve_pairs`, with a firing-pattern veto); two discharges closer
   than ``pair_reach_ms`` are then re-decided jointly (:func:`_repair_close`).
   Each discharge's unit is then re-decided on the wider match band
   (``match_highpass_hz``, :func:`~motorsign.mup.kernels.relabel_wide`):
   aligned and accepted on the detection band, chosen by the energy the
   units' match-band templates remove (the slow part of small MUPs tells
   similar units apart).
   Then the firing trains of the regular units (:func:`_regular_isi`) are
   used (:func:`_train_steps`): a discharge that breaks its unit's firing
   moves to a unit with a gap there whose template explains it nearly as
   well (:func:`~motorsign.mup.kernels.train_reassign`), and the discharges
   missing from gaps are looked for in the residual
   (:func:`~motorsign.mup.kernels.train_gaps`). Two fits of one unit
   closer than ``duplicate_ms`` are then kept as two discharges only when
   the signal needs both (``split_close``,
   :func:`~motorsign.mup.kernels.split_close`); in earlier rounds the
   best-scoring one is kept.
   Units that one neuron could be are merged on their trains
   (:func:`_train_merge`: template likeness and how often their discharges
   fall closer than the refractory period compared with chance; then
   :func:`_union_merge`: two trains that fire more regularly together than
   apart).
6. **Wide-band templates** (median of up to ``max_template_avg`` discharges,
   ``quant_pre_ms``/``quant_post_ms``, last round only) for quantification;
   each discharge's time is its sub-sample alignment plus the offset of the
   largest absolute peak of the unit's wide-band template, found on its
   band-limited interpolation to ``PEAK_FINE_HZ`` (the discharge's largest
   peak within the neuromuscular jitter).

Every length is set in ms or µs and alignment is resolved to 1/``n_sub``
sample (``subsample_us``) in matching, merging and timing, so that the steps
behave alike at 20 and 10 kHz (``docs/mup.md``, *Sampling rate*).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

import numpy as np

from motorsign.mup.params import MupParams
from motorsign.mup.preprocess import ChannelSource

__all__ = ["SortResult", "UnitTrain", "sort_channel"]

log = logging.getLogger(__name__)

#: Seed of the reservoir samplers (results are deterministic).
_SEED = 20240611
#: Wide-band templates are interpolated (band-limited) to at least this rate
#: to find their largest peak, the discharge time (:func:`_peak_offset`).
PEAK_FINE_HZ = 200_000.0


@dataclass
class UnitTrain:
    """One sorted motor unit.

    Attributes
    ----------
    times_s : ndarray
        Discharge times (largest absolute wide-band peak), increasing.
    det_template : ndarray
        Detection-band template (µV), ``2 * half + 1`` samples.
    wide_template : ndarray
        Wide-band template (µV), ``pre + post + 1`` samples; index ``pre``
        is the unit's alignment point (its discharge times are that point
        plus the offset of the template's largest absolute peak).
    n_averaged : int
        Discharges averaged into ``wide_template``.
    template_noise_uv : float
        Estimated noise SD of ``wide_template`` (µV).
    scores : ndarray
        Per discharge: energy removed / template energy.
    wide_halves : ndarray | None
        Two wide-band templates (2 × samples, µV): medians of the even- and
        of the odd-numbered discharges averaged into ``wide_template`` (the
        split-half check of the duration, :func:`motorsign.mup.features.quantify_mup`);
        None with fewer than 2 discharges.
    """

    times_s: np.ndarray
    det_template: np.ndarray
    wide_template: np.ndarray
    n_averaged: int
    template_noise_uv: float
    scores: np.ndarray
    wide_halves: np.ndarray | None = None


@dataclass
class SortResult:
    """What :func:`sort_channel` found on one channel."""

    fs: float
    n_samples: int
    units: list[UnitTrain] = field(default_factory=list)
    wide_pre: int = 0
    noise_sd_uv: float = float("nan")
    signal_rms_uv: float = float("nan")
    clipped_fraction: float = 0.0
    active_s: float = 0.0
    n_candidates: int = 0
    n_unassigned: int = 0
    threshold_uv: float = float("nan")


class _Reservoir:
    """Uniform sample of at most ``cap`` items from a stream (Algorithm R)."""

    def __init__(self, cap: int, rng: np.random.Generator):
        self.cap = int(cap)
        self.rng = rng
        self.items: list = []
        self.seen = 0

    def add(self, item) -> None:
        self.seen += 1
        if len(self.items) < self.cap:
            self.items.append(item)
        else:
            j = int(self.rng.integers(0, self.seen))
            if j < self.cap:
                self.items[j] = item


def _window(x: np.ndarray, i: int, before: int, after: int) -> np.ndarray | None:
    a, b = i - before, i + after + 1
    if a < 0 or b > x.size:
        return None
    return x[a:b]


def _frac_shift(w: np.ndarray, frac: float) -> np.ndarray:
    """Delay ``w`` by ``frac`` samples (band-limited, zero-padded)."""
    if frac == 0.0:
        return w.astype(np.float32)
    n = w.size
    m = 1 << int(np.ceil(np.log2(2 * n)))
    pad = np.zeros(m)
    off = (m - n) // 2
    pad[off : off + n] = w
    f = np.fft.rfftfreq(m)
    y = np.fft.irfft(np.fft.rfft(pad) * np.exp(-2j * np.pi * f * frac), m)
    return y[off : off + n].astype(np.float32)


def _frac_shift_rows(w: np.ndarray, delays: np.ndarray) -> np.ndarray:
    """Delay each row of ``w`` by its own ``delays[i]`` samples (band-limited, zero-padded).

    Used to align the windows a template is estimated from on their
    sub-sample discharge positions: windows cut at the nearest whole sample
    are spread over ±0.5 sample around the discharge, which smears a
    0.1-0.2 ms spike at a coarse rate (±125 µs at 4 kHz) and makes the
    template of a unit flatter than any of its discharges.
    """
    w = np.asarray(w, dtype=np.float64)
    delays = np.asarray(delays, dtype=np.float64)
    if w.size == 0 or not np.any(delays):
        return w.astype(np.float32)
    n = w.shape[1]
    m = 1 << int(np.ceil(np.log2(2 * n)))
    off = (m - n) // 2
    pad = np.zeros((w.shape[0], m))
    pad[:, off : off + n] = w
    f = np.fft.rfftfreq(m)
    y = np.fft.irfft(np.fft.rfft(pad, axis=1) * np.exp(-2j * np.pi * f[None, :] * delays[:, None]),
                     m, axis=1)
    return y[:, off : off + n].astype(np.float32)


def _aligned(items: list) -> np.ndarray:
    """Stack reservoir items ``(window, delay, position)`` into windows aligned on their discharge."""
    return _frac_shift_rows(np.array([it[0] for it in items]), np.array([it[1] for it in items]))


def _keep_items(res: _Reservoir, kept: list) -> None:
    """Drop the reservoir's windows of discharges that were not kept (duplicates).

    A discharge fitted twice (the unit's template at two alignments, e.g.
    two similar spikes of a polyphasic unit) leaves one window at the wrong
    alignment; averaged into the next template it pulls the template
    towards that alignment round after round.
    """
    if res.items:
        keep = set(kept)
        res.items = [it for it in res.items if it[2] in keep]


def _anchors(t: np.ndarray, frac: float, max_anchors: int = 4) -> np.ndarray:
    a = np.abs(t)
    top = a.max()
    if top <= 0:
        return np.array([int(t.size // 2)])
    inner = a[1:-1]
    loc = np.flatnonzero((inner >= a[:-2]) & (inner > a[2:]) & (inner >= frac * top)) + 1
    if loc.size == 0:
        loc = np.array([int(np.argmax(a))])
    loc = loc[np.argsort(-a[loc])][:max_anchors]
    return np.sort(loc)


def _upsample(x: np.ndarray, factor: int) -> np.ndarray:
    """Band-limited (zero-padded FFT) interpolation of ``x`` by an integer ``factor``.

    Sample ``i * factor`` of the result is sample ``i`` of ``x``; the signal
    is zero-padded to at least twice its length so that the FFT's
    periodicity does not fold one end onto the other.
    """
    n = x.size
    if factor <= 1 or n < 2:
        return np.asarray(x, dtype=np.float64)
    m = 1 << int(np.ceil(np.log2(2 * n)))
    pad = np.zeros(m)
    pad[:n] = x
    spec = np.fft.rfft(pad)
    y = np.fft.irfft(spec, m * factor) * factor
    return y[: (n - 1) * factor + 1]


def _peak_offset(x: np.ndarray, pre: int, fs: float | None = None,
                 fine_hz: float = PEAK_FINE_HZ) -> float:
    """Sub-sample position of the largest ``|x|`` relative to index ``pre``.

    The largest peak is chosen on the band-limited interpolation of ``x`` to
    at least ``fine_hz`` (when ``fs`` is given): at a coarse sampling rate a
    sampled spike loses part of its height depending on where the samples
    fall, and when two spikes of a polyphasic unit are nearly equal the
    sampled maximum can sit on the wrong one. The position is then refined
    by a parabola through the fine maximum and its two neighbours.
    """
    factor = 1 if fs is None else max(1, int(np.ceil(fine_hz / fs)))
    a = np.abs(_upsample(np.asarray(x, dtype=np.float64), factor))
    k = int(np.argmax(a))
    frac = 0.0
    if 0 < k < a.size - 1:
        den = a[k - 1] - 2 * a[k] + a[k + 1]
        if den < 0:
            frac = 0.5 * (a[k - 1] - a[k + 1]) / den
    return (k + frac) / factor - pre


def _template_distance(a_long: np.ndarray, b_shifted: np.ndarray, half: int
                       ) -> tuple[float, np.ndarray]:
    """Smallest squared difference between template ``a`` and a shifted ``b``.

    ``a_long`` and every row of ``b_shifted`` are ``4 * half + 1`` sample
    templates; row ``p`` of ``b_shifted`` is ``b`` delayed by ``p / n_sub``
    samples (row 0 undelayed). The central ``2 * half + 1`` samples of ``a``
    are compared with ``b`` at every whole-sample shift, then with the
    delayed rows one sample either side of the best one, so that the
    alignment is resolved to 1/``n_sub`` sample: at a coarse sampling rate
    two copies of one unit half a sample apart differ by far more than the
    noise at their best whole-sample shift.

    Returns
    -------
    d : float
        The smallest sum of squared differences.
    b_c : ndarray
        ``b``'s central segment at that alignment.
    """
    from numpy.lib.stride_tricks import sliding_window_view

    L = 2 * half + 1
    a_c = a_long[half : half + L]
    segs = sliding_window_view(b_shifted[0], L)  # (Lw - L + 1, L); index half = no shift
    d = ((segs - a_c[None, :]) ** 2).sum(axis=1)
    k = int(np.argmin(d))
    best, b_c = float(d[k]), segs[k]
    if b_shifted.shape[0] > 1:
        sts = [st for st in (k - 1, k, k + 1) if 0 <= st <= b_shifted.shape[1] - L]
        cand = np.concatenate([b_shifted[1:, st : st + L] for st in sts])
        dd = ((cand - a_c[None, :]) ** 2).sum(axis=1)
        j = int(np.argmin(dd))
        if dd[j] < best:
            best, b_c = float(dd[j]), cand[j]
    return best, b_c


def _cluster(long_w: np.ndarray, half: int, sigma: float, thr: float,
             params: MupParams, fs: float, n_sub: int = 1) -> list[np.ndarray]:
    """Cluster candidate windows; return long templates (median waveforms)."""
    from scipy.cluster.hierarchy import fcluster, linkage

    n = long_w.shape[0]
    L = 2 * half + 1
    if n < max(5, params.min_discharges // 2):
        return []
    # cluster on the central part only: the unit's own spikes, little overlap
    hc = min(half, max(2, int(round(params.cluster_window_ms * 1e-3 * fs))))
    c0 = 2 * half
    X = long_w[:, c0 - hc : c0 + hc + 1].astype(np.float64)
    Xc = X - X.mean(axis=0)
    # principal axes from the covariance (cheaper than an SVD of the data)
    w, v = np.linalg.eigh(Xc.T @ Xc)
    F = Xc @ v[:, ::-1][:, : params.n_pca]
    Z = linkage(F, method="ward")
    labels = fcluster(Z, t=params.max_clusters, criterion="maxclust")
    clusters = []
    for lab in np.unique(labels):
        idx = np.flatnonzero(labels == lab)
        clusters.append([np.median(long_w[idx], axis=0), idx.size])
    clusters = _merge(clusters, half, sigma, params, n_sub)
    min_n = max(3, int(np.ceil(params.min_cluster_fraction * n)))
    out = [t for t, c in clusters if c >= min(min_n, params.min_discharges)
           and np.abs(t[half : half + L]).max() > thr]
    return out


def _merge(clusters: list, half: int, sigma: float, params: MupParams, n_sub: int = 1) -> list:
    """Merge clusters whose templates are indistinguishable (see module docs).

    ``clusters`` are ``[long template, count, ...]`` lists; the closest
    eligible pair (sub-sample aligned, :func:`_template_distance`) is merged
    first, keeping the template of the cluster that was larger at the start,
    until no pair is eligible.
    """
    L = 2 * half + 1
    clusters = sorted(clusters, key=lambda c: -c[1])
    K = len(clusters)
    if K < 2:
        return clusters
    shifted = [np.stack([_frac_shift(c[0], p / n_sub) for p in range(n_sub)]) for c in clusters]
    score = np.full((K, K), np.inf)
    for i in range(K):
        ci = clusters[i][0][half : half + L]
        rms_i = np.sqrt((ci ** 2).mean())
        for j in range(i + 1, K):
            d, cj = _template_distance(clusters[i][0], shifted[j], half)
            sup = np.maximum(np.abs(ci), np.abs(cj)) > sigma
            n_sup = int(np.count_nonzero(sup))
            d_sup = float(((ci - cj)[sup] ** 2).sum())
            noise_limit = params.merge_noise_k * max(1, n_sup) * sigma**2
            rms = max(rms_i, np.sqrt((cj ** 2).mean()))
            if d_sup < noise_limit or np.sqrt(d / L) < params.merge_rel * rms:
                score[i, j] = d
                log.debug("merge candidates %d-%d (n %d, %d): %.2f of the noise limit",
                          i, j, clusters[i][1], clusters[j][1], d_sup / noise_limit)
    alive = np.ones(K, dtype=bool)
    while True:
        live = score[np.ix_(alive, alive)]
        if not np.isfinite(live).any():
            break
        idx = np.flatnonzero(alive)
        i, j = np.unravel_index(int(np.argmin(live)), live.shape)
        i, j = int(idx[i]), int(idx[j])
        clusters[i][1] += clusters[j][1]  # keep the bigger cluster's template
        alive[j] = False
    return [c for c, ok in zip(clusters, alive) if ok]


def _dedupe(pos: np.ndarray, scores: np.ndarray, gap: float) -> np.ndarray:
    """Indices to keep so that no two discharges of a unit are closer than ``gap``.

    Runs of discharges closer than ``gap`` to their neighbour are one
    discharge seen twice (a polyphasic unit matched at two spikes, or a
    residual matched again); the best-scoring member of each run is kept.
    """
    if pos.size < 2:
        return np.arange(pos.size)
    order = np.argsort(pos, kind="stable")
    p = pos[order]
    run_start = np.concatenate(([True], np.diff(p) >= gap))
    run_id = np.cumsum(run_start) - 1
    sc = scores[order]
    best = {}
    for i, r in enumerate(run_id):
        if r not in best or sc[i] > sc[best[r]]:
            best[r] = i
    return np.sort(order[list(best.values())])


def _violations(train: np.ndarray, lo: float, hi: float) -> float:
    """Fraction of ISIs in [lo, hi) samples (refractory violations)."""
    if train.size < 2:
        return 0.0
    isi = np.diff(np.sort(train))
    return float(np.mean((isi >= lo) & (isi < hi)))


def _cross_close(ta: np.ndarray, tb: np.ndarray, lo: float, hi: float) -> int:
    """Pairs (one discharge of each sorted train) whose distance lies in [lo, hi)."""
    if ta.size == 0 or tb.size == 0:
        return 0
    n = (np.searchsorted(ta, tb + hi, side="left") - np.searchsorted(ta, tb + lo, side="left")
         + np.searchsorted(ta, tb - lo, side="right") - np.searchsorted(ta, tb - hi, side="right"))
    return int(n.sum())


def _train_merge(long_t: list[np.ndarray], trains: list[np.ndarray], half: int, fs: float,
                 params: MupParams, return_groups: bool = False,
                 span: float | None = None) -> list[int]:
    """Merge units that are one unit seen from two of its spikes (or split by noise).

    Two units are merged when their templates are alike (normalised
    cross-correlation ≥ ``train_merge_corr`` at the best shift, energies
    within a factor ``train_merge_energy``) and their discharges together
    still respect the refractory period: the union of the trains has no
    more ISIs in [``duplicate_ms``, ``refractory_ms``) than the worse of the
    two plus ``train_merge_viol``; two different units firing independently
    would fill that interval. With ``span`` (the recording's length in
    samples), where two independent trains of their sizes would give at
    least ``train_merge_min_expected`` pairs of discharges (one from each)
    closer than that, [``duplicate_ms``, ``refractory_ms``) (n_a · n_b · 2 ·
    (refractory − duplicate) / span), the count of such pairs decides
    instead: at most ``train_merge_cross`` × the expected number joins them.
    The halves of one unit split by noise only come that close through
    their few wrong members, however contaminated either is already, while
    the violation rule lets an already mixed train absorb anything. Returns
    the indices of the units kept (the member with most discharges
    represents a merged group), or with ``return_groups`` each unit's
    representative.
    """
    from numpy.lib.stride_tricks import sliding_window_view

    K = len(long_t)
    L = 2 * half + 1
    lo = params.duplicate_ms * 1e-3 * fs
    hi = params.refractory_ms * 1e-3 * fs
    cands = []
    for a in range(K):
        ac = long_t[a][half : half + L].astype(np.float64)
        na = np.sqrt((ac * ac).sum())
        for b in range(K):
            if b == a or trains[a].size < trains[b].size or (trains[a].size == trains[b].size and b < a):
                continue
            segs = sliding_window_view(long_t[b].astype(np.float64), L)
            nb = np.sqrt((segs * segs).sum(axis=1))
            c = (segs @ ac) / np.maximum(na * nb, 1e-12)
            k = int(np.argmax(c))
            ratio = (nb[k] / max(na, 1e-12)) ** 2
            e = params.train_merge_energy
            if c[k] >= params.train_merge_corr and 1 / e <= ratio <= e:
                cands.append((float(c[k]), a, b))
    root = list(range(K))
    group_train = {i: np.sort(trains[i]) for i in range(K)}
    for _c, a, b in sorted(cands, reverse=True):
        if root[a] != a or root[b] != b:
            continue
        ta, tb = group_train[a], group_train[b]
        union = np.sort(np.concatenate([ta, tb]))
        expected = ta.size * tb.size * 2.0 * (hi - lo) / span if span else 0.0
        if params.train_merge_cross > 0 and expected >= params.train_merge_min_expected:
            join = _cross_close(ta, tb, lo, hi) <= params.train_merge_cross * expected
            how = "cross pairs"
        else:
            v = _violations(union, lo, hi)
            join = v <= max(_violations(ta, lo, hi), _violations(tb, lo, hi)) + params.train_merge_viol
            how = "violations"
        if join:
            log.debug("train merge %d <- %d (n %d, %d, corr %.2f) by %s", a, b, ta.size, tb.size, _c, how)
            root[b] = a
            group_train[a] = union
    if return_groups:
        return root
    return [i for i in range(K) if root[i] == i]


def _variability(items: np.ndarray, sigma: float, half: int) -> np.ndarray:
    """Discharge-to-discharge SD of a unit per sample, beyond the noise.

    Robust SD (MAD × 1.4826) across the unit's aligned windows, with the
    background noise SD ``sigma`` removed in quadrature: what jitter and
    amplitude variation leave in the residual after the template is
    subtracted. Computed on the matched part (±``half`` around the centre of
    the ``4 * half + 1`` windows); zero elsewhere.
    """
    c = items[:, half : 3 * half + 1]
    med = np.median(c, axis=0)
    sd = np.median(np.abs(c - med), axis=0) * 1.4826
    out = np.zeros(items.shape[1], dtype=np.float32)
    out[half : 3 * half + 1] = np.sqrt(np.maximum(sd * sd - sigma * sigma, 0.0))
    return out


def _median_isi(pos: np.ndarray, fs: float, params: MupParams) -> float:
    """Median ISI (samples) within ``isi_range_ms``; 0 with fewer than 3 such ISIs."""
    if pos.size < 4:
        return 0.0
    isi = np.diff(np.sort(pos))
    lo, hi = (v * 1e-3 * fs for v in params.isi_range_ms)
    isi = isi[(isi >= lo) & (isi <= hi)]
    return float(np.median(isi)) if isi.size >= 3 else 0.0


def _regular_isi(pos: np.ndarray, fs: float, params: MupParams) -> float:
    """Median ISI (samples) of a regularly firing unit, else 0.

    Regular: at least ``min_discharges`` discharges, at least 3 ISIs within
    ``isi_range_ms`` and a robust coefficient of variation of those ISIs
    (1.4826 × MAD / median) of at most ``train_max_cv``. The robust spread
    is little affected by the few doubled intervals of missed discharges or
    the short ones of wrong members; two units mixed in one train are
    irregular.
    """
    if pos.size < max(4, params.min_discharges):
        return 0.0
    cv = _robust_cv(pos, fs, params)
    return _median_isi(pos, fs, params) if cv <= params.train_max_cv else 0.0


def _robust_cv(pos: np.ndarray, fs: float, params: MupParams) -> float:
    """Robust ISI CV (1.4826 × MAD / median of the ISIs within ``isi_range_ms``); NaN if < 3."""
    isi = np.diff(np.sort(pos))
    lo, hi = (v * 1e-3 * fs for v in params.isi_range_ms)
    isi = isi[(isi >= lo) & (isi <= hi)]
    if isi.size < 3:
        return float("nan")
    med = float(np.median(isi))
    return 1.4826 * float(np.median(np.abs(isi - med))) / med


def _union_merge(trains: list[np.ndarray], fs: float, params: MupParams) -> list[int]:
    """Join two units whose trains together fire more regularly than either (``train_union_merge``).

    A unit split by the sorting into two trains, its discharges falling
    into one or the other more or less at random, leaves two irregular
    trains (each misses discharges the other holds) whose union is the
    unit's regular train; two independent units together are less regular
    than the more regular of them. Two units join when the robust ISI CV of
    their union (:func:`_robust_cv`) is at most ``train_max_cv`` and at least
    ``train_union_merge`` below that of each, and the union's fraction of
    ISIs in [``duplicate_ms``, ``refractory_ms``) exceeds the worse of the
    two by at most ``train_merge_viol``. Best improvement first; each unit
    joins at most once. Returns, per unit, the index of the unit it joins
    (the larger one) or -1.
    """
    n = len(trains)
    lo = params.duplicate_ms * 1e-3 * fs
    hi = params.refractory_ms * 1e-3 * fs
    cv = [_robust_cv(t, fs, params) for t in trains]
    viol = [_violations(t, lo, hi) for t in trains]
    cands = []
    for a in range(n):
        for b in range(a + 1, n):
            if not (np.isfinite(cv[a]) and np.isfinite(cv[b])):
                continue
            union = np.sort(np.concatenate([trains[a], trains[b]]))
            cu = _robust_cv(union, fs, params)
            gain = min(cv[a], cv[b]) - cu
            if (cu <= params.train_max_cv and gain >= params.train_union_merge
                    and _violations(union, lo, hi) <= max(viol[a], viol[b]) + params.train_merge_viol):
                cands.append((gain, a, b))
    into = [-1] * n
    used = [False] * n
    for gain, a, b in sorted(cands, reverse=True):
        if used[a] or used[b]:
            continue
        big, small = (a, b) if trains[a].size >= trains[b].size else (b, a)
        into[small] = big
        used[a] = used[b] = True
        log.debug("train union merge %d <- %d (CV %.2f lower)", big, small, gain)
    return into


def _train_steps(resid, T, n_sub, anchors, dead, shift, params, starts, units, subs, scores, late,
                 train_isi, dup, valid, train_reassign, train_gaps):
    """Firing-train steps of the last round (``train_reassign``, then ``train_gap_fill``).

    ``train_isi`` holds each unit's median ISI in samples (0: not regular,
    :func:`_regular_isi`). Discharges found in gaps are flagged ``late``
    (kept out of the wide-band templates with ``template_skip_late``).
    """
    starts, units, subs = starts.copy(), units.copy(), subs.copy()
    scores = scores.astype(np.float32, copy=True)
    K = T.shape[0] // n_sub
    lo_g, hi_g = params.train_gap_range
    if params.train_reassign:
        tpos, tofs = _trains_csr(starts, units, subs, T, n_sub, K)
        n_moved = train_reassign(resid, T, n_sub, anchors, dead, shift, params.accept_frac,
                                 starts, units, subs, scores, tpos, tofs, train_isi,
                                 params.train_short_frac, lo_g, hi_g, params.train_margin, dup,
                                 True)
        log.debug("train re-assignment: %d discharges moved", n_moved)
    if params.train_gap_fill:
        tpos, tofs = _trains_csr(starts, units, subs, T, n_sub, K)
        gs, gu, gb, gsc = train_gaps(resid, T, n_sub, tpos, tofs, train_isi, lo_g, hi_g,
                                     params.train_gap_reach, params.train_gap_accept, valid)
        log.debug("train gap search: %d discharges found", gs.size)
        starts = np.concatenate([starts, gs])
        units = np.concatenate([units, gu])
        subs = np.concatenate([subs, gb])
        scores = np.concatenate([scores, gsc])
        late = np.concatenate([late, np.ones(gs.size, dtype=bool)])
    return starts, units, subs, scores, late


def _repair_close(resid, T, n_sub, xc, reach, params, sigma, starts, units, subs, scores,
                  min_isi, dup, resolve_pairs):
    """Re-decide pairs of discharges whose main peaks lie within ``reach`` jointly.

    Two units firing within a fraction of a ms of each other are decided one
    after the other by peeling and refitting: the first fit absorbs part of
    the second, and the second is then fitted to what is left, often as a
    third unit that matches the remainder. Here, for each such pair
    (disjoint, closest first), the smaller discharge is added back to the
    residual and the larger one is tested by :func:`~motorsign.mup.kernels.resolve_pairs`
    for the best two units explaining both (the same acceptance rules and
    firing veto); when no pair wins, the smaller discharge is subtracted
    again unchanged.
    """
    ok = np.flatnonzero(units >= 0)
    if ok.size < 2:
        return starts, units, subs, scores
    rows = units[ok] * n_sub + subs[ok]
    pk = np.argmax(np.abs(T), axis=1)
    pos = starts[ok] + pk[rows]
    order = np.argsort(pos, kind="stable")
    e_sorted, p_sorted = ok[order], pos[order]
    close = np.flatnonzero(np.diff(p_sorted) <= reach)
    if close.size == 0:
        return starts, units, subs, scores
    norms = (T.astype(np.float64) ** 2).sum(axis=1)
    used = np.zeros(starts.size, dtype=bool)
    big, small = [], []
    for i in close[np.argsort(np.diff(p_sorted)[close], kind="stable")]:
        a, b = e_sorted[i], e_sorted[i + 1]
        if used[a] or used[b]:
            continue
        used[a] = used[b] = True
        na, nb = norms[units[a] * n_sub + subs[a]], norms[units[b] * n_sub + subs[b]]
        big.append(a if na >= nb else b)
        small.append(b if na >= nb else a)
    big, small = np.array(big), np.array(small)
    L = T.shape[1]
    for e in small:
        resid[starts[e] : starts[e] + L] += T[units[e] * n_sub + subs[e]]
    t_units = np.full(units.size, -1, dtype=np.int64)
    t_units[big] = units[big]
    t_starts, t_subs = starts.copy(), subs.copy()
    t_scores = scores.copy()
    t_scores[big] = -1.0  # resolve_pairs writes a score only where a pair wins
    tpos, tofs = _trains_csr(starts, units, subs, T, n_sub, T.shape[0] // n_sub)
    ps, pu, pb, psc, _ = resolve_pairs(
        resid, T, n_sub, xc, reach, params.accept_frac, params.pair_gain, 0.0, sigma,
        t_starts, t_units, t_subs, t_scores, tpos, tofs, min_isi, dup)
    for e, s_e in zip(big, small):
        if t_scores[e] >= 0:  # the pair replaces both discharges
            units[s_e] = -1
            starts[e], units[e], subs[e], scores[e] = t_starts[e], t_units[e], t_subs[e], t_scores[e]
        else:
            resid[starts[s_e] : starts[s_e] + L] -= T[units[s_e] * n_sub + subs[s_e]]
    return (np.concatenate([starts, ps]), np.concatenate([units, pu]),
            np.concatenate([subs, pb]), np.concatenate([scores, psc]))


def _trains_csr(starts: np.ndarray, units: np.ndarray, subs: np.ndarray, T: np.ndarray,
                n_sub: int, n_units: int) -> tuple[np.ndarray, np.ndarray]:
    """Main-peak positions of each unit's discharges, sorted, in CSR layout."""
    pk = np.argmax(np.abs(T), axis=1)
    ok = units >= 0
    u = units[ok]
    pos = starts[ok] + pk[u * n_sub + subs[ok]]
    order = np.lexsort((pos, u))
    tofs = np.zeros(n_units + 1, dtype=np.int64)
    np.cumsum(np.bincount(u, minlength=n_units), out=tofs[1:])
    return np.ascontiguousarray(pos[order].astype(np.int64)), tofs


def _prepare_templates(long_t: list[np.ndarray], half: int, n_sub: int, params: MupParams,
                       long_var: list[np.ndarray] | None = None, sigma: float = 0.0,
                       ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Template rows (every sub-sample delay), anchors and residual floors.

    Outside the span where a row exceeds ``template_support_k`` × ``sigma``
    it is set to zero: those samples lie below the noise and only cost time
    (the kernels skip a row's zero ends).
    """
    L = 2 * half + 1
    rows, floors = [], []
    anchors = np.full((len(long_t), 4), -1, dtype=np.int64)
    for u, t in enumerate(long_t):
        c = t[half : half + L]
        a = _anchors(c, params.anchor_frac)
        anchors[u, : a.size] = a
        for p in range(n_sub):
            row = _frac_shift(t, p / n_sub)[half : half + L].copy()
            big = np.flatnonzero(np.abs(row) > params.template_support_k * sigma)
            if big.size and sigma > 0:
                row[: big[0]] = 0.0
                row[big[-1] + 1 :] = 0.0
            rows.append(row)
            if long_var is None:
                floors.append(np.zeros(L, np.float32))
            else:
                floors.append(params.residual_var_k * long_var[u][half : half + L])
    return (np.ascontiguousarray(np.array(rows, dtype=np.float32)), anchors,
            np.ascontiguousarray(np.array(floors, dtype=np.float32)))


def _relabel_match(match, resid, T, long_m, half, n_sub, anchors, dead, shift, params, sigma_m,
                   starts, units, subs, scores, kernel):
    """Re-decide each discharge's unit on the match band (``match_highpass_hz``).

    Builds the match-band template rows and residual, then runs
    :func:`~motorsign.mup.kernels.relabel_wide` (``kernel``), one sweep.
    ``resid`` (detection band) is updated in place; returns new ``starts, units, subs, scores`` arrays.
    """
    starts, units, subs = starts.copy(), units.copy(), subs.copy()
    scores = np.asarray(scores).astype(np.float32, copy=True)
    TM = _prepare_templates(long_m, half, n_sub, params, None, sigma_m)[0]
    mres = _match_residual(match, TM, n_sub, starts, units, subs)
    n_mv = kernel(resid, T, mres, TM, n_sub, anchors, dead, shift, params.accept_frac,
                  params.relabel_margin, starts, units, subs, scores)
    log.debug("match band: %d of %d discharges moved to another unit", n_mv, starts.size)
    return starts, units, subs, scores


def _relabel_var(resid, T, long_sd, half, n_sub, anchors, dead, shift, params, sigma,
                 starts, units, subs, scores, late, kernel):
    """Re-decide each discharge's unit by likelihood with each unit's variability (``relabel_var``).

    Builds the per-unit variance rows (noise-free discharge-to-discharge SD
    squared over the template window) and runs
    :func:`~motorsign.mup.kernels.relabel_var` (``kernel``), one sweep.
    ``resid`` is updated in place; returns new ``starts, units, subs, scores,
    late`` arrays (with ``relabel_var_skip_moved``, a moved discharge is
    marked ``late``: its window stays out of the MUP templates).
    """
    before = units
    starts, units, subs = starts.copy(), units.copy(), subs.copy()
    scores = np.asarray(scores).astype(np.float32, copy=True)
    L = T.shape[1]
    var = np.ascontiguousarray(np.array([np.square(sd[half : half + L], dtype=np.float64)
                                         for sd in long_sd], dtype=np.float32))
    n_mv = kernel(resid, T, var, float(sigma) ** 2, n_sub, anchors, dead, shift, params.accept_frac,
                  params.relabel_var_margin, params.relabel_var_tie, starts, units, subs, scores)
    log.debug("relabel_var: %d of %d discharges moved to another unit", n_mv, starts.size)
    if params.relabel_var_skip_moved:
        late = late | (units != before)
    return starts, units, subs, scores, late


def _match_residual(match: np.ndarray, TM: np.ndarray, n_sub: int, starts: np.ndarray,
                    units: np.ndarray, subs: np.ndarray) -> np.ndarray:
    """Match-band signal minus every discharge's match-band template at its alignment.

    Parameters
    ----------
    match : ndarray
        The chunk's match-band signal.
    TM : ndarray (n_units * n_sub, L)
        Match-band template rows (:func:`_prepare_templates`).
    n_sub : int
    starts, units, subs : ndarray
        The chunk's discharges (template start, unit, sub-sample row).

    Returns
    -------
    ndarray (float32)
    """
    out = np.array(match, dtype=np.float32, copy=True)
    L = TM.shape[1]
    for st, u, b in zip(starts, units, subs):
        if u >= 0:
            out[st : st + L] -= TM[u * n_sub + b]
    return out


def sort_channel(source: ChannelSource, params: MupParams, engine: str = "numba") -> SortResult:
    """Detect and sort the MUP discharges of one channel.

    Parameters
    ----------
    source : ChannelSource
        The channel's filtered chunks.
    params : MupParams
    engine : {"numba", "numpy"}
        Kernels: compiled (default) or the plain numpy/scipy versions.

    Returns
    -------
    SortResult
    """
    if engine == "numba":
        from motorsign.mup.kernels import (
            clip_mask,
            detect_peaks,
            peel,
            refit,
            relabel_var,
            relabel_wide,
            resolve_pairs,
            split_close,
            template_xcorr,
            train_gaps,
            train_reassign,
        )
    elif engine == "numpy":
        # the firing-train steps, split_close and the re-labelling steps have no numpy version yet:
        # the compiled ones are used
        from motorsign.mup.kernels import (
            relabel_var,
            relabel_wide,
            split_close,
            train_gaps,
            train_reassign,
        )
        from motorsign.mup.numpy_impl import clip_mask_np as clip_mask
        from motorsign.mup.numpy_impl import detect_peaks_np as detect_peaks
        from motorsign.mup.numpy_impl import peel_np as peel
        from motorsign.mup.numpy_impl import refit_np as refit
        from motorsign.mup.numpy_impl import resolve_pairs_np as resolve_pairs
        from motorsign.mup.numpy_impl import template_xcorr_np as template_xcorr
    else:
        raise ValueError(f"engine must be 'numba' or 'numpy', got {engine!r}")
    fs = source.fs
    res = SortResult(fs=fs, n_samples=source.n)
    half = max(2, int(round(params.window_ms * 1e-3 * fs)))
    half2 = 2 * half
    dead = max(1, int(round(params.dead_ms * 1e-3 * fs)))
    n_sub = max(1, int(np.ceil((1e6 / fs) / params.subsample_us)))
    shift = max(1, int(round(params.anchor_shift_ms * 1e-3 * fs)))
    reach = max(1, int(round(params.pair_reach_ms * 1e-3 * fs)))
    pre = int(round(params.quant_pre_ms * 1e-3 * fs))
    post = int(round(params.quant_post_ms * 1e-3 * fs))
    res.wide_pre = pre
    guard = int(round(params.clip_guard_ms * 1e-3 * fs))
    # the raw signal of a resampled channel is its samples repeated (preprocess)
    clip_run = params.clip_run * int(getattr(source, "up", 1))
    rng = np.random.default_rng(_SEED)
    rng_wide = np.random.default_rng(_SEED + 1)
    rng_late = np.random.default_rng(_SEED + 2)

    # 1. statistics
    lo_v, hi_v = np.inf, -np.inf
    mads, weights, sq, n_tot = [], [], 0.0, 0
    use_match = params.match_highpass_hz > 0
    mads_m = []
    for ch in source.chunks():
        core = slice(ch.start - ch.offset, ch.stop - ch.offset)
        raw = ch.raw[core]
        if raw.size == 0:
            continue
        lo_v, hi_v = min(lo_v, float(raw.min())), max(hi_v, float(raw.max()))
        mads.append(float(np.median(np.abs(ch.det[core]))) / 0.6745)
        if use_match:
            mads_m.append(float(np.median(np.abs(ch.match[core]))) / 0.6745)
        weights.append(raw.size)
        w = ch.wide[core].astype(np.float64)
        sq += float((w * w).sum())
        n_tot += raw.size
    if n_tot == 0:
        return res
    sigma = float(np.average(mads, weights=weights))
    sigma_m = float(np.average(mads_m, weights=weights)) if use_match else 0.0
    res.noise_sd_uv = sigma
    res.signal_rms_uv = float(np.sqrt(sq / n_tot))
    thr = params.detect_k * sigma
    res.threshold_uv = thr
    thr_peel = min(thr, params.peel_k * sigma) if params.peel_k > 0 else thr
    if not sigma > 0:
        return res

    # 2. candidates
    reservoir = _Reservoir(params.max_cluster_events, rng)
    win = max(1, int(round(params.activity_window_ms * 1e-3 * fs)))
    active_windows = set()
    n_invalid = 0
    n_cand = 0
    for ch in source.chunks():
        valid = clip_mask(ch.raw, lo_v, hi_v, clip_run, guard)
        core = slice(ch.start - ch.offset, ch.stop - ch.offset)
        n_invalid += int((valid[core] == 0).sum())
        peaks = detect_peaks(ch.det, thr, dead, valid)
        pos = peaks + ch.offset
        keep = (pos >= ch.start) & (pos < ch.stop)
        for q, p in zip(peaks[keep], pos[keep]):
            n_cand += 1
            active_windows.add(int(p // win))
            w = _window(ch.det, int(q), half2, half2)
            if w is not None:
                reservoir.add(np.array(w, dtype=np.float32))
    res.n_candidates = n_cand
    res.clipped_fraction = n_invalid / max(1, source.n)
    res.active_s = len(active_windows) * win / fs
    if not reservoir.items:
        return res

    # 3. clustering
    long_t = _cluster(np.array(reservoir.items), half, sigma, thr_peel, params, fs, n_sub)
    log.debug("sort: %d candidates, %d clusters (threshold %.1f µV)", n_cand, len(long_t), thr)
    if not long_t:
        return res

    # 4-5. peeling and refinement
    rounds = 1 + max(1, params.n_refine)
    offsets = np.zeros(len(long_t), dtype=np.float64)
    long_var = None  # known from the first sorted discharges on
    min_isi = np.zeros(len(long_t))  # plausible shortest ISI per unit (samples), 0: unknown
    train_isi = np.zeros(len(long_t))  # median ISI of each regular unit (samples), 0: not regular
    long_m = None  # match-band templates (match_highpass_hz), from the first sorted discharges on
    long_sd = None  # each unit's discharge-to-discharge SD (relabel_var), from the first sort on
    gap = params.duplicate_ms * 1e-3 * fs
    for r in range(rounds):
        final = r == rounds - 1
        T, anchors, floors = _prepare_templates(long_t, half, n_sub, params, long_var, sigma)
        # the fixed fraction rule until each unit's own variability is measured
        tol = params.residual_tol if long_var is None else 0.0
        xc = None
        K = len(long_t)
        det_res = [_Reservoir(params.max_template_avg, rng) for _ in range(K)]
        wide_res = [_Reservoir(params.max_template_avg, rng_wide) for _ in range(K)]
        # windows of re-peeled discharges: used only by a unit with too few others
        late_res = [_Reservoir(params.max_template_avg, rng_late) for _ in range(K)]
        pos_all: list[list[float]] = [[] for _ in range(K)]
        src_all: list[list[int]] = [[] for _ in range(K)]  # unit that found each discharge
        score_all: list[list[float]] = [[] for _ in range(K)]
        n_unassigned = 0
        for ch in source.chunks():
            valid = clip_mask(ch.raw, lo_v, hi_v, clip_run, guard)
            resid = ch.det.copy()
            starts, units, subs, scores = peel(
                resid, T, n_sub, anchors, thr_peel, dead, shift, params.accept_frac,
                params.n_passes, valid, tol, floors,
            )
            # discharges found by a later overlap round's re-peel: in the trains,
            # not in the wide-band templates (see the wide-band reservoir below)
            late = np.zeros(starts.size, dtype=bool)
            if params.refit_iter > 0 and (final or params.refit_all_rounds) and starts.size:
                starts, units, subs = starts.copy(), units.copy(), subs.copy()
                scores, _ = refit(resid, T, n_sub, anchors, dead, shift, params.accept_frac,
                                  params.refit_iter, starts, units, subs)
                if params.pair_gain > 0 and final:
                    if xc is None:
                        xc = template_xcorr(T)
                    for o_round in range(max(1, params.overlap_rounds)):
                        if o_round > 0:
                            # peel the residual again: peaks the first pass left under the
                            # residual floors of its early (often wrong) fits, then re-decide
                            # every discharge and look for pairs again (triples, chains)
                            kept = units >= 0
                            starts, units, subs = starts[kept], units[kept], subs[kept]
                            late = late[kept]
                            s2, u2, b2, _ = peel(
                                resid, T, n_sub, anchors, thr_peel, dead, shift,
                                params.accept_frac, params.n_passes, valid, tol, floors)
                            starts = np.concatenate([starts, s2])
                            units = np.concatenate([units, u2])
                            subs = np.concatenate([subs, b2])
                            late = np.concatenate([late, np.ones(s2.size, dtype=bool)])
                            scores, _ = refit(resid, T, n_sub, anchors, dead, shift,
                                              params.accept_frac, 1, starts, units, subs)
                        if params.relabel_var and long_sd is not None and K > 1:
                            # unit choice by likelihood with each unit's variability, before
                            # the pairs are looked for (relabel_var)
                            kept = units >= 0
                            starts, units, subs, scores = starts[kept], units[kept], subs[kept], scores[kept]
                            late = late[kept]
                            starts, units, subs, scores, late = _relabel_var(
                                resid, T, long_sd, half, n_sub, anchors, dead, shift, params, sigma,
                                starts, units, subs, scores, late, relabel_var)
                        tpos, tofs = _trains_csr(starts, units, subs, T, n_sub, K)
                        ps, pu, pb, psc, _ = resolve_pairs(
                            resid, T, n_sub, xc, reach, params.accept_frac, params.pair_gain,
                            params.pair_trigger, sigma, starts, units, subs, scores,
                            tpos, tofs, min_isi, int(gap))
                        starts = np.concatenate([starts, ps])
                        units = np.concatenate([units, pu])
                        subs = np.concatenate([subs, pb])
                        scores = np.concatenate([scores, psc])
                        if params.pair_close:
                            starts, units, subs, scores = _repair_close(
                                resid, T, n_sub, xc, reach, params, sigma, starts, units, subs,
                                scores, min_isi, int(gap), resolve_pairs)
                        late = np.concatenate([late, np.zeros(starts.size - late.size, dtype=bool)])
                kept = units >= 0
                starts, units, subs, scores = starts[kept], units[kept], subs[kept], scores[kept]
                late = late[kept]
            if final and use_match and long_m is not None \
                    and starts.size and K > 1:
                # unit choice on the wider match band; alignment and acceptance on the
                # detection band (docs/mup.md, *Match band*)
                before = units.copy()
                starts, units, subs, scores = _relabel_match(
                    ch.match, resid, T, long_m, half, n_sub, anchors, dead, shift, params, sigma_m,
                    starts, units, subs, scores, relabel_wide)
                if params.template_skip_moved:
                    # a moved discharge's window stays out of the MUP templates, as a re-peeled one
                    late = late | (units != before)
            if final and params.relabel_var and long_sd is not None and starts.size and K > 1:
                # unit choice by likelihood with each unit's own variability (relabel_var)
                starts, units, subs, scores, late = _relabel_var(
                    resid, T, long_sd, half, n_sub, anchors, dead, shift, params, sigma,
                    starts, units, subs, scores, late, relabel_var)
            if final and (params.train_reassign or params.train_gap_fill) and starts.size \
                    and np.any(train_isi > 0):
                starts, units, subs, scores, late = _train_steps(
                    resid, T, n_sub, anchors, dead, shift, params, starts, units, subs, scores,
                    late, train_isi, int(gap), valid, train_reassign, train_gaps)
            if final and params.split_close and starts.size:
                # two fits of one unit closer than one neuron can fire again: one
                # discharge fitted twice, or two discharges (decided on the signal; the
                # template rounds before keep the plain duplicate rule, duplicate_ms)
                starts, units, subs = starts.copy(), units.copy(), subs.copy()
                scores = scores.astype(np.float32, copy=True)
                n_t, n_m = split_close(resid, T, n_sub, anchors, dead, shift, params.accept_frac,
                                       int(gap), starts, units, subs, scores)
                log.debug("close fits of one unit: %d pairs tested, %d made one discharge", n_t, n_m)
                kept = units >= 0
                starts, units, subs, scores = starts[kept], units[kept], subs[kept], scores[kept]
                late = late[kept]
            if final:
                left = detect_peaks(resid, thr, dead, valid) + ch.offset
                n_unassigned += int(((left >= ch.start) & (left < ch.stop)).sum())
            posf = starts + half + subs / n_sub  # event position in chunk samples
            for pf, u, sc, lt in zip(posf, units, scores, late):
                pc = pf + ch.offset
                if not ch.start <= pc < ch.stop:
                    continue
                qi = int(round(pf))
                adv = qi - pf  # delay that centres the discharge in its window
                pos_all[u].append(pc)
                score_all[u].append(float(sc))
                w = _window(ch.det, qi, half2, half2)
                if w is not None:
                    item = (np.array(w, dtype=np.float32), adv, pc)
                    if use_match:
                        item += (np.array(ch.match[qi - half2 : qi + half2 + 1], dtype=np.float32),)
                    det_res[u].add(item)
                if final:  # wide-band templates are only measured on the final sort
                    # a re-peeled discharge lay under other units' residual: its window
                    # holds parts of them, which would lengthen the unit's median MUP
                    ww = _window(ch.wide, qi, pre, post)
                    if ww is not None:
                        is_late = lt and params.template_skip_late
                        (late_res if is_late else wide_res)[u].add((np.array(ww, dtype=np.float32), adv, pc))
                    src_all[u].append(u)
        gap = params.duplicate_ms * 1e-3 * fs
        # last round: close pairs of one unit were already decided on the signal
        # (split_close); only fits closer than duplicate_min_ms are one discharge here
        gdd = (params.duplicate_min_ms if final and params.split_close else params.duplicate_ms) * 1e-3 * fs
        for u in range(K):
            keep_i = _dedupe(np.asarray(pos_all[u]), np.asarray(score_all[u]), gdd)
            n_unassigned += len(pos_all[u]) - keep_i.size
            pos_all[u] = [pos_all[u][i] for i in keep_i]
            score_all[u] = [score_all[u][i] for i in keep_i]
            if params.template_dedupe:
                _keep_items(det_res[u], pos_all[u])
                _keep_items(wide_res[u], pos_all[u])
                _keep_items(late_res[u], pos_all[u])
            if final:
                src_all[u] = [src_all[u][i] for i in keep_i]
        if final and K > 1:
            # last chance for a unit split in two: join trains that one neuron could fire
            big = [u for u in range(K) if len(pos_all[u]) >= params.min_discharges]
            if len(big) > 1:
                root = _train_merge([long_t[u] for u in big],
                                    [np.asarray(pos_all[u]) for u in big], half, fs, params,
                                    return_groups=True, span=source.n)
                for k, u in enumerate(big):
                    rep = big[root[k]]
                    if rep != u:
                        pos_all[rep] += pos_all[u]
                        score_all[rep] += score_all[u]
                        src_all[rep] += src_all[u]
                        pos_all[u], score_all[u], src_all[u] = [], [], []
                if params.train_union_merge > 0:
                    # two trains that fire more regularly together than apart: one unit
                    alive = [u for u in big if pos_all[u]]
                    into = _union_merge([np.sort(np.asarray(pos_all[u])) for u in alive], fs, params)
                    for k, u in enumerate(alive):
                        if into[k] >= 0:
                            rep = alive[into[k]]
                            pos_all[rep] += pos_all[u]
                            score_all[rep] += score_all[u]
                            src_all[rep] += src_all[u]
                            pos_all[u], score_all[u], src_all[u] = [], [], []
                for u in big:
                    keep_i = _dedupe(np.asarray(pos_all[u]), np.asarray(score_all[u]), gdd)
                    n_unassigned += len(pos_all[u]) - keep_i.size
                    pos_all[u] = [pos_all[u][i] for i in keep_i]
                    score_all[u] = [score_all[u][i] for i in keep_i]
                    src_all[u] = [src_all[u][i] for i in keep_i]
        counts = np.array([len(p) for p in pos_all])
        log.debug("sort round %d: discharges per unit %s", r, counts.tolist())
        keep = np.flatnonzero(counts >= params.min_discharges)
        wide_t, wide_items = [], []
        for u in range(K):
            if len(wide_res[u].items) < params.min_discharges:
                wide_res[u].items += late_res[u].items  # too few clean windows: use them all
            if wide_res[u].items:
                wide_items.append(_aligned(wide_res[u].items))
                wide_t.append(np.median(wide_items[u], axis=0))
            else:
                wide_items.append(None)
                wide_t.append(None)
        if not final:
            new_long, new_off, new_pos, new_var, new_match = [], [], [], [], []
            for u in keep:
                if not det_res[u].items:
                    continue
                d_win = _aligned(det_res[u].items)
                new_long.append(np.median(d_win, axis=0).astype(np.float32))
                if use_match:
                    m_win = _frac_shift_rows(np.array([it[3] for it in det_res[u].items]),
                                             np.array([it[1] for it in det_res[u].items]))
                    new_match.append(np.median(m_win, axis=0).astype(np.float32))
                new_var.append(_variability(d_win, sigma, half))
                new_off.append(0.0)  # known from the final wide-band template
                new_pos.append(np.sort(np.asarray(pos_all[u])))
            ids = _train_merge(new_long, new_pos, half, fs, params, span=source.n)
            log.debug("sort round %d: %d units kept, %d after train merge", r, len(new_long), len(ids))
            # refined templates of one unit split in two converge: merge by shape too
            merged = _merge([[new_long[i], new_pos[i].size, i] for i in ids], half, sigma, params, n_sub)
            ids = [m[2] for m in merged]
            log.debug("sort round %d: %d units after shape merge", r, len(ids))
            new_long = [new_long[i] for i in ids]
            long_m = [new_match[i] for i in ids] if use_match else None
            new_off = [new_off[i] for i in ids]
            long_var = [new_var[i] for i in ids] if params.residual_var_k > 0 else None
            long_sd = [new_var[i] for i in ids]
            min_isi = np.array([params.pair_isi_frac * _median_isi(new_pos[i], fs, params)
                                for i in ids])
            train_isi = np.array([_regular_isi(new_pos[i], fs, params) for i in ids])
            long_t = new_long
            offsets = np.array(new_off, dtype=np.float64)
            if not long_t:
                return res
            continue
        res.n_unassigned = n_unassigned + int(counts[counts < params.min_discharges].sum())
        # discharge time = alignment + largest peak of the final wide-band template of
        # the unit that found it (the previous round's template may peak elsewhere)
        off_final = offsets[:K].copy() if offsets.size >= K else np.zeros(K)
        for u in range(K):
            if wide_t[u] is not None:
                wt = wide_t[u]
                base = np.median(np.concatenate([wt[:pre // 4 + 1], wt[-(post // 4 + 1):]]))
                off_final[u] = _peak_offset(wt - base, pre, fs)
        for u in keep:
            items = wide_items[u]
            if items is None or items.shape[0] == 0:
                continue
            mad = np.median(np.abs(items - np.median(items, axis=0)), axis=0) * 1.4826
            tnoise = float(np.median(mad)) * 1.2533 / np.sqrt(items.shape[0])
            times = (np.asarray(pos_all[u]) + off_final[np.asarray(src_all[u], dtype=np.int64)]) / fs
            order = np.argsort(times)
            res.units.append(
                UnitTrain(
                    times_s=times[order],
                    det_template=long_t[u][half : half + 2 * half + 1].copy(),
                    wide_template=wide_t[u].astype(np.float32),
                    n_averaged=int(items.shape[0]),
                    template_noise_uv=tnoise,
                    scores=np.asarray(score_all[u], dtype=np.float32)[order],
                    wide_halves=(np.stack([np.median(items[0::2], axis=0),
                                           np.median(items[1::2], axis=0)]).astype(np.float32)
                                 if items.shape[0] >= 2 else None),
                )
            )
    return res
