"""``motorsign mep FILE --out DIR --trigger SPEC``: motor evoked potentials after TMS.

Writes ``DIR/meps.csv`` (one row per trial and channel) and
``DIR/summary.json`` (per channel: trials, present, minimal and median onset,
median amplitude, recruitment fit with ``--intensities``).
"""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

from motorsign.commands._evoked_common import (
    add_read_options,
    open_recording,
    parse_pair,
    parse_pulse,
    read_options_from,
)

HELP = "motor evoked potentials after TMS"

_METHODS = ("threshold", "crossing", "derivative", "cusum", "tkeo", "extrapolation", "consensus")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of ``motorsign mep``."""
    add_read_options(parser)
    g = parser.add_argument_group("MEP")
    g.add_argument("--window", default=None, metavar="LO,HI",
                   help="onset search window in ms after the pulse (default: the muscle's row of the window table)")
    g.add_argument("--window-table", default=None, dest="window_table", metavar="CSV",
                   help="a lab's MEP window table (columns muscle, onset_min_ms, onset_max_ms, response_end_ms)")
    g.add_argument("--method", default=None, choices=_METHODS,
                   help="onset method reported in onset_ms (default consensus; every method has its own column)")
    g.add_argument("--floor-uv", type=float, default=None, dest="amplitude_floor_uv",
                   help="peak-to-peak floor of a present MEP (default 50 µV)")
    g.add_argument("--silent-period", action="store_true", default=None, dest="silent_period",
                   help="measure the cortical silent period even without pre-activation (epochs of 400 ms)")
    g.add_argument("--mains", default=None, metavar="auto|off|HZ",
                   help="mains hum fitted on each baseline and subtracted: auto (default: 50/60 Hz when "
                        "the baselines show it), off, or a frequency")
    g.add_argument("--intensities", default=None,
                   help="stimulus intensity per trial: comma-separated values or a file with one per line "
                        "(fits a Boltzmann recruitment curve)")


def _intensities(value):
    if value is None or isinstance(value, (list, tuple)):
        return value
    from motorsign.errors import ConfigError, InputError

    text = str(value)
    p = Path(text)
    looks_like_file = "," not in text and not text.strip().replace(".", "", 1).replace("-", "", 1).isdigit()
    if looks_like_file and not p.is_file():
        raise InputError("--intensities file not found (give a file with one value per line, or "
                         "comma-separated numbers)", p)
    if p.is_file():
        try:
            text = p.read_text(encoding="utf-8")
        except OSError as exc:
            raise InputError(f"cannot read intensities: {exc.strerror}", p) from exc
    try:
        return [float(v) for v in text.replace("\n", ",").split(",") if v.strip()]
    except ValueError as exc:
        raise ConfigError(f"--intensities must be numbers (comma-separated or one per line): {exc}") from exc


def execute(path, out_dir, *, muscle=None, side=None, channels=None, read_options: dict | None = None,
            **options) -> dict:
    """Read a recording, measure its MEPs, write ``meps.csv`` and ``summary.json``.

    Parameters
    ----------
    path : path-like
        The recording.
    out_dir : path-like
        Output folder (created).
    muscle, side : str | None
        Muscle and side of the channels.
    channels : list of str | str | None
        Channels to analyse.
    read_options : dict | None
        Passed to :func:`motorsign.io.read` (``fs``, ``stim_sample``, ...).
    **options
        ``trigger``, ``window`` ("LO,HI" or a pair), ``window_table``,
        ``pulse``, ``burst_gap_ms``, ``pre_ms``, ``post_ms``,
        ``intensities`` and any field of
        :class:`motorsign.evoked.mep.MepOptions` (``method``,
        ``amplitude_floor_uv``, ``silent_period``, ...).

    Returns
    -------
    dict
        The summary written to ``summary.json``.
    """
    from motorsign.evoked.mep import MEP_COLUMNS, analyze_meps, options_from, summarize
    from motorsign.outputs import write_csv, write_json

    opts = {k: v for k, v in options.items() if v is not None}
    trigger = opts.pop("trigger", None)
    window = parse_pair(opts.pop("window", None), "--window")
    window_table = opts.pop("window_table", None)
    pulse = parse_pulse(opts.pop("pulse", None))
    burst_gap_ms = opts.pop("burst_gap_ms", None)
    pre_ms = opts.pop("pre_ms", None) or 50.0
    post_ms = opts.pop("post_ms", None)
    intensities = _intensities(opts.pop("intensities", None))
    mep_opts = options_from(**opts)
    rec, channels = open_recording(path, read_options, channels)
    table, windows = analyze_meps(rec, trigger, channels=channels, muscle=muscle, side=side,
                                  window=window, options=mep_opts, pre_ms=pre_ms, post_ms=post_ms,
                                  pulse=pulse, burst_gap_ms=burst_gap_ms, window_table=window_table,
                                  intensities=intensities)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    cols = list(MEP_COLUMNS) + [c for c in table.columns if c not in MEP_COLUMNS]
    write_csv(out / "meps.csv", table, columns=cols)
    summary = {
        "recording": str(path),
        "trigger": trigger,
        "pulse": pulse,
        "method": mep_opts.method,
        "channels": summarize(table, windows),
        "warnings": list(rec.warnings),  # e.g. units that are not a voltage: amplitudes unscaled
    }
    for ch, entry in summary["channels"].items():
        if entry["n_trials"] == 0:
            # nothing measurable is not "no MEP": say why in one line
            flags = sorted({f for v in table.loc[table["channel"] == ch, "flags"] for f in str(v).split(";") if f})
            msg = (f"{path}: channel {ch}: no trial could be measured or decided (flags: "
                   f"{', '.join(flags) or 'none'}); MEP presence unknown")
            summary["warnings"].append(msg)
            logging.getLogger(__name__).warning(msg)
    write_json(out / "summary.json", summary)
    return summary


def run(args: argparse.Namespace) -> int:
    """Parse the command line and call :func:`execute`."""
    execute(args.file, args.out, muscle=args.muscle, side=args.side, channels=args.channels,
            read_options=read_options_from(args), trigger=args.trigger, window=args.window,
            window_table=args.window_table, method=args.method, pulse=args.pulse,
            burst_gap_ms=args.burst_gap_ms, pre_ms=args.pre_ms, post_ms=args.post_ms,
            amplitude_floor_uv=args.amplitude_floor_uv, silent_period=args.silent_period,
            intensities=args.intensities, mains=args.mains)
    return 0
