"""NWB 2 files (``.nwb``, HDF5) read lazily with h5py.

neo 0.14 has no ``rawio`` for NWB (its ``NWBIO`` loads whole objects through
pynwb), so NWB is read here straight from the HDF5 layout the NWB schema
fixes: every ``TimeSeries`` under ``/acquisition`` with a sampling rate is a
signal stream; ``data`` is scaled by its ``conversion`` and ``offset``
attributes (and an ``ElectricalSeries``' ``channel_conversion``) into its
``unit``; channel names come from the electrodes table (``label``, else
``location`` + id). ``AnnotationSeries`` and the rows of the tables under
``/intervals`` (``trials``, ``epochs``, ...) become events. Samples are
sliced from the HDF5 dataset block by block.
"""

from __future__ import annotations

import logging
import math
from pathlib import Path

import numpy as np

from motorsign.errors import InputError
from motorsign.io._common import finish, override_units, warn
from motorsign.recording import Channel, Event, Recording, Segment, units_to_uv_factor

__all__ = ["read_nwb", "NwbBackend"]

log = logging.getLogger(__name__)

#: relative spread of timestamp intervals accepted as a regular sampling grid
TIMESTAMP_JITTER = 1e-3


def _text(value) -> str:
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="replace")
    if isinstance(value, np.ndarray) and value.shape == ():
        return _text(value[()])
    return str(value)


class NwbBackend:
    """Block reads of one NWB ``data`` dataset (time first)."""

    def __init__(self, path: str, dataset: str, conversion: float, offset: float,
                 channel_conversion: np.ndarray | None):
        self.path = path
        self.dataset = dataset
        self.conversion = conversion
        self.offset = offset
        self.channel_conversion = channel_conversion
        self._file = None

    def _ds(self):
        if self._file is None:
            import h5py

            self._file = h5py.File(self.path, "r")
        return self._file[self.dataset]

    def __getstate__(self):
        state = dict(self.__dict__)
        state["_file"] = None
        return state

    def read(self, segment, start, stop, channel_indices):
        ds = self._ds()
        idx = np.asarray(channel_indices, dtype=np.int64)
        if ds.ndim == 1:
            block = np.asarray(ds[int(start):int(stop)], dtype=np.float64)[:, None]
            block = block[:, np.zeros(len(idx), dtype=np.int64)]
        else:
            lo, hi = int(idx.min()), int(idx.max()) + 1
            block = np.asarray(ds[int(start):int(stop), lo:hi], dtype=np.float64)[:, idx - lo]
        block = block * self.conversion + self.offset
        if self.channel_conversion is not None:
            block = block * self.channel_conversion[idx]
        return block


def _series(f) -> dict[str, object]:
    out = {}
    acq = f.get("acquisition")
    if acq is None:
        return out
    for name, obj in acq.items():
        if hasattr(obj, "keys") and "data" in obj and ("starting_time" in obj or "timestamps" in obj):
            data = obj["data"]
            if data.dtype.kind in "iuf" and data.ndim in (1, 2):
                out[name] = obj
    return out


def _rate_and_start(group, path: Path) -> tuple[float, float]:
    if "starting_time" in group:
        st = group["starting_time"]
        rate = float(st.attrs.get("rate", math.nan))
        return rate, float(st[()])
    ts = group["timestamps"]
    n = min(len(ts), 10_000)
    if n < 2:
        raise InputError(f"series {group.name} has fewer than 2 timestamps", path)
    t = np.asarray(ts[:n], dtype=np.float64)
    dt = np.diff(t)
    if np.any(dt <= 0) or (dt.max() - dt.min()) > TIMESTAMP_JITTER * dt.mean():
        raise InputError(f"series {group.name} is not sampled at a regular rate", path)
    return 1.0 / float(dt.mean()), float(t[0])


def _channel_names(f, group, n_ch: int) -> list[str]:
    if "electrodes" not in group:
        base = group.name.rsplit("/", 1)[-1]
        return [base] if n_ch == 1 else [f"{base}_{i}" for i in range(n_ch)]
    rows = np.asarray(group["electrodes"][()], dtype=np.int64)
    table_ref = group["electrodes"].attrs.get("table")
    table = f[table_ref] if table_ref is not None else f["general/extracellular_ephys/electrodes"]
    names = []
    for k, r in enumerate(rows):
        if "label" in table:
            names.append(_text(table["label"][r]))
        elif "location" in table:
            ident = int(table["id"][r]) if "id" in table else k
            names.append(f"{_text(table['location'][r])}_{ident}")
        else:
            names.append(f"e{int(table['id'][r]) if 'id' in table else k}")
    return names


