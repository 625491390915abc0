"""MUP sorting of recordings sampled below the analysis rate (4 kHz, as PhysioNet emgdb)."""

from __future__ import annotations

import numpy as np
import pytest

from motorsign.mup import analyze_mups
from motorsign.mup.params import MupParams
from motorsign.mup.preprocess import ChannelSource, upsample_factor
from motorsign.mup.sorting import _frac_shift, _frac_shift_rows
from motorsign.recording import Recording
from test_mup_rates import _assignment_scores, _pooled_assignment  # the benchmark's scorer


def test_assignment_holds_at_4_khz():
    """Discharges of units > 2.5x RMS found in their unit within 1 ms, at 4 kHz.

    Seeds 0-5 of the benchmark (two muscles of each condition, 10 s each):
    measured 0.933 with the analysis resampled to 20 kHz, 0.939 with
    ``pair_gain`` 0.05 and ``overlap_rounds`` 2; the sorter working at the
    native 4 kHz gave 0.78 on these muscles. Below 0.88 the 4-kHz path lost
    ground.
    """
    n_true, n_ok = _pooled_assignment(4000.0, 10.0)
    assert n_true > 3000
    assert n_ok / n_true >= 0.88, f"assignment at 4 kHz {n_ok / n_true:.3f}"


def test_second_overlap_round_finds_discharges_the_first_pass_left():
    """``overlap_rounds`` 2 (re-peel, refit, pairs again) against a single round, at 4 kHz.

    Simulated myopathic muscles (seeds 5 and 8, 10 s): dense recruitment of
    small jittery units, where the first peeling pass leaves discharges
    under the residual floors of its early fits. Measured: 1446 -> 1467
    discharges assigned to their unit, 106 -> 88 with no sorted discharge
    within 1 ms. The test fails if the second round stops finding them (or
    starts losing assigned ones).
    """
    from motorsign.simulate.voluntary import generate

    score = _assignment_scores()
    tot = {1: [0, 0, 0], 2: [0, 0, 0]}
    for seed in (5, 8):
        sim = generate(seed=seed, condition="myopathic", duration_s=10.0, fs=4000.0)
        for rounds in (1, 2):
            res = analyze_mups(sim.to_recording(), muscle="TA", params={"overlap_rounds": rounds})
            for u in score(sim, res):
                tot[rounds][0] += u["n_true"]
                tot[rounds][1] += u["n_assigned"]
                tot[rounds][2] += u["n_found"]
    assert tot[1][0] == tot[2][0] > 1500
    assert tot[2][1] >= tot[1][1] + 10, f"assigned {tot[1][1]} -> {tot[2][1]}"
    assert tot[2][2] >= tot[1][2] + 10, f"found {tot[1][2]} -> {tot[2][2]}"


def test_re_peeled_discharges_stay_out_of_the_mup_templates():
    """``template_skip_late``: discharges found by the re-peel count, their windows are not averaged.

    A discharge found in a later overlap round lay under other units'
    residual; its wide-band window holds parts of them. Averaged into the
    median MUP they lengthened it (simulated myopathic muscles at 10 kHz,
    seeds 5 and 17: muscle mean duration 5.91 and 6.18 ms with them, 5.79 and
    5.98 ms without; on two held-out muscles 6.9 -> 7.1-7.2 ms, enough to
    read a myopathic muscle as normal). The trains must not change.
    """
    from motorsign.simulate.voluntary import generate

    dur, counts = {}, {}
    for skip in (False, True):
        dur[skip], counts[skip] = 0.0, []
        for seed in (5, 17):
            sim = generate(seed=seed, condition="myopathic", duration_s=10.0, fs=10000.0)
            res = analyze_mups(sim.to_recording(), muscle="TA", params={"template_skip_late": skip})
            dur[skip] += res.summary[sim.channel_names[0]]["mean_duration_ms"]
            counts[skip].append(sorted(res.units["n_discharges"].tolist()))
    assert counts[True] == counts[False]
    assert dur[True] <= dur[False] - 0.15, f"summed mean durations {dur[False]:.2f} -> {dur[True]:.2f} ms"


@pytest.mark.parametrize(("fs", "up"), [(4000.0, 5), (8000.0, 3), (10000.0, 2), (20000.0, 1),
                                        (25000.0, 1), (3000.0, 7)])
def test_upsample_factor(fs, up):
    assert upsample_factor(fs, MupParams()) == up
    assert upsample_factor(fs, MupParams(internal_rate_hz=0.0)) == 1


def _unit_recording(fs: float, times_s: np.ndarray, duration_s: float, rng) -> np.ndarray:
    """One biphasic unit (band-limited: rendered at 40 kHz and decimated) plus noise."""
    from scipy.signal import resample_poly

    over = int(round(40000.0 / fs))
    fr = fs * over
    t = np.arange(int(duration_s * fr)) / fr
    x = np.zeros_like(t)
    for t0 in times_s:
        u = (t - t0) / 0.15e-3
        m = np.abs(u) < 40
        x[m] += -400.0 * (1 - u[m] ** 2) * np.exp(-0.5 * u[m] ** 2)
    y = resample_poly(x, 1, over)[: int(duration_s * fs)]
    return (y + rng.normal(0.0, 5.0, y.size)).astype(np.float32)


