"""Helpers shared by the readers: path checks, channel selection, unit overrides."""

from __future__ import annotations

import logging
import math
import os
import warnings
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

import numpy as np

from motorsign.errors import InputError, MotorsignWarning
from motorsign.recording import Channel, Recording, units_to_uv_factor

__all__ = [
    "check_file",
    "warn",
    "SubsetBackend",
    "select_channels",
    "override_units",
    "parse_channel_list",
]

log = logging.getLogger(__name__)


def check_file(path: str | os.PathLike, spec=None, *, what: str = "file") -> Path:
    """Return ``path`` as a :class:`Path` after checking it is a non-empty readable file.

    With a :class:`~motorsign.io.formats.FormatSpec`, the file must also start
    with the format's signature (where the format has one).

    Raises
    ------
    InputError
        When the file is missing, a folder, empty, or lacks its signature.
    """
    p = Path(path)
    if not p.exists():
        raise InputError(f"{what} not found", p)
    if p.is_dir():
        raise InputError(f"is a folder, not a {what}", p)
    if p.stat().st_size == 0:
        raise InputError(f"{what} is empty (0 bytes)", p)
    if not os.access(p, os.R_OK):
        raise InputError(f"{what} is not readable (permissions)", p)
    if spec is not None:
        with open(p, "rb") as fh:
            head = fh.read(256)
        if not spec.check_signature(head):
            raise InputError(
                f"not a valid {spec.name} file: the signature {spec.signature_text()} is missing "
                "(corrupt, or another format with this extension)",
                p,
            )
    return p


def warn(rec_warnings: list[str], path: str | os.PathLike | None, message: str) -> None:
    """Record a reader warning on the recording and emit it as a :class:`MotorsignWarning`."""
    rec_warnings.append(message)
    warnings.warn(f"{path}: {message}" if path else message, MotorsignWarning, stacklevel=3)


class SubsetBackend:
    """A backend that exposes some channels of another backend, in a new order."""

    def __init__(self, base, indices: Sequence[int]):
        self.base = base
        self.indices = np.asarray(indices, dtype=np.int64)

    def read(self, segment, start, stop, channel_indices):
        return self.base.read(segment, start, stop, self.indices[np.asarray(channel_indices)])


def parse_channel_list(channels: str | int | Sequence[str | int] | None):
    """``"A,B"`` -> ``["A", "B"]``; sequences and ``None`` pass through."""
    if channels is None:
        return None
    if isinstance(channels, str):
        items = [c.strip() for c in channels.split(",") if c.strip()]
        return items
    if isinstance(channels, (int, np.integer)):
        return [int(channels)]
    return list(channels)


def select_channels(rec: Recording, channels) -> Recording:
    """A recording restricted to ``channels`` (names or indices, or ``"A,B"``).

    Raises
    ------
    InputError
        When a channel does not exist (the message lists the channels).
    """
    chans = parse_channel_list(channels)
    if chans is None:
        return rec
    idx = rec.channel_index(chans)
    return replace(
        rec,
        channels=tuple(rec.channels[i] for i in idx),
        backend=SubsetBackend(rec.backend, idx),
    )


def override_units(channels: Sequence[Channel], units: str | None, path) -> tuple[Channel, ...]:
    """Replace every signal channel's units by ``units`` (a user override).

    Raises
    ------
    InputError
        When ``units`` is not a voltage unit.
    """
    if units is None:
        return tuple(channels)
    factor = units_to_uv_factor(units)
    if not math.isfinite(factor):
        raise InputError(f"--units {units!r} is not a voltage unit (use V, mV, uV or nV)", path)
    declared = sorted({c.units for c in channels if c.kind == "emg" and c.units_ok
                       and units_to_uv_factor(c.units) != factor})
    if declared:
        warnings.warn(f"{path}: --units {units} overrides the units the file declares "
                      f"({', '.join(declared)}): amplitudes change by that factor", MotorsignWarning,
                      stacklevel=3)
    return tuple(replace(c, units=str(units), to_uv=factor) if c.kind == "emg" else c
                 for c in channels)


def finish(rec: Recording, *, channels=None) -> Recording:
    """Apply the channel selection and emit the unit warning for a reader's recording."""
    rec = select_channels(rec, channels)
    bad = [c for c in rec.channels if c.kind == "emg" and not c.units_ok]
    if bad:
        names = [c.name for c in bad]
        units = sorted({repr(c.units) for c in bad})
        msg = (
            f"channel(s) {', '.join(names[:8])}{' ...' if len(names) > 8 else ''} have units "
            f"{', '.join(units)}, which are missing or not a voltage: values are returned "
            "unscaled, not in microvolts (pass units=/--units if you know them)"
        )
        warn(rec.warnings, rec.path, msg)
    return rec
