"""Nerve conduction session: M-waves and F-waves after electrical stimuli.

A continuous recording (BrainVision) of one muscle, a ``Stimulus/ES`` marker
per stimulus, a short stimulus artifact, an M-wave (CMAP) with a known onset
(distal motor latency) and amplitude, and F-waves: each stimulus makes, with
probability ``persistence``, one of ``n_motoneurons`` motoneurons fire back,
each with its own fixed latency (between the minimal F latency and that plus
the chronodispersion) and shape, so repeater F-waves occur naturally.

truth.csv: ``trial, channel, m_onset_ms, f_present, f_latency_ms`` plus
``trigger_time_s, m_amplitude_mv, f_amplitude_uv, motoneuron``.
"""

from __future__ import annotations

import argparse
import logging
import math
from pathlib import Path

import numpy as np

from motorsign.errors import ConfigError
from motorsign.simulate._evoked_shapes import phasic_response, stimulus_artifact
from motorsign.simulate.base import SimResult, seed_rng, write_result

__all__ = ["add_arguments", "generate", "simulate", "TRUTH_COLUMNS"]

log = logging.getLogger(__name__)

TRUTH_COLUMNS = ("trial", "channel", "m_onset_ms", "f_present", "f_latency_ms", "trigger_time_s",
                 "m_amplitude_mv", "f_amplitude_uv", "motoneuron", "muscle", "side")

