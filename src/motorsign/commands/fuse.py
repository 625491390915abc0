"""``motorsign fuse CASE.json [--out evidence.json] [--option NAME=VALUE ...]``.

Reads a case (clinical signs, EMG and TMS findings or result folders),
prints a readable summary (per-region evidence, each criterion with its
reasons and what is missing for the next category, the phenotype) and writes
the evidence JSON with ``--out``. ``--json`` prints the JSON instead of the
summary.
"""

from __future__ import annotations

import argparse
from pathlib import Path

HELP = "UMN/LMN evidence and ALS criteria from a case file"
DESCRIPTION = (
    "Per-region UMN/LMN evidence and the revised El Escorial, Awaji, Gold Coast and "
    "PLS 2020 criteria from a case file (clinical signs, EMG and TMS findings)."
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of ``motorsign fuse``."""
    parser.add_argument("case", type=Path, metavar="CASE.json", help="the case file")
    parser.add_argument(
        "--out",
        type=Path,
        default=None,
        metavar="FILE",
        help="write the evidence JSON here (a folder, or a path ending in '/', gets evidence.json)",
    )
    parser.add_argument(
        "--option",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="interpretation option, repeatable: rostral_mode=exists_pair|most_rostral_is_umn, "
        "awaji_probable_umn_regions=2|1, gcc_split_regions=false|true, "
        "root_distinct_mode=not_identical|disjoint, pls_lmn_tolerance=none|minor",
    )
    parser.add_argument(
        "--base-dir",
        type=Path,
        default=None,
        metavar="DIR",
        help="folder that relative 'from' paths start from (default: the case file's folder)",
    )
    parser.add_argument("--json", action="store_true", help="print the evidence JSON instead of the summary")


def parse_option(text: str) -> tuple[str, object]:
    """``NAME=VALUE`` -> (name, typed value); integers and true/false are converted."""
    from motorsign.errors import ConfigError

    if "=" not in text:
        raise ConfigError(f"--option {text!r}: expected NAME=VALUE")
    name, value = (s.strip() for s in text.split("=", 1))
    low = value.lower()
    if low in ("true", "false"):
        return name, low == "true"
    if value.isdigit():
        return name, int(value)
    return name, value


def _out_file(out: Path) -> Path:
    if out.is_dir() or str(out).endswith(("/", "\\")) or out.suffix == "":
        return out / "evidence.json"
    return out


def execute(
    case: str | Path | dict,
    out: str | Path | None = None,
    *,
    options: dict | None = None,
    base_dir: str | Path | None = None,
) -> dict:
    """Fuse a case and write ``evidence.json`` (the ``fuse`` verb's work).

    Parameters
    ----------
    case : path | dict
        Case file or case dict.
    out : path | None
        Evidence file (or folder for ``evidence.json``); None writes nothing.
    options : dict | None
        Interpretation options.
    base_dir : path | None
        Start of relative ``from`` paths.

    Returns
    -------
    dict
        The evidence dict.
    """
    from motorsign.fusion import fuse
    from motorsign.outputs import write_json

    evidence = fuse(case, options=options, base_dir=base_dir).to_dict()
    if out is not None:
        write_json(_out_file(Path(out)), evidence)
    return evidence


def run(args: argparse.Namespace) -> int:
    """Run ``motorsign fuse``."""
    import json

    from motorsign.fusion.text import summary_text

    options = dict(parse_option(o) for o in args.option)
    evidence = execute(args.case, args.out, options=options or None, base_dir=args.base_dir)
    if args.json:
        print(json.dumps(evidence, indent=2))
    else:
        print(summary_text(evidence))
        if args.out is not None:
            print(f"\nevidence written to {_out_file(args.out)}")
    return 0
