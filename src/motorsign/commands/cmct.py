"""``motorsign cmct``: central motor conduction time.

From numbers (``--mep-latency MS --f-latency MS --m-latency MS``, or
``--root-latency MS``) or from result folders (``--mep DIR --nerve DIR`` or
``--mep DIR --root DIR``). Prints one line, or the JSON with ``--json``;
``--out FILE`` also writes the JSON.
"""

from __future__ import annotations

import argparse
import json
import math

HELP = "central motor conduction time"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of ``motorsign cmct``."""
    g = parser.add_argument_group("from result folders")
    g.add_argument("--mep", default=None, metavar="DIR", help="cortical 'mep' result folder")
    g.add_argument("--nerve", default=None, metavar="DIR", help="'nerve' result folder (F-wave method)")
    g.add_argument("--root", default=None, metavar="DIR", help="root-stimulation 'mep' result folder (root method)")
    g.add_argument("--channel", default=None, help="channel to use when a result has several")
    g.add_argument("--nerve-channel", default=None, dest="nerve_channel",
                   help="channel of the nerve result when it differs from --channel")
    g.add_argument("--mep-statistic", default="min", choices=["min", "median"], dest="mep_statistic",
                   help="MEP onset over trials (default min: the shortest)")
    n = parser.add_argument_group("from numbers")
    n.add_argument("--mep-latency", type=float, default=None, dest="mep_latency", metavar="MS",
                   help="cortical MEP onset latency")
    n.add_argument("--f-latency", type=float, default=None, dest="f_latency", metavar="MS",
                   help="minimal F-wave latency")
    n.add_argument("--m-latency", type=float, default=None, dest="m_latency", metavar="MS",
                   help="M-wave onset (distal motor latency)")
    n.add_argument("--root-latency", type=float, default=None, dest="root_latency", metavar="MS",
                   help="root MEP onset (root method)")
    n.add_argument("--mep-amplitude-uv", type=float, default=None, dest="mep_amplitude_uv",
                   help="MEP peak-to-peak (for the MEP/CMAP ratio)")
    n.add_argument("--cmap-amplitude-mv", type=float, default=None, dest="cmap_amplitude_mv",
                   help="CMAP peak-to-peak (for the MEP/CMAP ratio)")
    o = parser.add_argument_group("norms and output")
    o.add_argument("--muscle", default=None, help="muscle (norm lookup)")
    o.add_argument("--condition", default=None, help="norm condition, e.g. '120%% MT'")
    o.add_argument("--norms", default=None, metavar="CSV", help="a lab's norms table (same columns)")
    o.add_argument("--json", action="store_true", help="print the JSON result")
    o.add_argument("--out", default=None, metavar="FILE", help="also write the JSON result to FILE")


def run(args: argparse.Namespace) -> int:
    """Compute, print and optionally write the CMCT."""
    from motorsign.errors import ConfigError
    from motorsign.evoked.cmct import cmct_from_results, compute_cmct
    from motorsign.outputs import to_jsonable, write_json

    if args.mep is None and (args.nerve is not None or args.root is not None):
        flag = "--nerve" if args.nerve is not None else "--root"
        raise ConfigError(f"{flag} DIR goes with --mep DIR (the cortical mep result); with numbers give "
                          "--mep-latency, --f-latency and --m-latency (or --root-latency)")
    if args.nerve is not None and args.root is not None:
        raise ConfigError("give --nerve DIR (F-wave method) or --root DIR (root method), not both")
    if args.root_latency is not None and (args.f_latency is not None or args.m_latency is not None):
        raise ConfigError("give --f-latency/--m-latency (F-wave method) or --root-latency (root method), "
                          "not both")
    if args.mep is not None:
        if args.mep_latency is not None:
            raise ConfigError("give either --mep DIR or --mep-latency MS, not both")
        given = [f for f, v in (("--f-latency", args.f_latency), ("--m-latency", args.m_latency),
                                ("--root-latency", args.root_latency)) if v is not None]
        if given:
            raise ConfigError(f"{', '.join(given)} would be ignored with --mep DIR (the latencies come from "
                              "the result folders): give folders or numbers, not both")
        res = cmct_from_results(args.mep, args.nerve, root_dir=args.root, channel=args.channel,
                                nerve_channel=args.nerve_channel,
                                muscle=args.muscle, condition=args.condition, norms=args.norms,
                                mep_statistic=args.mep_statistic)
    elif args.mep_latency is not None:
        if args.root_latency is None and (args.f_latency is None or args.m_latency is None):
            raise ConfigError("--mep-latency needs --f-latency and --m-latency (or --root-latency)")
        for flag, value in (("--mep-latency", args.mep_latency), ("--f-latency", args.f_latency),
                            ("--m-latency", args.m_latency), ("--root-latency", args.root_latency)):
            if value is not None and not (math.isfinite(value) and value > 0):
                raise ConfigError(f"{flag} must be a positive number of ms, got {value}")
        if args.f_latency is not None and args.m_latency is not None and args.f_latency <= args.m_latency:
            raise ConfigError(f"--f-latency ({args.f_latency} ms) must be longer than --m-latency "
                              f"({args.m_latency} ms): are the two swapped?")
        res = compute_cmct(mep_latency_ms=args.mep_latency, f_latency_ms=args.f_latency,
                           m_latency_ms=args.m_latency, root_latency_ms=args.root_latency,
                           muscle=args.muscle, condition=args.condition, norms=args.norms,
                           mep_amplitude_uv=args.mep_amplitude_uv, cmap_amplitude_mv=args.cmap_amplitude_mv)
    else:
        raise ConfigError("give --mep DIR with --nerve DIR or --root DIR, or --mep-latency with "
                          "--f-latency and --m-latency")
    if args.out:
        write_json(args.out, res)
    if args.json:
        print(json.dumps(to_jsonable(res), indent=2))
    else:
        def fmt(v):
            return "n/a" if v is None or v != v else f"{v:.2f}"

        state = {True: "ABNORMAL", False: "normal", None: "not judged"}[res["abnormal"]]
        print(f"CMCT {fmt(res['cmct_ms'])} ms ({res['method']} method; peripheral {fmt(res['peripheral_ms'])} ms; "
              f"ULN {fmt(res['uln_ms'])} ms: {state}; norm: {res['norm_source'] or 'none'})")
    return 0
