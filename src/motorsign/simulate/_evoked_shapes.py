"""Waveform pieces shared by the ``tms`` and ``nerve`` simulators.

Responses are built from half-sine phases of alternating sign that start
exactly at the true onset (a slope discontinuity, as a compound potential's
leading edge looks at the sampling rates used), slightly smoothed so the
corner is not perfectly sharp. Times are in samples, amplitudes in µV.
"""

from __future__ import annotations

import numpy as np

__all__ = ["phasic_response", "stimulus_artifact", "band_noise", "smooth_gauss"]


def smooth_gauss(x: np.ndarray, sigma_samples: float) -> np.ndarray:
    """Gaussian smoothing (zero phase) of a 1-D array."""
    if sigma_samples <= 0:
        return x
    half = int(np.ceil(4 * sigma_samples))
    k = np.exp(-0.5 * (np.arange(-half, half + 1) / sigma_samples) ** 2)
    k /= k.sum()
    return np.convolve(x, k, mode="same")


def phasic_response(n: int, onset: float, phase_samples, amplitudes, *, power: float = 1.0,
                    smooth_samples: float = 0.0) -> np.ndarray:
    """A multi-phasic response starting at a (fractional) sample.

    Parameters
    ----------
    n : int
        Length of the returned array.
    onset : float
        First sample of the response (fractional).
    phase_samples : sequence of float
        Duration of each phase in samples.
    amplitudes : sequence of float
        Signed peak of each phase (µV).
    power : float
        Exponent of the half-sine (1: straight leading edge; >1: rounder).
    smooth_samples : float
        Gaussian smoothing SD in samples.

    Returns
    -------
    ndarray (n,) float64
    """
    t = np.arange(n, dtype=float)
    y = np.zeros(n)
    start = float(onset)
    for dur, amp in zip(phase_samples, amplitudes):
        u = (t - start) / dur
        inside = (u >= 0) & (u < 1)
        y[inside] += amp * np.sin(np.pi * u[inside]) ** power
        start += dur
    return smooth_gauss(y, smooth_samples)


def stimulus_artifact(n: int, at: int, amplitude_uv: float, fs: float, *, tail_fraction: float = 0.05,
                      tail_ms: float = 1.0, width_ms: float = 0.4) -> np.ndarray:
    """A stimulus artifact: a fast biphasic spike and an exponential tail."""
    y = np.zeros(n)
    w = max(1, int(round(width_ms * fs / 1000)))
    stop = min(n, at + w)
    y[at:stop] = amplitude_uv
    stop2 = min(n, stop + w)
    y[stop:stop2] = -0.6 * amplitude_uv
    tt = np.arange(n - stop2) / fs * 1000.0
    y[stop2:] += tail_fraction * amplitude_uv * np.exp(-tt / tail_ms)
    return y


def band_noise(rng: np.random.Generator, n: int, fs: float, rms: float, lo_hz: float = 20.0,
               hi_hz: float = 450.0) -> np.ndarray:
    """Gaussian noise band-passed to ``lo_hz..hi_hz`` (surface EMG-like), scaled to ``rms``."""
    from scipy.signal import butter, sosfiltfilt

    w = rng.standard_normal(n)
    hi = min(hi_hz, 0.45 * fs)
    sos = butter(4, [lo_hz, hi], btype="bandpass", fs=fs, output="sos")
    y = sosfiltfilt(sos, w)
    s = y.std()
    return y * (rms / s) if s > 0 else y
