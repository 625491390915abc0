"""Background of simulated recordings: coloured noise, mains hum, baseline
wander and movement artifacts.

All generators take a numpy Generator and return float64 arrays shaped
``(n_samples, n_channels)`` in µV, so they add to any recording.
"""

from __future__ import annotations

import numpy as np

__all__ = ["coloured_noise", "mains_hum", "baseline_wander", "movement_artifact", "add_background"]

#: Lowest frequency of the coloured noise (Hz): below it the spectrum is flat
#: (the baseline wander covers slower drifts).
NOISE_LOW_HZ = 2.0
#: Mains harmonics added and their amplitude relative to the fundamental.
MAINS_HARMONICS = ((1, 1.0), (3, 0.3), (5, 0.12))


def coloured_noise(
    rng: np.random.Generator,
    n_samples: int,
    n_channels: int,
    fs: float,
    rms_uv: float,
    exponent: float = 1.0,
    high_hz: float | None = None,
) -> np.ndarray:
    """Gaussian noise with a ``1/f^exponent`` power spectrum.

    Parameters
    ----------
    rng : numpy.random.Generator
    n_samples, n_channels : int
    fs : float
        Sampling rate (Hz).
    rms_uv : float
        RMS of each channel (µV).
    exponent : float
        Spectral exponent (0 white, 1 pink, 2 brown); the spectrum is flat
        below :data:`NOISE_LOW_HZ`.
    high_hz : float | None
        Band edge above which the spectrum falls steeply (an amplifier's
        low-pass); default 0.4 fs.

    Returns
    -------
    ndarray, shape (n_samples, n_channels)
    """
    if rms_uv <= 0 or n_samples == 0:
        return np.zeros((n_samples, n_channels))
    white = rng.standard_normal((n_samples, n_channels))
    spec = np.fft.rfft(white, axis=0)
    f = np.fft.rfftfreq(n_samples, 1.0 / fs)
    gain = 1.0 / np.maximum(f, NOISE_LOW_HZ) ** (exponent / 2.0)
    hi = 0.4 * fs if high_hz is None else float(high_hz)
    gain = gain / np.sqrt(1.0 + (f / hi) ** 8)
    x = np.fft.irfft(spec * gain[:, None], n=n_samples, axis=0)
    x -= x.mean(axis=0)
    std = x.std(axis=0)
    std[std == 0] = 1.0
    return x * (rms_uv / std)


def mains_hum(
    rng: np.random.Generator,
    n_samples: int,
    n_channels: int,
    fs: float,
    amplitude_uv: float,
    mains_hz: float = 50.0,
) -> np.ndarray:
    """Mains interference: the fundamental and odd harmonics below Nyquist.

    Parameters
    ----------
    rng : numpy.random.Generator
    n_samples, n_channels : int
    fs : float
    amplitude_uv : float
        Amplitude of the fundamental (µV, per channel scaled 0.5–1.5).
    mains_hz : float
        50 or 60 Hz.

    Returns
    -------
    ndarray, shape (n_samples, n_channels)
    """
    out = np.zeros((n_samples, n_channels))
    if amplitude_uv <= 0:
        return out
    t = np.arange(n_samples) / fs
    for ch in range(n_channels):
        scale = amplitude_uv * rng.uniform(0.5, 1.5)
        for k, rel in MAINS_HARMONICS:
            if k * mains_hz < fs / 2:
                out[:, ch] += scale * rel * np.sin(2 * np.pi * k * mains_hz * t + rng.uniform(0, 2 * np.pi))
    return out


def baseline_wander(
    rng: np.random.Generator,
    n_samples: int,
    n_channels: int,
    fs: float,
    amplitude_uv: float,
    n_components: int = 4,
) -> np.ndarray:
    """Slow baseline drift: a few sinusoids between 0.05 and 1 Hz.

    Parameters
    ----------
    rng : numpy.random.Generator
    n_samples, n_channels : int
    fs : float
    amplitude_uv : float
        Typical drift amplitude (µV).
    n_components : int
        Sinusoids per channel.

    Returns
    -------
    ndarray, shape (n_samples, n_channels)
    """
    out = np.zeros((n_samples, n_channels))
    if amplitude_uv <= 0:
        return out
    t = np.arange(n_samples) / fs
    for ch in range(n_channels):
        for _ in range(n_components):
            f = np.exp(rng.uniform(np.log(0.05), np.log(1.0)))
            out[:, ch] += amplitude_uv / np.sqrt(n_components) * rng.uniform(0.5, 1.5) * np.sin(
                2 * np.pi * f * t + rng.uniform(0, 2 * np.pi)
            )
    return out


