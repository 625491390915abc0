"""The compiled classification rules against a plain numpy transcription of them.

The numpy version below is the rules of :mod:`motorsign.spontaneous.classify`
written as array expressions (the implementation before the rules were
compiled); random features around every threshold must get the same kinds
and confidences from both.
"""

import numpy as np
import pytest

from motorsign.spontaneous.classify import (
    KIND_NAMES,
    classify_channel,
    classify_channel_codes,
    morphology_class,
)
from motorsign.spontaneous.features import FEATURE_NAMES
from motorsign.spontaneous.params import make_params
from motorsign.spontaneous.trains import TrainStats

_F = {name: i for i, name in enumerate(FEATURE_NAMES)}
(_FIB, _PSW, _FASC, _MUP, _EP, _CRD, _ART, _UNCL, _MUPL) = range(len(KIND_NAMES))


def _numpy_morphology(feat: np.ndarray, p) -> np.ndarray:
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


def _numpy_rules(feat: np.ndarray, labels: np.ndarray, times_s: np.ndarray,
                           in_activity: np.ndarray, in_artifact: np.ndarray, p,
                           source_stats: dict) -> tuple[np.ndarray, np.ndarray]:
    m = feat.shape[0]
    kinds = _numpy_morphology(feat, p)
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
    lookup = np.full(len(KIND_NAMES), -1)
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


def _random_case(rng, m: int, p):
    """Features scattered around the rules' thresholds, sources, states."""
    feat = np.zeros((m, len(FEATURE_NAMES)))
    pick = lambda *vals: rng.choice(np.asarray(vals, float), m)  # noqa: E731
    jitter = lambda x: x * rng.uniform(0.8, 1.25, m)  # noqa: E731
    feat[:, _F["amplitude_uv"]] = jitter(pick(30, p.mup_min_uv, p.spike_mup_min_uv, p.fib_max_uv,
                                             p.endplate_max_uv, 2000, p.artifact_min_uv))
    feat[:, _F["duration_ms"]] = jitter(pick(1, p.mup_min_duration_ms, 10, p.mup_max_duration_ms))
    feat[:, _F["half_width_ms"]] = jitter(pick(0.2, p.spike_max_half_width_ms,
                                               p.psw_min_half_width_ms, p.fib_max_half_width_ms, 3))
    feat[:, _F["initial_sign"]] = pick(-1, 1)
    feat[:, _F["peak_sign"]] = pick(-1, 1)
    feat[:, _F["pos_peak_uv"]] = feat[:, _F["amplitude_uv"]] * rng.uniform(0.2, 1, m)
    feat[:, _F["post_min_uv"]] = -feat[:, _F["pos_peak_uv"]] * jitter(pick(0.2, p.psw_max_neg_ratio, 1))
    feat[:, _F["noise_uv"]] = pick(5, 20, 0.0)
    feat[:, _F["phases"]] = pick(2, p.crd_min_phases, 6)
    # some undefined measurements
    for col in ("half_width_ms", "noise_uv", "duration_ms"):
        feat[rng.random(m) < 0.03, _F[col]] = np.nan
    n_src = int(rng.integers(0, 8))
    labels = rng.integers(-1, max(n_src, 1), m) if n_src else np.full(m, -1)
    stats = {}
    for q in range(n_src):
        n = int(rng.integers(1, 12))
        stats[q] = TrainStats(n, float(rng.choice([np.nan, 0.5, 3, 6, 20, 40])),
                              float(rng.choice([np.nan, 0.05, 0.5])),
                              float(rng.choice([np.nan, 0.1, 0.5])),
                              float(rng.choice([0.5, 0.9])), 0.1)
    in_art = rng.random(m) < 0.1
    in_act = rng.random(m) < 0.2
    return feat, labels, in_act, in_art, stats


