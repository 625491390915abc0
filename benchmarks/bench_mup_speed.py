"""MUP analysis speed: numba kernels versus a plain numpy/scipy implementation.

Writes ``benchmarks/results/bench_mup_speed.json`` and ``bench_mup_speed.png``.

    python benchmarks/bench_mup_speed.py           # 30 s at 20 kHz, 3 repeats
    python benchmarks/bench_mup_speed.py --quick   # smoke test (4 s, 1 repeat)

The channel is ``motorsign simulate voluntary-emg`` (normal muscle, seed 0).
Both engines run the whole :func:`motorsign.mup.analyze_mups` (filters,
candidates, clustering, peeling, quantification, classification); only the
kernels differ (:mod:`motorsign.mup.kernels` versus
:mod:`motorsign.mup.numpy_impl`). One core: ``NUMBA_NUM_THREADS``,
``OMP_NUM_THREADS`` and ``OPENBLAS_NUM_THREADS`` are set to 1 before numpy is
imported. Compilation is excluded (one warm-up run; kernels are cached).
Target (issue 5): a 30 s, 20 kHz channel in under 1 s.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

for _v in ("NUMBA_NUM_THREADS", "OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_v, "1")

RESULTS = Path(__file__).resolve().parent / "results"


def _agreement(a, b, tol_s: float = 0.5e-3) -> dict:
    """Discharges of two runs matched one-to-one within ``tol_s`` (any unit labels)."""
    from motorsign.scoring import match_events

    pairs, ua, ub = match_events(a["time_s"].to_numpy(), b["time_s"].to_numpy(), tol_s)
    n = max(1, len(a))
    return {"n_numba": int(len(a)), "n_numpy": int(len(b)), "matched": int(len(pairs)),
            "matched_fraction": len(pairs) / n}


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark; returns 0."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="smoke test")
    ap.add_argument("--out", type=Path, default=RESULTS, help="results folder")
    args = ap.parse_args(argv)

    import numpy as np

    from motorsign.mup import analyze_mups
    from motorsign.outputs import write_json
    from motorsign.simulate.voluntary import generate

    duration = 4.0 if args.quick else 30.0
    repeats = 1 if args.quick else 3
    fs = 20000.0
    sim = generate(seed=0, condition="normal", duration_s=duration, fs=fs)
    rec = sim.to_recording()
    analyze_mups(rec, muscle="TA")  # warm-up: compile or load the cached kernels
    times: dict[str, list[float]] = {"numba": [], "numpy": []}
    results = {}
    for engine in ("numba", "numpy"):
        for _ in range(repeats if engine == "numba" else 1):
            t0 = time.perf_counter()
            results[engine] = analyze_mups(rec, muscle="TA", engine=engine)
            times[engine].append(time.perf_counter() - t0)
    t_nb = float(np.median(times["numba"]))
    t_np = float(np.median(times["numpy"]))
    out = {
        "duration_s": duration, "fs": fs, "n_samples": int(duration * fs),
        "numba_s": t_nb, "numpy_s": t_np, "speedup": t_np / t_nb if t_nb > 0 else None,
        "numba_runs_s": times["numba"], "numpy_runs_s": times["numpy"],
        "realtime_factor_numba": duration / t_nb if t_nb > 0 else None,
        "target_s_for_30s": 1.0,
        "meets_target": (not args.quick) and t_nb < 1.0,
        "n_units_numba": int(len(results["numba"].units)),
        "n_units_numpy": int(len(results["numpy"].units)),
        "agreement_numba_vs_numpy": _agreement(results["numba"].discharges,
                                               results["numpy"].discharges),
        "classification": {e: r.summary["EMG"]["classification"] for e, r in results.items()},
        "quick": bool(args.quick), "python": sys.version.split()[0],
    }
    args.out.mkdir(parents=True, exist_ok=True)
    write_json(args.out / "bench_mup_speed.json", out)
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(5, 3))
    ax.bar(["numba", "numpy/scipy"], [t_nb, t_np], color=["tab:blue", "tab:gray"])
    ax.axhline(duration / 30.0, color="r", ls="--", lw=1, label="target (1 s per 30 s)")
    ax.set_ylabel("seconds")
    ax.set_title(f"analyze_mups, {duration:g} s at {fs / 1000:g} kHz, one core")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(args.out / "bench_mup_speed.png", dpi=100)
    plt.close(fig)
    print(f"numba {t_nb:.3f} s, numpy {t_np:.3f} s, speed-up {out['speedup']:.1f}x "
          f"({duration:g} s at {fs:g} Hz)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
