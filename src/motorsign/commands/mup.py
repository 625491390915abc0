"""``motorsign mup FILE --out DIR``: voluntary motor unit potential analysis.

Writes ``DIR/mups.csv`` (one row per motor unit), ``DIR/mup_discharges.csv``
(every discharge assigned to a unit), ``DIR/summary.json`` (per channel:
means, polyphasic fraction, recruitment, interference pattern and the
classification with the reference values used) and ``DIR/templates.npz``
(unit templates in µV for the report).
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from motorsign.commands._common import add_reader_arguments

HELP = "voluntary motor unit potential analysis"
DESCRIPTION = (
    "Sort voluntary needle EMG (low to moderate effort) into motor units, measure their "
    "potentials (amplitude, duration, phases, turns, area, size index) and firing, and "
    "classify the muscle as neurogenic, myopathic, normal or indeterminate against reference "
    "values by muscle and age. Writes mups.csv, mup_discharges.csv, summary.json and "
    "templates.npz."
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of ``motorsign mup``."""
    parser.add_argument("file", type=Path, metavar="FILE", help="recording (any format 'info' reads)")
    parser.add_argument("--out", required=True, type=Path, metavar="DIR", help="output folder (created)")
    parser.add_argument("--channels", default=None, metavar="A,B",
                        help="channels to analyse (default: all EMG)")
    parser.add_argument("--muscle", default=None, help="muscle (catalog name, e.g. TA) for the reference values")
    parser.add_argument("--side", default=None, choices=("L", "R"), help="side")
    parser.add_argument("--age", type=float, default=None, metavar="YEARS", help="subject age in years")
    parser.add_argument("--engine", choices=("numba", "numpy"), default="numba",
                        help="kernels: compiled (default) or plain numpy/scipy")
    parser.add_argument("--param", action="append", default=[], metavar="NAME=VALUE",
                        help="override an analysis parameter (repeatable; see MupParams)")
    parser.add_argument("--rule", action="append", default=[], metavar="NAME=VALUE",
                        help="override a classification setting (repeatable; see "
                             "motorsign.mup.classify.ClassifyRules, e.g. z_crit=2.5)")
    add_reader_arguments(parser)




def write_templates(path: str | os.PathLike, templates: dict) -> Path:
    """Write the unit templates of every channel to one ``.npz`` file, atomically.

    Parameters
    ----------
    path : path-like
        Destination (``templates.npz``).
    templates : dict
        :attr:`motorsign.mup.MupResult.templates`.

    Returns
    -------
    Path
        Arrays: ``channel`` (str, one per unit), ``unit_id`` (int),
        ``templates`` (float32 µV, units × samples), ``fs`` (Hz),
        ``pre_samples`` (alignment index).
    """
    import io

    import numpy as np

    from motorsign.outputs import atomic_write_bytes

    chans, ids, rows = [], [], []
    fs, pre = np.nan, 0
    for name, t in templates.items():
        fs, pre = float(t["fs"]), int(t["pre_samples"])
        for uid, row in zip(t["unit_ids"], t["templates"]):
            chans.append(name)
            ids.append(int(uid))
            rows.append(np.asarray(row, dtype=np.float32))
    width = max((r.size for r in rows), default=2 * pre + 1)
    arr = np.zeros((len(rows), width), dtype=np.float32)
    for i, r in enumerate(rows):
        arr[i, : r.size] = r
    buf = io.BytesIO()
    np.savez(buf, channel=np.asarray(chans, dtype=str), unit_id=np.asarray(ids, dtype=np.int64),
             templates=arr, fs=np.float64(fs), pre_samples=np.int64(pre))
    return atomic_write_bytes(path, buf.getvalue())


def execute(
    path: str | os.PathLike,
    out_dir: str | os.PathLike,
    *,
    muscle: str | None = None,
    side: str | None = None,
    channels=None,
    read_options: dict | None = None,
    age_years: float | None = None,
    params: dict | None = None,
    engine: str = "numba",
    rules: dict | None = None,
    **options,
) -> dict:
    """Read ``path``, analyse voluntary MUPs, write the result files.

    Parameters
    ----------
    path : path-like
        Recording.
    out_dir : path-like
        Output folder (created); ``mups.csv``, ``mup_discharges.csv``,
        ``summary.json`` and ``templates.npz`` are written atomically.
    muscle, side : str | None
        Muscle (reference lookup) and side written into the summary.
    channels : "A,B" | sequence | None
        Channels to analyse.
    read_options : dict | None
        Passed to :func:`motorsign.io.read`.
    age_years : float | None
        Subject age (``age`` is accepted too, as the pipeline names it).
    params : dict | None
        :class:`~motorsign.mup.params.MupParams` overrides.
    engine : {"numba", "numpy"}
        Kernels.
    rules : dict | None
        :class:`~motorsign.mup.classify.ClassifyRules` overrides (the
        classification's statistical settings); the settings used are written
        to the summary (``classify_rules``).
    **options
        Further parameters by name (merged into ``params``).

    Returns
    -------
    dict
        The summary (as written to ``summary.json``).
    """
    from dataclasses import asdict

    from motorsign.io import read
    from motorsign.mup import DISCHARGE_COLUMNS, UNIT_COLUMNS, analyze_mups
    from motorsign.outputs import write_csv, write_json

    if age_years is None and options.get("age") is not None:
        age_years = float(options.pop("age"))
    options.pop("age", None)
    ro = {k: v for k, v in (read_options or {}).items() if v is not None}
    rec = read(path, **ro)
    if muscle is not None or side is not None:
        rec = rec.with_metadata(muscle=muscle, side=side)
    allp = dict(params or {})
    allp.update(options)
    res = analyze_mups(rec, channels=channels, muscle=muscle, age_years=age_years,
                       params=allp or None, engine=engine, rules=rules)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    write_csv(out / "mups.csv", res.units, columns=list(UNIT_COLUMNS))
    write_csv(out / "mup_discharges.csv", res.discharges, columns=list(DISCHARGE_COLUMNS))
    write_templates(out / "templates.npz", res.templates)
    summary = {
        "recording": str(path),
        "channels": res.summary,
        "params": res.params.to_dict(),
        "classify_rules": asdict(res.rules),
    }
    write_json(out / "summary.json", summary)
    return summary


def run(args: argparse.Namespace) -> int:
    """Run ``motorsign mup``."""
    import logging

    from motorsign.commands._common import parse_params, read_options_from
    from motorsign.mup.classify import ClassifyRules
    from motorsign.mup.params import MupParams

    read_options = read_options_from(args)
    summary = execute(args.file, args.out, muscle=args.muscle, side=args.side,
                      channels=args.channels, read_options=read_options, age_years=args.age,
                      params=parse_params(args.param, MupParams, "MUP"), engine=args.engine,
                      rules=parse_params(args.rule, ClassifyRules, "MUP classification") or None)
    log = logging.getLogger("motorsign.mup")
    for name, ch in summary["channels"].items():
        log.info("%s: %d units, %s (%s)", name, ch["n_units_used"], ch["classification"],
                 "; ".join(ch["reasons"]))
    return 0