def test_resampled_channel_keeps_time_and_reports_both_rates(rng):
    """At 4 kHz, discharge times stay in seconds of the recording (sub-sample), rates are reported."""
    fs, dur = 4000.0, 6.0
    times = np.cumsum(rng.uniform(0.07, 0.11, 70)) + 0.05
    times = times[times < dur - 0.05]
    rec = Recording.from_array(_unit_recording(fs, times, dur, rng)[:, None], fs, channel_names=["EMG"])
    res = analyze_mups(rec, muscle="TA")
    q = res.summary["EMG"]["quality"]
    assert q["sampling_rate_hz"] == fs and q["analysis_rate_hz"] == 20000.0
    assert "low_sampling_rate" in q["flags"]
    assert res.templates["EMG"]["fs"] == 20000.0
    got = np.sort(res.discharges["time_s"].to_numpy())
    assert got.size == times.size
    # the spike's peak, not the nearest 4-kHz sample (±125 µs)
    assert np.abs(got - times).max() < 30e-6
    src = ChannelSource(rec, 0, MupParams())
    assert (src.up, src.fs, src.n) == (5, 20000.0, int(dur * fs) * 5)


def test_clipping_is_found_on_the_recorded_samples():
    """The raw signal handed out for a resampled channel is the recorded samples repeated."""
    fs = 4000.0
    x = np.zeros(8000, np.float32)
    x[1000:1010] = 500.0  # clipped run (10 samples at the maximum)
    x[3000] = 500.0  # a single sample at the maximum is no clipping
    src = ChannelSource(Recording.from_array(x[:, None], fs, channel_names=["EMG"]), 0,
                        MupParams(mains="off"))
    ch = next(src.chunks())
    assert ch.raw.size == x.size * src.up
    assert np.array_equal(ch.raw[:: src.up], x)
    from motorsign.mup.kernels import clip_mask

    valid = clip_mask(ch.raw, -500.0, 500.0, MupParams().clip_run * src.up, 0)
    assert valid[1000 * src.up : 1010 * src.up].max() == 0
    assert valid[3000 * src.up - 2 : 3000 * src.up + src.up + 2].min() == 1


def test_frac_shift_rows_aligns_windows_cut_at_whole_samples(rng):
    """Templates are medians of windows re-aligned on their sub-sample discharge position."""
    n, L = 300, 61
    k = np.arange(L) - 30.0
    d = rng.uniform(-0.5, 0.5, n)  # discharge positions between samples
    W = np.array([-(1 - ((k - di) / 1.2) ** 2) * np.exp(-0.5 * ((k - di) / 1.2) ** 2) for di in d])
    true = -(1 - (k / 1.2) ** 2) * np.exp(-0.5 * (k / 1.2) ** 2)
    aligned = np.median(_frac_shift_rows(W, -d), axis=0)
    plain = np.median(W, axis=0)
    assert np.abs(aligned - true).max() < 0.01
    assert np.abs(plain - true).max() > 0.05  # a whole-sample median is flattened
    # one row: same as the single-window shift
    assert np.allclose(_frac_shift_rows(W[:1], d[:1])[0], _frac_shift(W[0], float(d[0])), atol=1e-5)


def test_voluntary_truth_times_are_peaks_of_the_band_limited_waveform():
    """Below 10 kHz the truth time is the largest peak of the unit as recorded (anti-aliased).

    Seed 4 (neurogenic), 4 kHz: unit 1's largest spike is its narrowest; behind
    the anti-alias filter another spike is larger, and the truth was 1.4 ms
    off the recorded peak (no sorter could match it within 1 ms).
    """
    from motorsign.simulate.voluntary import generate

    fs = 4000.0
    sim = generate(seed=4, condition="neurogenic", duration_s=10.0, fs=fs)
    x = sim.data_uv[:, 0].astype(np.float64)
    h = 60
    for uid, g in sim.truth.groupby("unit_id"):
        fr = g["time_s"].to_numpy() * fs
        i0 = np.floor(fr).astype(int)
        ok = (i0 > h) & (i0 < x.size - h - 1)
        W = np.array([x[i - h : i + h + 1] for i in i0[ok]])
        mean = _frac_shift_rows(W, -(fr - i0)[ok]).mean(axis=0).astype(np.float64)
        fine = np.fft.irfft(np.fft.rfft(mean), mean.size * 20) * 20  # 80 kHz
        a = np.abs(fine)
        k = int(np.argmax(a))
        second = a[np.abs(np.arange(a.size) - k) > 0.4e-3 * fs * 20].max()
        if a[k] > 1.05 * second:  # an unambiguous largest peak
            assert abs((k / 20 - h) / fs) < 0.15e-3, (uid, (k / 20 - h) / fs)


def test_chunked_resampling_matches_the_cached_channel(monkeypatch):
    """Long channels are resampled chunk by chunk with margins: same discharges as in one piece."""
    from motorsign.mup import preprocess
    from motorsign.scoring import match_events
    from motorsign.simulate.voluntary import generate

    sim = generate(seed=3, condition="normal", duration_s=25.0, fs=4000.0)
    rec = sim.to_recording()
    whole = analyze_mups(rec, muscle="TA").discharges["time_s"].to_numpy()
    monkeypatch.setattr(preprocess, "CACHE_SAMPLES", 0)  # 20-s chunks with 0.5-s margins
    src = ChannelSource(rec, 0, MupParams())
    chunks = list(src.chunks())
    assert len(chunks) == 2 and chunks[1].start == int(20.0 * 4000) * 5
    assert chunks[1].offset == chunks[1].start - int(0.5 * 4000) * 5
    parts = analyze_mups(rec, muscle="TA").discharges["time_s"].to_numpy()
    pairs, _, _ = match_events(np.sort(whole), np.sort(parts), 50e-6)
    assert len(pairs) >= 0.99 * max(whole.size, parts.size)
