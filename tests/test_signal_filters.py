"""Filters, robust noise and window statistics of motorsign.signal."""

from __future__ import annotations

import numpy as np
import pytest

from motorsign.errors import ConfigError
from motorsign.signal.filters import bandpass, design_bandpass, design_sos, sosfiltfilt_nb
from motorsign.signal.noise import block_mad_nb, nanmedian_cols_nb, robust_noise
from motorsign.signal.segmentation import intervals_from_mask, window_stats_nb


def test_zero_phase_filter_matches_scipy(rng):
    from scipy.signal import sosfiltfilt

    x = rng.normal(size=(20000, 11)).astype(np.float32)  # 8 vector lanes + 3 scalar
    for sos in (design_sos(20000.0, 3000.0, "lowpass"), design_sos(20000.0, 100.0, "highpass"),
                design_bandpass(20000.0, 100.0, 3000.0)):
        out = np.empty_like(x)
        sosfiltfilt_nb(x, sos, out)
        ref = sosfiltfilt(sos, x.astype(np.float64), axis=0, padtype=None)
        # away from the edges (start-up transients differ) they agree to float32
        # precision, up to a constant per channel (the kernel subtracts the first
        # sample of each pass; a low-pass keeps that offset)
        core = slice(2000, -2000)
        diff = out[core] - ref[core]
        diff -= np.median(diff, axis=0)
        assert np.max(np.abs(diff)) < 1e-3 * np.max(np.abs(ref[core])) + 1e-4


def test_filter_keeps_peak_time_and_removes_dc():
    fs = 20000.0
    x = np.full(4000, 500.0, np.float32)  # DC offset
    t = np.arange(4000) / fs
    x += (80 * np.exp(-0.5 * ((t - 0.1) / 0.0003) ** 2)).astype(np.float32)
    y = bandpass(x, fs, 100.0, 3000.0)
    assert abs(int(np.argmax(np.abs(y))) - 2000) <= 1  # zero phase: no delay
    assert abs(float(np.median(y[200:1500]))) < 1.0  # DC removed


def test_nan_samples_do_not_poison_the_filter(rng):
    x = rng.normal(size=(10000, 1)).astype(np.float32)
    x[5000:5100] = np.nan
    y = bandpass(x, 20000.0, 100.0, 3000.0)
    assert np.all(np.isfinite(y))


def test_band_outside_nyquist_is_a_config_error():
    with pytest.raises(ConfigError):
        design_bandpass(4000.0, 2500.0, 3000.0)
    with pytest.raises(ConfigError):
        design_sos(4000.0, 2500.0, "lowpass")


def test_robust_noise_ignores_sparse_spikes(rng):
    x = rng.normal(0, 3.0, size=200000).astype(np.float32)
    x[::500] += 300.0  # 0.2 % large spikes
    assert robust_noise(x) == pytest.approx(3.0, rel=0.05)
    blocks = block_mad_nb(x[:, None].copy(), 0, x.size, 50000, 256)
    assert blocks.shape == (4, 1)
    assert np.all(np.abs(blocks - 3.0) < 0.6)
    m = nanmedian_cols_nb(np.array([[1.0, np.nan], [3.0, np.nan], [2.0, np.nan]]))
    assert m[0] == 2.0 and np.isnan(m[1])


def test_window_stats_flags_flat_runs_nans_and_slow_excursions(rng):
    fs = 10000.0
    raw = rng.normal(0, 5, size=(30000, 3)).astype(np.float32)
    raw[12000:12100, 0] = 1234.0  # 10 ms of a clipped value
    raw[5000:5010, 1] = np.nan
    raw[21000:23000, 2] += 4000.0  # movement step
    stats = window_stats_nb(raw, raw, 0, 30000, 5000, 50, fs)
    assert stats.shape == (6, 3, 5)
    assert stats[2, 0, 1] == pytest.approx(10.0, abs=0.2)
    assert stats[:, 0, 1].max() == stats[2, 0, 1] and stats[0, 0, 1] < 1.0
    assert stats[1, 1, 2] == 10 and stats[:, 1, 2].sum() == 10
    assert stats[4, 2, 3] > 3000 and stats[0, 2, 3] < 100


def test_intervals_from_mask_merges_drops_and_pads():
    mask = np.array([0, 1, 1, 0, 1, 0, 0, 0, 1, 0], bool)
    assert intervals_from_mask(mask, 1.0, 10.0) == [(1.0, 3.0), (4.0, 5.0), (8.0, 9.0)]
    assert intervals_from_mask(mask, 1.0, 10.0, merge_s=1.5) == [(1.0, 5.0), (8.0, 9.0)]
    assert intervals_from_mask(mask, 1.0, 10.0, merge_s=1.5, min_s=2.0, pad_s=0.5) == [(0.5, 5.5)]


def test_vector_and_scalar_filter_paths_give_the_same_numbers():
    """Groups of 8 channels run as vector code, the rest scalar: a channel's numbers must not
    depend on which path (or how many channels) it went through."""
    x = np.random.default_rng(0).standard_normal((3000, 21)).astype(np.float32) * 50
    x[100, 3] = np.nan
    x[200, 18] = np.nan
    from motorsign.signal.mains import design_notches

    band = np.vstack([design_sos(20000.0, 3000.0, "lowpass", 2), design_sos(20000.0, 100.0, "highpass", 4)])
    notched = np.vstack([design_notches(20000.0, [50.0 * k for k in range(1, 9)], 4.0), band])  # 11 sections
    for sos in (design_sos(20000.0, 3000.0, "lowpass", 2), design_sos(20000.0, 100.0, "highpass", 4), band,
                notched):
        wide = np.empty_like(x)
        sosfiltfilt_nb(x, sos, wide)  # 16 vector lanes + 5 scalar
        for cols in ([0, 1, 2, 3, 4], list(range(8)), [18, 19, 20, 3, 4, 5, 6, 7]):
            part = np.ascontiguousarray(x[:, cols])
            got = np.empty_like(part)
            sosfiltfilt_nb(part, sos, got)
            np.testing.assert_array_equal(wide[:, cols], got)
        cols = x[:, ::2]  # rows not contiguous: the scalar path
        got = np.empty(cols.shape, np.float32)
        sosfiltfilt_nb(cols, sos, got)
        np.testing.assert_array_equal(wide[:, ::2], got)
        assert np.isfinite(wide).all()


def test_inplace_median_is_numpys_median():
    from motorsign.signal.noise import median_inplace_nb

    rng = np.random.default_rng(5)
    for k in list(range(1, 12)) + [127, 128, 129, 300]:
        for a in (rng.standard_normal(k), np.round(rng.standard_normal(k) * 2), np.ones(k)):
            assert median_inplace_nb(a.copy(), k) == np.median(a)
