"""MUP sorting at lower sampling rates (10 kHz) and the rate-invariant steps it relies on."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np

from motorsign.mup import analyze_mups
from motorsign.mup.params import MupParams
from motorsign.mup.sorting import _frac_shift, _merge, _peak_offset, _train_merge

BENCH = Path(__file__).resolve().parents[1] / "benchmarks"
CONDITIONS = ("normal", "neurogenic", "myopathic")


def _assignment_scores():
    spec = importlib.util.spec_from_file_location("bench_mup_accuracy", BENCH / "bench_mup_accuracy.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod.assignment_scores


def _pooled_assignment(fs: float, duration_s: float) -> tuple[int, int]:
    """Discharges of the scored units and those assigned to their unit, seeds 0-5 pooled."""
    from motorsign.simulate.voluntary import generate

    score = _assignment_scores()
    n_true = n_ok = 0
    for seed in range(6):
        sim = generate(seed=seed, condition=CONDITIONS[seed % 3], duration_s=duration_s, fs=fs)
        for u in score(sim, analyze_mups(sim.to_recording(), muscle="TA")):
            n_true += u["n_true"]
            n_ok += u["n_assigned"]
    return n_true, n_ok


def test_assignment_holds_at_10_khz():
    """Discharges of units > 2.5x RMS found in their unit within 1 ms, at 10 kHz.

    Seeds 0-5 (two muscles of each condition), 6 s each. Measured 0.948 at
    10 kHz, analysed at 20 kHz (0.937 at 20 kHz; 0.918 and 0.899 before the
    4-kHz work, 0.907 at 10 kHz before the sampling-rate work, so this
    guards against a drop, it does not show the gain, which needs the
    benchmark's 90 muscles); below 0.88 sorting lost units or timing at 10 kHz.
    """
    n_true, n_ok = _pooled_assignment(10000.0, 6.0)
    assert n_true > 1500
    assert n_ok / n_true >= 0.88, f"assignment at 10 kHz {n_ok / n_true:.3f}"


def _spikes(t_ms: np.ndarray, centres, amps, width_ms: float = 0.1) -> np.ndarray:
    out = np.zeros_like(t_ms)
    for c, a in zip(centres, amps):
        u = (t_ms - c) / width_ms
        out += a * (1 - u * u) * np.exp(-0.5 * u * u)
    return out


def test_peak_offset_picks_the_larger_spike_between_samples():
    """Two nearly equal spikes: the sampled maximum is on the smaller one."""
    fs = 10000.0
    pre = 100
    t_ms = (np.arange(201) - pre) / fs * 1e3
    # larger spike centred between samples (0.45 sample late), smaller one on a sample
    x = _spikes(t_ms, [0.045, 1.5], [-500.0, -480.0], width_ms=0.15)
    assert int(np.argmax(np.abs(x))) - pre == 15  # the coarse maximum: wrong spike
    off = _peak_offset(x, pre, fs)
    assert abs(off - 0.45) < 0.05
    assert abs(_peak_offset(x, pre) - 15) < 0.5  # without fs: the old, sampled answer


def test_shape_merge_aligns_templates_between_samples():
    """One unit's template and the same template half a sample later are one unit."""
    fs, half = 10000.0, 50
    t_ms = (np.arange(4 * half + 1) - 2 * half) / fs * 1e3
    a = _spikes(t_ms, [0.0, 0.4], [-400.0, 150.0], width_ms=0.1).astype(np.float32)
    b = _frac_shift(a, 0.5)
    c = (0.75 * a).astype(np.float32)  # same shape, another unit's size
    sigma = 10.0
    p = MupParams()
    merged = _merge([[a, 50, 0], [b, 40, 1], [c, 30, 2]], half, sigma, p, n_sub=4)
    assert sorted(m[2] for m in merged) == [0, 2]
    # whole-sample alignment alone cannot tell the two copies are one unit
    assert len(_merge([[a, 50, 0], [b, 40, 1]], half, sigma, p, n_sub=1)) == 2


def test_train_merge_joins_halves_of_one_unit_not_two_units():
    fs = 10000.0
    span = 10.0 * fs
    rng = np.random.default_rng(3)
    p = MupParams()
    half = 20
    tpl = np.zeros(4 * half + 1, np.float32)
    tpl[2 * half - 2 : 2 * half + 3] = [50, -200, -400, -200, 50]

    def train(rate, start):
        t = start + np.cumsum(rng.normal(1.0 / rate, 0.15 / rate, int(12 * rate)))
        return np.round(t[t < 10.0] * fs)

    one = train(12.0, 0.01)
    other = train(15.0, 0.03)
    # a unit split in two at random, each half with a few members of the other unit
    take = rng.uniform(size=one.size) < 0.5
    half_a = np.sort(np.concatenate([one[take], other[:6]]))
    half_b = np.sort(np.concatenate([one[~take], other[6:10]]))
    roots = _train_merge([tpl, tpl], [half_a, half_b], half, fs, p, return_groups=True, span=span)
    assert roots == [0, 0]
    # two independent units with the same shape stay apart
    roots = _train_merge([tpl, tpl], [one, other], half, fs, p, return_groups=True, span=span)
    assert roots == [0, 1]


def test_close_pair_is_redecided_jointly():
    """A discharge 0.4 ms after a larger one, first taken for the wrong unit, is re-decided."""
    from motorsign.mup.kernels import resolve_pairs, template_xcorr
    from motorsign.mup.sorting import _repair_close

    half = 20
    i = np.arange(2 * half + 1) - half
    ricker = lambda a, c, w: a * (1 - ((i - c) / w) ** 2) * np.exp(-0.5 * ((i - c) / w) ** 2)  # noqa: E731
    T = np.array([ricker(-400, 0, 2.5),                          # A: large
                  ricker(-220, 0, 2.0) + ricker(120, 4, 2.0),   # B: the true second unit
                  ricker(-260, 0, 1.6)], dtype=np.float32)      # C: another unit
    rng = np.random.default_rng(0)
    sig = rng.normal(0, 3.0, 400).astype(np.float32)
    sig[100 - half : 100 + half + 1] += T[0]
    sig[108 - half : 108 + half + 1] += T[1]
    # the greedy decision: A right, the second discharge taken for C
    starts = np.array([100 - half, 108 - half], dtype=np.int64)
    units = np.array([0, 2], dtype=np.int64)
    subs = np.zeros(2, dtype=np.int64)
    scores = np.array([0.9, 0.5], dtype=np.float32)
    resid = sig.copy()
    for s, u in zip(starts, units):
        resid[s : s + 2 * half + 1] -= T[u]
    p = MupParams()
    st, un, sb, sc = _repair_close(resid, T, 1, template_xcorr(T), 30, p, 3.0, starts.copy(),
                                   units.copy(), subs.copy(), scores.copy(), np.zeros(3), 100,
                                   resolve_pairs)
    kept = un >= 0
    got = sorted(zip((st + half)[kept].tolist(), un[kept].tolist()))
    assert got == [(100, 0), (108, 1)]
    # the residual is the noise again
    assert np.sqrt(np.mean(resid[60:150] ** 2)) < 5.0


def test_voluntary_simulator_band_limits_below_10_khz():
    """At 4 kHz the units are the 40-kHz rendering through an anti-alias filter, not aliased samples."""
    from scipy.signal import resample_poly

    from motorsign.simulate import voluntary

    low = voluntary.generate(seed=1, condition="myopathic", duration_s=3.0, fs=4000.0,
                             noise_uv=0.0).data_uv[:, 0].astype(float)
    high = voluntary.generate(seed=1, condition="myopathic", duration_s=3.0, fs=40000.0,
                              noise_uv=0.0).data_uv[:, 0].astype(float)
    filtered = resample_poly(high, 1, 10)[: low.size] - low
    aliased = high[::10][: low.size] - low
    # what is left is the 3 µV amplifier noise of each (drawn independently)
    assert np.sqrt(np.mean(filtered ** 2)) < 4.5
    assert np.sqrt(np.mean(aliased ** 2)) > 10.0


def test_low_sampling_rate_is_flagged():
    from motorsign.mup import analyze_mups
    from motorsign.simulate import voluntary

    for fs, flagged in ((4000.0, True), (20000.0, False)):
        sim = voluntary.generate(seed=0, condition="normal", duration_s=4.0, fs=fs)
        q = next(iter(analyze_mups(sim.to_recording(), muscle="TA").summary.values()))["quality"]
        assert ("low_sampling_rate" in q["flags"]) is flagged
        assert q["sampling_rate_hz"] == fs