@pytest.mark.parametrize("seed", range(40))
def test_compiled_rules_match_the_numpy_rules(seed):
    rng = np.random.default_rng(seed)
    p = make_params(None)
    feat, labels, in_act, in_art, stats = _random_case(rng, int(rng.integers(1, 400)), p)
    want_codes, want_conf = _numpy_rules(feat, labels, np.zeros(labels.size), in_act, in_art, p,
                                         stats)
    codes, conf = classify_channel_codes(feat, labels, np.zeros(labels.size), in_act, in_art, p,
                                         stats)
    np.testing.assert_array_equal(codes, want_codes)
    np.testing.assert_array_equal(conf, want_conf)  # the same operations in the same order
    np.testing.assert_array_equal(morphology_class(feat, p), KIND_NAMES[_numpy_morphology(feat, p)])


def _one(p, *, amp, dur, hw, init, psign=None, noise=10.0, phases=3, post_min=None):
    f = np.zeros((1, len(FEATURE_NAMES)))
    f[0, _F["amplitude_uv"]] = amp
    f[0, _F["duration_ms"]] = dur
    f[0, _F["half_width_ms"]] = hw
    f[0, _F["initial_sign"]] = init
    f[0, _F["peak_sign"]] = init if psign is None else psign
    f[0, _F["pos_peak_uv"]] = amp / 2
    f[0, _F["post_min_uv"]] = -amp / 2 if post_min is None else post_min
    f[0, _F["noise_uv"]] = noise
    f[0, _F["phases"]] = phases
    return f


def _kind(f, p, st=None, act=False, art=False):
    stats = {0: st} if st is not None else {}
    labels = np.array([0 if st is not None else -1])
    kinds, conf = classify_channel(f, labels, np.zeros(1), np.array([act]), np.array([art]), p,
                                   stats)
    return kinds[0]


def test_firing_pattern_decides_mup_like_discharges_at_rest():
    p = make_params(None)
    mup = _one(p, amp=800, dur=10, hw=1.5, init=-1, phases=3)
    slow = TrainStats(10, 0.3, 0.6, 0.6, 0.4, 3.0)
    regular_fast = TrainStats(40, 8.0, 0.1, 0.05, 1.0, 0.125)
    time_locked = TrainStats(40, 20.0, 0.02, 0.01, 1.0, 0.05)
    assert _kind(mup, p, slow) == "fasciculation"
    assert _kind(mup, p, regular_fast) == "motor_unit_potential"
    assert _kind(_one(p, amp=800, dur=10, hw=1.5, init=-1, phases=5), p,
                 time_locked) == "complex_repetitive"
    assert _kind(mup, p, slow, act=True) == "motor_unit_potential"
    assert _kind(mup, p, slow, art=True) == "artifact"


def test_shape_rules_and_isolated_noise_crossings():
    p = make_params(None)
    fib = _one(p, amp=120, dur=2, hw=0.3, init=1)
    regular = TrainStats(30, 2.0, 0.1, 0.05, 1.0, 0.5)
    assert _kind(fib, p, regular) == "fibrillation"
    # a lone small spike is not called; a large lone one is
    assert _kind(_one(p, amp=120, dur=2, hw=0.3, init=1, noise=20.0), p) == "unclassified"
    assert _kind(_one(p, amp=120, dur=2, hw=0.3, init=1, noise=5.0), p) == "fibrillation"
    # a PSW: positive, slow to fall, no large negative phase after it
    assert _kind(_one(p, amp=200, dur=6, hw=0.8, init=1, psign=1, post_min=-20.0), p,
                 regular) == "positive_sharp_wave"
    assert _kind(_one(p, amp=200, dur=6, hw=0.8, init=1, psign=1), p, regular) == "fibrillation"
    assert _kind(_one(p, amp=p.artifact_min_uv * 1.1, dur=6, hw=2, init=1), p) == "artifact"
    # fibrillation shapes firing densely and irregularly: end-plate activity
    dense = TrainStats(30, 40.0, 0.9, 0.8, 0.3, 0.02)
    assert _kind(fib, p, dense) == "end_plate"
