"""Reading recordings: one entry point, :func:`read`, for every supported format.

The reader is chosen from the file extension through an explicit map
(:data:`motorsign.io.formats.FORMATS`): ``neo.rawio`` classes for the
electrophysiology formats, ``wfdb`` for PhysioNet records, and the epoched
array reader for ``.mat``/``.npy``/``.csv``. Heavy libraries (neo, wfdb,
scipy.io, h5py) are imported only by the reader that needs them.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from pathlib import Path

from motorsign.errors import InputError, UnsupportedFormatError
from motorsign.recording import Recording

__all__ = ["read", "supported_extensions", "READ_OPTIONS"]

log = logging.getLogger(__name__)

#: keyword options :func:`read` accepts (the batch pipeline passes these through)
READ_OPTIONS = ("stream", "fs", "stim_sample", "variable", "units", "channels", "layout")


def supported_extensions() -> list[str]:
    """The file extensions :func:`read` accepts."""
    from motorsign.io.formats import supported_extensions as _ext

    return _ext()


def read(
    path: str | os.PathLike,
    *,
    stream: str | int | None = None,
    fs: float | None = None,
    stim_sample: int | None = None,
    variable: str | None = None,
    units: str | None = None,
    channels: str | Sequence[str | int] | None = None,
    layout: str = "auto",
) -> Recording:
    """Open a recording lazily.

    Parameters
    ----------
    path : path-like
        The file: ``.vhdr`` (BrainVision), ``.edf``/``.bdf``, ``.smr``
        (Spike2), ``.abf`` (Axon), ``.rhd``/``.rhs`` (Intan), ``.trc``
        (Micromed), ``.edr`` (WinEDR), ``.wcp`` (WinWCP), ``.nwb``, ``.hea``
        (WFDB), or an epoched array ``.mat``/``.npy``/``.csv``.
    stream : str | int | None
        Signal stream (name or index) of files with several.
    fs : float | None
        Sampling rate of an epoched array (arrays carry none).
    stim_sample : int | None
        0-based stimulus sample in every trial of an epoched array.
    variable : str | None
        ``.mat`` variable to read.
    units : str | None
        Units of the values, overriding the file (use when it has none).
    channels : ``"A,B"`` | sequence of names/indices | None
        Keep only these channels.
    layout : str
        Epoched arrays: ``"auto"``, ``"samples_x_trials"``, ``"trials_x_samples"``.

    Returns
    -------
    Recording
        Lazy: samples are read when asked for, as float32 µV.

    Raises
    ------
    InputError
        Missing, empty, truncated or corrupt file; header contradicting the
        data; missing option (``fs`` for an array); unknown channel/stream/
        variable.
    UnsupportedFormatError
        Unknown extension (the message lists the supported ones).
    """
    from motorsign.io._common import check_file
    from motorsign.io.formats import companion_hint, format_for

    p = Path(path)
    spec = format_for(p)
    if spec is None:
        if not p.exists():
            raise InputError("file not found", p)
        if p.is_dir():
            raise InputError("is a folder, not a recording file (give the file itself, e.g. NAME.vhdr)", p)
        raise UnsupportedFormatError(
            f"unknown file type {p.suffix or '(no extension)'!r}{companion_hint(p)}; supported: "
            + ", ".join(supported_extensions()),
            p,
        )
    check_file(p, spec)
    if fs is not None and spec.reader != "array":
        log.warning("%s: fs=%s ignored: the %s file gives its own rate", p, fs, spec.name)
    if stim_sample is not None and spec.reader != "array":
        log.warning("%s: stim_sample ignored for %s files", p, spec.name)
    opts = dict(stream=stream, fs=fs, stim_sample=stim_sample, variable=variable, units=units,
                channels=channels, layout=layout)
    if spec.reader == "neo":
        from motorsign.io.neo_reader import read_neo

        return read_neo(p, spec, **opts)
    if spec.reader == "wfdb":
        from motorsign.io.wfdb_reader import read_wfdb

        return read_wfdb(p, spec, **opts)
    if spec.reader == "array":
        from motorsign.io.arrays import read_epoched

        return read_epoched(p, spec, **opts)
    if spec.reader == "nwb":
        from motorsign.io.nwb_reader import read_nwb

        return read_nwb(p, spec, **opts)
    raise UnsupportedFormatError(f"no reader for {spec.name}", p)  # pragma: no cover
