"""Regenerate the bundled sample data with the simulate API (fixed seeds).

    python sample_data/make_sample_data.py [--out DIR] [--only NAME ...]

Every recording is one call of :func:`make` (name, simulation kind, seed,
options): it writes ``NAME.vhdr/.vmrk/.eeg``, ``NAME_truth.csv``,
``NAME_truth_intervals.csv`` and ``NAME_meta.json`` (what was simulated)
into this folder. Same code, same seeds: byte-identical files. The clinical
case files (``case_*.json``) are written by hand, not by this script.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent

#: Budget for the whole folder (bytes); the script fails when it is exceeded.
MAX_TOTAL_BYTES = 20 * 1024 * 1024


def make(out_dir: Path, name: str, kind: str, seed: int, **options) -> dict[str, Path]:
    """Simulate one recording and write it (with its truth) as ``NAME.*``.

    Parameters
    ----------
    out_dir : Path
        Destination folder.
    name : str
        File stem (the pipelines refer to ``NAME.vhdr``).
    kind : str
        A :data:`motorsign.simulate.KINDS` key.
    seed : int
        Fixed seed of this recording.
    **options
        Options of the kind's ``generate``.

    Returns
    -------
    dict of str to Path
    """
    from motorsign.outputs import to_jsonable, write_json
    from motorsign.simulate import load_kind
    from motorsign.simulate.base import write_result

    result = load_kind(kind).generate(seed=seed, **options)
    paths = write_result(result, out_dir, name, prefix_truth=True)
    meta = {k: v for k, v in result.meta.items() if not hasattr(v, "to_dict")}
    meta.update({"name": name, "simulate_kind": kind, "seed": seed, "duration_s": result.duration_s,
                 "sampling_rate_hz": result.fs, "channels": result.channel_names})
    paths["meta"] = write_json(out_dir / f"{name}_meta.json", to_jsonable(meta))
    return paths


# One entry per recording. Keep each a single make(...) call.
def needle_fdi_r(out: Path) -> dict[str, Path]:
    """Denervated FDI R: fibrillation and PSW trains at rest, neurogenic MUPs in one contraction."""
    return make(out, "needle_fdi_r", "needle-emg", 101, duration_s=40.0, fs=20000.0, n_channels=1,
                muscle="FDI", side="R", fib_trains=4, fib_rate_hz=(1.0, 12.0), psw_trains=2,
                psw_rate_hz=(1.0, 8.0), fasc_units=1, fasc_rate_per_min=3.0, fasc_variant="enlarged",
                voluntary=1, voluntary_s=(5.0, 6.0), voluntary_units=5, voluntary_variant="enlarged")


def needle_biceps_r(out: Path) -> dict[str, Path]:
    """Fasciculating biceps R: > 2 min of rest with fasciculations, one contraction."""
    return make(out, "needle_biceps_r", "needle-emg", 102, duration_s=140.0, fs=8000.0, n_channels=1,
                muscle="biceps", side="R", fib_trains=0, psw_trains=0,
                fasc_units=4, fasc_rate_per_min=5.0, fasc_variant="enlarged",
                voluntary=1, voluntary_s=(6.0, 7.0), voluntary_units=6, voluntary_variant="enlarged")


def needle_ta_r(out: Path) -> dict[str, Path]:
    """Healthy TA R: rest without spontaneous activity, normal MUPs in one contraction."""
    return make(out, "needle_ta_r", "needle-emg", 103, duration_s=30.0, fs=20000.0, n_channels=1,
                muscle="TA", side="R", fib_trains=0, psw_trains=0, fasc_units=0,
                voluntary=1, voluntary_s=(6.0, 7.0), voluntary_units=6, voluntary_variant="normal")


def tms_apb_r(out: Path) -> dict[str, Path]:
    """TMS of APB R: MEPs after Stimulus/TMS markers (options owned by the evoked simulator)."""
    return make(out, "tms_apb_r", "tms", 201, muscles="APB", side="R")


def nerve_apb_r(out: Path) -> dict[str, Path]:
    """Median nerve stimulation, APB R: M-waves and F-waves after Stimulus/ES markers."""
    return make(out, "nerve_apb_r", "nerve", 202, muscle="APB", side="R")


ENTRIES = {f.__name__: f for f in (needle_fdi_r, needle_biceps_r, needle_ta_r, tms_apb_r, nerve_apb_r)}


def folder_bytes(folder: Path) -> int:
    """Total size of the files in ``folder`` (not recursive)."""
    return sum(p.stat().st_size for p in folder.iterdir() if p.is_file())


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--out", type=Path, default=HERE, help="destination (default: this folder)")
    p.add_argument("--only", nargs="+", choices=sorted(ENTRIES), help="regenerate only these")
    args = p.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    for name in args.only or list(ENTRIES):
        paths = ENTRIES[name](args.out)
        size = sum(Path(v).stat().st_size for v in paths.values())
        print(f"{name}: {len(paths)} files, {size / 1e6:.2f} MB")
    total = folder_bytes(args.out)
    print(f"total {total / 1e6:.2f} MB in {args.out}")
    if total > MAX_TOTAL_BYTES:
        print(f"error: sample data exceeds {MAX_TOTAL_BYTES / 1e6:.0f} MB", file=sys.stderr)
        return 1
    summary = {n: json.loads((args.out / f"{n}_meta.json").read_text()).get("counts")
               for n in ENTRIES if (args.out / f"{n}_meta.json").is_file()}
    print(json.dumps(summary, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
