"""``motorsign nerve FILE --out DIR --trigger SPEC``: M-waves and F-waves.

Writes ``DIR/responses.csv`` (one row per stimulus and channel) and
``DIR/summary.json`` (per channel: distal motor latency, CMAP amplitude,
minimal/mean/maximal F latency, persistence, chronodispersion, repeaters).
"""

from __future__ import annotations

import argparse
from dataclasses import replace
from pathlib import Path

from motorsign.commands._evoked_common import (
    add_read_options,
    open_recording,
    parse_pair,
    parse_pulse,
    read_options_from,
)

HELP = "M-waves and F-waves after nerve stimulation"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of ``motorsign nerve``."""
    add_read_options(parser)
    g = parser.add_argument_group("M/F-waves")
    g.add_argument("--m-window", default=None, dest="m_window_ms", metavar="LO,HI",
                   help="M-wave onset search window, ms (default by muscle region, hand 1,12)")
    g.add_argument("--f-window", default=None, dest="f_window_ms", metavar="LO,HI",
                   help="F-wave onset search window, ms (default by muscle region, hand 18,50); it starts "
                        "no earlier than 3 ms after the M-wave's end")
    g.add_argument("--f-floor-uv", type=float, default=None, dest="f_floor_uv",
                   help="smallest F-wave peak-to-peak (default 20 µV)")
    g.add_argument("--method", default=None,
                   choices=("threshold", "crossing", "derivative", "cusum", "tkeo", "extrapolation", "consensus"),
                   help="onset method (default extrapolation, falling back to consensus in the trials "
                        "where it fails)")
    g.add_argument("--mains", default=None, metavar="auto|off|HZ",
                   help="mains hum fitted on each baseline and subtracted: auto (default: 50/60 Hz when "
                        "the baselines show it), off, or a frequency")


def execute(path, out_dir, *, muscle=None, side=None, channels=None, read_options: dict | None = None,
            **options) -> dict:
    """Read a recording, measure M- and F-waves, write ``responses.csv`` and ``summary.json``.

    Parameters
    ----------
    path : path-like
    out_dir : path-like
    muscle, side : str | None
    channels : list of str | str | None
    read_options : dict | None
        Passed to :func:`motorsign.io.read`.
    **options
        ``trigger``, ``pulse``, ``burst_gap_ms``, ``pre_ms``, ``post_ms`` and
        any field of :class:`motorsign.evoked.nerve.NerveOptions`
        (``m_window_ms``, ``f_window_ms`` as "LO,HI" or pairs, ``f_floor_uv``,
        ``method``, ...).

    Returns
    -------
    dict
        The summary written to ``summary.json``.
    """
    from motorsign.errors import ConfigError
    from motorsign.evoked.nerve import (
        NERVE_PRE_MS,
        RESPONSE_COLUMNS,
        NerveOptions,
        analyze_nerve,
        summarize_nerve,
    )
    from motorsign.outputs import write_csv, write_json

    opts = {k: v for k, v in options.items() if v is not None}
    trigger = opts.pop("trigger", None)
    pulse = parse_pulse(opts.pop("pulse", None))
    burst_gap_ms = opts.pop("burst_gap_ms", None)
    pre_ms = opts.pop("pre_ms", None) or NERVE_PRE_MS
    post_ms = opts.pop("post_ms", None)
    for key, flag in (("m_window_ms", "--m-window"), ("f_window_ms", "--f-window")):
        if key in opts:
            opts[key] = parse_pair(opts[key], flag)
    bad = [k for k in opts if k not in NerveOptions.__dataclass_fields__]
    if bad:
        raise ConfigError(f"unknown nerve option(s): {', '.join(bad)}")
    nopts = replace(NerveOptions(), **opts)
    rec, channels = open_recording(path, read_options, channels)
    table = analyze_nerve(rec, trigger, channels=channels, muscle=muscle, side=side, options=nopts,
                          pre_ms=pre_ms, post_ms=post_ms, pulse=pulse, burst_gap_ms=burst_gap_ms)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    cols = list(RESPONSE_COLUMNS) + [c for c in table.columns if c not in RESPONSE_COLUMNS]
    write_csv(out / "responses.csv", table, columns=cols)
    summary = {"recording": str(path), "trigger": trigger, "method": nopts.method,
               "channels": summarize_nerve(table, presence_k=nopts.presence_k, f_floor_uv=nopts.f_floor_uv),
               "warnings": list(rec.warnings)}  # e.g. units that are not a voltage: amplitudes unscaled
    write_json(out / "summary.json", summary)
    return summary


def run(args: argparse.Namespace) -> int:
    """Parse the command line and call :func:`execute`."""
    execute(args.file, args.out, muscle=args.muscle, side=args.side, channels=args.channels,
            read_options=read_options_from(args), trigger=args.trigger, pulse=args.pulse,
            burst_gap_ms=args.burst_gap_ms, pre_ms=args.pre_ms, post_ms=args.post_ms,
            m_window_ms=args.m_window_ms, f_window_ms=args.f_window_ms, f_floor_uv=args.f_floor_uv,
            method=args.method, mains=args.mains)
    return 0
