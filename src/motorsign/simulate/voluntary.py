"""voluntary-emg: needle EMG at low to moderate effort with known motor units.

A muscle is ``normal``, ``neurogenic`` (chronic reinnervation: fewer, larger,
longer and often polyphasic units that fire fast before others are recruited)
or ``myopathic`` (small, short, polyphasic units recruited early). Units are
recruited in order of threshold as effort rises above it (Henneman) and fire
semi-regularly (Gaussian inter-spike intervals, CV ``isi_cv``).

Each motor unit potential (MUP) is built analytically at the sampling rate:
one to several fast spikes (Ricker wavelets: the near fibres; more of them,
spread over several ms, in reinnervated units; narrow and scattered in
myopathic ones) riding on a slow biphasic component (the far fibres) whose
width sets the duration. Every discharge gets neuromuscular jitter of its
spikes and a small amplitude variation. The background is band-limited
Gaussian noise (distant units) plus white amplifier noise.

The truth table lists every discharge (``unit_id``, ``time_s`` = time of the
largest absolute peak of the unit's mean, jitter-averaged, discharge) with
the noise-free unit's amplitude, duration
and phases measured by :func:`motorsign.mup.features.quantify_mup`, so the
features follow the same written definitions as the analysis. ``meta``
carries the muscle condition and a per-unit table.

Why not :mod:`motorsign.simulate.shapes`: its fibre model gives realistic
single potentials, but its small polyphasic units measure longer than its
normal ones under the clinical duration rule; this simulator needs classes
whose durations sit where the reference tables put them.
"""

from __future__ import annotations

import argparse
import logging
import math
from os import PathLike
from pathlib import Path

import numpy as np

from motorsign.errors import ConfigError

__all__ = ["add_arguments", "generate", "simulate", "CONDITIONS", "UNIT_CLASSES", "make_unit"]

log = logging.getLogger(__name__)

CONDITIONS = ("normal", "neurogenic", "myopathic")

#: Unit classes: amplitude (median, lo, hi) µV of the largest spike; number of
#: spikes (lo, hi); spike spread (ms); spike width (ms); slow-component
#: width (ms, lo, hi) and relative size (lo, hi); jitter (µs).
UNIT_CLASSES = {
    "normal": dict(amp=(480.0, 200.0, 1100.0), spikes=(1, 3), spread_ms=0.6,
                   width_ms=(0.12, 0.22), slow_ms=(1.45, 2.05), slow_rel=(0.10, 0.16),
                   jitter_us=25.0),
    "reinnervated": dict(amp=(2000.0, 900.0, 5000.0), spikes=(2, 6), spread_ms=4.0,
                         width_ms=(0.12, 0.25), slow_ms=(2.1, 2.8), slow_rel=(0.10, 0.16),
                         jitter_us=50.0),
    "myopathic": dict(amp=(280.0, 120.0, 600.0), spikes=(2, 5), spread_ms=2.0,
                      width_ms=(0.1, 0.18), slow_ms=(1.0, 1.6), slow_rel=(0.05, 0.09),
                      jitter_us=30.0),
}

#: Per condition: motor unit pool size, fraction of abnormal units, class of
#: the abnormal ones, minimum and maximum firing rates (Hz), rate gain (Hz
#: per unit effort above threshold), recruitment-threshold span (effort).
CONDITION_MODEL = {
    "normal": dict(pool=24, abnormal=0.0, cls="normal", fmin=6.0, fmax=25.0, gain=60.0, span=0.6),
    "neurogenic": dict(pool=10, abnormal=(0.6, 1.0), cls="reinnervated", fmin=10.0, fmax=30.0,
                       gain=90.0, span=0.6),
    "myopathic": dict(pool=30, abnormal=(0.7, 1.0), cls="myopathic", fmin=6.0, fmax=25.0,
                      gain=60.0, span=0.45),
}


