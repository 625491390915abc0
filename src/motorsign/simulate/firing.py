"""Discharge-time generators: regular, Poisson, gamma and recruitment trains.

Every function returns sorted times in seconds within ``[start_s, stop_s)``.
"""

from __future__ import annotations

import numpy as np

__all__ = ["regular_train", "poisson_train", "gamma_train", "recruited_train", "effort_profile"]


def regular_train(
    rng: np.random.Generator,
    start_s: float,
    stop_s: float,
    rate_hz: float,
    *,
    isi_cv: float = 0.02,
    drift: float = 0.0,
) -> np.ndarray:
    """A regular train (fibrillations, PSWs) whose interval may drift slowly.

    Parameters
    ----------
    rng : numpy.random.Generator
    start_s, stop_s : float
        Window (s).
    rate_hz : float
        Initial rate.
    isi_cv : float
        Interval-to-interval variation (SD / mean).
    drift : float
        Relative change of the mean interval from start to stop (0.2: the
        interval lengthens by 20 % over the train).

    Returns
    -------
    ndarray
    """
    isi0 = 1.0 / rate_hz
    span = max(stop_s - start_s, 1e-9)
    t = start_s + rng.uniform(0, isi0)
    out = []
    while t < stop_s:
        out.append(t)
        mean = isi0 * (1.0 + drift * (t - start_s) / span)
        t += max(mean * (1.0 + isi_cv * rng.standard_normal()), 0.2 * mean)
    return np.asarray(out)


def poisson_train(
    rng: np.random.Generator, start_s: float, stop_s: float, rate_hz: float, *, refractory_s: float = 0.0
) -> np.ndarray:
    """A Poisson train with a dead time (fasciculations, end-plate noise).

    Parameters
    ----------
    rng : numpy.random.Generator
    start_s, stop_s : float
    rate_hz : float
        Mean rate (counting the dead time).
    refractory_s : float
        No discharge follows another within this time.

    Returns
    -------
    ndarray
    """
    if rate_hz <= 0 or stop_s <= start_s:
        return np.empty(0)
    mean_free = max(1.0 / rate_hz - refractory_s, 1e-6)
    n_guess = int((stop_s - start_s) * rate_hz * 1.5) + 20
    out = []
    t = start_s
    while True:
        isi = refractory_s + rng.exponential(mean_free, n_guess)
        times = t + np.cumsum(isi)
        keep = times[times < stop_s]
        out.append(keep)
        if keep.size < times.size:
            break
        t = times[-1]
    return np.concatenate(out)


def gamma_train(
    rng: np.random.Generator, start_s: float, stop_s: float, rate_hz: float, *, cv: float = 0.7
) -> np.ndarray:
    """A gamma renewal train (irregular: end-plate spikes).

    Parameters
    ----------
    rng : numpy.random.Generator
    start_s, stop_s : float
    rate_hz : float
        Mean rate.
    cv : float
        Interval coefficient of variation (1: Poisson).

    Returns
    -------
    ndarray
    """
    if rate_hz <= 0 or stop_s <= start_s:
        return np.empty(0)
    k = 1.0 / cv**2
    n = int((stop_s - start_s) * rate_hz * 1.5) + 20
    out = []
    t = start_s + rng.uniform(0, 1.0 / rate_hz)
    while True:
        times = t + np.concatenate(([0.0], np.cumsum(rng.gamma(k, 1.0 / (k * rate_hz), n))))
        keep = times[times < stop_s]
        out.append(keep)
        if keep.size < times.size:
            break
        t = times[-1] + rng.gamma(k, 1.0 / (k * rate_hz))
    return np.concatenate(out)


def effort_profile(t: np.ndarray, start_s: float, stop_s: float, ramp_s: float = 0.5) -> np.ndarray:
    """Voluntary effort (0..1): ramp up, hold, ramp down.

    Parameters
    ----------
    t : ndarray
        Times (s).
    start_s, stop_s : float
        The contraction.
    ramp_s : float
        Duration of each ramp (limited to a third of the contraction).

    Returns
    -------
    ndarray
    """
    ramp = min(ramp_s, (stop_s - start_s) / 3.0)
    up = np.clip((t - start_s) / ramp, 0, 1)
    down = np.clip((stop_s - t) / ramp, 0, 1)
    return np.minimum(up, down)


def recruited_train(
    rng: np.random.Generator,
    start_s: float,
    stop_s: float,
    *,
    threshold: float,
    level: float = 1.0,
    min_rate_hz: float = 8.0,
    max_rate_hz: float = 20.0,
    isi_cv: float = 0.15,
    ramp_s: float = 0.5,
) -> np.ndarray:
    """Discharges of a voluntarily recruited unit during one contraction.

    The unit fires while the effort (:func:`effort_profile` times ``level``)
    exceeds its recruitment ``threshold``, starting at ``min_rate_hz`` and
    speeding up linearly to ``max_rate_hz`` at full effort, with
    interval variability ``isi_cv``.

    Parameters
    ----------
    rng : numpy.random.Generator
    start_s, stop_s : float
    threshold : float
        Recruitment threshold (0..1 effort).
    level : float
        Peak effort of the contraction (0..1).
    min_rate_hz, max_rate_hz : float
    isi_cv : float
    ramp_s : float

    Returns
    -------
    ndarray
    """
    out = []
    t = start_s
    while t < stop_s:
        e = level * float(effort_profile(np.array([t]), start_s, stop_s, ramp_s)[0])
        if e <= threshold:
            t += 0.01
            continue
        frac = (e - threshold) / max(1.0 - threshold, 1e-6)
        rate = min_rate_hz + (max_rate_hz - min_rate_hz) * min(frac, 1.0)
        if out and t - out[-1] < 0.5 / rate:
            t = out[-1] + 0.5 / rate
        out.append(t)
        t += max(1.0 / rate * (1.0 + isi_cv * rng.standard_normal()), 0.3 / rate)
    return np.asarray(out)
