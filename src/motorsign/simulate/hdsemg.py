"""High-density surface EMG: a grid over a muscle with fasciculating motor units.

The grid (default 8 x 8, 8 mm apart) lies on the skin with its columns along
the muscle fibres. Each motor unit is a bundle of fibres at some depth under
the grid with its own lateral position, territory, end-plate band and
conduction velocity; its potential at every electrode comes from the same
line-source fibre model as the needle simulator
(:func:`motorsign.simulate.shapes.sfap`) with the electrode's distance to
each fibre, so a unit's potential falls off and widens with distance and
propagates along the fibre direction, from the end plate to the tendons.

Fasciculations fire irregularly and slowly (Poisson, well under 1 Hz per
unit); voluntary contractions recruit many units at 8–20 Hz in the intervals
written to ``truth_intervals.csv``. White-to-pink noise, mains hum and
baseline wander are added last.

Truth (``truth.csv``): for a fasciculation, one row per channel where it is
visible (peak-to-peak above ``visible_uv``), with that channel's peak time,
amplitude and shape; ``unit_id`` joins the rows of one unit and
``discharge_id`` the rows of one discharge; ``peak_channel`` marks the
channel where the discharge is largest. Voluntary discharges get one row, on
their peak channel. ``truth_units.csv`` lists every unit: depth, position,
amplitude and the channels where it is visible.
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

__all__ = ["add_arguments", "generate", "simulate", "surface_unit", "DEFAULTS"]

log = logging.getLogger(__name__)

DEFAULTS: dict = {
    "duration_s": 120.0,
    "fs": 2048.0,
    "rows": 8,
    "cols": 8,
    "ied_mm": 8.0,
    "muscle": None,
    "side": None,
    "fasc_units": 8,
    "fasc_rate_per_min": 5.0,
    "fasc_amplitude_uv": 150.0,
    "depth_mm": (6.0, 20.0),
    "visible_uv": 30.0,
    "voluntary": 1,
    "voluntary_s": (3.0, 6.0),
    "voluntary_units": 10,
    "voluntary_rate_hz": (8.0, 20.0),
    "noise_uv": 4.0,
    "noise_exponent": 0.5,
    "mains_hz": 50.0,
    "mains_uv": 3.0,
    "wander_uv": 15.0,
    "annotate": True,
}

#: Rate of the fibre model for surface potentials (Hz); surface potentials
#: have no energy above ~1 kHz.
SURFACE_MODEL_FS_HZ = 20_000.0
#: Fibre bundles that make up one unit's territory.
N_BUNDLES = 8
#: Unit territory radius range (mm).
TERRITORY_MM = (2.0, 5.0)
#: Fibre length (mm) and conduction velocity range (m/s).
FIBRE_LENGTH_MM = 120.0
VELOCITY = (3.5, 5.0)
#: Rosenfalck length constant for surface units (mm).
LENGTH_CONSTANT_MM = (1.0, 1.5)
EDGE_MARGIN_S = 0.1
FASC_REFRACTORY_S = 0.1
AMPLITUDE_CV = 0.03


def _range(text: str) -> tuple[float, float]:
    from motorsign.simulate.needle_emg import _range as parse

    return parse(text)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of ``motorsign simulate hdsemg``."""
    d = DEFAULTS
    g = parser.add_argument_group("recording")
    g.add_argument("--duration-s", type=float, default=d["duration_s"], help="length (s, default %(default)s)")
    g.add_argument("--fs", type=float, default=d["fs"], help="sampling rate (Hz, default %(default)s)")
    g.add_argument("--rows", type=int, default=d["rows"], help="grid rows, along the fibres (default 8)")
    g.add_argument("--cols", type=int, default=d["cols"], help="grid columns, across the fibres (default 8)")
    g.add_argument("--ied-mm", type=float, default=d["ied_mm"], help="inter-electrode distance (mm)")
    g.add_argument("--muscle", default=None, help="muscle name (metadata)")
    g.add_argument("--side", choices=("L", "R"), default=None, help="side (metadata)")
    g.add_argument("--stem", default="hdsemg", help="file stem (default %(default)s)")
    g = parser.add_argument_group("units")
    g.add_argument("--fasc-units", type=int, default=d["fasc_units"], help="fasciculating units (default 8)")
    g.add_argument("--fasc-rate-per-min", type=float, default=d["fasc_rate_per_min"], help="per unit (default 5)")
    g.add_argument("--fasc-amplitude-uv", type=float, default=d["fasc_amplitude_uv"], help="median peak amplitude on the grid (µV)")
    g.add_argument("--depth-mm", type=_range, default=d["depth_mm"], help="LO,HI unit depth (mm)")
    g.add_argument("--visible-uv", type=float, default=d["visible_uv"], help="a channel sees a unit above this peak-to-peak (µV)")
    g.add_argument("--voluntary", type=int, default=d["voluntary"], help="voluntary contractions (default 1)")
    g.add_argument("--voluntary-s", type=_range, default=d["voluntary_s"], help="LO,HI length (s)")
    g.add_argument("--voluntary-units", type=int, default=d["voluntary_units"], help="units recruited (default 10)")
    background.add_background_arguments(parser, d)


