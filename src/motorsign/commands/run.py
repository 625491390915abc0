"""``motorsign run PIPELINE.toml --out DIR``: a batch over many recordings."""

from __future__ import annotations

import argparse

HELP = "run a pipeline file over many recordings"
DESCRIPTION = """\
Run a pipeline file (TOML: recordings, analyses, options; see pipelines/README.md)
and write OUT/<recording>/<analysis>/, OUT/errors.csv, OUT/provenance.json,
OUT/report.html and, with [fusion], OUT/evidence.json.

Results complete for the same input sha256, options and motorsign version are
reused; a killed run is completed by running it again.

exit status: 0 everything ran, 3 some recordings/analyses failed (see
OUT/errors.csv), 1 nothing could run or the pipeline file is invalid."""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of ``motorsign run``."""
    parser.add_argument("pipeline", help="pipeline file (.toml)")
    parser.add_argument("--out", required=True, help="output folder (created)")
    parser.add_argument("--workers", type=int, default=None,
                        help="worker processes for 'processes' and 'dask' (default: usable CPUs)")
    parser.add_argument("--scheduler", default="processes",
                        help="serial | processes (default) | dask (local cluster) | "
                             "tcp://HOST:PORT (existing Dask scheduler)")
    parser.add_argument("--force", action="store_true",
                        help="recompute results even when complete and unchanged")
    parser.add_argument("--no-report", action="store_true", help="do not write report.html")
    parser.add_argument("--check", action="store_true",
                        help="validate the pipeline file and exit")
    bar = parser.add_mutually_exclusive_group()
    bar.add_argument("--progress", dest="progress", action="store_true", default=None,
                     help="always draw the progress bar")
    bar.add_argument("--no-progress", dest="progress", action="store_false",
                     help="never draw the progress bar (default: only on a terminal)")


def run(args: argparse.Namespace) -> int:
    """Validate the pipeline file, run it, and return the exit status."""
    import logging
    import sys

    from motorsign.errors import ConfigError
    from motorsign.pipeline import load_pipeline, run_pipeline

    if args.workers is not None and args.workers < 1:
        raise ConfigError(f"--workers must be at least 1, got {args.workers}")
    pipeline = load_pipeline(args.pipeline)
    if args.check:
        print(f"{args.pipeline}: valid: {len(pipeline.recordings)} recording(s), "
              f"{pipeline.n_tasks} task(s), {len(pipeline.cmct)} CMCT pair(s)"
              f"{', fusion' if pipeline.fusion else ''}")
        return 0
    result = run_pipeline(
        pipeline, args.out, scheduler=args.scheduler, workers=args.workers, force=args.force,
        report=not args.no_report, progress=False if args.quiet else args.progress,
    )
    if not args.quiet:
        n_err = len(result.errors)
        print(
            f"motorsign run: {len(result.ran)} ran, {len(result.cached)} reused, "
            f"{n_err} failed in {result.elapsed_s:.1f} s -> {result.out_dir}"
            + (f" (see {result.out_dir / 'errors.csv'})" if n_err else ""),
            file=sys.stderr,
        )
    logging.getLogger(__name__).debug("exit %d", result.exit_code)
    return result.exit_code
