"""Classification of discharges from morphology and firing pattern.

Morphology first (:func:`morphology_class`), on the features of
:mod:`motorsign.spontaneous.features`:

* ``artifact``: peak-to-peak >= ``artifact_min_uv``, or inside an artifact
  interval.
* ``positive_sharp_wave``: largest peak positive and wide at half height
  (>= ``psw_min_half_width_ms``: sharp rise, slow fall), no large negative
  phase after it (most negative sample < ``psw_max_neg_ratio`` x peak).
* ``fibrillation``: first deflection positive, sharp (half width <=
  ``fib_max_half_width_ms``), amplitude <= ``fib_max_uv``.
* ``end_plate``: first deflection and largest peak negative, sharp (half width <=
  ``endplate_max_half_width_ms``), amplitude <= ``endplate_max_uv``.
* MUP-like: amplitude >= ``mup_min_uv``, duration within
  ``mup_min_duration_ms``-``mup_max_duration_ms``, and either wider than a
  single-fibre spike (half width > ``spike_max_half_width_ms``) or at least
  ``spike_mup_min_uv`` (large sharp spikes are fibrillations only when they
  fire regularly, below) (checked before the fibrillation and
  end-plate rules, after the PSW rule).
* otherwise ``unclassified``.

Then the firing pattern of each discharge's source (shape cluster,
:mod:`motorsign.spontaneous.trains`); *regular* means at least
``train_min_n`` discharges, at least ``regular_min_consistent`` of the
intervals near a multiple of the median interval, and an interval CV2 <=
``regular_max_isi_cv`` (see :class:`~motorsign.spontaneous.trains.TrainStats`):

* MUP-like at rest: a time-locked source (interval CV <= ``crd_max_isi_cv``,
  rate >= ``crd_min_rate_hz``, >= ``crd_min_phases`` phases) is
  ``complex_repetitive``; a regular source of small sharp spikes (<=
  ``fib_max_uv``, half width <= ``fib_max_half_width_ms``, first
  deflection positive, rate >= ``fib_min_rate_hz``) is a ``fibrillation``
  train; a regular source firing
  at >= ``voluntary_min_rate_hz`` is a voluntary ``motor_unit_potential``;
  anything else (irregular or slow) is a ``fasciculation``.
* fibrillation-shaped discharges of an irregular source firing at >=
  ``endplate_min_rate_hz`` are ``end_plate`` (dense, irregular).
* one source, one kind: among a source's rest discharges classified
  fibrillation, PSW, end-plate or unclassified, the majority kind (at
  least ``source_vote_min_fraction``) is given to all.
* a fibrillation, PSW or end-plate discharge with no recurring source
  (fewer than ``train_min_n`` of its shape) and an amplitude under
  ``isolated_min_snr`` x noise is ``unclassified`` (noise crossings).
* Any discharge inside an activity interval is ``motor_unit_potential``
  when MUP-like, else ``unclassified`` (spontaneous activity is not
  analysed during contraction); inside an artifact interval, ``artifact``.

Confidence (0-1) grows with the signal-to-noise ratio and with the support
of the firing pattern (regular train for fibrillations/PSWs, recurring
irregular shape for fasciculations).
"""

from __future__ import annotations

import numpy as np

from motorsign.spontaneous.features import FEATURE_NAMES

__all__ = ["KINDS", "KIND_NAMES", "morphology_class", "classify_channel", "classify_channel_codes"]

#: Discharge kinds of the output contract.
KINDS = (
    "fibrillation",
    "positive_sharp_wave",
    "fasciculation",
    "motor_unit_potential",
    "end_plate",
    "complex_repetitive",
    "artifact",
    "unclassified",
)

_F = {name: i for i, name in enumerate(FEATURE_NAMES)}
_MUPLIKE = "mup_like"
#: Kind names by code (the rules work on small integers, not strings): the
#: contract's :data:`KINDS`, then the internal ``"mup_like"``.
KIND_NAMES = np.asarray(KINDS + (_MUPLIKE,), dtype=object)
_NAMES = KIND_NAMES
(_FIB, _PSW, _FASC, _MUP, _EP, _CRD, _ART, _UNCL, _MUPL) = range(len(_NAMES))