def movement_artifact(rng: np.random.Generator, n: int, fs: float, amplitude_uv: float) -> np.ndarray:
    """One movement artifact of ``n`` samples: large slow swings and steps.

    The needle moving in the muscle gives a few large low-frequency
    deflections (1–8 Hz) with sharp onsets, under a smooth window.

    Parameters
    ----------
    rng : numpy.random.Generator
    n : int
        Length in samples.
    fs : float
    amplitude_uv : float
        Peak amplitude (µV).

    Returns
    -------
    ndarray, shape (n,)
    """
    t = np.arange(n) / fs
    x = np.zeros(n)
    for _ in range(int(rng.integers(2, 6))):
        f = rng.uniform(1.0, 8.0)
        x += rng.uniform(0.3, 1.0) * np.sin(2 * np.pi * f * t + rng.uniform(0, 2 * np.pi))
    # a few abrupt steps that relax exponentially
    for _ in range(int(rng.integers(1, 4))):
        i = int(rng.integers(0, max(1, n)))
        tau = rng.uniform(0.02, 0.15)
        x[i:] += rng.choice([-1, 1]) * rng.uniform(0.5, 1.5) * np.exp(-(t[i:] - t[i]) / tau)
    w = np.sin(np.pi * np.linspace(0, 1, n)) ** 0.5 if n > 1 else np.ones(n)
    x *= w
    peak = np.max(np.abs(x)) if n else 0.0
    return x * (amplitude_uv / peak) if peak > 0 else x


def add_background(
    rng: np.random.Generator,
    data: np.ndarray,
    fs: float,
    *,
    noise_uv: float,
    noise_exponent: float,
    mains_uv: float,
    mains_hz: float,
    wander_uv: float,
) -> None:
    """Add noise, hum and wander to ``data`` in place, one channel at a time.

    One channel at a time keeps the temporary arrays (the noise spectrum)
    to one channel's size.

    Parameters
    ----------
    rng : numpy.random.Generator
    data : ndarray, shape (n_samples, n_channels)
        Modified in place.
    fs : float
    noise_uv, noise_exponent : float
        See :func:`coloured_noise`.
    mains_uv, mains_hz : float
        See :func:`mains_hum`.
    wander_uv : float
        See :func:`baseline_wander`.
    """
    n = data.shape[0]
    for ch in range(data.shape[1]):
        x = coloured_noise(rng, n, 1, fs, noise_uv, noise_exponent)[:, 0]
        x += mains_hum(rng, n, 1, fs, mains_uv, mains_hz)[:, 0]
        x += baseline_wander(rng, n, 1, fs, wander_uv)[:, 0]
        data[:, ch] += x.astype(data.dtype, copy=False)


def add_background_arguments(parser, defaults: dict):
    """The ``background`` option group shared by the continuous simulators.

    Parameters
    ----------
    parser : argparse.ArgumentParser
    defaults : dict
        The simulator's defaults (``noise_uv``, ``noise_exponent``, ``mains_hz``,
        ``mains_uv``, ``wander_uv``).

    Returns
    -------
    argparse._ArgumentGroup
        The group, for simulator-specific additions.
    """
    g = parser.add_argument_group("background")
    g.add_argument("--noise-uv", type=float, default=defaults["noise_uv"],
                   help="RMS of the coloured noise (µV)")
    g.add_argument("--noise-exponent", type=float, default=defaults["noise_exponent"],
                   help="1/f^x spectrum")
    g.add_argument("--mains-hz", type=float, default=defaults["mains_hz"], choices=(50.0, 60.0))
    g.add_argument("--mains-uv", type=float, default=defaults["mains_uv"], help="hum amplitude (µV)")
    g.add_argument("--wander-uv", type=float, default=defaults["wander_uv"],
                   help="baseline wander amplitude (µV)")
    g.add_argument("--no-annotate", dest="annotate", action="store_false",
                   help="no interval markers in the .vmrk")
    return g
