"""A CED Spike2 ``.smr`` (SON, system id 6) writer from the SON file-format description.

Layout, little-endian:

* file header (512 bytes): system id, the ``(C) CED 87`` signature, creator,
  ``us_per_time``, ``time_per_adc``, file state, first data offset, number
  of channels, channel header size (140), ..., ``dtime_base`` (seconds per
  clock unit, f8), date, comments;
* one 140-byte channel header per channel from byte 512: deleted-block
  info, first/last block offsets, block count, extra bytes, ..., comment,
  max time, ``l_chan_dvd`` (sample interval in clock ticks), physical
  channel, title (Pascal string), ideal rate, kind (1 Adc, 3 EventRise,
  5 Marker), then for Adc: scale, offset, units (Pascal), interleave;
* data blocks: a 20-byte header (previous block, next block, first and last
  time in ticks, channel number, item count) followed by the items: int16
  samples (Adc; value = raw * scale / 6553.6 + offset), int32 ticks
  (events), or (int32 tick, 4 marker bytes) (markers).
"""

from __future__ import annotations

import struct
from pathlib import Path

import numpy as np

CHAN_HEADER = 140
FIRST_DATA = 512 + CHAN_HEADER * 32  # room for 32 channel headers


def _pascal(text: str, size: int) -> bytes:
    b = text.encode("latin-1")[: size - 1]
    return bytes([len(b)]) + b.ljust(size - 1, b"\0")


def write_smr(path, adc: np.ndarray, fs: float, names, units, scales, offsets, *,
              events: dict | None = None, markers: dict | None = None,
              block_samples: int = 1000) -> Path:
    """Write int16 ``adc`` (n_samples, n_channels) plus event/marker channels.

    ``events``: name -> event times in clock ticks (1 tick = 1 µs here);
    ``markers``: name -> list of (tick, code).
    """
    adc = np.asarray(adc, dtype="<i2")
    n, nc = adc.shape
    dvd = int(round(1e6 / fs))
    if abs(1e6 / dvd - fs) > 1e-9 * fs:
        raise ValueError("fs must be 1e6 / integer")
    events = events or {}
    markers = markers or {}
    chans = []  # (kind, title, header extras, blocks [(start, end, items, payload)])
    for c in range(nc):
        blocks = []
        for s in range(0, n, block_samples):
            x = adc[s : s + block_samples, c]
            blocks.append((s * dvd, (s + len(x) - 1) * dvd, len(x), x.tobytes()))
        chans.append((1, names[c], (scales[c], offsets[c], units[c]), blocks))
    for name, ticks in events.items():
        t = np.asarray(ticks, dtype="<i4")
        chans.append((3, name, None, [(int(t[0]), int(t[-1]), len(t), t.tobytes())]))
    for name, items in markers.items():
        payload = b"".join(struct.pack("<iBBBB", int(t), int(code), 0, 0, 0) for t, code in items)
        chans.append((5, name, None, [(int(items[0][0]), int(items[-1][0]), len(items), payload)]))

    body = bytearray()
    pos = FIRST_DATA
    heads = []
    for k, (kind, title, extra, blocks) in enumerate(chans):
        offsets_b = []
        for b in blocks:
            offsets_b.append(pos)
            pos += 20 + len(b[3])
        for i, (start, end, items, payload) in enumerate(blocks):
            pred = offsets_b[i - 1] if i else -1
            succ = offsets_b[i + 1] if i + 1 < len(blocks) else -1
            body += struct.pack("<iiiihh", pred, succ, start, end, k + 1, items) + payload
        n_extra = 4 if kind == 5 else 0
        h = struct.pack("<hiiihhhhhh", 0, -1, offsets_b[0], offsets_b[-1], len(blocks), n_extra,
                        0, 0, 0, 0)
        h += _pascal("motorsign test", 72)
        h += struct.pack("<iih", blocks[-1][1], dvd if kind == 1 else 1, k)
        h += _pascal(title, 10)
        h += struct.pack("<fBb", float(fs) if kind == 1 else 0.0, kind, 0)
        if kind == 1:
            scale, offset, unit = extra
            h += struct.pack("<ff", scale, offset) + _pascal(unit, 6) + struct.pack("<h", 1)
        heads.append(h.ljust(CHAN_HEADER, b"\0"))
    max_t = max(b[-1][1] for *_, b in chans)
    fh = struct.pack("<h10s8shhhihhhhhid", 6, b"(C) CED 87", b"motorsg ", 1, 1, 0, FIRST_DATA,
                     32, CHAN_HEADER, 0, 0, 0, max_t, 1e-6)
    fh += struct.pack("<Bh", 0, 2024)
    fh = fh.ljust(512, b"\0")
    empty = b"\0" * CHAN_HEADER
    heads += [empty] * (32 - len(heads))
    path = Path(path)
    path.write_bytes(fh + b"".join(heads) + bytes(body))
    return path
