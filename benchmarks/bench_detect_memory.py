"""Peak memory of ``motorsign detect`` on a long BrainVision file (issue 4).

Writes ``benchmarks/results/bench_detect_memory[_quick].json``.

    python benchmarks/bench_detect_memory.py            # 1 h x 8 ch x 20 kHz (2.3 GB file)
    python benchmarks/bench_detect_memory.py --quick    # smoke test: 30 s (19 MB)

The file is written chunk by chunk through a memory map (60 s of the
needle-EMG simulator repeated), then ``motorsign detect FILE --out DIR`` runs
in a fresh subprocess whose peak resident set size (``ru_maxrss`` of the
child) is reported against the target (< 1 GB for the 1-hour file). The
file is deleted afterwards unless ``--keep``.

The peak is the child's ``VmHWM`` (high-water mark of its own address
space, reset at ``exec``): on Linux ``ru_maxrss`` of a forked child starts
from the parent's size, which here holds the simulated data. The numba
cache is filled first by a short run in another process, so compilation
(a one-off per installation) is not counted.
"""

from __future__ import annotations

import argparse
import json
import platform
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

RESULTS = Path(__file__).resolve().parent / "results"
TARGET_MB = 1024.0


def write_long_brainvision(folder: Path, seconds: float, n_channels: int = 8,
                           fs: float = 20000.0) -> Path:
    """A long float32 BrainVision recording written through a memory map."""
    from motorsign.simulate import needle_emg
    from motorsign.simulate.brainvision import write_brainvision

    base = needle_emg.generate(seed=0, duration_s=min(60.0, seconds), fs=fs,
                               n_channels=n_channels, fasc_units=3).data_uv
    vhdr = folder / "long.vhdr"
    # header and marker files from the writer, on a stub; then the big data file
    write_brainvision(vhdr, base[:10], fs, [f"EMG{i + 1}" for i in range(n_channels)], [])
    n = int(round(seconds * fs))
    eeg = folder / "long.eeg"
    mm = np.memmap(eeg, dtype="<f4", mode="w+", shape=(n, n_channels))
    for start in range(0, n, base.shape[0]):
        stop = min(n, start + base.shape[0])
        mm[start:stop] = base[: stop - start]
        mm.flush()
    del mm
    return vhdr


def main(argv=None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="smoke test: 30 s")
    ap.add_argument("--seconds", type=float, default=3600.0)
    ap.add_argument("--n-jobs", type=int, default=1)
    ap.add_argument("--keep", action="store_true")
    ap.add_argument("--out", type=Path, default=RESULTS)
    args = ap.parse_args(argv)
    seconds = 30.0 if args.quick else args.seconds
    tmp = Path(tempfile.mkdtemp(prefix="bench_detect_memory_"))
    try:
        warm = ("import numpy as np\nfrom motorsign.recording import Recording\n"
                "from motorsign.spontaneous import detect_spontaneous\n"
                "x = np.random.default_rng(0).normal(0, 5, (40000, 2)).astype(np.float32)\n"
                "detect_spontaneous(Recording.from_array(x, 20000.0, ['a', 'b']))\n")
        subprocess.run([sys.executable, "-c", warm], check=True)
        t0 = time.perf_counter()
        vhdr = write_long_brainvision(tmp, seconds)
        write_s = time.perf_counter() - t0
        size = (tmp / "long.eeg").stat().st_size
        code = (
            "import resource, sys, time\n"
            "from motorsign.cli import main\n"
            "t0 = time.perf_counter()\n"
            f"rc = main(['detect', {str(vhdr)!r}, '--out', {str(tmp / 'out')!r}, "
            f"'--n-jobs', '{args.n_jobs}', '-q'])\n"
            "el = time.perf_counter() - t0\n"
            "hwm = [ln for ln in open('/proc/self/status') if ln.startswith('VmHWM')]\n"
            "kb = int(hwm[0].split()[1]) if hwm else "
            "resource.getrusage(resource.RUSAGE_SELF).ru_maxrss\n"
            "print(rc, el, kb)\n"
        )
        proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                              check=False)
        if proc.returncode != 0:
            raise RuntimeError(f"detect failed: {proc.stderr.strip()[-2000:]}")
        rc, elapsed, maxrss_kb = proc.stdout.split()[-3:]
        peak_mb = int(maxrss_kb) / 1024.0
        n_rows = sum(1 for _ in open(tmp / "out" / "discharges.csv")) - 1
        result = {
            "benchmark": "bench_detect_memory",
            "quick": bool(args.quick),
            "seconds": seconds,
            "n_channels": 8,
            "fs": 20000.0,
            "file_mb": size / 2**20,
            "write_s": write_s,
            "detect_exit_code": int(rc),
            "detect_wall_s": float(elapsed),
            "peak_rss_mb": peak_mb,
            "n_discharges": n_rows,
            "target_mb": TARGET_MB,
            "meets_target": peak_mb < TARGET_MB,
            "bench_process_maxrss_children_mb":
                resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024.0,
            "python": sys.version.split()[0],
            "machine": platform.machine(),
        }
    finally:
        if not args.keep:
            shutil.rmtree(tmp, ignore_errors=True)
    args.out.mkdir(parents=True, exist_ok=True)
    stem = "bench_detect_memory" + ("_quick" if args.quick else "")
    (args.out / f"{stem}.json").write_text(json.dumps(result, indent=2) + "\n")
    return result


if __name__ == "__main__":
    print(json.dumps(main(), indent=1))