def morphology_class(feat: np.ndarray, p) -> np.ndarray:
    """Kind from shape alone (``"mup_like"`` still needs the firing pattern).

    Parameters
    ----------
    feat : ndarray (m, len(FEATURE_NAMES))
        Features.
    p : DetectParams
        Thresholds.

    Returns
    -------
    ndarray of object (kind names)
    """
    return _NAMES[_morphology_codes(feat, p)]


def _morphology_codes(feat: np.ndarray, p) -> np.ndarray:
    m = feat.shape[0]
    out = np.full(m, _UNCL, np.int8)
    if m == 0:
        return out
    amp = feat[:, _F["amplitude_uv"]]
    dur = feat[:, _F["duration_ms"]]
    init = feat[:, _F["initial_sign"]]
    psign = feat[:, _F["peak_sign"]]
    pos = feat[:, _F["pos_peak_uv"]]
    hw = feat[:, _F["half_width_ms"]]
    post_neg = -feat[:, _F["post_min_uv"]]
    sharp_fib = hw <= p.fib_max_half_width_ms
    spike = hw <= p.spike_max_half_width_ms
    mup = ((amp >= p.mup_min_uv) & (dur >= p.mup_min_duration_ms) & (dur <= p.mup_max_duration_ms)
           & (~spike | (amp >= p.spike_mup_min_uv)))
    ep = (init < 0) & (psign < 0) & (hw <= p.endplate_max_half_width_ms) & (amp <= p.endplate_max_uv) & ~mup
    out[ep] = _EP
    fib = (init > 0) & sharp_fib & (amp <= p.fib_max_uv) & ~mup
    out[fib] = _FIB
    out[mup] = _MUPL
    psw = (psign > 0) & (hw >= p.psw_min_half_width_ms) & (post_neg <= p.psw_max_neg_ratio * pos)
    out[psw] = _PSW
    out[amp >= p.artifact_min_uv] = _ART
    return out


def classify_channel(feat: np.ndarray, labels: np.ndarray, times_s: np.ndarray,
                     in_activity: np.ndarray, in_artifact: np.ndarray, p,
                     source_stats: dict) -> tuple[np.ndarray, np.ndarray]:
    """Final kinds and confidences of one channel's discharges.

    Parameters
    ----------
    feat : ndarray (m, n_features)
    labels : ndarray (m,)
        Source (shape cluster) of each discharge, -1 for none.
    times_s : ndarray (m,)
    in_activity, in_artifact : ndarray of bool (m,)
    p : DetectParams
    source_stats : dict
        label -> :class:`~motorsign.spontaneous.trains.TrainStats` of the
        source's rest discharges.

    Returns
    -------
    kinds : ndarray of object
    confidence : ndarray of float
    """
    codes, conf = classify_channel_codes(feat, labels, times_s, in_activity, in_artifact, p,
                                         source_stats)
    return KIND_NAMES[codes], conf


