"""``motorsign info FILE``: format, streams, channels, duration, segments, events."""

from __future__ import annotations

import argparse
import json

from motorsign.commands._common import add_reader_arguments, read_options_from

HELP = "describe a recording: format, streams, channels, events"
DESCRIPTION = (
    "Describe a recording: format, signal streams, channels (name, units, rate, samples), "
    "duration, segments and events by label, plus warnings (missing units, guessed layout). "
    "Epoched arrays (.mat/.npy/.csv) need --fs and --stim-sample, or a sidecar FILE.json."
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of ``motorsign info``."""
    parser.add_argument("file", help="recording (.vhdr, .edf, .bdf, .smr, .abf, .rhd, .rhs, "
                                     ".trc, .edr, .wcp, .nwb, .hea, .mat, .npy, .csv)")
    parser.add_argument("--json", action="store_true", help="print JSON instead of text")
    add_reader_arguments(parser)
    parser.add_argument("--channels", default=None, metavar="A,B", help="only these channels")
    parser.add_argument("--trigger", default=None, metavar="SPEC",
                        help="also list the events a trigger spec resolves to (event label, "
                             "event channel, or analog:CHANNEL[:THRESHOLD])")


def run(args: argparse.Namespace) -> int:
    """Print the description of ``args.file``."""
    from motorsign.io.describe import describe, format_text
    from motorsign.outputs import to_jsonable

    desc = describe(
        args.file, **read_options_from(args), channels=args.channels,
        trigger=args.trigger,
    )
    if args.json:
        print(json.dumps(to_jsonable(desc), indent=2, ensure_ascii=False))
    else:
        print(format_text(desc))
    return 0
