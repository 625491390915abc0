"""An Intan RHD2000 (``.rhd``, file version 1.3) writer, from Intan's "RHD data file format".

Little-endian. Header: magic 0xC6912702 (u32), version major/minor (i16),
sample rate (f32), DSP and bandwidth settings, notch mode, impedance test
frequencies, three notes (QString: u32 byte length, UTF-16LE text), number of
temperature sensors, evaluation board mode, then signal groups (name, prefix,
enabled, channel counts) with one record per channel (native and custom
names, order, signal type, enabled, chip channel, board stream, trigger
settings, impedance). Data: blocks of 60 samples: 60 i32 timestamps, then
per amplifier channel 60 u16 samples (µV = 0.195 * (x - 32768)), then per
board ADC channel 60 u16 samples (evaluation board mode 0: V = 50.354e-6 * x,
0 to 3.3 V). Only amplifier and board-ADC channels are written here.
"""

from __future__ import annotations

import struct
from pathlib import Path

import numpy as np

MAGIC = 0xC6912702
BLOCK = 60


def _qstring(text: str) -> bytes:
    b = text.encode("utf-16-le")
    return struct.pack("<I", len(b)) + b


def _channel(native: str, custom: str, order: int, signal_type: int, chip_channel: int) -> bytes:
    return (_qstring(native) + _qstring(custom)
            + struct.pack("<hhhhhhhhhh", order, order, signal_type, 1, chip_channel, 0, 0, 0, 0, 0)
            + struct.pack("<ff", 0.0, 0.0))


def write_rhd(path, amp_raw: np.ndarray, fs: float, names, *, adc_raw: np.ndarray | None = None,
              eval_board_mode: int = 0) -> Path:
    """Write u16 amplifier samples (n_samples, n_amp), n_samples a multiple of 60."""
    amp_raw = np.asarray(amp_raw, dtype="<u2")
    n, n_amp = amp_raw.shape
    if n % BLOCK:
        raise ValueError("n_samples must be a multiple of 60")
    h = struct.pack("<Ihhf", MAGIC, 1, 3, float(fs))
    h += struct.pack("<h", 0) + struct.pack("<ffffff", 1.0, 10.0, 7500.0, 1.0, 10.0, 7500.0)
    h += struct.pack("<h", 0) + struct.pack("<ff", 1000.0, 1000.0)
    h += _qstring("motorsign") + _qstring("") + _qstring("")
    h += struct.pack("<h", 0)  # temperature sensors
    h += struct.pack("<h", eval_board_mode)
    groups = [("Port A", "A", [(f"A-{i:03d}", names[i], i, 0, i) for i in range(n_amp)])]
    if adc_raw is not None:
        adc_raw = np.asarray(adc_raw, dtype="<u2")
        groups.append(("Board ADC", "ADC", [(f"ADC-{i:02d}", f"ADC-{i:02d}", i, 3, i)
                                            for i in range(adc_raw.shape[1])]))
    h += struct.pack("<h", len(groups))
    for gname, prefix, chans in groups:
        n_amp_g = sum(1 for c in chans if c[3] == 0)
        h += _qstring(gname) + _qstring(prefix) + struct.pack("<hhh", 1, len(chans), n_amp_g)
        for native, custom, order, stype, chip in chans:
            h += _channel(native, custom, order, stype, chip)
    body = bytearray()
    for b in range(n // BLOCK):
        sl = slice(b * BLOCK, (b + 1) * BLOCK)
        body += np.arange(b * BLOCK, (b + 1) * BLOCK, dtype="<i4").tobytes()
        body += np.ascontiguousarray(amp_raw[sl].T).tobytes()
        if adc_raw is not None:
            body += np.ascontiguousarray(adc_raw[sl].T).tobytes()
    path = Path(path)
    path.write_bytes(h + bytes(body))
    return path


RHS_MAGIC = 0xD69127AC
RHS_BLOCK = 128


def _rhs_channel(native: str, custom: str, order: int, signal_type: int, chip: int) -> bytes:
    return (_qstring(native) + _qstring(custom)
            + struct.pack("<hhhhhhhhhhh", order, order, signal_type, 1, chip, 0, 0, 0, 0, 0, 0)
            + struct.pack("<ff", 0.0, 0.0))


def write_rhs(path, amp_raw: np.ndarray, fs: float, names) -> Path:
    """Write an Intan RHS2000 (stimulation/recording controller, file version 1.0) file.

    Header as RHD with the RHS fields (settle bandwidths, amplifier settle and
    charge recovery modes, stimulation step, recovery current/voltage), no
    temperature sensors, a DC-amplifier flag (0 here), board mode and the
    reference channel; channel records carry a command stream. Data: blocks
    of 128 samples: 128 i32 timestamps, 128 u16 per amplifier channel
    (µV = 0.195 * (x - 32768)), then 128 u16 stimulation words per amplifier
    channel (zeros: no stimulation).
    """
    amp_raw = np.asarray(amp_raw, dtype="<u2")
    n, n_amp = amp_raw.shape
    if n % RHS_BLOCK:
        raise ValueError("n_samples must be a multiple of 128")
    h = struct.pack("<Ihhf", RHS_MAGIC, 1, 0, float(fs))
    h += struct.pack("<h", 0) + struct.pack("<ffffffff", 1.0, 0.1, 1000.0, 7500.0,
                                            1.0, 0.1, 1000.0, 7500.0)
    h += struct.pack("<h", 0) + struct.pack("<ff", 1000.0, 1000.0)
    h += struct.pack("<hh", 0, 0) + struct.pack("<fff", 1e-6, 1e-6, 0.0)
    h += _qstring("motorsign") + _qstring("") + _qstring("")
    h += struct.pack("<hh", 0, 0) + _qstring("hardware")
    h += struct.pack("<h", 1)
    h += _qstring("Port A") + _qstring("A") + struct.pack("<hhh", 1, n_amp, n_amp)
    for i in range(n_amp):
        h += _rhs_channel(f"A-{i:03d}", names[i], i, 0, i)
    body = bytearray()
    for b in range(n // RHS_BLOCK):
        sl = slice(b * RHS_BLOCK, (b + 1) * RHS_BLOCK)
        body += np.arange(b * RHS_BLOCK, (b + 1) * RHS_BLOCK, dtype="<i4").tobytes()
        body += np.ascontiguousarray(amp_raw[sl].T).tobytes()
        body += np.zeros((n_amp, RHS_BLOCK), dtype="<u2").tobytes()
    path = Path(path)
    path.write_bytes(h + bytes(body))
    return path
