"""M-wave and F-wave accuracy on simulated nerve sessions (hand and leg muscles, 3-10 kHz).

Writes ``benchmarks/results/bench_nerve_accuracy.json`` and ``bench_nerve_accuracy.png``.

    python benchmarks/bench_nerve_accuracy.py           # 10 seeds x 3 rates x APB/ADM/TA, 30 stimuli
    python benchmarks/bench_nerve_accuracy.py --quick   # smoke test

Sessions from ``motorsign simulate nerve`` (CMAP 8 mV, F-waves 60-400 µV
from 12 motoneurons, persistence 0.8, chronodispersion 3 ms, noise 5 µV).
Targets (issue 6): M onset error <= 0.2 ms; minimal F latency error <= 0.3 ms;
persistence within 0.05 (means over sessions; the worst session is reported too).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

RESULTS = Path(__file__).resolve().parent / "results"
TARGETS = {"m_onset_mae_ms": 0.2, "f_min_abs_error_ms": 0.3, "persistence_abs_error": 0.05}


def session(seed: int, fs: float, muscle: str, n_trials: int) -> dict:
    """Errors of one simulated session."""
    from motorsign.evoked.nerve import analyze_nerve, summarize_nerve
    from motorsign.simulate.nerve import generate

    res = generate(seed=seed, fs=fs, muscle=muscle, n_trials=n_trials)
    table = analyze_nerve(res.to_recording(), "ES")
    s = summarize_nerve(table)[muscle]
    tr = res.truth
    m = table.merge(tr, on=["trial", "channel"], suffixes=("", "_true"))
    both = m["f_present"] & m["f_present_true"]
    f_true_min = tr["f_latency_ms"].min()
    return {
        "m_onset_mae_ms": float((m["m_onset_ms"] - m["m_onset_ms_true"]).abs().mean()),
        "m_onset_failed": int(m["m_onset_ms"].isna().sum()),
        "f_min_error_ms": float(s["f_min_latency_ms"] - f_true_min) if np.isfinite(f_true_min) else None,
        "f_latency_mae_ms": float((m.loc[both, "f_latency_ms"] - m.loc[both, "f_latency_ms_true"]).abs().mean()),
        "f_false_present": int((m["f_present"] & ~m["f_present_true"]).sum()),
        "f_missed": int((~m["f_present"] & m["f_present_true"]).sum()),
        "persistence_error": float(s["f_persistence"] - tr["f_present"].mean()),
        "cmap_amplitude_error_mv": float(s["cmap_amplitude_mv"] - tr["m_amplitude_mv"].median()),
        "chronodispersion_error_ms": float(s["f_chronodispersion_ms"]
                                           - (tr["f_latency_ms"].max() - tr["f_latency_ms"].min())),
    }


def _agg(rows: list[dict]) -> dict:
    def arr(k):
        return np.array([r[k] for r in rows if r[k] is not None], dtype=float)

    return {
        "n_sessions": len(rows),
        "m_onset_mae_ms": float(arr("m_onset_mae_ms").mean()),
        "m_onset_failed": int(arr("m_onset_failed").sum()),
        "f_min_abs_error_ms": float(np.abs(arr("f_min_error_ms")).mean()),
        "f_min_error_bias_ms": float(arr("f_min_error_ms").mean()),
        "f_min_worst_abs_error_ms": float(np.abs(arr("f_min_error_ms")).max()),
        "f_latency_mae_ms": float(arr("f_latency_mae_ms").mean()),
        "persistence_abs_error": float(np.abs(arr("persistence_error")).mean()),
        "persistence_worst_abs_error": float(np.abs(arr("persistence_error")).max()),
        "f_false_present": int(arr("f_false_present").sum()),
        "f_missed": int(arr("f_missed").sum()),
        "cmap_amplitude_abs_error_mv": float(np.abs(arr("cmap_amplitude_error_mv")).mean()),
        "chronodispersion_abs_error_ms": float(np.abs(arr("chronodispersion_error_ms")).mean()),
    }


def run(quick: bool = False, out_dir: Path = RESULTS) -> dict:
    t0 = time.perf_counter()
    seeds = range(2) if quick else range(10)
    n_trials = 20 if quick else 30
    conds = []
    allrows = []
    for mi, muscle in enumerate(("APB", "ADM", "TA")):
        for fs in (3000.0, 5000.0, 10000.0):
            rows = [session(int(fs) + 17 * s + 100_000 * mi, fs, muscle, n_trials) for s in seeds]
            allrows += rows
            conds.append({"muscle": muscle, "fs_hz": fs, **_agg(rows)})
    overall = _agg(allrows)
    res = {
        "benchmark": "bench_nerve_accuracy", "quick": quick, "seeds": len(seeds), "n_stimuli": n_trials,
        "overall": overall, "targets": TARGETS,
        "meets": {k: bool(overall[k] <= v) for k, v in TARGETS.items()},
        "conditions": conds, "seconds": time.perf_counter() - t0,
    }
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "bench_nerve_accuracy.json").write_text(json.dumps(res, indent=2))
    _plot(res, out_dir / "bench_nerve_accuracy.png")
    return res


def _plot(res: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    keys = (("m_onset_mae_ms", "M onset MAE (ms)"), ("f_min_abs_error_ms", "|F min error| (ms)"),
            ("persistence_abs_error", "|persistence error|"))
    fig, axes = plt.subplots(1, 3, figsize=(13, 3.6))
    for ax, (k, label) in zip(axes, keys):
        for muscle in ("APB", "ADM", "TA"):
            c = [r for r in res["conditions"] if r["muscle"] == muscle]
            ax.plot([r["fs_hz"] / 1000 for r in c], [r[k] for r in c], "o-", label=muscle)
        ax.axhline(TARGETS[k], color="k", ls=":")
        ax.set_xlabel("sampling rate (kHz)")
        ax.set_ylabel(label)
        ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true", help="smoke test")
    p.add_argument("--out", type=Path, default=RESULTS, help="results folder")
    a = p.parse_args(argv)
    r = run(a.quick, a.out)
    o = r["overall"]
    print(f"M onset MAE {o['m_onset_mae_ms']:.3f} ms; F min |error| {o['f_min_abs_error_ms']:.3f} ms "
          f"(worst {o['f_min_worst_abs_error_ms']:.3f}); persistence |error| {o['persistence_abs_error']:.3f} "
          f"(worst {o['persistence_worst_abs_error']:.3f}); {r['seconds']:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