#: Below this sampling rate the motor units are rendered at a multiple of it
#: and decimated with an anti-alias filter (``scipy.signal.resample_poly``):
#: their spikes carry energy up to a few kHz, which a real recording's
#: anti-alias filter removes before sampling. From this rate on the energy
#: above Nyquist is negligible and they are sampled directly.
ANTIALIAS_BELOW_HZ = 10000.0
#: ... at the smallest integer multiple of the sampling rate reaching this.
RENDER_MIN_HZ = 40000.0


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of ``motorsign simulate voluntary-emg``."""
    parser.add_argument("--condition", choices=(*CONDITIONS, "random"), default=None,
                        help="muscle condition (default normal; random draws one)")
    parser.add_argument("--duration-s", dest="duration_s", type=float, default=None,
                        help="recording length in s (default 10)")
    parser.add_argument("--fs", type=float, default=None, help="sampling rate in Hz (default 20000)")
    parser.add_argument("--effort", type=float, default=None,
                        help="effort 0..1 (default: drawn in 0.08..0.2, low to moderate)")
    parser.add_argument("--muscle", default=None, help="muscle name written in the metadata (default TA)")
    parser.add_argument("--age", type=float, default=None, help="age in years (metadata, default 50)")
    parser.add_argument("--noise-uv", dest="noise_uv", type=float, default=None,
                        help="background (distant units) RMS in µV (default drawn 8..20)")


def _ricker(u: np.ndarray) -> np.ndarray:
    return (1.0 - u * u) * np.exp(-0.5 * u * u)


def _slow(u: np.ndarray) -> np.ndarray:
    # biphasic: positive before the spike, negative after (derivative of a Gaussian)
    return -u * np.exp(-0.5 * u * u) * math.exp(0.5)


class _Unit:
    """An analytic MUP: spikes + slow component, evaluated at any times."""

    def __init__(self, rng: np.random.Generator, cls: str):
        c = UNIT_CLASSES[cls]
        self.cls = cls
        med, lo, hi = c["amp"]
        self.amp = float(np.clip(med * np.exp(0.45 * rng.standard_normal()), lo, hi))
        n = int(rng.integers(c["spikes"][0], c["spikes"][1] + 1))
        self.tau = np.sort(rng.uniform(-0.5, 0.5, n) * c["spread_ms"]) if n > 1 else np.zeros(1)
        self.w = rng.uniform(*c["width_ms"], n)
        rel = np.ones(n)
        if n > 1:
            rel = rng.uniform(0.35, 1.0, n)
            rel[rng.integers(0, n)] = 1.0
        self.a = rel * self.amp * rng.choice([-1.0, 1.0], n, p=[0.8, 0.2]) / 1.45
        self.a[np.argmax(np.abs(self.a))] = -abs(self.a[np.argmax(np.abs(self.a))])
        self.slow_w = rng.uniform(*c["slow_ms"])
        self.slow_a = rng.uniform(*c["slow_rel"]) * self.amp
        self.jitter_ms = c["jitter_us"] * 1e-3
        self.peak_ms = self._mean_peak_ms()

    def _mean_peak_ms(self, step_ms: float = 0.005, fs: float | None = None) -> float:
        """Time of the largest absolute value of the unit's *mean* discharge.

        Every discharge jitters its spikes (independent Gaussian delays of SD
        ``jitter_ms``, mean gain 1), so the average MUP is the slow component
        plus the spikes convolved with that Gaussian. Its largest peak is the
        unit's reference time: the jitter-free waveform is never recorded,
        and when two of its spikes are nearly as large the averaged one — the
        waveform any analysis estimates — can peak at the other.
        """
        t = np.arange(-30.0, 30.0, step_ms)
        slow = self.slow_a * _slow(t / self.slow_w)
        spikes = self.wave(t) - slow
        h = np.arange(-4.0 * self.jitter_ms, 4.0 * self.jitter_ms + step_ms / 2, step_ms)
        g = np.exp(-0.5 * (h / self.jitter_ms) ** 2)
        mean = slow + np.convolve(spikes, g / g.sum(), mode="same")
        if fs is not None and fs < ANTIALIAS_BELOW_HZ:
            # recorded behind the anti-alias filter (as generate() renders it below
            # ANTIALIAS_BELOW_HZ): the peak is that of the band-limited mean, which
            # can sit on another spike when the largest one is the narrowest
            mean = np.convolve(mean, _antialias_fir(fs, 1000.0 / step_ms), mode="same")
        return float(t[np.argmax(np.abs(mean))])

    def wave(self, t_ms: np.ndarray, tau: np.ndarray | None = None, gain: float = 1.0) -> np.ndarray:
        tau = self.tau if tau is None else tau
        v = self.slow_a * _slow(t_ms / self.slow_w)
        for a, ti, w in zip(self.a, tau, self.w):
            v = v + a * _ricker((t_ms - ti) / w)
        return gain * v


def _antialias_fir(fs: float, fine_hz: float) -> np.ndarray:
    """The anti-alias FIR of ``scipy.signal.resample_poly`` (decimation to ``fs``) at ``fine_hz``.

    Same continuous-time prototype: cutoff fs/2, Kaiser window (beta 5),
    ±10 output samples long.
    """
    from scipy.signal import firwin

    half = int(round(10.0 * fine_hz / fs))
    return firwin(2 * half + 1, 0.5 * fs, window=("kaiser", 5.0), fs=fine_hz)


def make_unit(rng: np.random.Generator, cls: str = "normal"):
    """Draw one analytic motor unit of a class of :data:`UNIT_CLASSES`.

    Parameters
    ----------
    rng : numpy.random.Generator
    cls : {"normal", "reinnervated", "myopathic"}

    Returns
    -------
    object
        With ``wave(t_ms)`` (µV at times in ms from the unit's reference),
        ``peak_ms`` (time of the largest absolute value of its mean,
        jitter-averaged, discharge) and ``cls``.
    """
    if cls not in UNIT_CLASSES:
        raise ConfigError(f"unknown unit class {cls!r}; choose one of: {', '.join(UNIT_CLASSES)}")
    return _Unit(rng, cls)


def _spike_train(rng, rate, duration_s, cv, t_start):
    times = []
    t = t_start
    mean = 1.0 / rate
    while True:
        isi = max(0.02, rng.normal(mean, cv * mean))
        t += isi
        if t >= duration_s:
            break
        times.append(t)
    return np.asarray(times)


def generate(*, seed: int = 0, condition: str | None = None, duration_s: float | None = None,
             fs: float | None = None, effort: float | None = None, muscle: str | None = None,
             age: float | None = None, noise_uv: float | None = None, channel: str = "EMG",
             isi_cv: float = 0.15):
    """Simulate voluntary needle EMG with known motor units.

    Parameters
    ----------
    seed : int
        Random seed.
    condition : {"normal", "neurogenic", "myopathic", "random"} | None
        Muscle condition (default normal).
    duration_s : float | None
        Length (default 10 s).
    fs : float | None
        Sampling rate (default 20 kHz).
    effort : float | None
        0..1; default drawn in 0.08..0.2 (low to moderate effort).
    muscle, age : metadata (default ``TA``, 50 years).
    noise_uv : float | None
        Background RMS (default drawn 8..20 µV).
    channel : str
        Channel name.
    isi_cv : float
        Coefficient of variation of inter-spike intervals.

    Returns
    -------
    motorsign.simulate.base.SimResult
        ``truth``: one row per discharge (``channel, time_s, kind, amplitude_uv,
        duration_ms, phases, initial_polarity, train_id, unit_id``);
        ``meta["units"]``: one dict per unit; ``meta["condition"]``.
    """
    import pandas as pd

    from motorsign.mup.features import quantify_mup
    from motorsign.simulate.base import DISCHARGE_TRUTH_COLUMNS, SimResult, seed_rng

    rng = seed_rng(seed)
    condition = condition or "normal"
    if condition == "random":
        condition = CONDITIONS[int(rng.integers(0, 3))]
    if condition not in CONDITIONS:
        raise ConfigError(f"--condition must be one of {', '.join(CONDITIONS)} or random, got {condition!r}")
    duration_s = 10.0 if duration_s is None else float(duration_s)
    fs = 20000.0 if fs is None else float(fs)
    if not (duration_s > 0 and math.isfinite(duration_s)):
        raise ConfigError(f"--duration-s must be a finite positive number, got {duration_s}")
    if not fs >= 2000:
        raise ConfigError(f"--fs must be at least 2000 Hz, got {fs}")
    effort = float(rng.uniform(0.08, 0.2)) if effort is None else float(effort)
    if not 0 < effort <= 1:
        raise ConfigError(f"--effort must be in (0, 1], got {effort}")
    noise_uv = float(rng.uniform(8.0, 20.0)) if noise_uv is None else float(noise_uv)
    model = CONDITION_MODEL[condition]
    n = int(round(duration_s * fs))

    # units and recruitment
    pool = model["pool"]
    ab = model["abnormal"]
    frac = ab if isinstance(ab, float) else float(rng.uniform(*ab))
    thresholds = np.sort(model["span"] * (np.arange(pool) + rng.uniform(0.0, 1.0, pool)) / pool)
    active = np.flatnonzero(thresholds < effort)
    if active.size == 0:
        active = np.array([0])
    # below ANTIALIAS_BELOW_HZ the units are rendered at an integer multiple of
    # fs and decimated through an anti-alias FIR, as a real amplifier's
    # anti-alias filter would band-limit them (sampled directly, their spikes
    # would alias: bench_mup_aliasing.py)
    over = int(math.ceil(RENDER_MIN_HZ / fs)) if fs < ANTIALIAS_BELOW_HZ else 1
    fs_r = fs * over
    n_r = n * over
    data = np.zeros(n_r, dtype=np.float64)
    rows, units_meta = [], []
    tpre, tpost = 25.0, 25.0  # ms rendered around each discharge
    for uid, k in enumerate(active):
        cls = model["cls"] if rng.uniform() < frac else "normal"
        unit = _Unit(rng, cls)
        if over > 1:  # truth time on the waveform as recorded (band-limited)
            unit.peak_ms = unit._mean_peak_ms(fs=fs)
        rate = float(min(model["fmax"], model["fmin"] + model["gain"] * (effort - thresholds[k])))
        times = _spike_train(rng, rate, duration_s, isi_cv, float(rng.uniform(0, 1.0 / rate)))
        # noise-free features by the analysis' own definitions, on the waveform as
        # it is recorded (band-limited like the data below ANTIALIAS_BELOW_HZ)
        if over > 1:
            from scipy.signal import resample_poly

            grid = np.arange(-tpre * fs_r / 1000.0, tpost * fs_r / 1000.0) * (1000.0 / fs_r)
            wave = resample_poly(unit.wave(grid), 1, over)
        else:
            wave = unit.wave(np.arange(-tpre, tpost, 1000.0 / fs))
        feat = quantify_mup(wave, fs, 0.0)
        for t0 in times:  # t0: time of the unit's reference (ms 0 of its wave)
            first = int(math.ceil((t0 - tpre / 1000.0) * fs_r))
            last = int(math.floor((t0 + tpost / 1000.0) * fs_r))
            a, b = max(0, first), min(n_r - 1, last)
            if b <= a:
                continue
            tt = (np.arange(a, b + 1) / fs_r - t0) * 1000.0
            tau = unit.tau + rng.normal(0.0, unit.jitter_ms, unit.tau.size)
            data[a : b + 1] += unit.wave(tt, tau, 1.0 + 0.03 * rng.standard_normal())
            peak_t = t0 + unit.peak_ms / 1000.0
            if 0 <= peak_t < duration_s:
                rows.append({
                    "channel": channel, "time_s": peak_t, "kind": "motor_unit_potential",
                    "amplitude_uv": feat["amplitude_uv"], "duration_ms": feat["duration_ms"],
                    "phases": feat["phases"], "initial_polarity": feat["initial_polarity"],
                    "train_id": uid, "unit_id": uid,
                })
        units_meta.append({
            "unit_id": uid, "class": cls, "firing_rate_hz": rate, "n_discharges": int(times.size),
            "recruitment_threshold": float(thresholds[k]), "amplitude_uv": feat["amplitude_uv"],
            "duration_ms": feat["duration_ms"], "phases": feat["phases"], "turns": feat["turns"],
            "area_uvms": feat["area_uvms"], "size_index": feat["size_index"],
        })
    if over > 1:
        from scipy.signal import resample_poly

        data = resample_poly(data, 1, over)[:n]
    # background: distant units (band-limited) + amplifier noise
    from scipy.signal import butter, sosfilt

    sos = butter(2, [20.0, min(1500.0, 0.45 * fs)], btype="bandpass", fs=fs, output="sos")
    bg = sosfilt(sos, rng.standard_normal(n + 2000))[2000:]
    bg *= noise_uv / max(1e-12, float(bg.std()))
    data += bg + rng.normal(0.0, 3.0, n)
    truth = pd.DataFrame(rows, columns=list(DISCHARGE_TRUTH_COLUMNS))
    truth = truth.sort_values("time_s", kind="stable").reset_index(drop=True)
    intervals = pd.DataFrame([{"channel": "*", "start_s": 0.0, "stop_s": duration_s, "kind": "voluntary"}])
    meta = {
        "kind": "voluntary-emg", "seed": seed, "condition": condition, "effort": effort,
        "muscle": muscle or "TA", "side": None, "age_years": 50.0 if age is None else float(age),
        "noise_uv": noise_uv, "units": units_meta, "fs": fs, "duration_s": duration_s,
        "signal_rms_uv": float(data.std()),
    }
    return SimResult(data_uv=data.astype(np.float32)[:, None], fs=fs, channel_names=[channel],
                     markers=[], truth=truth, intervals=intervals, meta=meta)


def simulate(out_dir: str | PathLike, *, seed: int = 0, **options) -> dict[str, Path]:
    """Write a voluntary-emg recording, ``truth.csv``, ``truth_intervals.csv`` and ``truth_units.csv``.

    Parameters
    ----------
    out_dir : path-like
        Destination folder (created).
    seed : int
        Random seed.
    **options
        As :func:`generate`.

    Returns
    -------
    dict of str to Path
    """
    from motorsign.outputs import write_csv, write_json
    from motorsign.simulate.base import write_result

    res = generate(seed=seed, **options)
    paths = write_result(res, out_dir, "voluntary_emg")
    paths["units"] = write_csv(Path(out_dir) / "truth_units.csv", res.meta["units"])
    meta = {k: v for k, v in res.meta.items() if k != "units"}
    paths["meta"] = write_json(Path(out_dir) / "truth_meta.json", meta)
    return paths
