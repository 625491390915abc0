"""HD-sEMG fasciculations against simulator truth, compared with SPiQE (issue 4).

Writes ``benchmarks/results/bench_detect_hdsemg[_quick].json``.

    python benchmarks/bench_detect_hdsemg.py            # 6 seeds x 120 s, 8x8 grid
    python benchmarks/bench_detect_hdsemg.py --quick    # smoke test: 1 seed, 20 s, 4x4 grid

Recordings come from ``motorsign.simulate.hdsemg`` with its defaults (8x8
grid at 2048 Hz, 8 fasciculating units at 5/min, one voluntary contraction,
noise, hum, wander). ``detect_spontaneous`` runs in surface mode (chosen
automatically) and links candidates across channels into events.

Event-level scoring, as SPiQE reports it (Bashford 2019: sensitivity
83.6 %, specificity 91.6 % against experts):

* a true fasciculation is one simulated discharge (``discharge_id``), timed
  on its largest channel; those inside a voluntary interval (+-0.1 s) are
  left out (SPiQE analyses rest only), as are detected events there;
* **sensitivity**: true discharges with a detected fasciculation event
  within ``--tolerance-ms`` (10 ms: the potential crosses the grid in about
  that time) / all true discharges;
* **specificity**: rest is cut into windows of ``--window-s`` (0.25 s); a
  window is truly positive when it holds a true discharge, called positive
  when it holds a detected event; specificity = TN / (TN + FP) over windows;
* also **precision** of detected events, and the per-channel F1 of
  ``score_discharges`` (1 ms tolerance) for completeness.

Sensitivity is also split at SPiQE's 100 µV exclusion threshold (true
discharges whose largest channel reaches 100 µV), since SPiQE does not count
smaller potentials.
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import time
from pathlib import Path

import numpy as np

RESULTS = Path(__file__).resolve().parent / "results"
SPIQE = {"sensitivity": 0.836, "specificity": 0.916, "accuracy": 0.879}


def score_events(sim, res, tolerance_s=0.010, window_s=0.25, margin_s=0.1):
    """Event-level sensitivity / specificity / precision of one recording."""
    truth = sim.truth[(sim.truth["kind"] == "fasciculation") & sim.truth["peak_channel"]]
    vol = sim.intervals[sim.intervals["kind"].isin(["voluntary", "artifact"])]

    def in_vol(t):
        return np.array([any(a - margin_s <= x < b + margin_s
                             for a, b in zip(vol["start_s"], vol["stop_s"])) for x in t], bool)

    t_true = truth["time_s"].to_numpy()
    amp_true = truth["amplitude_uv"].to_numpy()
    keep = ~in_vol(t_true)
    t_true, amp_true = t_true[keep], amp_true[keep]
    events = res.summary.get("surface", {}).get("events", [])
    t_det = np.array([e["time_s"] for e in events], float)
    t_det = t_det[~in_vol(t_det)] if t_det.size else t_det
    hit = np.array([np.any(np.abs(t_det - t) <= tolerance_s) for t in t_true], bool) \
        if t_det.size else np.zeros(t_true.size, bool)
    true_pos_det = np.array([np.any(np.abs(t_true - t) <= tolerance_s) for t in t_det], bool) \
        if t_true.size else np.zeros(t_det.size, bool)
    # windows over rest
    dur = sim.duration_s
    edges = np.arange(0.0, dur + window_s, window_s)
    centers = edges[:-1] + window_s / 2
    rest_w = ~in_vol(centers)
    pos_true = np.histogram(t_true, edges)[0] > 0
    pos_det = np.histogram(t_det, edges)[0] > 0 if t_det.size else np.zeros(centers.size, bool)
    tn = int(np.sum(rest_w & ~pos_true & ~pos_det))
    fp = int(np.sum(rest_w & ~pos_true & pos_det))
    big = amp_true >= 100.0
    return {
        "n_true": int(t_true.size), "n_detected": int(t_det.size), "n_hit": int(hit.sum()),
        "n_true_100uv": int(big.sum()), "n_hit_100uv": int(hit[big].sum()),
        "n_detected_true": int(true_pos_det.sum()), "tn_windows": tn, "fp_windows": fp,
    }


def mains_curve(seeds, amplitudes, duration_s, grid, tolerance_s, window_s) -> dict:
    """Event sensitivity and precision as the simulator's hum grows, notch auto vs off."""
    from motorsign.simulate import hdsemg
    from motorsign.spontaneous import detect_spontaneous

    out: dict = {"auto": {}, "off": {}}
    for amp in amplitudes:
        sims = [hdsemg.generate(seed=seed, duration_s=duration_s, mains_uv=amp, **grid)
                for seed in seeds]
        for setting in out:
            tot: dict = {}
            notched = []
            for sim in sims:
                res = detect_spontaneous(sim.to_recording(), params={"mains": setting})
                notched.append(bool(res.summary["mains"]["notched_hz"]))
                for k, v in score_events(sim, res, tolerance_s, window_s).items():
                    tot[k] = tot.get(k, 0) + v
            out[setting][str(amp)] = {
                "sensitivity": tot["n_hit"] / tot["n_true"] if tot["n_true"] else float("nan"),
                "precision": (tot["n_detected_true"] / tot["n_detected"] if tot["n_detected"]
                              else float("nan")),
                "notched_fraction": float(np.mean(notched)),
            }
    return out


