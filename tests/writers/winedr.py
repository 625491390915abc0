"""A WinEDR (``.EDR``) writer from the Strathclyde file description.

Header: ``NBH`` bytes (2048) of ASCII ``KEY=VALUE`` lines separated by CR LF,
zero-padded; then int16 samples, channels interleaved. Keys used: ``NC``
(channels), ``NP`` (samples in total, all channels), ``NBH`` (header bytes),
``ADCMAX`` (largest ADC value), ``AD`` (ADC voltage range, V), ``DT``
(sampling interval, s), and per channel ``c``: ``YNc`` name, ``YUc`` units,
``YCFc`` calibration factor (V per unit), ``YAGc`` amplifier gain, ``YZc``
zero level (ADC units), ``YOc`` channel offset in the interleaved frame.
Physical value = (adc - YZ) * AD / (YCF * YAG * (ADCMAX + 1)).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

NBH = 2048


def write_edr(path, adc: np.ndarray, dt_s: float, names, units, ycf, yag, yz, *,
              ad_v: float = 5.0, adcmax: int = 2047) -> Path:
    """Write int16 ``adc`` (n_samples, n_channels) as a WinEDR file."""
    adc = np.asarray(adc, dtype="<i2")
    n, nc = adc.shape
    lines = [f"NC={nc}", f"NP={n * nc}", f"NBH={NBH}", f"ADCMAX={adcmax}", f"AD={ad_v:g}",
             f"DT={dt_s:.9g}", "ID=motorsign test", "VER=3.9"]
    for c in range(nc):
        lines += [f"YN{c}={names[c]}", f"YU{c}={units[c]}", f"YCF{c}={ycf[c]:g}",
                  f"YAG{c}={yag[c]:g}", f"YZ{c}={int(yz[c])}", f"YO{c}={c}"]
    text = ("\r\n".join(lines) + "\r\n").encode("ascii")
    if len(text) > NBH:
        raise ValueError("header too long")
    path = Path(path)
    path.write_bytes(text.ljust(NBH, b"\x00") + adc.tobytes())
    return path


def edr_physical(adc, ycf, yag, yz, ad_v=5.0, adcmax=2047):
    """Expected physical values of :func:`write_edr` data."""
    adc = np.asarray(adc, dtype=np.float64)
    return (adc - np.asarray(yz)) * ad_v / (np.asarray(ycf) * np.asarray(yag) * (adcmax + 1))
