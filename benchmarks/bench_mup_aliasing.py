"""Why MUP sorting degrades at 4 kHz on the voluntary-emg simulator: aliasing, measured.

Writes ``benchmarks/results/bench_mup_aliasing.json`` and ``bench_mup_aliasing.png``.

    python benchmarks/bench_mup_aliasing.py           # seeds 0-29, 20/10/4 kHz
    python benchmarks/bench_mup_aliasing.py --quick   # smoke test (3 seeds, 20 and 4 kHz)

The simulator evaluates each analytic MUP at the sample times (no anti-alias
filter before the "converter"). Its spikes are Ricker wavelets 0.1-0.25 ms
wide, with most of their energy at 1-2.3 kHz: above the 2 kHz Nyquist
frequency of a 4 kHz recording. For every seed, units are drawn like that
seed's muscle (same count and classes, :func:`motorsign.simulate.voluntary.make_unit`),
each discharge is rendered in the detection band (``MupParams.detect_band_hz``,
capped at 0.45 fs, as the sorter sees it) at sub-sample positions
``phase`` = 0, 1/P, ... of a sample, and three figures are computed per unit:

* **aliasing residual**: RMS over phases of ``x(phase) - shift(x(0), phase)``
  relative to RMS of ``x``, where ``shift`` is the band-limited (FFT) delay
  every interpolating sorter uses. Zero for a band-limited signal.
* **band-limited confusion** (noise-free discharges, the noise SD sigma of the
  seed's detection signal): a discharge of unit A at each phase is compared
  with every unit's band-limited template at every sub-sample delay and
  shift (±1 ms); with e_A, e_B the best squared errors to A's and B's
  templates and d the distance between those two templates, the chance that
  noise makes B win is Q((e_B - e_A) / (2 sigma d)) (>= 0.5 when e_B < e_A).
  Averaged over phases and units above 2.5x the signal RMS.
* **oracle confusion**: the same with the unit's true waveform at every
  phase as templates (what a sorter that measured each sub-sample position's
  template exactly could reach): Q(sqrt(D) / (2 sigma)) with D the smallest
  distance from A(phase) to another unit at any phase and shift. A lower
  bound on the error of any template sorter on these data.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

for _v in ("NUMBA_NUM_THREADS", "OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_v, "1")

import numpy as np  # noqa: E402  (after the thread settings)

RESULTS = Path(__file__).resolve().parent / "results"
CONDITIONS = ("normal", "neurogenic", "myopathic")
#: Sub-sample phases rendered per unit.
N_PHASE = 10
#: Shifts searched around the best alignment (ms).
SHIFT_MS = 1.0


def _q(x):
    """Gaussian upper tail."""
    from scipy.special import ndtr

    return ndtr(-x)


def _render(unit, fs: float, sos, half: int, phases) -> np.ndarray:
    """Detection-band discharge of ``unit`` centred on its largest peak, at each phase."""
    from scipy.signal import sosfiltfilt

    m = int(round(0.025 * fs))
    k = np.arange(-m, m + 1)
    out = []
    for ph in phases:
        x = unit.wave(((k - ph) / fs) * 1e3 + unit.peak_ms)
        out.append(sosfiltfilt(sos, x)[m - half : m + half + 1])
    return np.array(out)


def _shifted(X: np.ndarray, s: int) -> np.ndarray:
    """Rows of ``X`` delayed by ``s`` samples (zero-filled)."""
    out = np.zeros_like(X)
    if s >= 0:
        out[:, s:] = X[:, : X.shape[1] - s]
    else:
        out[:, :s] = X[:, -s:]
    return out


def muscle_figures(seed: int, condition: str, fs: float, duration_s: float = 4.0) -> list[dict]:
    """Per-unit aliasing residual and confusion figures for one simulated muscle."""
    from motorsign.mup.params import MupParams
    from motorsign.mup.preprocess import ChannelSource
    from motorsign.mup.sorting import _frac_shift
    from motorsign.simulate.voluntary import generate, make_unit

    p = MupParams(internal_rate_hz=0.0)  # the detection band at the recording's own rate
    sim = generate(seed=seed, condition=condition, duration_s=duration_s, fs=fs)
    src = ChannelSource(sim.to_recording(), 0, p)
    det = np.concatenate([c.det[c.start - c.offset : c.stop - c.offset] for c in src.chunks()])
    sigma = float(np.median(np.abs(det)) / 0.6745)
    rms = float(sim.meta["signal_rms_uv"])
    rng = np.random.default_rng(10_000 + seed)
    units = [make_unit(rng, u["class"]) for u in sim.meta["units"]]
    half = int(round(p.window_ms * 1e-3 * fs))
    phases = np.arange(N_PHASE) / N_PHASE
    W = [_render(u, fs, src.sos_det, half, phases) for u in units]
    # band-limited templates: phase-0 rendering delayed by each phase
    BL = [np.array([_frac_shift(w[0], ph) for ph in phases], dtype=np.float64) for w in W]
    n_shift = max(1, int(round(SHIFT_MS * 1e-3 * fs)))
    shifts = range(-n_shift, n_shift + 1)
    banks_true = [np.concatenate([_shifted(w, s) for s in shifts]) for w in W]
    banks_bl = [np.concatenate([_shifted(b, s) for s in shifts]) for b in BL]
    out = []
    for a, wa in enumerate(W):
        amp = float(np.ptp(units[a].wave(np.arange(-25.0, 25.0, 1e3 / fs))))
        if not amp > 2.5 * rms:
            continue
        resid = wa - BL[a]
        alias = float(np.sqrt((resid ** 2).mean() / max((wa ** 2).mean(), 1e-12)))

        def sqd(X, bank):
            return ((X * X).sum(1)[:, None] + (bank * bank).sum(1)[None, :] - 2 * X @ bank.T)

        e_a = sqd(wa, banks_bl[a])
        ia = np.argmin(e_a, axis=1)
        ea = e_a[np.arange(N_PHASE), ia]
        p_bl = np.zeros(N_PHASE)
        p_or = np.zeros(N_PHASE)
        for b in range(len(W)):
            if b == a:
                continue
            e_b = sqd(wa, banks_bl[b])
            ib = np.argmin(e_b, axis=1)
            eb = e_b[np.arange(N_PHASE), ib]
            d = np.linalg.norm(banks_bl[a][ia] - banks_bl[b][ib], axis=1)
            pb = np.where(d > 0, _q((eb - ea) / (2 * sigma * np.maximum(d, 1e-12))), 0.5)
            p_bl = 1 - (1 - p_bl) * (1 - pb)
            D = np.maximum(sqd(wa, banks_true[b]).min(axis=1), 0.0)
            p_or = 1 - (1 - p_or) * (1 - _q(np.sqrt(D) / (2 * sigma)))
        out.append({"seed": seed, "condition": condition, "fs": fs, "class": units[a].cls,
                    "amplitude_uv": amp, "sigma_uv": sigma, "aliasing_residual": alias,
                    "confusion_bandlimited": float(p_bl.mean()),
                    "confusion_oracle": float(p_or.mean())})
    return out


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark; returns 0."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="smoke test")
    ap.add_argument("--seeds", type=int, default=None, help="number of simulated muscles")
    ap.add_argument("--out", type=Path, default=RESULTS, help="results folder")
    args = ap.parse_args(argv)

    from motorsign.outputs import write_json

    n_seeds = args.seeds or (3 if args.quick else 30)
    rates = (20000.0, 4000.0) if args.quick else (20000.0, 10000.0, 4000.0)
    rows = []
    for fs in rates:
        for seed in range(n_seeds):
            rows += muscle_figures(seed, CONDITIONS[seed % 3], fs)
    summary = {}
    for fs in rates:
        r = [x for x in rows if x["fs"] == fs]
        per = {}
        for c in ("normal", "reinnervated", "myopathic"):
            rc = [x for x in r if x["class"] == c]
            if rc:
                per[c] = {k: float(np.median([x[k] for x in rc]))
                          for k in ("aliasing_residual", "confusion_bandlimited", "confusion_oracle")}
                per[c]["n_units"] = len(rc)
        summary[f"{fs:g}"] = {
            "n_units": len(r),
            "aliasing_residual_median": float(np.median([x["aliasing_residual"] for x in r])),
            "confusion_bandlimited_mean": float(np.mean([x["confusion_bandlimited"] for x in r])),
            "confusion_oracle_mean": float(np.mean([x["confusion_oracle"] for x in r])),
            "by_class": per,
        }
        s = summary[f"{fs:g}"]
        print(f"{fs:7.0f} Hz: aliasing residual median {100 * s['aliasing_residual_median']:.1f} %, "
              f"predicted confusion band-limited templates {100 * s['confusion_bandlimited_mean']:.1f} %, "
              f"oracle per-phase templates {100 * s['confusion_oracle_mean']:.1f} % "
              f"({s['n_units']} units > 2.5x RMS)")
    args.out.mkdir(parents=True, exist_ok=True)
    write_json(args.out / "bench_mup_aliasing.json",
               {"rates": list(rates), "n_seeds": n_seeds, "n_phase": N_PHASE, "shift_ms": SHIFT_MS,
                "summary": summary, "units": rows, "quick": bool(args.quick)})

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axs = plt.subplots(1, 2, figsize=(10, 3.6))
    for i, fs in enumerate(rates):
        r = [x for x in rows if x["fs"] == fs]
        axs[0].boxplot([100 * x["aliasing_residual"] for x in r], positions=[i], widths=0.6)
        cb = 100 * np.mean([x["confusion_bandlimited"] for x in r])
        co = 100 * np.mean([x["confusion_oracle"] for x in r])
        axs[1].bar(i - 0.2, cb, 0.4, color="tab:red", label="band-limited templates" if i == 0 else None)
        axs[1].bar(i + 0.2, co, 0.4, color="tab:blue", label="per-phase (oracle)" if i == 0 else None)
    for ax in axs:
        ax.set_xticks(range(len(rates)), [f"{fs / 1000:g} kHz" for fs in rates])
    axs[0].set_ylabel("x(phase) - shift(x(0)) (% RMS)")
    axs[0].set_title("aliasing residual per unit")
    axs[1].set_ylabel("predicted wrong unit (%)")
    axs[1].set_title("confusion of noise-free discharges")
    axs[1].legend()
    fig.tight_layout()
    fig.savefig(args.out / "bench_mup_aliasing.png", dpi=100)
    plt.close(fig)
    return 0


if __name__ == "__main__":
    sys.exit(main())
