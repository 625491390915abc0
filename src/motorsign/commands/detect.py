"""``motorsign detect FILE --out DIR``: spontaneous activity.

Writes ``DIR/discharges.csv`` (one row per discharge) and
``DIR/summary.json`` (per channel: rest, counts, rates, fibrillation/PSW
grade, fasciculation rate, trains), plus ``DIR/intervals.csv`` (rest,
activity and artifact intervals).
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from motorsign.commands._common import add_reader_arguments

HELP = "spontaneous activity (fibrillations, PSWs, fasciculations)"
DESCRIPTION = (
    "Detect and classify spontaneous discharges (fibrillations, positive sharp waves, "
    "fasciculations, end-plate potentials, CRDs) at rest; voluntary activity and artifacts "
    "are found and left out. Writes discharges.csv, summary.json and intervals.csv.\n\n"
    "fib_psw_grade: (fibrillations + PSWs) per minute of rest; 1+ >= 6, 2+ >= 60, 3+ >= 300, "
    "4+ >= 1200 per minute (--param grade_rates_per_min=A,B,C,D), and a grade above 0 needs a "
    "regular fibrillation/PSW train. Rest under 120 s is flagged as too short to call "
    "fasciculations absent. See docs/spontaneous.md."
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of ``motorsign detect``."""
    parser.add_argument("file", type=Path, metavar="FILE", help="recording (any format 'info' reads)")
    parser.add_argument("--out", required=True, type=Path, metavar="DIR", help="output folder (created)")
    parser.add_argument("--channels", default=None, metavar="A,B", help="channels to analyse (default: all EMG)")
    parser.add_argument("--muscle", default=None, help="muscle (catalog name, e.g. FDI)")
    parser.add_argument("--side", default=None, choices=("L", "R"), help="side")
    parser.add_argument("--n-jobs", type=int, default=1, metavar="N", help="threads over chunks (default 1)")
    parser.add_argument("--mode", default="auto", choices=("auto", "needle", "surface"),
                        help="needle EMG or surface/HD-sEMG grid (auto: surface below 4 kHz "
                             "or from 16 channels on)")
    parser.add_argument("--mains", default=None, choices=("auto", "off", "50", "60"),
                        help="mains hum: auto (default) notches 50/60 Hz harmonics found when "
                             "they raise the threshold; 50/60 always notch; off only flags")
    parser.add_argument("--param", action="append", default=[], metavar="NAME=VALUE",
                        help="override a detector threshold (repeatable; see DetectParams)")
    add_reader_arguments(parser)



def execute(
    path: str | os.PathLike,
    out_dir: str | os.PathLike,
    *,
    muscle: str | None = None,
    side: str | None = None,
    channels=None,
    read_options: dict | None = None,
    n_jobs: int = 1,
    params: dict | None = None,
    mode: str = "auto",
    **options,
) -> dict:
    """Read ``path``, detect spontaneous activity, write the result files.

    Parameters
    ----------
    path : path-like
        Recording.
    out_dir : path-like
        Output folder (created); ``discharges.csv``, ``summary.json`` and
        ``intervals.csv`` are written atomically.
    muscle, side : str | None
        Muscle and side written into the summary.
    channels : "A,B" | sequence | None
        Channels to analyse.
    read_options : dict | None
        Passed to :func:`motorsign.io.read` (``fs``, ``stim_sample``,
        ``variable``, ``stream``, ``units``).
    n_jobs : int
        Threads.
    params : dict | None
        Detector threshold overrides.
    mode : {"auto", "needle", "surface"}
        See :func:`motorsign.spontaneous.detect_spontaneous`.
    **options
        Further detector parameters by name (merged into ``params``).

    Returns
    -------
    dict
        The summary (as written to ``summary.json``).
    """
    from motorsign.io import read
    from motorsign.outputs import write_csv, write_json
    from motorsign.spontaneous import detect_spontaneous
    from motorsign.spontaneous.detect import DISCHARGE_COLUMNS

    ro = {k: v for k, v in (read_options or {}).items() if v is not None}
    rec = read(path, **ro)
    allp = dict(params or {})
    allp.update(options)
    res = detect_spontaneous(rec, channels=channels, muscle=muscle, side=side, n_jobs=n_jobs,
                             params=allp or None, mode=mode)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    cols = list(DISCHARGE_COLUMNS) + [c for c in res.discharges.columns if c not in DISCHARGE_COLUMNS]
    write_csv(out / "discharges.csv", res.discharges, columns=cols)
    write_csv(out / "intervals.csv", res.intervals)
    summary = dict(res.summary)
    summary["recording"] = str(path)
    write_json(out / "summary.json", summary)
    return summary


def _params(args: argparse.Namespace, params: dict | None) -> dict | None:
    """``--param`` overrides plus ``--mains`` (which wins over ``--param mains=``)."""
    if getattr(args, "mains", None) is None:
        return params
    return {**(params or {}), "mains": args.mains}


def run(args: argparse.Namespace) -> int:
    """Run ``motorsign detect``."""
    import logging

    from motorsign.commands._common import parse_params, read_options_from
    from motorsign.spontaneous.params import DetectParams

    read_options = read_options_from(args)
    summary = execute(args.file, args.out, muscle=args.muscle, side=args.side,
                      channels=args.channels, read_options=read_options, n_jobs=args.n_jobs,
                      params=_params(args, parse_params(args.param, DetectParams, "detection")),
                      mode=args.mode)
    log = logging.getLogger("motorsign.detect")
    for name, ch in summary["channels"].items():
        log.info("%s: rest %.1f s, grade %s, fasciculations %s/min", name, ch["rest_s"],
                 ch["fib_psw_grade"], ch["fasciculation_rate_per_min"])
    return 0
