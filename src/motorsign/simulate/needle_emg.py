"""Needle EMG at rest (and during voluntary contraction) with known discharges.

Each channel is one needle site. At rest it may hold fibrillation and
positive sharp wave trains (one denervated fibre each: regular, slowly
drifting interval), fasciculating motor units (each its own multi-fibre
potential, firing irregularly and slowly), an end-plate zone (end-plate
noise and negative-first end-plate spikes), complex repetitive discharges
(one time-locked complex repeating at a fixed rate, abrupt start and stop);
voluntary contractions (overlapping motor unit trains at 8–20 Hz recruited
with effort) and movement artifacts occupy intervals written to
``truth_intervals.csv``. Coloured noise, mains hum and baseline wander are
added last.

``truth.csv`` has the columns of ``detect``'s ``discharges.csv`` (without
``confidence``) plus ``unit_id``; ``time_s`` is the time of the largest
absolute peak of the discharge's clean waveform as added to the file.
End-plate noise (miniature end-plate potentials) is background and has no
truth rows.
"""

from __future__ import annotations

import argparse
import logging
import os
from pathlib import Path

import numpy as np

from motorsign.errors import ConfigError
from motorsign.simulate import background, firing, shapes
from motorsign.simulate.base import DISCHARGE_TRUTH_COLUMNS, SimResult, seed_rng, write_result
from motorsign.simulate.render import Canvas

__all__ = ["add_arguments", "generate", "simulate", "DEFAULTS"]

log = logging.getLogger(__name__)

#: Default options of :func:`generate` (also the CLI defaults).
DEFAULTS: dict = {
    "duration_s": 60.0,
    "fs": 20000.0,
    "n_channels": 2,
    "channel_names": None,
    "muscle": None,
    "side": None,
    # fibrillations and positive sharp waves: trains per channel
    "fib_trains": 3,
    "fib_rate_hz": (0.5, 15.0),
    "fib_amplitude_uv": 50.0,
    "psw_trains": 2,
    "psw_rate_hz": (0.5, 10.0),
    "psw_amplitude_uv": 70.0,
    "train_isi_cv": 0.02,
    "train_drift": 0.3,
    "train_full_fraction": 0.6,
    # fasciculations: units per channel, rate per unit
    "fasc_units": 0,
    "fasc_rate_per_min": 6.0,
    "fasc_variant": "normal",
    "fasc_amplitude_uv": None,
    # end plate
    "end_plate_channels": 0,
    "end_plate_noise_rate_hz": 30.0,
    "end_plate_spike_fibres": 3,
    "end_plate_spike_rate_hz": (5.0, 40.0),
    # complex repetitive discharges: episodes per channel
    "crd_episodes": 0,
    "crd_rate_hz": (5.0, 150.0),
    "crd_duration_s": (1.0, 5.0),
    # voluntary activity and artifacts: intervals (all channels)
    "voluntary": 0,
    "voluntary_s": (2.0, 5.0),
    "voluntary_units": 6,
    "voluntary_variant": "normal",
    "voluntary_rate_hz": (8.0, 20.0),
    "artifacts": 0,
    "artifact_s": (0.3, 1.5),
    "artifact_uv": 2000.0,
    # background
    "noise_uv": 5.0,
    "snr_db": None,
    "noise_exponent": 1.0,
    "mains_hz": 50.0,
    "mains_uv": 2.0,
    "wander_uv": 10.0,
    "annotate": True,
}

#: Discharges are kept this far from the recording's edges (s).
EDGE_MARGIN_S = 0.05
#: Shortest partial fibrillation/PSW train (s).
MIN_PARTIAL_TRAIN_S = 5.0
#: Relative SD of fibrillation/PSW/CRD amplitude from discharge to discharge.
TRAIN_AMPLITUDE_CV = 0.02
#: Relative SD of motor unit amplitude from discharge to discharge.
MUP_AMPLITUDE_CV = 0.03
#: Dead time of a fasciculating unit (s).
FASC_REFRACTORY_S = 0.1
#: Interval variability of complex repetitive discharges (they are very regular).
CRD_ISI_CV = 0.002


# --------------------------------------------------------------------------
# CLI


