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

import numba
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


#: The thresholds the compiled rules read, in the order of their ``prm`` array.
_RULE_PARAMS = (
    "fib_max_half_width_ms", "spike_max_half_width_ms", "mup_min_uv", "mup_min_duration_ms",
    "mup_max_duration_ms", "spike_mup_min_uv", "endplate_max_half_width_ms", "endplate_max_uv",
    "fib_max_uv", "psw_min_half_width_ms", "psw_max_neg_ratio", "artifact_min_uv",
    "threshold_k", "train_min_n", "voluntary_min_rate_hz", "crd_max_isi_cv", "crd_min_rate_hz",
    "crd_min_phases", "endplate_min_rate_hz", "fasc_max_rate_hz", "fib_min_rate_hz",
    "source_vote_min_fraction", "isolated_min_snr",
)
(_P_FIB_HW, _P_SPIKE_HW, _P_MUP_UV, _P_MUP_DMIN, _P_MUP_DMAX, _P_SPIKE_MUP_UV, _P_EP_HW, _P_EP_UV,
 _P_FIB_UV, _P_PSW_HW, _P_PSW_NEG, _P_ART_UV, _P_K, _P_TRAIN_N, _P_VOL_RATE, _P_CRD_CV,
 _P_CRD_RATE, _P_CRD_PHASES, _P_EP_RATE, _P_FASC_RATE, _P_FIB_RATE, _P_VOTE_FRAC,
 _P_LONE_SNR) = range(len(_RULE_PARAMS))
# the feature columns the rules read
_C_AMP, _C_DUR, _C_INIT, _C_PSIGN, _C_POS, _C_HW, _C_POSTMIN, _C_NOISE, _C_PHASES = (
    _F["amplitude_uv"], _F["duration_ms"], _F["initial_sign"], _F["peak_sign"], _F["pos_peak_uv"],
    _F["half_width_ms"], _F["post_min_uv"], _F["noise_uv"], _F["phases"])


def _rule_params(p) -> np.ndarray:
    return np.array([float(getattr(p, name)) for name in _RULE_PARAMS], np.float64)


@numba.njit(nogil=True, cache=True)
def _shape_code(f, prm):  # pragma: no cover - compiled
    """The morphology rules for one discharge's features ``f`` (see the module docstring)."""
    amp, dur, hw = f[_C_AMP], f[_C_DUR], f[_C_HW]
    init, psign = f[_C_INIT], f[_C_PSIGN]
    spike = hw <= prm[_P_SPIKE_HW]
    mup = (amp >= prm[_P_MUP_UV] and dur >= prm[_P_MUP_DMIN] and dur <= prm[_P_MUP_DMAX]
           and (not spike or amp >= prm[_P_SPIKE_MUP_UV]))
    code = _UNCL
    if (init < 0 and psign < 0 and hw <= prm[_P_EP_HW] and amp <= prm[_P_EP_UV]
            and not mup):
        code = _EP
    if init > 0 and hw <= prm[_P_FIB_HW] and amp <= prm[_P_FIB_UV] and not mup:
        code = _FIB
    if mup:
        code = _MUPL
    if psign > 0 and hw >= prm[_P_PSW_HW] and -f[_C_POSTMIN] <= prm[_P_PSW_NEG] * f[_C_POS]:
        code = _PSW
    if amp >= prm[_P_ART_UV]:
        code = _ART
    return code


@numba.njit(nogil=True, cache=True)
def _morphology_codes_nb(feat, prm):  # pragma: no cover - compiled
    out = np.empty(feat.shape[0], np.int8)
    for i in range(feat.shape[0]):
        out[i] = _shape_code(feat[i], prm)
    return out


def _morphology_codes(feat: np.ndarray, p) -> np.ndarray:
    return _morphology_codes_nb(np.ascontiguousarray(feat, np.float64), _rule_params(p))


@numba.njit(nogil=True, cache=True)
def _min1(x):  # pragma: no cover - compiled
    # np.minimum(x, 1.0): NaN stays NaN
    return 1.0 if x > 1.0 else x