def main(argv=None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--seeds", type=int, default=6)
    ap.add_argument("--duration-s", type=float, default=120.0)
    ap.add_argument("--tolerance-ms", type=float, default=10.0)
    ap.add_argument("--window-s", type=float, default=0.25)
    ap.add_argument("--out", type=Path, default=RESULTS)
    args = ap.parse_args(argv)
    from motorsign.scoring import score_discharges
    from motorsign.simulate import hdsemg
    from motorsign.spontaneous import detect_spontaneous

    seeds = [0] if args.quick else list(range(args.seeds))
    dur = 20.0 if args.quick else args.duration_s
    grid = {"rows": 4, "cols": 4} if args.quick else {}
    per_seed, tot = [], {}
    rows_f1 = {"tp": 0, "fp": 0, "fn": 0}
    secs = 0.0
    for seed in seeds:
        sim = hdsemg.generate(seed=seed, duration_s=dur, **grid)
        t0 = time.perf_counter()
        res = detect_spontaneous(sim.to_recording())
        secs += time.perf_counter() - t0
        s = score_events(sim, res, args.tolerance_ms / 1000.0, args.window_s)
        s["seed"] = seed
        s["mode"] = res.summary.get("mode")
        per_seed.append(s)
        for k, v in s.items():
            if isinstance(v, int) and k != "seed":
                tot[k] = tot.get(k, 0) + v
        sc = score_discharges(sim.truth, res.discharges, tolerance_ms=1.0,
                              intervals=sim.intervals).set_index("kind")
        if "fasciculation" in sc.index:
            for c in rows_f1:
                rows_f1[c] += int(sc.loc["fasciculation", c])
    sens = tot["n_hit"] / tot["n_true"] if tot.get("n_true") else float("nan")
    sens100 = tot["n_hit_100uv"] / tot["n_true_100uv"] if tot.get("n_true_100uv") else float("nan")
    spec = tot["tn_windows"] / (tot["tn_windows"] + tot["fp_windows"]) \
        if tot.get("tn_windows", 0) + tot.get("fp_windows", 0) else float("nan")
    prec = tot["n_detected_true"] / tot["n_detected"] if tot.get("n_detected") else float("nan")
    tp, fp, fn = rows_f1["tp"], rows_f1["fp"], rows_f1["fn"]
    result = {
        "benchmark": "bench_detect_hdsemg",
        "quick": bool(args.quick),
        "seeds": seeds,
        "duration_s": dur,
        "simulator": "hdsemg defaults (8x8 grid, 2048 Hz, 8 fasciculating units at 5/min)",
        "tolerance_ms": args.tolerance_ms,
        "window_s": args.window_s,
        "sensitivity": sens,
        "sensitivity_100uv_and_above": sens100,
        "specificity": spec,
        "precision": prec,
        "per_channel_rows_f1_1ms": 2 * tp / (2 * tp + fp + fn) if tp else 0.0,
        "totals": tot,
        "per_seed": per_seed,
        "spiqe": SPIQE,
        "beats_spiqe": bool(sens > SPIQE["sensitivity"] and spec > SPIQE["specificity"]),
        "detect_seconds": secs,
        "mains_curve (mains_uv -> scores; default hum 3 µV)": mains_curve(
            seeds[:3], [3.0, 30.0] if args.quick else [3.0, 10.0, 30.0, 100.0],
            dur if args.quick else min(dur, 60.0), grid, args.tolerance_ms / 1000.0,
            args.window_s),
        "python": sys.version.split()[0],
        "machine": platform.machine(),
    }
    args.out.mkdir(parents=True, exist_ok=True)
    stem = "bench_detect_hdsemg" + ("_quick" if args.quick else "")
    (args.out / f"{stem}.json").write_text(json.dumps(result, indent=2) + "\n")
    return result


if __name__ == "__main__":
    r = main()
    print(json.dumps({k: r[k] for k in ("sensitivity", "sensitivity_100uv_and_above",
                                        "specificity", "precision", "per_channel_rows_f1_1ms",
                                        "beats_spiqe", "totals")}, indent=1))
