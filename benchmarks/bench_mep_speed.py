"""Speed of the MEP measures: numba kernels vs a plain per-trial numpy/scipy loop.

Writes ``benchmarks/results/bench_mep_speed.json``.

    python benchmarks/bench_mep_speed.py           # 20,000 trials (numba), 1,000 (numpy)
    python benchmarks/bench_mep_speed.py --quick   # smoke test

Epochs: 5 kHz, 150 ms (50 ms baseline, 100 ms after the pulse), simulated
MEPs (70 % present) with a stimulus artifact; the work timed is everything
:func:`motorsign.evoked.mep.measure_epochs` does (artifact blank and
interpolation, tail check, baseline statistics, presence, the six onset
methods and the consensus, amplitude, area, duration, phases). Numba runs on
one core (the kernels are not parallel; ``NUMBA_NUM_THREADS=1`` is set
anyway). Target (issue 6): at least 10,000 trials per second. The reference
loop's onsets are compared with the kernels' (same algorithms).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path

os.environ.setdefault("NUMBA_NUM_THREADS", "1")

import numpy as np  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))

TARGET_TRIALS_PER_S = 10_000
RESULTS = Path(__file__).resolve().parent / "results"


def make_epochs(n: int, fs: float = 5000.0, seed: int = 0) -> tuple[np.ndarray, int]:
    """``n`` simulated MEP epochs of 150 ms with the pulse at 50 ms."""
    from motorsign.simulate._evoked_shapes import phasic_response, stimulus_artifact

    rng = np.random.default_rng(seed)
    stim = int(0.05 * fs)
    ns = int(0.15 * fs) + 1
    x = rng.normal(0, 5.0, (n, ns))
    art = stimulus_artifact(ns - stim, 0, 3000.0, fs)
    shapes = []
    for _ in range(64):
        w = phasic_response(ns, stim + rng.uniform(18, 26) * fs / 1000, rng.uniform(3, 6, 3) * fs / 1000,
                            [1.0, -1.2, 0.3], power=rng.uniform(1, 1.4), smooth_samples=0.5)
        shapes.append(w / np.ptp(w))
    shapes = np.array(shapes)
    amp = np.exp(rng.uniform(np.log(200), np.log(3000), n)) * (rng.random(n) < 0.7)
    x += shapes[rng.integers(0, 64, n)] * amp[:, None]
    x[:, stim:] += art
    return x.astype(np.float32), stim


def run(quick: bool = False, out_dir: Path = RESULTS) -> dict:
    """Time both implementations; write and return the JSON result."""
    from _evoked_reference import measure_epochs_reference
    from motorsign.evoked.mep import measure_epochs
    from motorsign.evoked.tables import mep_window

    fs = 5000.0
    n_fast, n_ref = (2000, 100) if quick else (20000, 1000)
    x, stim = make_epochs(n_fast, fs)
    w = mep_window("APB")
    measure_epochs(x[:10], stim, fs, w)  # compile / load the cache
    best = np.inf
    for _ in range(1 if quick else 3):
        t0 = time.perf_counter()
        fast = measure_epochs(x, stim, fs, w)
        best = min(best, time.perf_counter() - t0)
    t0 = time.perf_counter()
    ref = measure_epochs_reference(x[:n_ref], stim, fs, w)
    t_ref = time.perf_counter() - t0
    agree = {}
    for m in ("threshold", "crossing", "derivative", "cusum", "extrapolation", "consensus"):
        a, b = fast[f"onset_{m}_ms"][:n_ref], ref[m]
        both = np.isfinite(a) & np.isfinite(b)
        agree[m] = {
            "n_both": int(both.sum()),
            "n_only_numba": int((np.isfinite(a) & ~np.isfinite(b)).sum()),
            "n_only_numpy": int((~np.isfinite(a) & np.isfinite(b)).sum()),
            "max_abs_diff_ms": float(np.max(np.abs(a[both] - b[both]))) if both.any() else None,
        }
    rate = n_fast / best
    rate_ref = n_ref / t_ref
    res = {
        "benchmark": "bench_mep_speed",
        "quick": quick,
        "fs_hz": fs,
        "epoch_ms": 150,
        "n_trials_numba": n_fast,
        "n_trials_numpy": n_ref,
        "numba_trials_per_s": rate,
        "numpy_trials_per_s": rate_ref,
        "speedup": rate / rate_ref,
        "target_trials_per_s": TARGET_TRIALS_PER_S,
        "meets_target": bool(rate >= TARGET_TRIALS_PER_S),
        "agreement_numba_vs_numpy": agree,
        "machine": {"python": platform.python_version(), "processor": platform.processor(),
                    "cpu_count": os.cpu_count()},
    }
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "bench_mep_speed.json").write_text(json.dumps(res, indent=2))
    return res


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true", help="smoke test")
    p.add_argument("--out", type=Path, default=RESULTS, help="results folder")
    a = p.parse_args(argv)
    r = run(a.quick, a.out)
    print(f"numba {r['numba_trials_per_s']:.0f} trials/s, numpy {r['numpy_trials_per_s']:.0f} trials/s "
          f"(x{r['speedup']:.0f}); target {TARGET_TRIALS_PER_S}: {'met' if r['meets_target'] else 'NOT met'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