@numba.njit(nogil=True, cache=True)
def _classify_nb(feat, labels, in_act, in_art, s_n, s_rate, s_cv, s_reg,
                 prm):  # pragma: no cover - compiled
    """The rules of the module docstring for one channel, in their order.

    ``s_n``, ``s_rate``, ``s_cv``, ``s_reg``: each source's discharges, rate,
    interval CV and regularity. Returns codes (int8) and confidences.
    """
    m = feat.shape[0]
    kinds = np.empty(m, np.int8)
    out = np.empty(m, np.int8)
    conf = np.empty(m)
    snr = np.empty(m)
    n = np.ones(m)
    regular = np.zeros(m, np.bool_)
    irregular = np.zeros(m, np.bool_)
    n_src = s_n.size
    k = prm[_P_K]
    min_n = prm[_P_TRAIN_N]
    for i in range(m):
        f = feat[i]
        kind = _shape_code(f, prm)
        kinds[i] = kind
        amp = f[_C_AMP]
        noise = f[_C_NOISE]
        snr[i] = amp / (noise if (noise != noise or noise > 1e-9) else 1e-9)
        c = (snr[i] - 2 * k) / (4 * k)
        if c < 0.0:
            c = 0.0
        elif c > 1.0:
            c = 1.0
        c = c * 0.5 + 0.4
        lab = labels[i]
        rate = np.nan
        cv = np.nan
        if 0 <= lab < n_src:
            n[i] = s_n[lab]
            rate = s_rate[lab]
            cv = s_cv[lab]
            regular[i] = s_reg[lab]
        reg = regular[i]
        enough = n[i] >= min_n
        irregular[i] = enough and not reg
        code = kind
        rest = not in_act[i] and not in_art[i]
        if rest and kind == _MUPL:
            crd = (enough and cv <= prm[_P_CRD_CV] and rate >= prm[_P_CRD_RATE]
                   and f[_C_PHASES] >= prm[_P_CRD_PHASES])
            fast = rate >= prm[_P_VOL_RATE]
            if crd:
                code = _CRD
                c = _min1(c + 0.2)
            elif (reg and amp <= prm[_P_FIB_UV] and f[_C_HW] <= prm[_P_FIB_HW]
                  and f[_C_INIT] > 0 and rate >= prm[_P_FIB_RATE]):
                code = _FIB
                c = _min1(c + 0.2)
            elif reg and fast:
                code = _MUP
                c = _min1(c + 0.1)
            else:
                code = _FASC
                if n[i] >= 2 and not (reg and rate > prm[_P_FASC_RATE]):
                    c += 0.2
        if rest and kind == _FIB and irregular[i] and rate >= prm[_P_EP_RATE]:
            code = _EP
        if (kind == _FIB or kind == _PSW) and rest and reg:
            c += 0.3
        if rest and kind == _EP and irregular[i]:
            c += 0.2
        out[i] = code
        conf[i] = c
    # one source, one kind: majority among fibrillation, PSW, end-plate, unclassified
    if n_src > 0:
        nv = _VOTABLE.size
        counts = np.zeros((n_src, nv), np.int64)
        for i in range(m):
            lab = labels[i]
            v = _vote_slot(out[i])
            if v >= 0 and 0 <= lab < n_src and not in_act[i] and not in_art[i]:
                counts[lab, v] += 1
        win = np.full(n_src, -1, np.int64)
        for q in range(n_src):
            total = 0
            top = 0
            for v in range(nv):
                total += counts[q, v]
                if counts[q, v] > counts[q, top]:
                    top = v
            if (total >= min_n and _VOTABLE[top] != _UNCL  # unclassified wins nothing
                    and counts[q, top] >= prm[_P_VOTE_FRAC] * total):
                win[q] = top
        for i in range(m):
            lab = labels[i]
            if (0 <= lab < n_src and win[lab] >= 0 and _vote_slot(out[i]) >= 0
                    and not in_act[i] and not in_art[i]):
                out[i] = _VOTABLE[win[lab]]
    for i in range(m):
        rest = not in_act[i] and not in_art[i]
        o = out[i]
        # an isolated small spike (no recurring source) is noise
        if (rest and n[i] < min_n and snr[i] < prm[_P_LONE_SNR]
                and (o == _FIB or o == _PSW or o == _EP)):
            out[i] = _UNCL
        if in_art[i]:
            out[i] = _ART
            conf[i] = 0.9
        elif in_act[i]:
            mup = kinds[i] == _MUPL
            out[i] = _MUP if mup else _UNCL
            conf[i] = 0.8 if mup else 0.3
        conf[i] = _min1(conf[i])
    return out, conf


_VOTABLE = np.array([_FIB, _PSW, _EP, _UNCL], np.int8)


@numba.njit(nogil=True, cache=True)
def _vote_slot(code):  # pragma: no cover - compiled
    """Index of ``code`` in :data:`_VOTABLE`, -1 when it does not vote."""
    for v in range(_VOTABLE.size):
        if _VOTABLE[v] == code:
            return v
    return -1


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
    if m == 0:
        return np.zeros(0, np.int8), np.zeros(0)
    n_src = int(max(source_stats, default=-1)) + 1
    s_n = np.ones(n_src)
    s_rate = np.full(n_src, np.nan)
    s_cv = np.full(n_src, np.nan)
    s_reg = np.zeros(n_src, np.bool_)
    for lab, st in source_stats.items():
        s_n[lab] = st.n
        s_rate[lab] = st.rate_hz
        s_cv[lab] = st.isi_cv
        s_reg[lab] = st.is_regular(p.regular_max_isi_cv, p.regular_min_consistent, p.train_min_n)
    return _classify_nb(np.ascontiguousarray(feat, np.float64),
                        np.ascontiguousarray(labels, np.int64),
                        np.ascontiguousarray(in_activity, np.bool_),
                        np.ascontiguousarray(in_artifact, np.bool_), s_n, s_rate, s_cv, s_reg,
                        _rule_params(p))