def grid_positions(rows: int, cols: int, ied_mm: float) -> tuple[np.ndarray, list[str]]:
    """Electrode positions and names.

    Parameters
    ----------
    rows, cols : int
        Rows run along the fibres (``y``), columns across them (``x``).
    ied_mm : float
        Inter-electrode distance.

    Returns
    -------
    xy : ndarray, shape (rows * cols, 2)
        ``(x, y)`` in mm, grid centred on ``x = 0`` and on the fibres'
        middle (``y = FIBRE_LENGTH_MM / 2``).
    names : list of str
        ``R<row>C<col>`` (1-based), row-major.
    """
    xs = (np.arange(cols) - (cols - 1) / 2) * ied_mm
    ys = (np.arange(rows) - (rows - 1) / 2) * ied_mm + FIBRE_LENGTH_MM / 2
    xy = np.array([(x, y) for y in ys for x in xs])
    names = [f"R{r + 1}C{c + 1}" for r in range(rows) for c in range(cols)]
    return xy, names


def surface_unit(
    rng: np.random.Generator,
    xy: np.ndarray,
    *,
    depth_mm: float,
    x_mm: float,
    endplate_y_mm: float,
) -> np.ndarray:
    """Potentials of one motor unit at every electrode, on the fine grid.

    Parameters
    ----------
    rng : numpy.random.Generator
    xy : ndarray, shape (n_channels, 2)
        Electrode positions (mm).
    depth_mm : float
        Depth of the unit's centre under the skin.
    x_mm : float
        Lateral position of the unit's centre.
    endplate_y_mm : float
        Centre of the unit's end-plate band along the fibres.

    Returns
    -------
    ndarray, shape (n_channels, n_fine)
        Unscaled potentials (arbitrary units) at
        :data:`~motorsign.simulate.shapes.FINE_FS_HZ`, aligned on the unit's
        firing time.
    """
    from scipy.interpolate import CubicSpline

    radius = rng.uniform(*TERRITORY_MM)
    ang = rng.uniform(0, 2 * np.pi, N_BUNDLES)
    rad = radius * np.sqrt(rng.uniform(0, 1, N_BUNDLES))
    bx = x_mm + rad * np.cos(ang)
    bd = np.maximum(depth_mm + rad * np.sin(ang), 1.5)
    bz = endplate_y_mm + rng.normal(0, 3.0, N_BUNDLES)
    vel = rng.uniform(*VELOCITY)
    vb = vel * rng.uniform(0.95, 1.05, N_BUNDLES)
    lam = rng.uniform(*LENGTH_CONSTANT_MM)
    delays = np.abs(rng.normal(0, 0.3, N_BUNDLES))
    span = FIBRE_LENGTH_MM / VELOCITY[0] / 2 + 12.0
    t = np.arange(-2.0, span, 1000.0 / SURFACE_MODEL_FS_HZ)
    out = np.zeros((xy.shape[0], t.size))
    for ch, (ex, ey) in enumerate(xy):
        for b in range(N_BUNDLES):
            out[ch] += shapes.sfap(
                t - delays[b],
                radial_mm=float(np.hypot(ex - bx[b], bd[b])),
                electrode_z_mm=float(ey),
                endplate_z_mm=float(np.clip(bz[b], 5.0, FIBRE_LENGTH_MM - 5.0)),
                length_mm=FIBRE_LENGTH_MM,
                velocity_mm_per_ms=float(vb[b]),
                length_constant_mm=lam,
            )
    tf = np.arange(t[0], t[-1], 1000.0 / shapes.FINE_FS_HZ)
    fine = CubicSpline(t, out, axis=-1)(tf)
    # trim the common quiet stretches and taper the ends
    env = np.abs(fine).max(axis=0)
    idx = np.flatnonzero(env > 1e-3 * env.max())
    pad = int(1e-3 * shapes.FINE_FS_HZ)
    lo, hi = max(0, idx[0] - pad), min(tf.size, idx[-1] + pad + 1)
    fine = fine[:, lo:hi]
    ramp = 0.5 - 0.5 * np.cos(np.linspace(0, np.pi, pad))
    fine[:, :pad] *= ramp
    fine[:, -pad:] *= ramp[::-1]
    return fine


