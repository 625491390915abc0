"""Options shared by the ``mep`` and ``nerve`` verbs (reading, trigger, epochs)."""

from __future__ import annotations

import argparse

from motorsign.commands._common import add_reader_arguments, read_options_from
from motorsign.errors import ConfigError

__all__ = ["add_read_options", "parse_pulse", "read_options_from"]


def add_read_options(p: argparse.ArgumentParser) -> None:
    """FILE, --out, --trigger and the reader options of evoked-response verbs."""
    p.add_argument("file", metavar="FILE", help="recording (continuous with stimulus events, or epoched array)")
    p.add_argument("--out", required=True, metavar="DIR", help="output folder (created)")
    p.add_argument("--trigger", default=None, metavar="SPEC",
                   help="event label ('Stimulus/TMS' or 'TMS'), event channel, or analog:CHANNEL[:THRESHOLD]; "
                        "optional for epoched arrays")
    p.add_argument("--muscle", default=None, help="muscle of the channels (catalog name, e.g. APB)")
    p.add_argument("--side", default=None, choices=["L", "R"], help="side")
    p.add_argument("--channels", default=None, metavar="A,B", help="channels to analyse (default: all signal channels)")
    add_reader_arguments(p)
    e = p.add_argument_group("epochs")
    e.add_argument("--pulse", default="first",
                   help="which pulse of a burst (pulses closer than --burst-gap-ms) is time zero: "
                        "first (default), all, or a 1-based number")
    e.add_argument("--burst-gap-ms", type=float, default=None, dest="burst_gap_ms",
                   help="pulses closer than this form one burst (default: the epoch's post-stimulus span)")
    e.add_argument("--pre-ms", type=float, default=None, dest="pre_ms", help="baseline before the pulse (ms)")
    e.add_argument("--post-ms", type=float, default=None, dest="post_ms", help="epoch span after the pulse (ms)")


def parse_pulse(value) -> str | int:
    """``--pulse`` as ``"first"``, ``"all"`` or a positive int."""
    if value is None:
        return "first"
    v = str(value).strip().lower()
    if v in ("first", "all"):
        return v
    try:
        n = int(v)
    except ValueError as exc:
        raise ConfigError(f"--pulse must be 'first', 'all' or a pulse number, got {value!r}") from exc
    if n < 1:
        raise ConfigError(f"--pulse numbers start at 1, got {value!r}")
    return n


def parse_pair(value, option: str) -> tuple[float, float] | None:
    """``"10,60"`` -> (10.0, 60.0)."""
    if value is None:
        return None
    if isinstance(value, (tuple, list)):
        parts = list(value)
    else:
        parts = str(value).replace(" ", "").split(",")
    try:
        a, b = (float(v) for v in parts)
    except ValueError as exc:
        raise ConfigError(f"{option} must be two numbers 'LO,HI' (ms), got {value!r}") from exc
    if not a < b:
        raise ConfigError(f"{option} must be increasing, got {value!r}")
    return a, b


def open_recording(path, read_options: dict | None, channels=None):
    """Read a recording with :func:`motorsign.io.read`."""
    from motorsign.io import read

    opts = dict(read_options or {})
    if isinstance(channels, str):
        channels = [c.strip() for c in channels.split(",") if c.strip()]
    return read(path, **opts), channels