def _events(f, t0: float) -> list[Event]:
    events: list[Event] = []
    for grp_name in ("acquisition", "stimulus/presentation"):
        grp = f.get(grp_name)
        if grp is None:
            continue
        for name, obj in grp.items():
            if _text(obj.attrs.get("neurodata_type", "")) != "AnnotationSeries":
                continue
            texts = [_text(x) for x in obj["data"][()]]
            times = np.asarray(obj["timestamps"][()], dtype=np.float64)
            events += [Event(f"{name}/{tx}" if tx else name, float(t) - t0)
                       for tx, t in zip(texts, times)]
    intervals = f.get("intervals")
    if intervals is not None:
        for name, table in intervals.items():
            if "start_time" not in table:
                continue
            start = np.asarray(table["start_time"][()], dtype=np.float64)
            stop = (np.asarray(table["stop_time"][()], dtype=np.float64)
                    if "stop_time" in table else start)
            events += [Event(name, float(a) - t0, duration_s=max(0.0, float(b - a)))
                       for a, b in zip(start, stop)]
    events.sort(key=lambda e: e.time_s)
    return events


def read_nwb(path: Path, spec=None, *, stream=None, units: str | None = None, channels=None,
             **_ignored) -> Recording:
    """Open an NWB file.

    Parameters
    ----------
    path : Path
        The ``.nwb`` file.
    stream : str | int | None
        Name or index of the acquisition series; needed when several are in volts.
    units : str | None
        Override the series' unit.
    channels : names | indices | None
        Keep only these channels.

    Returns
    -------
    Recording
    """
    import h5py

    try:
        f = h5py.File(str(path), "r")
    except Exception as exc:
        raise InputError(f"cannot open this NWB file: not HDF5, corrupt or truncated ({exc})",
                         path) from exc
    with f:
        series = _series(f)
        if not series:
            raise InputError("the NWB file has no sampled series under /acquisition", path)
        names = list(series)
        listing = "; ".join(f"{i}: {n!r}" for i, n in enumerate(names))
        if stream is not None:
            key = str(stream)
            if key in names:
                chosen = key
            elif key.isdigit() and int(key) < len(names):
                chosen = names[int(key)]
            else:
                raise InputError(f"no signal stream {stream!r}; streams are: {listing}", path)
        elif len(names) == 1:
            chosen = names[0]
        else:
            volts = [n for n in names if math.isfinite(units_to_uv_factor(
                _text(series[n]["data"].attrs.get("unit", ""))))]
            if len(volts) != 1:
                raise InputError(f"the file has {len(names)} signal streams; choose one with "
                                 f"stream=/--stream: {listing}", path)
            chosen = volts[0]
        g = series[chosen]
        data = g["data"]
        fs, t0 = _rate_and_start(g, path)
        if not (math.isfinite(fs) and fs > 0):
            raise InputError(f"series {chosen!r} has no valid sampling rate", path)
        n_ch = 1 if data.ndim == 1 else int(data.shape[1])
        unit = _text(data.attrs.get("unit", ""))
        conv = float(data.attrs.get("conversion", 1.0))
        off = float(data.attrs.get("offset", 0.0))
        ch_conv = (np.asarray(g["channel_conversion"][()], dtype=np.float64)
                   if "channel_conversion" in g else None)
        chan_names = _channel_names(f, g, n_ch)
        events = _events(f, t0)
        kind = _text(g.attrs.get("neurodata_type", "TimeSeries"))
        n = int(data.shape[0])
        ds_name = data.name
    if n == 0:
        raise InputError(f"series {chosen!r} holds no samples", path)
    chans = tuple(Channel(nm, unit, fs, units_to_uv_factor(unit)) for nm in chan_names)
    rec = Recording(
        channels=override_units(chans, units, path),
        segments=(Segment(0, n, t0),),
        backend=NwbBackend(str(path), ds_name, conv, off, ch_conv),
        events=events,
        path=str(path),
        format="NWB",
        stream=chosen,
        streams=tuple(names),
        annotations={"neurodata_type": kind, "conversion": conv, "offset": off},
    )
    if any(e.time_s < 0 for e in events):
        warn(rec.warnings, path, "some events precede the series' first sample")
    return finish(rec, channels=channels)