def _check(o: dict) -> None:
    if not 500.0 <= o["fs"] <= 100000.0:
        raise ConfigError(f"--fs must be between 500 and 100000 Hz, got {o['fs']}")
    if o["rows"] < 1 or o["cols"] < 1 or o["rows"] * o["cols"] > 512:
        raise ConfigError(f"--rows x --cols must be 1..512 channels, got {o['rows']}x{o['cols']}")
    if o["rows"] * o["ied_mm"] > FIBRE_LENGTH_MM - 10:
        raise ConfigError(f"the grid ({o['rows']} rows x {o['ied_mm']} mm) is longer than the fibres")
    if not (o["duration_s"] > 2 * EDGE_MARGIN_S and np.isfinite(o["duration_s"])):
        raise ConfigError(f"--duration-s must be a finite number > {2 * EDGE_MARGIN_S}, got {o['duration_s']}")
    for key in ("fasc_units", "voluntary", "voluntary_units"):
        if int(o[key]) < 0:
            raise ConfigError(f"--{key.replace('_', '-')} must be >= 0")


def generate(*, seed: int = 0, **options) -> SimResult:
    """Simulate a high-density surface EMG recording with its truth.

    Parameters
    ----------
    seed : int
        Random seed.
    **options
        Keys of :data:`DEFAULTS` (see ``motorsign simulate hdsemg --help``).

    Returns
    -------
    SimResult
        ``truth`` has the discharge columns plus ``discharge_id``,
        ``peak_channel`` (bool) and ``n_visible``; ``meta["units"]`` is the
        unit table written to ``truth_units.csv``.
    """
    import pandas as pd

    from motorsign.simulate.needle_emg import _place_intervals

    unknown = sorted(set(options) - set(DEFAULTS) - {"stem"})
    if unknown:
        raise ConfigError(f"unknown hdsemg option(s): {', '.join(unknown)}")
    from motorsign.simulate.needle_emg import _as_range

    o = {**DEFAULTS, **{k: v for k, v in options.items() if v is not None}}
    o.pop("stem", None)
    for key in ("depth_mm", "voluntary_s", "voluntary_rate_hz"):
        o[key] = _as_range(o[key], key)
    _check(o)
    rng = seed_rng(seed)
    fs = float(o["fs"])
    duration = float(o["duration_s"])
    n = int(round(duration * fs))
    xy, names = grid_positions(int(o["rows"]), int(o["cols"]), float(o["ied_mm"]))
    n_ch = len(names)
    canvas = Canvas(n, n_ch, fs, names)

    specs = [("voluntary", rng.uniform(*o["voluntary_s"])) for _ in range(int(o["voluntary"]))]
    intervals = _place_intervals(rng, duration, specs) if specs else []
    interval_rows = [{"channel": "*", "start_s": a, "stop_s": b, "kind": k} for k, a, b in intervals]
    markers = (
        [("Comment", k, int(round(a * fs)), max(1, int(round((b - a) * fs)))) for k, a, b in intervals]
        if o["annotate"]
        else []
    )

    half_w = (xy[:, 0].max() - xy[:, 0].min()) / 2 + 10.0
    units = []
    n_vol_extra = max(0, int(o["voluntary_units"]) - int(o["fasc_units"])) if intervals else 0
    n_units = int(o["fasc_units"]) + n_vol_extra
    for uid in range(n_units):
        fine = surface_unit(
            rng,
            xy,
            depth_mm=rng.uniform(*o["depth_mm"]),
            x_mm=rng.uniform(-half_w, half_w),
            endplate_y_mm=FIBRE_LENGTH_MM / 2 + rng.normal(0, 10.0),
        )
        fine = shapes.band_limit(fine, fs)
        target = shapes._draw_amplitude(rng, float(o["fasc_amplitude_uv"]), 20.0, 3000.0, sigma=0.6)
        ptp = fine.max(axis=1) - fine.min(axis=1)
        fine *= target / ptp.max()
        ptp = ptp * (target / ptp.max())
        visible = np.flatnonzero(ptp >= float(o["visible_uv"]))
        units.append({"unit_id": uid, "fine": fine, "ptp": ptp, "visible": visible,
                      "fasciculating": uid < int(o["fasc_units"])})

    did = 0
    for u in units:
        u["visible_set"] = set(u["visible"].tolist())
        u["peak_ch"] = int(np.argmax(u["ptp"]))

    def fire(unit, t, kind):
        nonlocal did
        scale = 1.0 + AMPLITUDE_CV * rng.standard_normal()
        peak_ch = unit["peak_ch"]
        ref_pk = canvas.prepare(unit["fine"][peak_ch], unit["unit_id"] * 10_000 + peak_ch, prefiltered=True)[1]
        added = False
        for ch in range(n_ch):
            if unit["ptp"][ch] < 1e-3 * unit["ptp"][peak_ch]:
                continue
            record = ch == peak_ch if kind == "motor_unit_potential" else ch in unit["visible_set"]
            row = None
            if record:
                row = {"kind": kind, "train_id": -1, "unit_id": unit["unit_id"]}
            # every channel shares the unit's firing time; the peak channel's
            # peak sits at t, the others where their own peaks fall
            key = unit["unit_id"] * 10_000 + ch
            pk = canvas.prepare(unit["fine"][ch], key, prefiltered=True)[1]
            t_ch = t + (pk - ref_pk) / shapes.FINE_FS_HZ
            ok = canvas.add(ch, unit["fine"][ch], t_ch, scale=scale, key=key, row=row, prefiltered=True)
            if ok and row is not None:
                canvas.rows[-1].update({"discharge_id": did, "peak_channel": ch == peak_ch, "unit_time_s": t})
                added = True
        if added:
            did += 1

    lo_t, hi_t = EDGE_MARGIN_S + 0.05, duration - EDGE_MARGIN_S - 0.05
    for u in units:
        if not u["fasciculating"]:
            continue
        for t in firing.poisson_train(rng, lo_t, hi_t, float(o["fasc_rate_per_min"]) / 60.0,
                                      refractory_s=FASC_REFRACTORY_S):
            fire(u, float(t), "fasciculation")
    vol = [(a, b) for k, a, b in intervals if k == "voluntary"]
    if vol:
        recruit = units[: int(o["voluntary_units"])] if int(o["voluntary_units"]) else []
        recruit = sorted(recruit, key=lambda u: float(u["ptp"].max()))
        thresholds = np.sort(rng.uniform(0.0, 0.8, len(recruit)))
        lo_r, hi_r = o["voluntary_rate_hz"]
        for u, thr in zip(recruit, thresholds):
            for a, b in vol:
                for t in firing.recruited_train(rng, a, b, threshold=float(thr), level=rng.uniform(0.7, 1.0),
                                                min_rate_hz=lo_r, max_rate_hz=hi_r):
                    fire(u, float(t), "motor_unit_potential")

    cols = list(DISCHARGE_TRUTH_COLUMNS) + ["discharge_id", "peak_channel", "unit_time_s"]
    truth = pd.DataFrame(canvas.rows, columns=cols)
    if len(truth):
        nvis = {u["unit_id"]: int(u["visible"].size) for u in units}
        truth["n_visible"] = truth["unit_id"].map(nvis).astype(int)
        truth = truth.sort_values(["channel", "time_s"], kind="stable").reset_index(drop=True)
        for c in ("phases", "train_id", "unit_id", "discharge_id"):
            truth[c] = truth[c].astype(int)
    else:
        truth["n_visible"] = pd.Series(dtype=int)

    data = canvas.data
    background.add_background(rng, data, fs, noise_uv=float(o["noise_uv"]),
                              noise_exponent=float(o["noise_exponent"]), mains_uv=float(o["mains_uv"]),
                              mains_hz=float(o["mains_hz"]), wander_uv=float(o["wander_uv"]))

    unit_table = pd.DataFrame(
        [
            {
                "unit_id": u["unit_id"],
                "fasciculating": u["fasciculating"],
                "peak_channel": names[int(np.argmax(u["ptp"]))],
                "peak_amplitude_uv": float(u["ptp"].max()),
                "n_visible": int(u["visible"].size),
                "visible_channels": ";".join(names[i] for i in u["visible"]),
            }
            for u in units
        ]
    )
    meta = {
        "kind": "hdsemg",
        "seed": int(seed),
        "muscle": o["muscle"],
        "side": o["side"],
        "grid": {"rows": int(o["rows"]), "cols": int(o["cols"]), "ied_mm": float(o["ied_mm"])},
        "units": unit_table,
        "options": {k: (list(v) if isinstance(v, tuple) else v) for k, v in o.items()},
    }
    intervals_df = pd.DataFrame(interval_rows, columns=["channel", "start_s", "stop_s", "kind"])
    return SimResult(data, fs, names, markers, truth, intervals_df, meta)


def simulate(out_dir: str | os.PathLike, *, seed: int = 0, stem: str = "hdsemg", **options) -> dict[str, Path]:
    """Simulate and write the recording, ``truth.csv``, ``truth_intervals.csv`` and ``truth_units.csv``.

    Parameters
    ----------
    out_dir : path-like
    seed : int
    stem : str
        File stem of the recording.
    **options
        See :func:`generate`.

    Returns
    -------
    dict of str to Path
    """
    from motorsign.outputs import write_csv

    result = generate(seed=seed, **options)
    paths = write_result(result, out_dir, stem)
    paths["units"] = write_csv(Path(out_dir) / "truth_units.csv", result.meta["units"])
    return paths