#: default (distal motor latency ms, minimal F latency ms, phase scale) by region
_DEFAULTS = {"hand": (3.5, 26.0, 1.0), "forearm": (3.0, 22.0, 1.0), "arm": (3.0, 18.0, 1.1),
             "shoulder": (3.0, 14.0, 1.1), "leg": (4.5, 45.0, 1.3), "foot": (4.8, 48.0, 1.3),
             "thigh": (4.0, 30.0, 1.3), "any": (3.5, 26.0, 1.0), "trunk": (3.0, 20.0, 1.0)}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of ``motorsign simulate nerve``."""
    g = parser.add_argument_group("nerve")
    g.add_argument("--muscle", default=None, help="muscle (default APB)")
    g.add_argument("--side", default=None, help="side L/R (default R)")
    g.add_argument("--fs", type=float, default=None, help="sampling rate Hz (default 10000)")
    g.add_argument("--n-trials", type=int, default=None, dest="n_trials", help="stimuli (default 20)")
    g.add_argument("--noise-uv", type=float, default=None, dest="noise_uv", help="noise RMS µV (default 5)")
    g.add_argument("--m-latency-ms", type=float, default=None, dest="m_latency_ms", help="distal motor latency")
    g.add_argument("--m-amplitude-mv", type=float, default=None, dest="m_amplitude_mv",
                   help="CMAP baseline-to-peak (default 8 mV)")
    g.add_argument("--f-min-ms", type=float, default=None, dest="f_min_ms", help="minimal F latency")
    g.add_argument("--chronodispersion-ms", type=float, default=None, dest="chronodispersion_ms",
                   help="spread of the motoneurons' F latencies (default 3 ms)")
    g.add_argument("--persistence", type=float, default=None, help="probability of an F-wave (default 0.8)")


def generate(*, seed: int = 0, muscle: str | None = None, side: str | None = None, fs: float | None = None,
             n_trials: int | None = None, noise_uv: float | None = None, m_latency_ms: float | None = None,
             m_amplitude_mv: float | None = None, f_min_ms: float | None = None,
             chronodispersion_ms: float | None = None, persistence: float | None = None,
             n_motoneurons: int = 12, f_amp_uv: tuple[float, float] = (60.0, 400.0),
             isi_s: tuple[float, float] = (0.9, 1.1), artifact_uv: float = 2000.0) -> SimResult:
    """Simulate M- and F-waves.

    Parameters
    ----------
    seed : int
    muscle, side : str | None
        Default APB, R.
    fs : float | None
        Default 10000 Hz.
    n_trials : int | None
        Stimuli (default 20).
    noise_uv : float | None
        White noise RMS (default 5 µV).
    m_latency_ms, m_amplitude_mv : float | None
        M-wave onset and baseline-to-peak amplitude (region defaults; 8 mV).
    f_min_ms, chronodispersion_ms : float | None
        Shortest motoneuron F latency and the spread of the latencies.
    persistence : float | None
        Probability of an F-wave per stimulus (default 0.8).
    n_motoneurons : int
        Motoneurons that can fire back (fewer: more repeaters).
    f_amp_uv : (float, float)
        F-wave peak-to-peak range.
    isi_s : (float, float)
        Inter-stimulus interval range.
    artifact_uv : float
        Stimulus artifact amplitude.

    Returns
    -------
    SimResult
    """
    import pandas as pd

    from motorsign.evoked.tables import load_windows, window_row

    rng = seed_rng(seed)
    muscle = muscle or "APB"
    side = side or "R"
    w = window_row(muscle, load_windows())
    region = w.region if w is not None and w.region else "any"
    dml0, fmin0, scale = _DEFAULTS.get(region, _DEFAULTS["any"])
    fs = 10000.0 if fs is None else float(fs)
    n_trials = 20 if n_trials is None else int(n_trials)
    noise_uv = 5.0 if noise_uv is None else float(noise_uv)
    dml = dml0 if m_latency_ms is None else float(m_latency_ms)
    m_amp = 8.0 if m_amplitude_mv is None else float(m_amplitude_mv)
    fmin = fmin0 if f_min_ms is None else float(f_min_ms)
    chrono = 3.0 if chronodispersion_ms is None else float(chronodispersion_ms)
    pers = 0.8 if persistence is None else float(persistence)
    if (fs < 2000 or n_trials < 1 or not 0 <= pers <= 1 or noise_uv < 0 or dml <= 0.5 or fmin <= dml
            or m_amp <= 0):
        raise ConfigError("nerve simulation: need fs >= 2000, n_trials >= 1, 0 <= persistence <= 1, "
                          "noise >= 0, m-amplitude > 0 and 0.5 < m-latency < f-min")
    # motoneurons: latency, shape
    mn_lat = np.sort(fmin + rng.uniform(0, chrono, n_motoneurons))
    mn_lat[0] = fmin
    mn_amp = np.exp(rng.uniform(math.log(f_amp_uv[0]), math.log(f_amp_uv[1]), n_motoneurons))
    mn_shape = [(rng.uniform(1.5, 3.0, 3) * fs / 1000.0, np.array([1.0, -rng.uniform(0.8, 1.4), rng.uniform(0.2, 0.6)])
                 * rng.choice([-1.0, 1.0])) for _ in range(n_motoneurons)]
    gaps = rng.uniform(isi_s[0], isi_s[1], n_trials)
    t_stim = 0.5 + np.concatenate([[0.0], np.cumsum(gaps[:-1])])
    n = int((t_stim[-1] + 0.5) * fs)
    stims = np.rint(t_stim * fs).astype(np.int64)
    x = rng.standard_normal(n) * noise_uv
    seg_n = int(0.12 * fs)
    m_durs = np.array([4.0, 7.0]) * scale * fs / 1000.0
    rows = []
    for k, s in enumerate(stims):
        on = dml + rng.normal(0, 0.03)
        amp_k = m_amp * (1 + rng.normal(0, 0.02))
        m = phasic_response(seg_n, on * fs / 1000.0, m_durs, np.array([-1.0, 0.6]) * amp_k * 1000.0,
                            power=1.2, smooth_samples=0.05 * fs / 1000.0)
        m_bp = float(np.max(np.abs(m)))
        m *= amp_k * 1000.0 / m_bp
        resp = m
        fp = bool(rng.random() < pers)
        f_lat = math.nan
        f_amp = math.nan
        mn = -1
        if fp:
            mn = int(rng.integers(n_motoneurons))
            f_lat = float(mn_lat[mn] + rng.normal(0, 0.02))
            durs, rel = mn_shape[mn]
            f = phasic_response(seg_n, f_lat * fs / 1000.0, durs, rel, power=1.1,
                                smooth_samples=0.05 * fs / 1000.0)
            f *= mn_amp[mn] / np.ptp(f)
            f_amp = float(mn_amp[mn])
            resp = resp + f
        stop = min(n, s + seg_n)
        x[s:stop] += resp[: stop - s]
        art = stimulus_artifact(int(0.005 * fs), 0, artifact_uv * rng.choice([-1.0, 1.0]), fs,
                                tail_fraction=0.05, tail_ms=0.2, width_ms=0.1)
        stop = min(n, s + art.size)
        x[s:stop] += art[: stop - s]
        rows.append({"trial": k, "channel": muscle, "m_onset_ms": on, "f_present": fp, "f_latency_ms": f_lat,
                     "trigger_time_s": s / fs, "m_amplitude_mv": amp_k, "f_amplitude_uv": f_amp,
                     "motoneuron": mn, "muscle": muscle, "side": side})
    truth = pd.DataFrame(rows, columns=list(TRUTH_COLUMNS))
    markers = [("Stimulus", "ES", int(s), 1) for s in stims]
    return SimResult(x[:, None].astype(np.float32), fs, [muscle], markers, truth, None,
                     {"kind": "nerve", "seed": seed, "muscle": muscle, "side": side, "units": "uV",
                      "trigger": "Stimulus/ES", "m_latency_ms": dml, "f_min_ms": fmin,
                      "chronodispersion_ms": chrono, "persistence": pers, "noise_uv": noise_uv})


def simulate(out_dir, *, seed: int = 0, **options) -> dict[str, Path]:
    """Write a simulated nerve session (``nerve.vhdr`` + truth).

    Returns
    -------
    dict of str to Path
    """
    return write_result(generate(seed=seed, **options), out_dir, "nerve")
