"""A small EDF+/BDF+ writer (continuous, with annotations), from the EDF/EDF+ and BDF specs.

EDF: 16-bit little-endian two's complement samples; BDF (BioSemi): 24-bit.
Header: 256 bytes + 256 bytes per signal, ASCII, fixed-width fields. Data
records hold, per signal, ``samples_per_record`` samples. Annotations are a
signal labelled ``EDF Annotations`` (``BDF Annotations``) of TALs:
``+onset<0x15>duration<0x14>text<0x14><0x00>``; each record's first TAL is its
time-keeping stamp ``+t<0x14><0x14><0x00>``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np


def _f(value, width: int) -> bytes:
    text = str(value)
    if len(text) > width:
        raise ValueError(f"field {text!r} longer than {width}")
    return text.ljust(width).encode("ascii")


def _num(x: float) -> str:
    text = f"{x:.8g}"
    return text if len(text) <= 8 else f"{x:.6g}"[:8]


def write_edf(path, data, fs: float, labels, units, phys_ranges, *, bdf: bool = False,
              annotations=(), record_s: float = 1.0, dig_range=None) -> Path:
    """Write ``data`` (n_samples, n_signals), physical values, as EDF+C or BDF+C.

    ``phys_ranges``: (min, max) per signal. ``annotations``: (onset_s, duration_s|None, text).
    ``n_samples`` must be a multiple of ``fs * record_s``.
    """
    path = Path(path)
    data = np.asarray(data, dtype=np.float64)
    n, ns = data.shape
    spr = int(round(fs * record_s))
    if n % spr:
        raise ValueError("n_samples must be a whole number of data records")
    n_rec = n // spr
    nbytes = 3 if bdf else 2
    dmin, dmax = dig_range or ((-(2**23), 2**23 - 1) if bdf else (-32768, 32767))
    # annotation signal: enough bytes per record for the TALs
    tals = [b"" for _ in range(n_rec)]
    for onset, dur, text in annotations:
        r = min(int(onset // record_s), n_rec - 1)
        d = b"" if dur is None else b"\x15" + _num(dur).encode()
        tals[r] += f"+{onset:.6f}".rstrip("0").rstrip(".").encode() + d + b"\x14" + \
            text.encode("utf-8") + b"\x14\x00"
    stamps = [f"+{r * record_s:g}".encode() + b"\x14\x14\x00" for r in range(n_rec)]
    ann_len = max(len(s) + len(t) for s, t in zip(stamps, tals))
    ann_spr = (ann_len + nbytes - 1) // nbytes + 1
    n_sig = ns + 1
    head = b"".join([
        (b"\xffBIOSEMI" if bdf else _f("0", 8)),
        _f("X X X X", 80), _f("Startdate 01-JAN-2020 X X X", 80),
        _f("01.01.20", 8), _f("00.00.00", 8), _f(256 * (n_sig + 1), 8),
        _f("BDF+C" if bdf else "EDF+C", 44), _f(n_rec, 8), _f(_num(record_s), 8), _f(n_sig, 4),
    ])
    ann_label = "BDF Annotations" if bdf else "EDF Annotations"
    labels = list(labels) + [ann_label]
    units = list(units) + [""]
    pmin = [r[0] for r in phys_ranges] + [-1]
    pmax = [r[1] for r in phys_ranges] + [1]
    dmins = [dmin] * ns + [(-(2**23)) if bdf else -32768]
    dmaxs = [dmax] * ns + [(2**23 - 1) if bdf else 32767]
    sprs = [spr] * ns + [ann_spr]
    for field, width in ((labels, 16), (["AgAgCl"] * ns + [""], 80), (units, 8)):
        head += b"".join(_f(v, width) for v in field)
    for field in (pmin, pmax, dmins, dmaxs):
        head += b"".join(_f(_num(v) if isinstance(v, float) else v, 8) for v in field)
    head += b"".join(_f("", 80) for _ in range(n_sig))
    head += b"".join(_f(v, 8) for v in sprs)
    head += b"".join(_f("", 32) for _ in range(n_sig))
    # physical -> digital
    gain = (np.array(pmax[:ns], float) - np.array(pmin[:ns], float)) / (dmax - dmin)
    dig = np.round((data - np.array(pmin[:ns])) / gain + dmin).astype(np.int64)
    dig = np.clip(dig, dmin, dmax)
    out = bytearray(head)
    for r in range(n_rec):
        block = dig[r * spr:(r + 1) * spr]
        for s in range(ns):
            v = block[:, s]
            if bdf:
                u = (v & 0xFFFFFF).astype("<u4").view(np.uint8).reshape(-1, 4)[:, :3]
                out += u.tobytes()
            else:
                out += v.astype("<i2").tobytes()
        raw = (stamps[r] + tals[r]).ljust(ann_spr * nbytes, b"\x00")
        out += raw
    path.write_bytes(bytes(out))
    return path


def digital_to_physical(data, phys_ranges, bdf=False, dig_range=None):
    """What an exact reader returns for ``data`` written by :func:`write_edf`."""
    data = np.asarray(data, dtype=np.float64)
    dmin, dmax = dig_range or ((-(2**23), 2**23 - 1) if bdf else (-32768, 32767))
    pmin = np.array([float(_num(r[0])) for r in phys_ranges])
    pmax = np.array([float(_num(r[1])) for r in phys_ranges])
    gain = (pmax - pmin) / (dmax - dmin)
    dig = np.clip(np.round((data - pmin) / gain + dmin), dmin, dmax)
    return (dig - dmin) * gain + pmin
