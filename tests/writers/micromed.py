"""A Micromed ``.TRC`` (header version 4) writer, from the Micromed System 98 file description.

Little-endian header: patient names at 64, date at 128, at 138
``Data_Start_Offset`` (u4), channel count, multiplexer, minimum rate, bytes
per sample (u2 each); header type 4 at byte 175; then from byte 176 a table
of 15 zones ``(name[8], position u4, length u4)``: ORDER (the electrode code
of each channel), LABCOD (128 bytes per electrode: label, reference,
logical min/max/ground, physical min/max, unit code, rate coefficient),
NOTE, TRONCA, TRIGGER (``sample u4, value u2``), EVENT A/B, ... Samples are
unsigned integers, channels interleaved; value = (raw - logical_ground) *
(phys_max - phys_min) / (logical_max - logical_min + 1) in the unit of the
code (0: µV, 1: mV, -1: nV). Trigger positions are sample numbers from the
start of the recording.
"""

from __future__ import annotations

import struct
from pathlib import Path

import numpy as np

ZONES = ["ORDER", "LABCOD", "NOTE", "FLAGS", "TRONCA", "IMPED_B", "IMPED_E", "MONTAGE",
         "COMPRESS", "AVERAGE", "HISTORY", "DVIDEO", "EVENT A", "EVENT B", "TRIGGER"]
UNIT_CODES = {"uV": 0, "mV": 1, "nV": -1}


def write_trc(path, raw: np.ndarray, fs: int, names, units, phys_ranges, *, nbytes: int = 2,
              triggers=(), notes=()) -> Path:
    """Write unsigned ``raw`` (n_samples, n_channels) samples as a Micromed TRC file.

    ``triggers``: (sample, value); ``notes``: (sample, text).
    """
    raw = np.asarray(raw)
    n, nc = raw.shape
    dt = {1: "<u1", 2: "<u2", 4: "<u4"}[nbytes]
    lmin, lmax = 0, 2 ** (8 * nbytes) - 1
    lground = 2 ** (8 * nbytes - 1)
    zones = {}
    pos = 640
    zones["ORDER"] = (pos, 2 * nc)
    pos = 1024
    zones["LABCOD"] = (pos, 128 * nc)
    pos += 128 * nc
    sizes = {"NOTE": 44 * max(1, len(notes)), "TRONCA": 16, "TRIGGER": 6 * max(1, len(triggers)),
             "EVENT A": 12, "EVENT B": 12}
    for z in ZONES:
        if z in sizes:
            zones[z] = (pos, sizes[z])
            pos += sizes[z]
        elif z not in zones:
            zones[z] = (0, 0)
    data_start = (pos + 511) // 512 * 512
    head = bytearray(data_start)
    head[0:32] = b"* MICROMED  Brain-Quick file *".ljust(32)
    head[64:86] = b"Test".ljust(22)
    head[86:106] = b"Motor".ljust(20)
    head[128:134] = bytes([1, 1, 120, 10, 0, 0])
    rate_min = fs
    head[138:150] = struct.pack("<IHHHH", data_start, nc, nc * nbytes, rate_min, nbytes)
    head[175] = 4
    for k, z in enumerate(ZONES):
        p, ln = zones[z]
        head[176 + 16 * k : 176 + 16 * (k + 1)] = struct.pack("<8sII", z.encode().ljust(8), p, ln)
    p, _ = zones["ORDER"]
    head[p : p + 2 * nc] = np.arange(nc, dtype="<u2").tobytes()
    base, _ = zones["LABCOD"]
    for c in range(nc):
        q = base + 128 * c
        rec = struct.pack("<6s6siiiiih8xH", names[c].encode().ljust(6, b"\0"),
                          b"G2".ljust(6, b"\0"), lmin, lmax, lground,
                          int(phys_ranges[c][0]), int(phys_ranges[c][1]), UNIT_CODES[units[c]], 1)
        head[q + 2 : q + 2 + len(rec)] = rec
    p, _ = zones["TRIGGER"]
    for k, (s, v) in enumerate(triggers):
        head[p + 6 * k : p + 6 * (k + 1)] = struct.pack("<IH", int(s), int(v))
    p, _ = zones["NOTE"]
    for k, (s, text) in enumerate(notes):
        head[p + 44 * k : p + 44 * (k + 1)] = struct.pack("<I40s", int(s), text.encode())
    path = Path(path)
    path.write_bytes(bytes(head) + raw.astype(dt).tobytes())
    return path


def trc_physical(raw, phys_ranges, nbytes=2):
    """Expected values of :func:`write_trc` data, in each channel's unit."""
    lmin, lmax = 0, 2 ** (8 * nbytes) - 1
    lground = 2 ** (8 * nbytes - 1)
    span = np.array([r[1] - r[0] for r in phys_ranges], dtype=np.float64)
    return (np.asarray(raw, dtype=np.float64) - lground) * span / (lmax - lmin + 1)
