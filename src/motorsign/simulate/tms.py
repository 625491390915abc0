"""TMS session: MEPs after magnetic pulses, with known onset latencies.

A continuous recording (BrainVision) of one or more muscles, one ``Stimulus/TMS``
marker per pulse, a stimulus artifact at each pulse, an MEP with a known
onset in the muscle's typical window and a log-uniform peak-to-peak
amplitude, absent trials (pure noise), optional pre-activation (background
EMG silenced by a cortical silent period) and optional paired pulses. With
``--epoched`` each channel is also written as an epoched ``.mat`` (samples x
trials, variable ``meps``) with its sidecar JSON.

truth.csv: ``trial, channel, present, onset_ms`` plus ``trigger_time_s,
peak_to_peak_uv, silent_period_ms, muscle, side`` (onset and amplitude NaN
when absent; latencies from the first pulse of a pair). The silent period
runs from the MEP onset (from the pulse when no MEP) to the time the
background EMG is back at half its level (it returns over a 2 ms ramp).
"""

from __future__ import annotations

import argparse
import logging
import math
from pathlib import Path

import numpy as np

from motorsign.errors import ConfigError
from motorsign.simulate._evoked_shapes import band_noise, phasic_response, stimulus_artifact
from motorsign.simulate.base import SimResult, seed_rng, write_result

__all__ = ["add_arguments", "generate", "simulate", "TRUTH_COLUMNS"]

log = logging.getLogger(__name__)

TRUTH_COLUMNS = ("trial", "channel", "present", "onset_ms", "trigger_time_s", "peak_to_peak_uv",
                 "silent_period_ms", "muscle", "side")

