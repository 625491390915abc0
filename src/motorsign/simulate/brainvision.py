"""A small BrainVision writer (``.vhdr`` + ``.vmrk`` + ``.eeg``, float32, µV).

Simulated recordings are written in BrainVision because every tool of the
field reads it (neo, MNE, BrainVision Analyzer, EEGLAB). Marker positions in
the ``.vmrk`` file are 1-based, as the BrainVision specification says: the
sample at index ``i`` (0-based) is written as position ``i + 1``.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from motorsign.errors import InputError
from motorsign.outputs import atomic_write_bytes, atomic_write_text

__all__ = ["write_brainvision", "Marker"]

#: (type, description, sample index 0-based, duration in samples)
Marker = tuple[str, str, int, int]


def _escape(text: str, path: Path) -> str:
    # BrainVision separates fields with commas; a comma inside a field is "\1".
    # "=" and line breaks have no escape: readers (neo among them) split the
    # key=value lines on "=", so such a name would make the file unreadable.
    text = str(text)
    bad = [c for c in ("=", "\n", "\r") if c in text]
    if bad:
        raise InputError(
            f"cannot write {text!r} in a BrainVision header: it contains {bad[0]!r}, "
            "which the format cannot escape", path)
    return text.replace(",", r"\1")


def write_brainvision(
    path: str | os.PathLike,
    data_uv: np.ndarray,
    sampling_rate_hz: float,
    channel_names: Sequence[str],
    markers: Sequence[Marker] = (),
    *,
    units: str = "µV",
) -> Path:
    """Write a recording as BrainVision.

    Parameters
    ----------
    path : path-like
        The ``.vhdr`` path; ``.vmrk`` and ``.eeg`` are written beside it.
    data_uv : ndarray, shape (n_samples, n_channels)
        Samples in µV (written as IEEE float32, multiplexed).
    sampling_rate_hz : float
        Sampling rate.
    channel_names : sequence of str
        One name per channel.
    markers : sequence of (type, description, sample, duration)
        Markers with 0-based sample indices (written 1-based).
    units : str
        Unit string of every channel.

    Returns
    -------
    Path
        The ``.vhdr`` path.
    """
    path = Path(path)
    if path.suffix.lower() != ".vhdr":
        raise InputError("BrainVision header must end in .vhdr", path)
    data = np.ascontiguousarray(np.asarray(data_uv, dtype="<f4"))
    if data.ndim == 1:
        data = data[:, None]
    n_samples, n_channels = data.shape
    if len(channel_names) != n_channels:
        raise InputError(f"{len(channel_names)} names for {n_channels} channels", path)
    stem = path.stem
    eeg, vmrk = f"{stem}.eeg", f"{stem}.vmrk"
    interval_us = 1e6 / float(sampling_rate_hz)

    lines = [
        "Brain Vision Data Exchange Header File Version 1.0",
        "; written by motorsign",
        "",
        "[Common Infos]",
        "Codepage=UTF-8",
        f"DataFile={eeg}",
        f"MarkerFile={vmrk}",
        "DataFormat=BINARY",
        "DataOrientation=MULTIPLEXED",
        f"NumberOfChannels={n_channels}",
        f"SamplingInterval={interval_us!r}",
        "",
        "[Binary Infos]",
        "BinaryFormat=IEEE_FLOAT_32",
        "",
        "[Channel Infos]",
        "; Ch<n>=<name>,<reference>,<resolution>,<unit>",
    ]
    lines += [f"Ch{i + 1}={_escape(n, path)},,1,{units}" for i, n in enumerate(channel_names)]

    mk = [
        "Brain Vision Data Exchange Marker File, Version 1.0",
        "",
        "[Common Infos]",
        "Codepage=UTF-8",
        f"DataFile={eeg}",
        "",
        "[Marker Infos]",
        "; Mk<n>=<type>,<description>,<position 1-based>,<points>,<channel>",
        "Mk1=New Segment,,1,1,0",
    ]
    for k, (typ, desc, sample, dur) in enumerate(markers, start=2):
        if not 0 <= int(sample) < n_samples:
            raise InputError(f"marker {desc!r} at sample {sample} outside 0..{n_samples - 1}", path)
        mk.append(f"Mk{k}={_escape(typ, path)},{_escape(desc, path)},{int(sample) + 1},{max(1, int(dur))},0")

    # Data first, header last: a header never points at a missing data file.
    atomic_write_bytes(path.with_suffix(".eeg"), data.tobytes())
    atomic_write_text(path.with_suffix(".vmrk"), "\n".join(mk) + "\n")
    atomic_write_text(path, "\n".join(lines) + "\n")
    return path