def _range(text: str) -> tuple[float, float]:
    try:
        parts = [float(p) for p in str(text).replace(":", ",").split(",")]
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"expected LO,HI numbers, got {text!r}") from exc
    if len(parts) == 1:
        parts = parts * 2
    if len(parts) != 2 or parts[0] > parts[1]:
        raise argparse.ArgumentTypeError(f"expected LO,HI with LO <= HI, got {text!r}")
    return (parts[0], parts[1])


#: Options given as (lo, hi); a single number means lo = hi.
RANGE_OPTIONS = ("fib_rate_hz", "psw_rate_hz", "end_plate_spike_rate_hz", "crd_rate_hz", "crd_duration_s",
                 "voluntary_s", "voluntary_rate_hz", "artifact_s")


def _as_range(value, key: str) -> tuple[float, float]:
    """``(lo, hi)`` from a number, a pair or ``"LO,HI"``."""
    if isinstance(value, str):
        try:
            return _range(value)
        except argparse.ArgumentTypeError as exc:
            raise ConfigError(f"--{key.replace('_', '-')}: {exc}") from exc
    if np.isscalar(value):
        return (float(value), float(value))
    try:
        lo, hi = (float(v) for v in value)
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"--{key.replace('_', '-')} must be a number or LO,HI, got {value!r}") from exc
    if lo > hi:
        raise ConfigError(f"--{key.replace('_', '-')} must have LO <= HI, got {lo},{hi}")
    return (lo, hi)