#: phase-duration scale by muscle region (leg MEPs are longer)
_REGION_SCALE = {"hand": 1.0, "forearm": 1.0, "arm": 1.1, "shoulder": 1.1, "trunk": 1.0,
                 "leg": 1.4, "foot": 1.4, "thigh": 1.3, "any": 1.0}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of ``motorsign simulate tms``."""
    g = parser.add_argument_group("tms")
    g.add_argument("--muscles", default=None, help="comma-separated muscles, one channel each (default APB)")
    g.add_argument("--side", default=None, help="side L/R (default R)")
    g.add_argument("--fs", type=float, default=None, help="sampling rate Hz (default 5000)")
    g.add_argument("--n-trials", type=int, default=None, dest="n_trials", help="pulses (default 30)")
    g.add_argument("--noise-uv", type=float, default=None, dest="noise_uv", help="noise RMS µV (default 5)")
    g.add_argument("--amp-min-uv", type=float, default=None, dest="amp_min_uv", help="smallest MEP p-p (default 200)")
    g.add_argument("--amp-max-uv", type=float, default=None, dest="amp_max_uv", help="largest MEP p-p (default 3000)")
    g.add_argument("--absent-fraction", type=float, default=None, dest="absent_fraction",
                   help="fraction of pulses without MEP (default 0.2)")
    g.add_argument("--preactivation-uv", type=float, default=None, dest="preactivation_uv",
                   help="background EMG RMS of a contracted muscle (default 0: at rest)")
    g.add_argument("--silent-period-ms", type=float, default=None, dest="silent_period_ms",
                   help="cortical silent period with pre-activation (default 120)")
    g.add_argument("--paired-pulse-ms", type=float, default=None, dest="paired_pulse_ms",
                   help="add a second pulse this long after each pulse (default none)")
    g.add_argument("--epoched", action="store_true", default=None, help="also write epoched .mat files")


def _muscle_info(muscle: str):
    from motorsign.evoked.tables import load_windows

    rows = load_windows()
    w = rows.get(muscle.lower())
    if w is None or muscle.lower() == "default" or not math.isfinite(w.typical_onset_min_ms):
        raise ConfigError(f"--muscles: unknown muscle {muscle!r}; known: "
                          f"{', '.join(w.muscle for k, w in rows.items() if k != 'default')}")
    return w, w.typical_onset_min_ms, w.typical_onset_max_ms, w.region


def generate(*, seed: int = 0, muscles: str | list[str] | None = None, side: str | None = None,
             fs: float | None = None, n_trials: int | None = None, noise_uv: float | None = None,
             amp_min_uv: float | None = None, amp_max_uv: float | None = None,
             absent_fraction: float | None = None, preactivation_uv: float | None = None,
             silent_period_ms: float | None = None, paired_pulse_ms: float | None = None,
             isi_s: tuple[float, float] = (4.0, 6.0), artifact_uv: float = 3000.0,
             latency_jitter_ms: float = 0.6, epoched: bool | None = None) -> SimResult:
    """Simulate a TMS session.

    Parameters
    ----------
    seed : int
    muscles : str | list of str | None
        Muscles (``"APB,FDI"``), one channel each, named after the muscle.
    side : str | None
    fs : float | None
        Sampling rate (default 5000 Hz).
    n_trials : int | None
        Pulses (default 30).
    noise_uv : float | None
        White noise RMS (default 5 µV).
    amp_min_uv, amp_max_uv : float | None
        MEP peak-to-peak range, log-uniform (default 200-3000 µV).
    absent_fraction : float | None
        Fraction of pulses with no MEP (default 0.2).
    preactivation_uv : float | None
        Background EMG RMS (default 0, rest); silenced after each pulse.
    silent_period_ms : float | None
        Mean silent period (default 120 ms) when pre-activated.
    paired_pulse_ms : float | None
        Interval of a second pulse (paired-pulse protocol).
    isi_s : (float, float)
        Inter-pulse interval range.
    artifact_uv : float
        Stimulus artifact amplitude.
    latency_jitter_ms : float
        Trial-to-trial SD of the onset around the channel's latency.
    epoched : bool | None
        Recorded in ``meta`` for :func:`simulate`.

    Returns
    -------
    SimResult
    """
    import pandas as pd

    rng = seed_rng(seed)
    fs = 5000.0 if fs is None else float(fs)
    n_trials = 30 if n_trials is None else int(n_trials)
    noise_uv = 5.0 if noise_uv is None else float(noise_uv)
    amp_min_uv = 200.0 if amp_min_uv is None else float(amp_min_uv)
    amp_max_uv = 3000.0 if amp_max_uv is None else float(amp_max_uv)
    absent_fraction = 0.2 if absent_fraction is None else float(absent_fraction)
    preact = float(preactivation_uv or 0.0)
    sp_mean = float(silent_period_ms or 120.0)
    side = side or "R"
    if isinstance(muscles, str):
        muscles = [m.strip() for m in muscles.split(",") if m.strip()]
    muscles = muscles or ["APB"]
    if fs < 1000 or n_trials < 1 or noise_uv < 0 or not 0 <= absent_fraction <= 1 or not 0 < amp_min_uv <= amp_max_uv:
        raise ConfigError("tms simulation: need fs >= 1000, n_trials >= 1, noise >= 0, "
                          "0 <= absent-fraction <= 1 and 0 < amp-min <= amp-max")
    gaps = rng.uniform(isi_s[0], isi_s[1], n_trials)
    t_pulse = 1.0 + np.concatenate([[0.0], np.cumsum(gaps[:-1])])
    n = int((t_pulse[-1] + max(1.0, isi_s[0])) * fs)
    pulses = np.rint(t_pulse * fs).astype(np.int64)
    data = np.zeros((n, len(muscles)))
    rows = []
    absent = rng.random(n_trials) < absent_fraction
    for c, m in enumerate(muscles):
        _, lo, hi, region = _muscle_info(m)
        scale = _REGION_SCALE.get(region, 1.0)
        base_lat = rng.uniform(lo + 1.0, hi - 3.0)
        first_sign = rng.choice([-1.0, 1.0])
        x = rng.standard_normal(n) * noise_uv
        if preact > 0:
            bg = band_noise(rng, n, fs, preact)
            gain = np.ones(n)
        for k, p in enumerate(pulses):
            sp_ms = math.nan
            onset_ms = max(lo - 2.0, base_lat + rng.normal(0, latency_jitter_ms))
            present = not absent[k]
            amp = math.exp(rng.uniform(math.log(amp_min_uv), math.log(amp_max_uv))) if present else math.nan
            seg_n = int(0.2 * fs)
            if present:
                n_ph = int(rng.choice([2, 3], p=[0.6, 0.4]))
                durs = rng.uniform(3.0, 6.0, n_ph) * scale * fs / 1000.0
                rel = np.array([1.0, -rng.uniform(0.8, 1.6), rng.uniform(0.2, 0.5)])[:n_ph]
                wave = phasic_response(seg_n, onset_ms * fs / 1000.0, durs, first_sign * rel,
                                       power=rng.uniform(1.0, 1.4), smooth_samples=0.1 * fs / 1000.0)
                wave *= amp / np.ptp(wave)
                stop = min(n, p + seg_n)
                x[p:stop] += wave[: stop - p]
            if preact > 0:
                sp_ms = max(30.0, rng.normal(sp_mean, 10.0))
                start = p + int(round((onset_ms if present else lo) * fs / 1000.0))
                stop = min(n, start + int(round(sp_ms * fs / 1000.0)))
                gain[start:stop] = 0.0
                ramp = min(n - stop, int(0.002 * fs))
                gain[stop:stop + ramp] = np.linspace(0, 1, ramp)
                sp_ms += 1.0  # EMG back at half its level: the middle of the 2 ms ramp
                if not present:
                    sp_ms = sp_ms + lo  # measured from the pulse when there is no MEP
            art = stimulus_artifact(int(0.02 * fs), 0, artifact_uv * rng.choice([-1.0, 1.0]), fs)
            stop = min(n, p + art.size)
            x[p:stop] += art[: stop - p]
            if paired_pulse_ms:
                q = p + int(round(paired_pulse_ms * fs / 1000.0))
                stop = min(n, q + art.size)
                x[q:stop] += art[: stop - q]
            rows.append({"trial": k, "channel": m, "present": present,
                         "onset_ms": onset_ms if present else math.nan,
                         "trigger_time_s": p / fs, "peak_to_peak_uv": amp,
                         "silent_period_ms": sp_ms, "muscle": m, "side": side})
        if preact > 0:
            x += bg * gain
        data[:, c] = x
    markers = [("Stimulus", "TMS", int(p), 1) for p in pulses]
    if paired_pulse_ms:
        q = pulses + int(round(paired_pulse_ms * fs / 1000.0))
        markers = sorted(markers + [("Stimulus", "TMS", int(s), 1) for s in q], key=lambda m: m[2])
    truth = pd.DataFrame(rows, columns=list(TRUTH_COLUMNS))
    return SimResult(data.astype(np.float32), fs, list(muscles), markers, truth, None,
                     {"kind": "tms", "seed": seed, "muscle": muscles[0] if len(muscles) == 1 else None,
                      "side": side, "units": "uV", "trigger": "Stimulus/TMS", "epoched": bool(epoched),
                      "noise_uv": noise_uv, "paired_pulse_ms": paired_pulse_ms,
                      "preactivation_uv": preact})


def epoch_arrays(result: SimResult, pre_ms: float = 50.0, post_ms: float = 100.0):
    """The first pulse of each trial cut as ``(samples, trials)`` arrays per channel.

    Returns
    -------
    dict of str to ndarray, int
        Channel -> samples x trials (µV), and the stimulus sample.
    """
    fs = result.fs
    pre = int(round(pre_ms * fs / 1000.0))
    post = int(round(post_ms * fs / 1000.0))
    starts = np.rint(result.truth.groupby("trial")["trigger_time_s"].first().to_numpy() * fs).astype(int)
    out = {}
    for c, name in enumerate(result.channel_names):
        out[name] = np.stack([result.data_uv[s - pre:s + post + 1, c] for s in starts], axis=1)
    return out, pre


def simulate(out_dir, *, seed: int = 0, **options) -> dict[str, Path]:
    """Write a simulated TMS session (``tms.vhdr`` + truth; epoched .mat with ``--epoched``).

    Returns
    -------
    dict of str to Path
    """
    from scipy.io import savemat

    from motorsign.outputs import atomic_write_bytes, write_json

    res = generate(seed=seed, **options)
    paths = write_result(res, out_dir, "tms")
    if options.get("epoched"):
        arrays, stim = epoch_arrays(res)
        for name, arr in arrays.items():
            mat = Path(out_dir) / f"tms_{name}.mat"
            import io

            buf = io.BytesIO()
            savemat(buf, {"meps": arr.astype(np.float64)})
            atomic_write_bytes(mat, buf.getvalue())
            side = write_json(mat.with_suffix(".json"), {"sampling_rate_hz": res.fs, "stim_sample": stim,
                                                         "units": "uV", "variable": "meps"})
            paths[f"mat_{name}"] = mat
            paths[f"sidecar_{name}"] = side
    return paths