def classify_channel_codes(feat: np.ndarray, labels: np.ndarray, times_s: np.ndarray,
                           in_activity: np.ndarray, in_artifact: np.ndarray, p,
                           source_stats: dict) -> tuple[np.ndarray, np.ndarray]:
    """As :func:`classify_channel`, the kinds as codes: indices into :data:`KIND_NAMES`."""
    m = feat.shape[0]
    kinds = _morphology_codes(feat, p)
    conf = np.zeros(m)
    if m == 0:
        return kinds, conf
    amp = feat[:, _F["amplitude_uv"]]
    noise = feat[:, _F["noise_uv"]]
    phases = feat[:, _F["phases"]]
    snr = amp / np.maximum(noise, 1e-9)
    conf = np.clip((snr - 2 * p.threshold_k) / (4 * p.threshold_k), 0, 1) * 0.5 + 0.4
    # per-discharge firing statistics of its source
    n = np.ones(m)
    rate = np.full(m, np.nan)
    isi_cv = np.full(m, np.nan)
    regular = np.zeros(m, bool)
    n_src = int(max(source_stats, default=-1)) + 1
    if n_src > 0:
        s_n = np.ones(n_src)
        s_rate = np.full(n_src, np.nan)
        s_cv = np.full(n_src, np.nan)
        s_reg = np.zeros(n_src, bool)
        for lab, st in source_stats.items():
            s_n[lab] = st.n
            s_rate[lab] = st.rate_hz
            s_cv[lab] = st.isi_cv
            s_reg[lab] = st.is_regular(p.regular_max_isi_cv, p.regular_min_consistent,
                                       p.train_min_n)
        has = (labels >= 0) & (labels < n_src)
        li = labels[has]
        n[has] = s_n[li]
        rate[has] = s_rate[li]
        isi_cv[has] = s_cv[li]
        regular[has] = s_reg[li]
    enough = n >= p.train_min_n
    irregular = enough & ~regular
    with np.errstate(invalid="ignore"):
        fast = rate >= p.voluntary_min_rate_hz
        crd = enough & (isi_cv <= p.crd_max_isi_cv) & (rate >= p.crd_min_rate_hz) & (
            phases >= p.crd_min_phases)
        dense = rate >= p.endplate_min_rate_hz
        slow_or_irregular = ~(regular & (rate > p.fasc_max_rate_hz))
    out = kinds.copy()
    rest = ~in_activity & ~in_artifact
    mup = kinds == _MUPL
    # MUP-like at rest: CRD, voluntary unit, or fasciculation
    sel = rest & mup & crd
    out[sel] = _CRD
    conf[sel] = np.minimum(1.0, conf[sel] + 0.2)
    hw = feat[:, _F["half_width_ms"]]
    init = feat[:, _F["initial_sign"]]
    fib_train = rest & mup & ~crd & regular & (amp <= p.fib_max_uv) & (
        hw <= p.fib_max_half_width_ms) & (init > 0) & (rate >= p.fib_min_rate_hz)
    out[fib_train] = _FIB
    conf[fib_train] = np.minimum(1.0, conf[fib_train] + 0.2)
    sel = rest & mup & ~crd & ~fib_train & regular & fast
    out[sel] = _MUP
    conf[sel] = np.minimum(1.0, conf[sel] + 0.1)
    sel = rest & mup & ~crd & ~fib_train & ~(regular & fast)
    out[sel] = _FASC
    conf[sel & (n >= 2) & slow_or_irregular] += 0.2
    # fibrillation shape firing densely and irregularly: end-plate activity
    fib = kinds == _FIB
    out[rest & fib & irregular & dense] = _EP
    fp = (fib | (kinds == _PSW)) & rest & regular
    conf[fp] += 0.3
    conf[rest & (kinds == _EP) & irregular] += 0.2
    # one source, one kind: majority vote among the shape-level kinds
    votable = np.array([_FIB, _PSW, _EP, _UNCL], np.int8)
    lookup = np.full(len(_NAMES), -1)
    lookup[votable] = np.arange(votable.size)
    code = lookup[out]
    vote = rest & (code >= 0) & (labels >= 0)
    if n_src > 0 and vote.any():
        nv = len(votable)
        counts = np.bincount(labels[vote] * nv + code[vote], minlength=n_src * nv).reshape(n_src, nv)
        total = counts.sum(axis=1)
        top = np.argmax(counts, axis=1)
        win = ((total >= p.train_min_n) & (top != nv - 1)
               & (counts[np.arange(n_src), top] >= p.source_vote_min_fraction * total))
        sel = vote & win[np.maximum(labels, 0)]
        out[sel] = votable[top[labels[sel]]]
    # an isolated small spike (no recurring source) is not called: noise
    # crossings look like small fibrillations or end-plate spikes
    lone = (rest & (n < p.train_min_n) & (snr < p.isolated_min_snr)
            & np.isin(out, (_FIB, _PSW, _EP)))
    out[lone] = _UNCL
    # activity and artifacts
    sel = in_activity & ~in_artifact
    out[sel] = np.where(mup[sel], _MUP, _UNCL)
    conf[sel] = np.where(mup[sel], 0.8, 0.3)
    out[in_artifact] = _ART
    conf[in_artifact] = 0.9
    return out, np.minimum(conf, 1.0)
