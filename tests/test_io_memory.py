"""Reading a large file in chunks keeps memory bounded (peak RSS far below the file size)."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

from motorsign.simulate.brainvision import write_brainvision

N_SAMPLES, N_CH = 10_000_000, 8  # 320 MB of float32
BLOCK = 1_000_000


@pytest.mark.slow
def test_chunked_read_of_a_320_mb_file_has_bounded_memory(tmp_path):
    p = tmp_path / "big.vhdr"
    write_brainvision(p, np.zeros((10, N_CH), np.float32), 20_000.0,
                      [f"c{i}" for i in range(N_CH)])
    mm = np.memmap(p.with_suffix(".eeg"), dtype="<f4", mode="w+", shape=(N_SAMPLES, N_CH))
    for s in range(0, N_SAMPLES, BLOCK):
        mm[s : s + BLOCK] = np.float32(s // BLOCK)  # block k holds the value k
    mm.flush()
    del mm
    size = p.with_suffix(".eeg").stat().st_size
    code = f"""
import json, resource
from motorsign.io import read
rec = read({str(p)!r})
base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
total, n = 0.0, 0
for c in rec.iter_chunks(250_000, margin_samples=500):
    total += float(c.core[:, -1].astype('float64').sum())
    n += c.core.shape[0]
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({{"base_kb": base, "peak_kb": peak, "total": total, "n": n}}))
"""
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, res.stderr
    out = json.loads(res.stdout.strip().splitlines()[-1])
    assert out["n"] == N_SAMPLES
    assert out["total"] == float(sum(k * BLOCK for k in range(N_SAMPLES // BLOCK)))  # all read
    grown = (out["peak_kb"] - out["base_kb"]) * 1024
    assert grown < 100e6 and grown < size / 3, f"RSS grew by {grown / 1e6:.0f} MB"
