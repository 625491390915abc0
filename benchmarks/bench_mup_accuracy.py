"""MUP analysis accuracy: muscle classification and discharge assignment.

Writes ``benchmarks/results/bench_mup_accuracy.json`` and ``bench_mup_accuracy.png``.

    python benchmarks/bench_mup_accuracy.py           # 30 seeds (10 per condition), 10 s each
    python benchmarks/bench_mup_accuracy.py --quick   # smoke test (3 seeds, 4 s)
    python benchmarks/bench_mup_accuracy.py --seeds 60 --seed-start 30 --fs 4000   # held-out, 4 kHz
    python benchmarks/bench_mup_accuracy.py --fs 4000 --param internal_rate_hz=0   # an ablation

Simulated muscles (``motorsign simulate voluntary-emg``, 20 kHz, TA) cycle
through normal / neurogenic / myopathic with seed-drawn effort, noise and
units. Scores:

* **classification**: fraction of muscles classified as their condition
  (target >= 90 %);
* **assignment**: for every true unit whose peak-to-peak amplitude exceeds
  2.5x the signal RMS, the fraction of its discharges found within 1 ms in
  the sorted unit that holds most of them (target >= 90 %; EMGLAB ~100 %).
  Both sides time a discharge at the largest absolute peak of the unit's
  waveform: the truth at that of the unit's mean (jitter-averaged) discharge,
  the analysis at that of its median template.
* **purity** (reported, no target): of the discharges in those best-matching
  sorted units, the fraction that are the true unit's (the assignment score
  alone would not see spurious discharges).

The three PhysioNet emgdb recordings (``../shared/realdata``, when present)
are classified too (targets: healthy -> normal, myopathy -> myopathic,
neuropathy -> neurogenic), with the margins of the deciding figures and
(full run) again under each parameter change of ``PERTURBATIONS``.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

for _v in ("NUMBA_NUM_THREADS", "OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_v, "1")

RESULTS = Path(__file__).resolve().parent / "results"
REALDATA = Path(__file__).resolve().parents[1].parent / "shared" / "realdata" / "physionet_emgdb"
CONDITIONS = ("normal", "neurogenic", "myopathic")
EXPECTED_REAL = {"emg_healthy": "normal", "emg_myopathy": "myopathic", "emg_neuropathy": "neurogenic"}


def assignment_scores(sim, result, rms_factor: float = 2.5, tol_s: float = 1e-3) -> list[dict]:
    """Per true unit above ``rms_factor`` x RMS: discharges found in its best sorted unit.

    Parameters
    ----------
    sim : motorsign.simulate.base.SimResult
    result : motorsign.mup.MupResult
    rms_factor : float
    tol_s : float

    Returns
    -------
    list of dict
        ``unit_id, class, amplitude_uv, n_true, n_assigned, fraction,
        n_in_sorted_unit`` (discharges of the best-matching sorted unit),
        ``n_found`` (discharges with a sorted discharge of any unit within
        ``tol_s``: what detection found, whatever the unit).
    """
    import numpy as np

    from motorsign.scoring import match_events

    rms = float(sim.meta["signal_rms_uv"])
    det = result.discharges
    all_det = np.sort(det["time_s"].to_numpy())
    out = []
    for uid, g in sim.truth.groupby("unit_id"):
        um = sim.meta["units"][int(uid)]
        if not um["amplitude_uv"] > rms_factor * rms:
            continue
        t = g["time_s"].to_numpy()
        best, n_sorted = 0, 0
        for _, gd in det.groupby("unit_id"):
            pairs, _, _ = match_events(t, gd["time_s"].to_numpy(), tol_s)
            if len(pairs) > best:
                best, n_sorted = len(pairs), len(gd)
        found, _, _ = match_events(t, all_det, tol_s)
        out.append({"unit_id": int(uid), "class": um["class"], "amplitude_uv": um["amplitude_uv"],
                    "n_true": int(t.size), "n_assigned": int(best), "fraction": best / t.size,
                    "n_in_sorted_unit": int(n_sorted), "n_found": len(found)})
    return out


def parse_params(items: list[str]) -> dict:
    """``NAME=VALUE`` strings to a dict of :class:`motorsign.mup.MupParams` overrides.

    Values are read as Python literals (numbers, booleans, tuples), else kept
    as strings; unknown names are refused by ``analyze_mups``.
    """
    import ast

    out = {}
    for item in items:
        name, sep, value = item.partition("=")
        if not sep:
            raise SystemExit(f"--param expects NAME=VALUE, got {item!r}")
        try:
            out[name.strip()] = ast.literal_eval(value.strip())
        except (ValueError, SyntaxError):
            out[name.strip()] = value.strip()
    return out


def real_data(params: dict | None = None) -> dict:
    """Classify the PhysioNet emgdb recordings (empty when they are absent)."""
    if not REALDATA.is_dir():
        return {}
    from motorsign.io import read
    from motorsign.mup import analyze_mups

    out = {}
    for stem, expected in EXPECTED_REAL.items():
        rec = read(REALDATA / f"{stem}.hea")
        s = analyze_mups(rec, muscle="TA", params=params).summary[rec.channel_names[0]]
        ref = s["reference"]
        out[stem] = {
            "expected": expected, "classification": s["classification"],
            "correct": s["classification"] == expected, "reasons": s["reasons"],
            "mean_duration_ms": s["mean_duration_ms"], "mean_amplitude_uv": s["mean_amplitude_uv"],
            "mean_area_uvms": s["mean_area_uvms"], "polyphasic_fraction": s["polyphasic_fraction"],
            "n_units_used": s["n_units_used"],
            "margins": {
                "duration_vs_uln": s["mean_duration_ms"] / ref["duration_uln_ms"] - 1,
                "duration_vs_lln": s["mean_duration_ms"] / ref["duration_lln_ms"] - 1,
                "amplitude_vs_uln": s["mean_amplitude_uv"] / ref["amplitude_uln_uv"] - 1,
                "amplitude_vs_lln": s["mean_amplitude_uv"] / ref["amplitude_lln_uv"] - 1,
                "polyphasic_vs_uln": s["polyphasic_fraction"] - ref["polyphasic_uln_pct"] / 100,
            },
            "interference": s["interference"],
        }
    return out


#: Parameter changes under which the real-data classifications are re-run
#: (robustness of the margins; not used to choose the defaults).
PERTURBATIONS = (
    {"detect_k": 4.0}, {"detect_k": 6.0}, {"max_cluster_events": 2500},
    {"wide_highpass_hz": 2.0}, {"wide_highpass_hz": 20.0}, {"quiet_ms": 1.5}, {"quiet_ms": 3.0},
)


def real_data_robustness() -> list[dict]:
    """Real-data classification under each of :data:`PERTURBATIONS`."""
    if not REALDATA.is_dir():
        return []
    from motorsign.io import read
    from motorsign.mup import analyze_mups

    recs = {stem: read(REALDATA / f"{stem}.hea") for stem in EXPECTED_REAL}
    out = []
    for change in PERTURBATIONS:
        row = {"params": change}
        for stem, rec in recs.items():
            s = analyze_mups(rec, muscle="TA", params=change).summary[rec.channel_names[0]]
            row[stem] = s["classification"]
        row["correct"] = sum(row[k] == v for k, v in EXPECTED_REAL.items())
        out.append(row)
    return out


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark; returns 0."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="smoke test")
    ap.add_argument("--seeds", type=int, default=None, help="number of simulated muscles")
    ap.add_argument("--seed-start", dest="seed_start", type=int, default=0,
                    help="first seed (held-out runs)")
    ap.add_argument("--fs", type=float, default=20000.0, help="sampling rate of the simulations")
    ap.add_argument("--out", type=Path, default=RESULTS, help="results folder")
    ap.add_argument("--param", action="append", default=[], metavar="NAME=VALUE",
                    help="MupParams override for every analysis (ablations; repeatable)")
    args = ap.parse_args(argv)
    params = parse_params(args.param)

    import numpy as np

    from motorsign.mup import analyze_mups
    from motorsign.outputs import write_json
    from motorsign.simulate.voluntary import generate

    n_seeds = args.seeds or (3 if args.quick else 30)
    duration = 4.0 if args.quick else 10.0
    cases, units = [], []
    for seed in range(args.seed_start, args.seed_start + n_seeds):
        cond = CONDITIONS[seed % 3]
        sim = generate(seed=seed, condition=cond, duration_s=duration, fs=args.fs)
        res = analyze_mups(sim.to_recording(), muscle="TA", params=params)
        s = res.summary[sim.channel_names[0]]
        sc = assignment_scores(sim, res)
        for u in sc:
            u.update(seed=seed, condition=cond)
        units += sc
        cases.append({"seed": seed, "condition": cond, "classification": s["classification"],
                      "correct": s["classification"] == cond, "n_true_units": len(sim.meta["units"]),
                      "n_units_used": s["n_units_used"], "mean_duration_ms": s["mean_duration_ms"],
                      "mean_amplitude_uv": s["mean_amplitude_uv"], "reasons": s["reasons"]})
        print(f"seed {seed} {cond:<10} -> {s['classification']:<13} "
              f"assignment {np.mean([u['fraction'] for u in sc]) if sc else float('nan'):.2f}")
    n_true = sum(u["n_true"] for u in units)
    n_ok = sum(u["n_assigned"] for u in units)
    by_cond = {}
    for c in CONDITIONS:
        cc = [x for x in cases if x["condition"] == c]
        uu = [u for u in units if u["condition"] == c]
        by_cond[c] = {
            "n": len(cc), "correct": sum(x["correct"] for x in cc),
            "assignment": (sum(u["n_assigned"] for u in uu) / max(1, sum(u["n_true"] for u in uu))
                           if uu else None),
            "purity": (sum(u["n_assigned"] for u in uu) / max(1, sum(u["n_in_sorted_unit"] for u in uu))
                       if uu else None),
        }
    confusion = {c: {k: sum(1 for x in cases if x["condition"] == c and x["classification"] == k)
                     for k in (*CONDITIONS, "indeterminate")} for c in CONDITIONS}
    real = real_data(params)
    robust = [] if args.quick or params else real_data_robustness()
    out = {
        "n_cases": len(cases), "duration_s": duration, "fs": args.fs, "seed_start": args.seed_start,
        "params": params,
        "classification_accuracy": sum(x["correct"] for x in cases) / len(cases),
        "assignment_accuracy": n_ok / n_true if n_true else None,
        "found_fraction": sum(u["n_found"] for u in units) / n_true if n_true else None,
        "n_units_scored": len(units), "n_discharges_scored": n_true,
        "unit_fraction_median": float(np.median([u["fraction"] for u in units])) if units else None,
        "by_condition": by_cond, "confusion": confusion,
        "targets": {"classification": 0.9, "assignment": 0.9},
        "realdata": real,
        "realdata_correct": (sum(v["correct"] for v in real.values()) if real else None),
        "realdata_perturbations": robust,
        "cases": cases, "units": units, "quick": bool(args.quick),
    }
    out["meets_classification"] = out["classification_accuracy"] >= 0.9
    out["meets_assignment"] = bool(out["assignment_accuracy"] is not None
                                   and out["assignment_accuracy"] >= 0.9)
    args.out.mkdir(parents=True, exist_ok=True)
    write_json(args.out / "bench_mup_accuracy.json", out)

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axs = plt.subplots(1, 2, figsize=(10, 3.6))
    labels = (*CONDITIONS, "indeterminate")
    m = np.array([[confusion[c][k] for k in labels] for c in CONDITIONS])
    axs[0].imshow(m, cmap="Blues")
    for i in range(m.shape[0]):
        for j in range(m.shape[1]):
            axs[0].text(j, i, str(m[i, j]), ha="center", va="center")
    axs[0].set_xticks(range(len(labels)), [x[:5] for x in labels])
    axs[0].set_yticks(range(len(CONDITIONS)), CONDITIONS)
    axs[0].set_xlabel("classified")
    axs[0].set_title(f"classification {100 * out['classification_accuracy']:.0f} %")
    if units:
        amp = np.array([u["amplitude_uv"] for u in units])
        frac = np.array([u["fraction"] for u in units])
        col = {"normal": "tab:green", "reinnervated": "tab:red", "myopathic": "tab:blue"}
        axs[1].scatter(amp, frac, s=10, c=[col.get(u["class"], "k") for u in units])
        axs[1].set_xscale("log")
        axs[1].axhline(0.9, color="r", ls="--", lw=1)
        axs[1].set_xlabel("unit peak-to-peak (µV)")
        axs[1].set_ylabel("discharges assigned (1 ms)")
        axs[1].set_title(f"assignment {100 * (out['assignment_accuracy'] or 0):.1f} % (units > 2.5 RMS)")
    fig.tight_layout()
    fig.savefig(args.out / "bench_mup_accuracy.png", dpi=100)
    plt.close(fig)
    per = ", ".join(f"{c} {100 * (v['assignment'] or 0):.1f} % (purity {100 * (v['purity'] or 0):.1f} %)"
                    for c, v in by_cond.items())
    print(f"classification {100 * out['classification_accuracy']:.1f} %, assignment "
          f"{100 * (out['assignment_accuracy'] or 0):.1f} % [{per}], found (any unit) "
          f"{100 * (out['found_fraction'] or 0):.1f} %, real data "
          f"{out['realdata_correct']}/{len(real)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
