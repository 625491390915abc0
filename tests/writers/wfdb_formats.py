"""WFDB signal files in the formats the ``wfdb`` package cannot write (8, 61, 160, 310, 311).

From the WFDB signal-file specification (``signal(5)``):

* 61: 16-bit two's complement, big-endian;
* 160: 16-bit offset binary (stored = value + 32768), little-endian;
* 8: 8-bit first differences; sample i = sample i-1 + d[i], starting from the
  header's initial value;
* 311: three 10-bit two's complement samples in a little-endian 32-bit word,
  bits 0-9, 10-19, 20-29;
* 310: three 10-bit samples in two little-endian 16-bit words: the first
  sample in bits 1-10 of word 1, the second in bits 1-10 of word 2, the third
  split, low 5 bits in bits 11-15 of word 1 and high 5 bits in bits 11-15 of
  word 2.

Only single-signal records are written (enough for the reader tests).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np


def _encode(fmt: str, d: np.ndarray, init: int) -> bytes:
    d = np.asarray(d, dtype=np.int64)
    if fmt == "61":
        return d.astype(">i2").tobytes()
    if fmt == "160":
        return (d + 32768).astype("<u2").tobytes()
    if fmt == "8":
        diffs = np.diff(np.concatenate(([init], d)))
        if np.any(np.abs(diffs) > 127):
            raise ValueError("format 8 needs first differences within +-127")
        return diffs.astype(np.int8).tobytes()
    if fmt in ("310", "311"):
        if np.any(d < -512) or np.any(d > 511):
            raise ValueError("10-bit formats need values in -512..511")
        pad = (-len(d)) % 3
        u = (np.concatenate((d, np.zeros(pad, dtype=np.int64))) & 0x3FF).reshape(-1, 3)
        if fmt == "311":
            words = u[:, 0] | (u[:, 1] << 10) | (u[:, 2] << 20)
            return words.astype("<u4").tobytes()
        w1 = (u[:, 0] << 1) | ((u[:, 2] & 0x1F) << 11)
        w2 = (u[:, 1] << 1) | ((u[:, 2] >> 5) << 11)
        return np.column_stack((w1, w2)).astype("<u2").tobytes()
    raise ValueError(f"format {fmt} not handled here")


def write_wfdb_digital(folder: Path, name: str, fmt: str, digital: np.ndarray, fs: float,
                       gain: float, units: str = "mV", baseline: int = 0,
                       sig_name: str = "EMG") -> Path:
    """Write a one-signal WFDB record with the given digital samples.

    Returns the ``.hea`` path; physical value = (digital - baseline) / gain.
    """
    folder = Path(folder)
    digital = np.asarray(digital, dtype=np.int64)
    init = int(digital[0]) if fmt != "8" else 0
    (folder / f"{name}.dat").write_bytes(_encode(fmt, digital, init))
    head = f"{name} 1 {fs:g} {len(digital)}\n"
    sig = (f"{name}.dat {fmt} {gain:g}({baseline})/{units} 10 0 {init} 0 0 {sig_name}\n")
    (folder / f"{name}.hea").write_text(head + sig)
    return folder / f"{name}.hea"
