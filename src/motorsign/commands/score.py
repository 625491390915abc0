"""``motorsign score KIND --truth FILE --detected FILE [--tolerance-ms 1.0]``.

KIND is ``discharges`` (``truth.csv`` against ``discharges.csv``), ``mep``
(``truth.csv`` against ``meps.csv``: onset latency) or ``nerve`` (against
``responses.csv``: M-wave onset and F-wave latency). Prints the scores as
JSON (and writes them with ``--json OUT``).
"""

from __future__ import annotations

import argparse
from pathlib import Path

HELP = "score a result against ground truth"
SCORE_KINDS = ("discharges", "mep", "nerve")
NERVE_COLUMNS = ("m_onset_ms", "f_latency_ms")
#: columns only result files have (discharges.csv, meps.csv, responses.csv), never truth files
RESULT_ONLY_COLUMNS = ("confidence", "flags", "measured")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of ``motorsign score``."""
    parser.add_argument("kind", choices=SCORE_KINDS, metavar="KIND", help="discharges | mep | nerve")
    parser.add_argument("--truth", required=True, type=Path, metavar="FILE", help="truth.csv")
    parser.add_argument(
        "--detected", required=True, type=Path, metavar="FILE", help="discharges.csv, meps.csv or responses.csv"
    )
    parser.add_argument(
        "--tolerance-ms",
        type=float,
        default=None,
        help="discharges: matching tolerance (default 1.0 ms); mep/nerve: also report the "
        "fraction of trials within this latency error",
    )
    parser.add_argument(
        "--intervals",
        type=Path,
        default=None,
        metavar="FILE",
        help="truth_intervals.csv (default: the one written with --truth, if any); discharges in "
        "voluntary/artifact intervals are left out",
    )
    parser.add_argument(
        "--ignore-channels",
        action="store_true",
        help="discharges: pair events across channels (one event per discharge of a grid; "
        "hdsemg truth keeps its peak-channel rows)",
    )
    parser.add_argument("--json", type=Path, default=None, metavar="OUT", help="also write the JSON here")


def _read_csv(path: Path, what: str):
    import pandas as pd

    from motorsign.errors import InputError

    if path.is_dir():
        raise InputError(f"{what} is a folder, not a CSV file", path)
    if not path.is_file():
        raise InputError(f"{what} file not found", path)
    try:
        return pd.read_csv(path)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot read {what} CSV ({exc})", path) from exc


def intervals_beside(truth: Path) -> Path | None:
    """The interval file written with a truth file, if any.

    ``X/truth.csv`` -> ``X/truth_intervals.csv``; ``X/NAME_truth.csv`` ->
    ``X/NAME_truth_intervals.csv`` (the sample data's names).
    """
    name = truth.name
    if name.endswith("truth.csv"):
        cand = truth.with_name(name[: -len("truth.csv")] + "truth_intervals.csv")
        if cand.is_file():
            return cand
    return None


def score_files(
    kind: str,
    truth: Path,
    detected: Path,
    *,
    tolerance_ms: float | None = None,
    intervals: Path | None = None,
    ignore_channels: bool = False,
) -> dict:
    """Score result files against truth files (the ``score`` verb's work).

    Parameters
    ----------
    kind : {"discharges", "mep", "nerve"}
    truth, detected : Path
        CSV files.
    tolerance_ms : float | None
        Discharge matching tolerance (default 1 ms); for latencies an
        optional error tolerance.
    intervals : Path | None
        ``truth_intervals.csv``; default: beside ``truth`` when it exists.
    ignore_channels : bool
        Discharges: pair across channels.

    Returns
    -------
    dict
        The JSON summary.
    """
    from motorsign.errors import InputError
    from motorsign.scoring import compare_discharges, score_latencies

    t = _read_csv(truth, "truth")
    d = _read_csv(detected, "detected")
    marks = [c for c in RESULT_ONLY_COLUMNS if c in t.columns]
    if marks and not any(c in d.columns for c in RESULT_ONLY_COLUMNS):
        raise InputError(
            f"--truth is a motorsign result (it has column {marks[0]!r}) and --detected {detected} "
            "is not: are the two files swapped?",
            truth,
        )
    try:
        if kind == "discharges":
            if intervals is None:
                intervals = intervals_beside(truth)
            iv = _read_csv(intervals, "intervals") if intervals is not None else None
            comp = compare_discharges(
                t, d, 1.0 if tolerance_ms is None else tolerance_ms, iv, ignore_channels=ignore_channels
            )
            out = comp.to_dict()
            out["intervals"] = None if intervals is None else str(intervals)
        elif kind == "mep":
            out = {"score": "mep", **score_latencies(t, d, "onset_ms", tolerance_ms=tolerance_ms)}
        else:
            out = {"score": "nerve"}
            for col in NERVE_COLUMNS:
                if col in t.columns and col in d.columns:
                    out[col] = score_latencies(t, d, col, tolerance_ms=tolerance_ms)
            if len(out) == 1:
                raise InputError(f"neither table has both of {', '.join(NERVE_COLUMNS)}", detected)
    except InputError as exc:
        if exc.path is None:
            which = truth if exc.message.startswith("truth") else detected
            raise InputError(exc.message, which) from exc
        raise
    out["truth"] = str(truth)
    out["detected"] = str(detected)
    return out


def run(args: argparse.Namespace) -> int:
    """Score and print JSON."""
    import json

    from motorsign.outputs import to_jsonable, write_json

    out = score_files(
        args.kind,
        args.truth,
        args.detected,
        tolerance_ms=args.tolerance_ms,
        intervals=args.intervals,
        ignore_channels=args.ignore_channels,
    )
    if args.json is not None:
        write_json(args.json, out)
    print(json.dumps(to_jsonable(out), indent=2, allow_nan=False, ensure_ascii=False))
    return 0
