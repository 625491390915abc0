"""``motorsign simulate KIND --out DIR [--seed N] [options]``.

One sub-command per simulation kind; each kind's options come from its
module's ``add_arguments``. Kinds whose module is not installed are listed
and fail with one clear line.
"""

from __future__ import annotations

import argparse

HELP = "simulated recordings with ground truth"
DESCRIPTION = (
    "Write a simulated recording (BrainVision, float32 µV) with truth.csv and "
    "truth_intervals.csv. 'motorsign simulate KIND --help' shows a kind's options."
)

_DEST_KEY = "_simulate_option_dests"


def _add_common(sub: argparse.ArgumentParser) -> None:
    sub.add_argument("--out", required=True, metavar="DIR", help="output folder (created)")
    sub.add_argument("--seed", type=int, default=0, help="random seed (same seed, same files; default 0)")
    # The top-level --debug/-v/-q also work after KIND; SUPPRESS keeps the
    # value given before KIND.
    g = sub.add_argument_group("general")
    g.add_argument("--debug", action="store_true", default=argparse.SUPPRESS, help="show tracebacks")
    g.add_argument("-v", "--verbose", action="store_true", default=argparse.SUPPRESS, help="log progress")
    g.add_argument("-q", "--quiet", action="store_true", default=argparse.SUPPRESS, help="only errors")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add one sub-parser per simulation kind."""
    import importlib

    from motorsign.simulate import KINDS

    subs = parser.add_subparsers(dest="kind", metavar="KIND", required=True)
    for kind, module_name in KINDS.items():
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            if exc.name != module_name:
                raise
            module = None
        help_text = (module.__doc__ or "").strip().splitlines()[0] if module is not None and module.__doc__ else kind
        if module is None:
            help_text = f"(not available: {module_name} is missing)"
        sub = subs.add_parser(
            kind,
            help=help_text,
            description=(module.__doc__ if module is not None else help_text),
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
        _add_common(sub)
        before = {a.dest for a in sub._actions}
        if module is not None and hasattr(module, "add_arguments"):
            module.add_arguments(sub)
        dests = [a.dest for a in sub._actions if a.dest not in before and a.dest != "help"]
        sub.set_defaults(**{_DEST_KEY: dests})


def run(args: argparse.Namespace) -> int:
    """Generate and write the recording; print the written paths."""
    import logging

    from motorsign.simulate import load_kind

    module = load_kind(args.kind)
    dests = getattr(args, _DEST_KEY, [])
    options = {d: getattr(args, d) for d in dests if getattr(args, d, None) is not None}
    paths = module.simulate(args.out, seed=args.seed, **options)
    logging.getLogger(__name__).info("simulate %s: wrote %d files", args.kind, len(paths))
    for key, path in paths.items():
        print(f"{key}\t{path}")
    return 0
