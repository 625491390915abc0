"""Discharge shapes against reference/discharges.md (measured on generated waveforms)."""

from __future__ import annotations

import numpy as np
import pytest

from motorsign.simulate import shapes as S


def _many(maker, n=12, seed=7):
    rng = np.random.default_rng(seed)
    return [maker(rng) for _ in range(n)]


def _corr(a: np.ndarray, b: np.ndarray) -> float:
    n = max(a.size, b.size)
    a = np.pad(a, (0, n - a.size))
    b = np.pad(b, (0, n - b.size))
    # best alignment by cross-correlation
    xc = np.correlate(a - a.mean(), b - b.mean(), "full")
    return float(xc.max() / (np.linalg.norm(a - a.mean()) * np.linalg.norm(b - b.mean())))


def test_fibrillation_shape():
    waves = _many(S.fibrillation)
    for w in waves:
        f = w.features
        assert f["initial_polarity"] == "positive"
        assert f["peak_uv"] < 0  # the main spike is negative
        assert 1.0 <= f["duration_ms"] <= 5.0
        assert 2 <= f["phases"] <= 3  # bi/triphasic
        assert 10.0 <= f["amplitude_uv"] <= 300.0
    # shapes differ from fibre to fibre (not one template)
    assert _corr(waves[0].values_uv, waves[1].values_uv) < 0.995
    assert len({round(w.duration_ms, 2) for w in waves}) > 6


def test_positive_sharp_wave_shape():
    for w in _many(S.positive_sharp_wave):
        f = w.features
        v = w.values_uv
        assert f["initial_polarity"] == "positive"
        assert f["peak_uv"] > 0
        assert 10.0 <= f["duration_ms"] <= 30.0
        # slow negative phase: much longer than the positive one, smaller
        pos_ms = np.count_nonzero(v > 0.05 * v.max()) / S.FINE_FS_HZ * 1000
        neg_ms = np.count_nonzero(v < 0.05 * v.min()) / S.FINE_FS_HZ * 1000
        assert neg_ms > 2 * pos_ms
        assert -v.min() < 0.5 * v.max()


def test_end_plate_shapes_negative_first():
    for w in _many(S.end_plate_spike):
        f = w.features
        assert f["initial_polarity"] == "negative"
        assert 3.0 <= f["duration_ms"] <= 5.0
        assert 100.0 <= f["amplitude_uv"] <= 200.0
    for w in _many(S.end_plate_noise_potential):
        f = w.features
        assert f["initial_polarity"] == "negative"
        assert f["amplitude_uv"] < 50.0
        assert 0.5 <= f["duration_ms"] <= 3.0


@pytest.mark.parametrize("variant", ["normal", "enlarged", "small_polyphasic"])
def test_motor_unit_variants(variant):
    rng = np.random.default_rng(11)
    units = [S.motor_unit(rng, variant) for _ in range(5)]
    feats = [u.features for u in units]
    dur = np.median([f["duration_ms"] for f in feats])
    amp = np.median([f["amplitude_uv"] for f in feats])
    if variant == "normal":
        assert 5.0 <= dur <= 15.0 and 100.0 <= amp <= 1500.0
        assert all(2 <= f["phases"] <= 5 for f in feats)
    elif variant == "enlarged":
        assert dur > 10.0 and amp > 1000.0
    else:
        assert dur < 8.0 and amp < 600.0
    # jitter changes the waveform slightly, not its identity
    d1 = units[0].discharge(rng).values_uv
    d0 = units[0].template.values_uv
    assert not np.array_equal(d0, d1)
    assert _corr(d0, d1) > 0.97


def test_units_differ():
    rng = np.random.default_rng(3)
    a, b = S.motor_unit(rng), S.motor_unit(rng)
    assert _corr(a.template.values_uv, b.template.values_uv) < 0.99


def test_sfap_polarity_depends_on_end_plate_distance():
    t = np.arange(-1, 20, 0.02)
    common = {"radial_mm": 0.3, "endplate_z_mm": 20.0, "length_mm": 45.0, "velocity_mm_per_ms": 3.5}
    far = S.measure_waveform(S.sfap(t, electrode_z_mm=28.0, **common), 50_000)
    near = S.measure_waveform(S.sfap(t, electrode_z_mm=20.0, length_constant_mm=1.3, **common), 50_000)
    assert far["initial_polarity"] == "positive"
    assert near["initial_polarity"] == "negative"


def test_measure_waveform_hand_made():
    fs = 10_000.0
    x = np.zeros(200)
    x[50:60] = 10.0  # 1 ms positive
    x[60:80] = -40.0  # 2 ms negative
    f = S.measure_waveform(x, fs)
    assert f["initial_polarity"] == "positive"
    assert f["phases"] == 2
    assert f["amplitude_uv"] == 50.0
    assert f["duration_ms"] == pytest.approx(2.9)
    assert f["peak_index"] == 60


def test_sample_places_peak_exactly():
    w = S.fibrillation(np.random.default_rng(0))
    for fs in (4000.0, 20000.0, 48000.0):
        t_peak = 0.0123456
        start, v = w.sample(fs, t_peak)
        # the continuous peak is within half a sample of the sampled maximum
        i = int(np.argmax(np.abs(v)))
        assert abs((start + i) / fs - t_peak) <= 0.5 / fs + 1e-12
