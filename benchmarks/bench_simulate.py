"""Ground-truth tools: simulated shapes against the reference sheet, simulator
speed, and the matcher's speed and exactness.

Writes ``benchmarks/results/bench_simulate.json`` and ``bench_simulate.png``
(a gallery of generated waveforms, one panel per kind).

    python benchmarks/bench_simulate.py            # 40 waveforms per kind, 60 s recording, up to 10^6 events
    python benchmarks/bench_simulate.py --quick    # smoke test

Parts:

* **shapes** — N waveforms of every kind from :mod:`motorsign.simulate.shapes`,
  measured (duration, amplitude, phases, initial polarity) and compared with
  the ranges of ``reference/discharges.md``; reports the fraction inside.
* **simulator** — seconds of 20 kHz single-channel needle EMG (fibrillation
  and PSW trains, fasciculations, a contraction) made per second of CPU.
* **scoring** — :func:`motorsign.scoring.match_events` on 10^3..10^6
  events (±0.3 ms jitter, 1 ms tolerance, 2 % drop-outs, 2 % extras): time
  and the pair count against the exact maximum (a greedy sweep is optimal
  for cardinality on a line).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

RESULTS = Path(__file__).resolve().parent / "results"

#: reference/discharges.md ranges: (duration_ms, amplitude_uv, initial polarity, phases)
REFERENCE = {
    "fibrillation": {"duration_ms": (1.0, 5.0), "amplitude_uv": (10.0, 300.0), "polarity": "positive", "phases": (2, 3)},
    "positive_sharp_wave": {"duration_ms": (10.0, 30.0), "amplitude_uv": (10.0, 1000.0), "polarity": "positive", "phases": (1, 2)},
    "end_plate_spike": {"duration_ms": (3.0, 5.0), "amplitude_uv": (100.0, 200.0), "polarity": "negative", "phases": (1, 3)},
    "end_plate_noise": {"duration_ms": (0.5, 3.0), "amplitude_uv": (0.0, 50.0), "polarity": "negative", "phases": (1, 1)},
    "mup_normal": {"duration_ms": (5.0, 15.0), "amplitude_uv": (100.0, 1500.0), "polarity": None, "phases": (2, 4)},
    "mup_enlarged": {"duration_ms": (10.0, 25.0), "amplitude_uv": (1000.0, 8000.0), "polarity": None, "phases": (2, 10)},
    "mup_small_polyphasic": {"duration_ms": (2.0, 8.0), "amplitude_uv": (50.0, 700.0), "polarity": None, "phases": (2, 10)},
    "complex_repetitive": {"duration_ms": (2.0, 30.0), "amplitude_uv": (100.0, 1000.0), "polarity": None, "phases": (2, 20)},
}


def _makers():
    from motorsign.simulate import shapes as S

    return {
        "fibrillation": S.fibrillation,
        "positive_sharp_wave": S.positive_sharp_wave,
        "end_plate_spike": S.end_plate_spike,
        "end_plate_noise": S.end_plate_noise_potential,
        "mup_normal": lambda r: S.motor_unit(r, "normal").template,
        "mup_enlarged": lambda r: S.motor_unit(r, "enlarged").template,
        "mup_small_polyphasic": lambda r: S.motor_unit(r, "small_polyphasic").template,
        "complex_repetitive": S.complex_repetitive_complex,
    }


def bench_shapes(n: int, seed: int = 0):
    """Features of n waveforms per kind against the reference ranges."""
    rng = np.random.default_rng(seed)
    out, gallery = {}, {}
    for kind, maker in _makers().items():
        waves = [maker(rng) for _ in range(n)]
        feats = [w.features for w in waves]
        ref = REFERENCE[kind]
        dur = np.array([f["duration_ms"] for f in feats])
        amp = np.array([f["amplitude_uv"] for f in feats])
        ph = np.array([f["phases"] for f in feats])
        pol = [f["initial_polarity"] for f in feats]
        ok = (
            (dur >= ref["duration_ms"][0]) & (dur <= ref["duration_ms"][1])
            & (amp >= ref["amplitude_uv"][0]) & (amp <= ref["amplitude_uv"][1])
            & (ph >= ref["phases"][0]) & (ph <= ref["phases"][1])
        )
        if ref["polarity"]:
            ok &= np.array([p == ref["polarity"] for p in pol])
        out[kind] = {
            "n": n,
            "duration_ms": {"median": float(np.median(dur)), "min": float(dur.min()), "max": float(dur.max())},
            "amplitude_uv": {"median": float(np.median(amp)), "min": float(amp.min()), "max": float(amp.max())},
            "phases_median": float(np.median(ph)),
            "polyphasic_fraction": float(np.mean(ph > 4)),
            "initial_positive_fraction": float(np.mean([p == "positive" for p in pol])),
            "reference": ref,
            "fraction_in_reference": float(ok.mean()),
        }
        gallery[kind] = waves[:4]
    return out, gallery


def bench_simulator(duration_s: float):
    """Seconds of signal simulated per second of CPU."""
    from motorsign.simulate import needle_emg

    t0 = time.process_time()
    res = needle_emg.generate(seed=1, duration_s=duration_s, fs=20000.0, n_channels=1, fib_trains=3,
                              psw_trains=2, fasc_units=3, voluntary=1, voluntary_s=(4.0, 5.0))
    cpu = time.process_time() - t0
    return {"duration_s": duration_s, "cpu_s": cpu, "signal_s_per_cpu_s": duration_s / cpu,
            "n_truth": int(len(res.truth))}


def _greedy(t, d, tol):
    t, d = np.sort(t), np.sort(d)
    j = n = 0
    for x in t:
        while j < d.size and d[j] < x - tol:
            j += 1
        if j < d.size and d[j] <= x + tol:
            n += 1
            j += 1
    return n


def bench_scoring(sizes):
    from motorsign.scoring import match_events

    rng = np.random.default_rng(0)
    rows = []
    for n in sizes:
        t = np.sort(rng.uniform(0, n / 10.0, n))  # 10 events/s
        keep = rng.uniform(size=n) > 0.02
        d = np.concatenate((t[keep] + rng.uniform(-3e-4, 3e-4, keep.sum()), rng.uniform(0, n / 10.0, n // 50)))
        t0 = time.perf_counter()
        pairs, _, _ = match_events(t, d, 1e-3)
        dt = time.perf_counter() - t0
        exact = _greedy(t, d, 1e-3) if n <= 200_000 else None
        rows.append({"n_events": n, "seconds": dt, "events_per_s": n / dt, "pairs": int(len(pairs)),
                     "max_pairs": exact, "exact": None if exact is None else bool(exact == len(pairs))})
    return rows


def plot(gallery, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from motorsign.simulate.shapes import FINE_FS_HZ

    fig, axes = plt.subplots(2, 4, figsize=(16, 6.5))
    for ax, (kind, waves) in zip(axes.ravel(), gallery.items()):
        for w in waves:
            t = (np.arange(w.values_uv.size) - w.peak_index) / FINE_FS_HZ * 1000
            ax.plot(t, w.values_uv, lw=1)
        ax.axhline(0, color="k", lw=0.5)
        ax.set_title(kind)
        ax.set_xlabel("ms from the largest peak")
        ax.set_ylabel("µV")
    fig.suptitle("motorsign simulate: waveforms from the fibre model (4 per kind)")
    fig.tight_layout()
    fig.savefig(path, dpi=80)
    plt.close(fig)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true", help="smoke test")
    p.add_argument("--out", type=Path, default=RESULTS, help="results folder")
    args = p.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    n = 6 if args.quick else 40
    shapes_res, gallery = bench_shapes(n)
    sim = bench_simulator(10.0 if args.quick else 60.0)
    sizes = [1_000, 10_000] if args.quick else [1_000, 10_000, 100_000, 1_000_000]
    scoring = bench_scoring(sizes)
    name = "bench_simulate_quick" if args.quick else "bench_simulate"
    result = {"quick": args.quick, "shapes": shapes_res, "simulator": sim, "scoring": scoring}
    (args.out / f"{name}.json").write_text(json.dumps(result, indent=2))
    plot(gallery, args.out / f"{name}.png")
    for kind, r in shapes_res.items():
        print(f"{kind:22s} in reference {r['fraction_in_reference']:5.0%}  duration {r['duration_ms']['median']:5.1f} ms"
              f"  amplitude {r['amplitude_uv']['median']:7.1f} µV  phases {r['phases_median']:.0f}")
    print(f"simulator: {sim['signal_s_per_cpu_s']:.1f} s of 20 kHz signal per CPU second")
    for r in scoring:
        print(f"match_events {r['n_events']:>9,d} events: {r['seconds']:.3f} s, exact={r['exact']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
