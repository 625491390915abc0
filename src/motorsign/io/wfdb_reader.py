"""PhysioNet WFDB records (``.hea`` + signal files) through the ``wfdb`` package.

Every WFDB sample format ``wfdb`` knows is read (8, 16, 61 big-endian, 80,
160, 212, 24, 32, 310, 311 and the FLAC formats); samples come in physical
units, block by block (``rdrecord(sampfrom, sampto)``), so a long record is
never loaded whole. Units are matched case-insensitively (the PhysioNet
myopathy header writes ``10000/mv``). Before anything is read the signal
files are checked against the header: a header that promises more samples
than the files hold is refused.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

import numpy as np

from motorsign.errors import InputError
from motorsign.io._common import finish, override_units
from motorsign.recording import Channel, Event, Recording, Segment, units_to_uv_factor

__all__ = ["read_wfdb", "WfdbBackend", "BYTES_PER_SAMPLE"]

log = logging.getLogger(__name__)

#: bytes per sample of the uncompressed WFDB formats (212: 3 bytes per 2 samples,
#: 310/311: 4 bytes per 3 samples)
BYTES_PER_SAMPLE = {
    "8": 1.0, "16": 2.0, "61": 2.0, "80": 1.0, "160": 2.0,
    "212": 1.5, "24": 3.0, "32": 4.0, "310": 4 / 3, "311": 4 / 3,
}

#: WFDB annotation file extensions looked for beside the record
ANNOTATION_EXTENSIONS = ("atr", "ann", "trigger", "stim", "evt", "qrs")


#: difference formats: a sample depends on every earlier one, and ``wfdb`` returns wrong
#: values when such a record is read from the middle (``sampfrom > 0``)
DIFFERENCE_FORMATS = {"8"}


class WfdbBackend:
    """Block reads of a WFDB record with ``wfdb.rdrecord``.

    Records in a first-difference format (8) are read from their first
    sample up to ``stop`` and sliced: correct, and O(stop) per block.
    """

    def __init__(self, record_path: str, n_signals: int, from_start: bool = False):
        self.record_path = record_path
        self.n_signals = n_signals
        self.from_start = from_start

    def read(self, segment, start, stop, channel_indices):
        import wfdb

        idx = [int(i) for i in np.asarray(channel_indices)]
        first = 0 if self.from_start else int(start)
        rec = wfdb.rdrecord(self.record_path, sampfrom=first, sampto=int(stop),
                            channels=idx, physical=True, return_res=64)
        data = rec.p_signal
        if data is not None and first != start:
            data = data[int(start) - first :]
        if data is None:  # pragma: no cover - physical=True always fills it
            data = np.zeros((stop - start, len(idx)))
        return data


def _check_signal_files(header, hea_path: Path) -> None:
    folder = hea_path.parent
    files: dict[str, list[int]] = {}
    for i, fname in enumerate(header.file_name or []):
        files.setdefault(fname, []).append(i)
    for fname, sigs in files.items():
        if fname in ("~", None):
            continue
        fpath = folder / fname
        if not fpath.exists():
            raise InputError(f"signal file {fname} named in the header is missing", hea_path)
        fmts = {str(header.fmt[i]) for i in sigs}
        if len(fmts) != 1 or next(iter(fmts)) not in BYTES_PER_SAMPLE:
            continue  # compressed (FLAC) or mixed: wfdb checks these itself
        fmt = next(iter(fmts))
        spf = header.samps_per_frame or [1] * header.n_sig
        per_frame = sum(int(spf[i] or 1) for i in sigs)
        offset = int((header.byte_offset or [0] * header.n_sig)[sigs[0]] or 0)
        need = int(np.ceil(header.sig_len * per_frame * BYTES_PER_SAMPLE[fmt])) + offset
        have = os.path.getsize(fpath)
        if have == 0:
            raise InputError(f"signal file {fname} is empty (0 bytes)", hea_path)
        if have < need:
            raise InputError(
                f"the header says {header.sig_len} samples of {per_frame} signal(s) in format "
                f"{fmt} ({need} bytes) but {fname} holds {have} bytes: truncated file or wrong "
                "header",
                hea_path,
            )


def _annotations(record_path: str, folder: Path, stem: str) -> list[Event]:
    import wfdb

    events = []
    for ext in ANNOTATION_EXTENSIONS:
        if not (folder / f"{stem}.{ext}").exists():
            continue
        try:
            ann = wfdb.rdann(record_path, ext)
        except Exception as exc:  # an unreadable annotation file is reported, not fatal
            log.warning("%s.%s: annotation file not readable (%s)", record_path, ext, exc)
            continue
        fs = float(ann.fs) if ann.fs else None
        for k, sample in enumerate(ann.sample):
            sym = ann.symbol[k] if ann.symbol is not None else ""
            note = ann.aux_note[k].strip() if ann.aux_note is not None else ""
            label = f"{ext}/{note or sym}" if (note or sym) else ext
            events.append(Event(label=label, time_s=float(sample) / fs if fs else float(sample),
                                segment=0, source="marker"))
    return events


def read_wfdb(path: Path, spec=None, *, units: str | None = None, channels=None,
              **_ignored) -> Recording:
    """Open a WFDB record from its ``.hea`` header.

    Parameters
    ----------
    path : Path
        The ``.hea`` file.
    units : str | None
        Override the signals' units.
    channels : names | indices | ``"A,B"`` | None
        Keep only these channels.

    Returns
    -------
    Recording
    """
    import wfdb

    record_path = str(path.with_suffix(""))
    try:
        header = wfdb.rdheader(record_path)
    except Exception as exc:
        detail = " ".join(str(exc).split()) or type(exc).__name__
        raise InputError(f"cannot parse the WFDB header ({type(exc).__name__}: {detail[:200]})",
                         path) from exc
    if getattr(header, "seg_name", None):
        raise InputError("multi-segment WFDB records are not supported; open one segment's .hea",
                         path)
    if not header.n_sig:
        raise InputError("the WFDB header declares no signals", path)
    if not header.fs or header.fs <= 0:
        raise InputError(f"the WFDB header gives no valid sampling frequency ({header.fs})", path)
    if header.sig_len is None:
        raise InputError("the WFDB header gives no signal length", path)
    _check_signal_files(header, path)
    if header.samps_per_frame and any((s or 1) != 1 for s in header.samps_per_frame):
        raise InputError("WFDB records with several samples per frame are not supported", path)

    fs = float(header.fs)
    names = [n or f"ch{i}" for i, n in enumerate(header.sig_name or [None] * header.n_sig)]
    units_list = header.units or [""] * header.n_sig
    chans = tuple(
        Channel(n, str(u or ""), fs, units_to_uv_factor(u)) for n, u in zip(names, units_list)
    )
    rec = Recording(
        channels=override_units(chans, units, path),
        segments=(Segment(0, int(header.sig_len)),),
        backend=WfdbBackend(record_path, header.n_sig,
                            from_start=bool({str(f) for f in header.fmt or []} & DIFFERENCE_FORMATS)),
        events=_annotations(record_path, path.parent, path.stem),
        path=str(path),
        format="WFDB",
        streams=("signals",),
        annotations={
            "comments": list(header.comments or []),
            "wfdb_formats": sorted({str(f) for f in header.fmt or []}),
            "adc_gain": list(header.adc_gain or []),
            "baseline": list(header.baseline or []),
        },
    )
    return finish(rec, channels=channels)