def _names(text: str) -> list[str]:
    names = [n.strip() for n in str(text).split(",") if n.strip()]
    if not names:
        raise argparse.ArgumentTypeError("expected comma-separated channel names")
    return names


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of ``motorsign simulate needle-emg``."""
    d = DEFAULTS
    g = parser.add_argument_group("recording")
    g.add_argument("--duration-s", type=float, default=d["duration_s"], help="length (s, default %(default)s)")
    g.add_argument("--fs", type=float, default=d["fs"], help="sampling rate (Hz, default %(default)s; 4000-48000)")
    g.add_argument("--n-channels", type=int, default=d["n_channels"], help="needle sites (default %(default)s)")
    g.add_argument("--channel-names", type=_names, default=None, help="comma-separated names (default EMG1..N; sets --n-channels)")
    g.add_argument("--muscle", default=None, help="muscle name (recorded in the metadata)")
    g.add_argument("--side", choices=("L", "R"), default=None, help="side (metadata)")
    g.add_argument("--stem", default="needle_emg", help="file stem (default %(default)s)")
    g = parser.add_argument_group("denervation (per channel)")
    g.add_argument("--fib-trains", type=int, default=d["fib_trains"], help="fibrillation trains (default %(default)s)")
    g.add_argument("--fib-rate-hz", type=_range, default=d["fib_rate_hz"], help="LO,HI rate range (default 0.5,15)")
    g.add_argument("--fib-amplitude-uv", type=float, default=d["fib_amplitude_uv"], help="median peak-to-peak (µV)")
    g.add_argument("--psw-trains", type=int, default=d["psw_trains"], help="positive sharp wave trains (default %(default)s)")
    g.add_argument("--psw-rate-hz", type=_range, default=d["psw_rate_hz"], help="LO,HI rate range (default 0.5,10)")
    g.add_argument("--psw-amplitude-uv", type=float, default=d["psw_amplitude_uv"], help="median peak-to-peak (µV)")
    g.add_argument("--train-drift", type=float, default=d["train_drift"], help="largest relative lengthening of a train's interval")
    g = parser.add_argument_group("fasciculations (per channel)")
    g.add_argument("--fasc-units", type=int, default=d["fasc_units"], help="fasciculating units (default %(default)s)")
    g.add_argument("--fasc-rate-per-min", type=float, default=d["fasc_rate_per_min"], help="per unit (default %(default)s)")
    g.add_argument("--fasc-variant", choices=shapes.MUP_VARIANTS, default=d["fasc_variant"], help="unit shape")
    g.add_argument("--fasc-amplitude-uv", type=float, default=None, help="median amplitude (default: the variant's)")
    g = parser.add_argument_group("other spontaneous activity")
    g.add_argument("--end-plate-channels", type=int, default=d["end_plate_channels"], help="channels in an end-plate zone")
    g.add_argument("--end-plate-noise-rate-hz", type=float, default=d["end_plate_noise_rate_hz"])
    g.add_argument("--end-plate-spike-fibres", type=int, default=d["end_plate_spike_fibres"])
    g.add_argument("--crd-episodes", type=int, default=d["crd_episodes"], help="complex repetitive discharges per channel")
    g.add_argument("--crd-rate-hz", type=_range, default=d["crd_rate_hz"], help="LO,HI (default 5,150)")
    g = parser.add_argument_group("intervals (all channels)")
    g.add_argument("--voluntary", type=int, default=d["voluntary"], help="voluntary contractions (default %(default)s)")
    g.add_argument("--voluntary-s", type=_range, default=d["voluntary_s"], help="LO,HI length (s)")
    g.add_argument("--voluntary-units", type=int, default=d["voluntary_units"], help="units per channel")
    g.add_argument("--voluntary-variant", choices=shapes.MUP_VARIANTS, default=d["voluntary_variant"])
    g.add_argument("--artifacts", type=int, default=d["artifacts"], help="movement artifacts (default %(default)s)")
    g.add_argument("--artifact-uv", type=float, default=d["artifact_uv"], help="artifact amplitude (µV)")
    g = background.add_background_arguments(parser, d)
    g.add_argument("--snr-db", type=float, default=None, help="set the noise from the median discharge peak-to-peak instead")


# --------------------------------------------------------------------------
# generation


def _check(o: dict) -> None:
    if not 1000.0 <= o["fs"] <= 200000.0:
        raise ConfigError(f"--fs must be between 1000 and 200000 Hz, got {o['fs']}")
    if not (o["duration_s"] > 2 * EDGE_MARGIN_S and np.isfinite(o["duration_s"])):
        raise ConfigError(f"--duration-s must be a finite number > {2 * EDGE_MARGIN_S}, got {o['duration_s']}")
    if o["n_channels"] < 1:
        raise ConfigError(f"--n-channels must be >= 1, got {o['n_channels']}")
    for key in ("fib_trains", "psw_trains", "fasc_units", "end_plate_channels", "crd_episodes", "voluntary", "artifacts"):
        if int(o[key]) < 0:
            raise ConfigError(f"--{key.replace('_', '-')} must be >= 0, got {o[key]}")
    for key in ("fib_rate_hz", "psw_rate_hz", "crd_rate_hz", "end_plate_spike_rate_hz"):
        lo, hi = o[key]
        if not 0 < lo <= hi:
            raise ConfigError(f"--{key.replace('_', '-')} must be 0 < LO <= HI, got {lo},{hi}")
    if o["fasc_variant"] not in shapes.MUP_VARIANTS or o["voluntary_variant"] not in shapes.MUP_VARIANTS:
        raise ConfigError(f"motor unit variants are {', '.join(shapes.MUP_VARIANTS)}")
    if o["noise_uv"] < 0:
        raise ConfigError(f"--noise-uv must be >= 0, got {o['noise_uv']}")


def _place_intervals(rng, duration: float, specs: list[tuple[str, float]]) -> list[tuple[str, float, float]]:
    """Non-overlapping intervals of given kinds and lengths, in random order."""
    order = rng.permutation(len(specs))
    total = sum(length for _, length in specs)
    free = duration - 2 * EDGE_MARGIN_S - total
    if free < 0.5 * len(specs):
        raise ConfigError(
            f"the intervals ({total:.1f} s of voluntary activity/artifacts) do not fit in {duration:.1f} s"
        )
    gaps = np.diff(np.sort(np.concatenate(([0.0, free], rng.uniform(0, free, len(specs))))))
    out = []
    t = EDGE_MARGIN_S
    for gap, i in zip(gaps[:-1], order):
        kind, length = specs[i]
        t += gap
        out.append((kind, t, t + length))
        t += length
    return out


def _in_intervals(times: np.ndarray, intervals: list[tuple[float, float]], pad: float = 0.0) -> np.ndarray:
    m = np.zeros(times.size, dtype=bool)
    for a, b in intervals:
        m |= (times >= a - pad) & (times <= b + pad)
    return m


def _window(rng, duration: float, full_fraction: float) -> tuple[float, float]:
    lo, hi = EDGE_MARGIN_S, duration - EDGE_MARGIN_S
    if rng.uniform() < full_fraction or hi - lo <= MIN_PARTIAL_TRAIN_S:
        return lo, hi
    length = rng.uniform(MIN_PARTIAL_TRAIN_S, hi - lo)
    start = rng.uniform(lo, hi - length)
    return start, start + length


class _Ids:
    def __init__(self) -> None:
        self.unit = 0
        self.train = 0
        self.key = 0

    def next_unit(self) -> int:
        self.unit += 1
        return self.unit - 1

    def next_train(self) -> int:
        self.train += 1
        return self.train - 1

    def next_key(self) -> int:
        self.key += 1
        return self.key


def _add_train(canvas, rng, ch, wave, times, kind, train_id, unit_id, ids, amp_cv=TRAIN_AMPLITUDE_CV):
    key = ids.next_key()
    n = 0
    for t in times:
        scale = 1.0 + amp_cv * rng.standard_normal() if amp_cv > 0 else 1.0
        if canvas.add(ch, wave.values_uv, float(t), scale=scale, key=key,
                      row={"kind": kind, "train_id": train_id, "unit_id": unit_id}):
            n += 1
    return n


def generate(*, seed: int = 0, **options) -> SimResult:
    """Simulate a needle EMG recording with its truth.

    Parameters
    ----------
    seed : int
        Random seed (same seed and options: same result).
    **options
        Any key of :data:`DEFAULTS` (see ``motorsign simulate needle-emg
        --help`` for their meaning). Ranges are ``(lo, hi)`` tuples (a
        number means a fixed value); counts of trains, units and episodes
        are per channel; voluntary contractions and artifacts are intervals
        on all channels. Giving ``voluntary_s`` without ``voluntary`` asks
        for one contraction.

    Returns
    -------
    SimResult
        ``truth`` has :data:`~motorsign.simulate.base.DISCHARGE_TRUTH_COLUMNS`;
        ``intervals`` has one row per channel and interval (kinds
        ``voluntary``, ``artifact``, ``end_plate_zone``).
    """
    import pandas as pd

    unknown = sorted(set(options) - set(DEFAULTS) - {"stem"})
    if unknown:
        raise ConfigError(f"unknown needle-emg option(s): {', '.join(unknown)}")
    o = {**DEFAULTS, **{k: v for k, v in options.items() if v is not None or k == "snr_db"}}
    o.pop("stem", None)
    # asking for a contraction length without a count means one contraction
    if options.get("voluntary_s") is not None and options.get("voluntary") is None:
        o["voluntary"] = max(1, int(o["voluntary"]))
    for key in RANGE_OPTIONS:
        o[key] = _as_range(o[key], key)
    _check(o)
    rng = seed_rng(seed)
    fs = float(o["fs"])
    duration = float(o["duration_s"])
    n_samples = int(round(duration * fs))
    # channel names, when given, set the number of channels
    names = [str(n) for n in o["channel_names"]] if o["channel_names"] else None
    n_ch = len(names) if names else int(o["n_channels"])
    names = names or [f"EMG{i + 1}" for i in range(n_ch)]
    if len(set(names)) != len(names):
        raise ConfigError(f"--channel-names must be unique, got {','.join(names)}")
    canvas = Canvas(n_samples, n_ch, fs, names)
    ids = _Ids()
    interval_rows: list[dict] = []
    markers: list[tuple[str, str, int, int]] = []

    # intervals first: they decide where voluntary units fire
    specs = [("voluntary", rng.uniform(*o["voluntary_s"])) for _ in range(int(o["voluntary"]))]
    specs += [("artifact", rng.uniform(*o["artifact_s"])) for _ in range(int(o["artifacts"]))]
    intervals = _place_intervals(rng, duration, specs) if specs else []
    for kind, a, b in intervals:
        for name in names:
            interval_rows.append({"channel": name, "start_s": a, "stop_s": b, "kind": kind})
        if o["annotate"]:
            markers.append(("Comment", kind, int(round(a * fs)), max(1, int(round((b - a) * fs)))))
    vol = [(a, b) for k, a, b in intervals if k == "voluntary"]
    lo_t, hi_t = EDGE_MARGIN_S, duration - EDGE_MARGIN_S
    counts: dict[str, int] = {}

    for ch in range(n_ch):
        # fibrillation and PSW trains: one fibre each, regular, drifting
        for kind, n_tr, rate_key, amp_key, maker in (
            ("fibrillation", o["fib_trains"], "fib_rate_hz", "fib_amplitude_uv", shapes.fibrillation),
            ("positive_sharp_wave", o["psw_trains"], "psw_rate_hz", "psw_amplitude_uv", shapes.positive_sharp_wave),
        ):
            for _ in range(int(n_tr)):
                wave = maker(rng, median_amplitude_uv=float(o[amp_key]))
                lo_r, hi_r = o[rate_key]
                rate = float(np.exp(rng.uniform(np.log(lo_r), np.log(hi_r))))
                a, b = _window(rng, duration, o["train_full_fraction"])
                times = firing.regular_train(
                    rng, a, b, rate, isi_cv=o["train_isi_cv"], drift=rng.uniform(0, o["train_drift"])
                )
                counts[kind] = counts.get(kind, 0) + _add_train(
                    canvas, rng, ch, wave, times, kind, ids.next_train(), ids.next_unit(), ids
                )

        # fasciculating motor units (also recruited voluntarily below)
        fasc_units = []
        for _ in range(int(o["fasc_units"])):
            unit = shapes.motor_unit(
                rng,
                o["fasc_variant"],
                amplitude_uv=None
                if o["fasc_amplitude_uv"] is None
                else shapes._draw_amplitude(rng, float(o["fasc_amplitude_uv"]), 50.0, 10000.0),
            ).band_limited(fs)
            uid = ids.next_unit()
            fasc_units.append((unit, uid))
            times = firing.poisson_train(
                rng, lo_t, hi_t, float(o["fasc_rate_per_min"]) / 60.0, refractory_s=FASC_REFRACTORY_S
            )
            for t in times:
                w = unit.discharge(rng, MUP_AMPLITUDE_CV)
                if canvas.add(ch, w.values_uv, float(t), prefiltered=True,
                              row={"kind": "fasciculation", "train_id": -1, "unit_id": uid}):
                    counts["fasciculation"] = counts.get("fasciculation", 0) + 1

        # complex repetitive discharges
        for _ in range(int(o["crd_episodes"])):
            wave = shapes.complex_repetitive_complex(rng)
            lo_r, hi_r = o["crd_rate_hz"]
            rate = float(np.exp(rng.uniform(np.log(lo_r), np.log(hi_r))))
            # the complex must end before the next one starts
            span_s = wave.values_uv.size / shapes.FINE_FS_HZ
            rate = min(rate, 0.8 / span_s)
            length = min(rng.uniform(*o["crd_duration_s"]), hi_t - lo_t)
            a = rng.uniform(lo_t, hi_t - length)
            times = firing.regular_train(rng, a, a + length, rate, isi_cv=CRD_ISI_CV, drift=0.0)
            counts["complex_repetitive"] = counts.get("complex_repetitive", 0) + _add_train(
                canvas, rng, ch, wave, times, "complex_repetitive", ids.next_train(), ids.next_unit(), ids,
                amp_cv=0.0,
            )

        # end-plate zone: noise (background) and spikes
        if ch < int(o["end_plate_channels"]):
            a, b = _window(rng, duration, 0.0)
            interval_rows.append({"channel": names[ch], "start_s": a, "stop_s": b, "kind": "end_plate_zone"})
            n_noise = 0
            for t in firing.poisson_train(rng, a, b, float(o["end_plate_noise_rate_hz"])):
                w = shapes.end_plate_noise_potential(rng)
                n_noise += canvas.add(ch, w.values_uv, float(t))
            counts["end_plate_noise"] = counts.get("end_plate_noise", 0) + n_noise
            lo_r, hi_r = o["end_plate_spike_rate_hz"]
            for _ in range(int(o["end_plate_spike_fibres"])):
                wave = shapes.end_plate_spike(rng)
                times = firing.gamma_train(rng, a, b, rng.uniform(lo_r, hi_r), cv=0.8)
                counts["end_plate"] = counts.get("end_plate", 0) + _add_train(
                    canvas, rng, ch, wave, times, "end_plate", -1, ids.next_unit(), ids, amp_cv=0.05
                )

        # voluntary contractions: recruited units (fasciculating ones included)
        if vol:
            units = list(fasc_units)
            n_extra = max(0, int(o["voluntary_units"]) - len(units))
            for _ in range(n_extra):
                units.append((shapes.motor_unit(rng, o["voluntary_variant"]).band_limited(fs), ids.next_unit()))
            thresholds = np.sort(rng.uniform(0.0, 0.8, len(units)))
            # small units first (Henneman): order by amplitude
            units.sort(key=lambda u: u[0].template.amplitude_uv)
            lo_r, hi_r = o["voluntary_rate_hz"]
            for (unit, uid), thr in zip(units, thresholds):
                for a, b in vol:
                    level = rng.uniform(0.7, 1.0)
                    times = firing.recruited_train(
                        rng, a, b, threshold=float(thr), level=level, min_rate_hz=lo_r, max_rate_hz=hi_r
                    )
                    for t in times:
                        w = unit.discharge(rng, MUP_AMPLITUDE_CV)
                        if canvas.add(ch, w.values_uv, float(t), prefiltered=True,
                                      row={"kind": "motor_unit_potential", "train_id": -1, "unit_id": uid}):
                            counts["motor_unit_potential"] = counts.get("motor_unit_potential", 0) + 1

    truth = pd.DataFrame(canvas.rows, columns=list(DISCHARGE_TRUTH_COLUMNS))
    if len(truth):
        truth = truth.sort_values(["channel", "time_s"], kind="stable").reset_index(drop=True)
    for c in ("phases", "train_id", "unit_id"):
        truth[c] = truth[c].astype(int)

    # artifacts (all channels, varied gain)
    for kind, a, b in intervals:
        if kind != "artifact":
            continue
        i0, n = int(round(a * fs)), int(round((b - a) * fs))
        art = background.movement_artifact(rng, n, fs, float(o["artifact_uv"]))
        for ch in range(n_ch):
            canvas.add_signal(ch, i0, art * rng.uniform(0.5, 1.2) * rng.choice([-1, 1]))

    # background
    spont = truth[~truth["kind"].isin(["motor_unit_potential"])] if len(truth) else truth
    noise_rms = float(o["noise_uv"])
    if o["snr_db"] is not None:
        if len(spont) == 0:
            raise ConfigError("--snr-db needs spontaneous discharges to refer to; use --noise-uv")
        noise_rms = float(np.median(spont["amplitude_uv"])) / 10 ** (float(o["snr_db"]) / 20.0)
    data = canvas.data
    background.add_background(rng, data, fs, noise_uv=noise_rms, noise_exponent=float(o["noise_exponent"]),
                              mains_uv=float(o["mains_uv"]), mains_hz=float(o["mains_hz"]),
                              wander_uv=float(o["wander_uv"]))

    intervals_df = pd.DataFrame(interval_rows, columns=["channel", "start_s", "stop_s", "kind"])
    meta = {
        "kind": "needle-emg",
        "seed": int(seed),
        "muscle": o["muscle"],
        "side": o["side"],
        "noise_rms_uv": noise_rms,
        "counts": counts,
        "options": {k: (list(v) if isinstance(v, tuple) else v) for k, v in o.items()},
    }
    log.info("needle-emg: %s", counts)
    return SimResult(data, fs, names, markers, truth, intervals_df, meta)


def simulate(out_dir: str | os.PathLike, *, seed: int = 0, stem: str = "needle_emg", **options) -> dict[str, Path]:
    """Simulate and write ``<stem>.vhdr/.vmrk/.eeg``, ``truth.csv``, ``truth_intervals.csv``.

    Parameters
    ----------
    out_dir : path-like
        Output folder (created).
    seed : int
        Random seed.
    stem : str
        File stem of the recording.
    **options
        See :func:`generate`.

    Returns
    -------
    dict of str to Path
    """
    result = generate(seed=seed, **options)
    return write_result(result, out_dir, stem)
