"""``motorsign info FILE``: format, streams, channels, duration, segments, events."""

from __future__ import annotations

import argparse
import json

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
    parser.add_argument("--fs", type=float, default=None, metavar="HZ",
                        help="sampling rate of an epoched array")
    parser.add_argument("--stim-sample", type=int, default=None, metavar="N",
                        help="0-based stimulus sample in each trial of an epoched array")
    parser.add_argument("--variable", default=None, metavar="NAME", help=".mat variable to read")
    parser.add_argument("--stream", default=None, metavar="S",
                        help="signal stream (name or index) of files with several")
    parser.add_argument("--units", default=None, metavar="U",
                        help="units of the values when the file has none (V, mV, uV)")
    parser.add_argument("--layout", default="auto",
                        choices=["auto", "samples_x_trials", "trials_x_samples"],
                        help="orientation of an epoched array (default: auto)")
    parser.add_argument("--channels", default=None, metavar="A,B", help="only these channels")
    parser.add_argument("--trigger", default=None, metavar="SPEC",
                        help="also list the events a trigger spec resolves to (event label, "
                             "event channel, or analog:CHANNEL[:THRESHOLD])")


def run(args: argparse.Namespace) -> int:
    """Print the description of ``args.file``."""
    from motorsign.io.describe import describe, format_text
    from motorsign.outputs import to_jsonable

    desc = describe(
        args.file, fs=args.fs, stim_sample=args.stim_sample, variable=args.variable,
        stream=args.stream, units=args.units, layout=args.layout, channels=args.channels,
        trigger=args.trigger,
    )
    if args.json:
        print(json.dumps(to_jsonable(desc), indent=2, ensure_ascii=False))
    else:
        print(format_text(desc))
    return 0
