"""Readers built on ``neo.rawio`` (BrainVision, EDF/BDF, Spike2, Axon, Intan, Micromed, WinEDR).

Samples are read lazily through ``get_analogsignal_chunk`` and rescaled with
the reader's gain and offset, so only the asked-for block is ever in memory.
Event channels and annotations become :class:`~motorsign.recording.Event`
objects with times from the start of their segment; per-format position
conventions are corrected here (BrainVision keeps the 1-based ``.vmrk``
positions in neo: they are moved back by one sample).
"""

from __future__ import annotations

import logging
import math
import os
from dataclasses import replace
from pathlib import Path

import numpy as np

from motorsign.errors import InputError
from motorsign.io._common import finish, override_units, warn
from motorsign.io.formats import FormatSpec
from motorsign.recording import Channel, Event, Recording, Segment, units_to_uv_factor

__all__ = ["read_neo", "NeoBackend", "open_rawio"]

log = logging.getLogger(__name__)


class NeoBackend:
    """Chunked reads of one signal stream of a ``neo.rawio`` reader.

    Parameters
    ----------
    rawio : neo.rawio.BaseRawIO
        A reader whose header is parsed.
    stream_index : int
        The stream read.
    seg_map : list of (block, segment)
        motorsign segment index -> neo (block, segment).
    """

    def __init__(self, rawio, stream_index: int, seg_map: list[tuple[int, int]]):
        self.rawio = rawio
        self.stream_index = int(stream_index)
        self.seg_map = list(seg_map)

    def read(self, segment, start, stop, channel_indices):
        block, seg = self.seg_map[segment]
        idx = np.asarray(channel_indices, dtype=np.int64)
        raw = self.rawio.get_analogsignal_chunk(
            block_index=block, seg_index=seg, i_start=int(start), i_stop=int(stop),
            stream_index=self.stream_index, channel_indexes=idx,
        )
        return self.rawio.rescale_signal_raw_to_float(
            raw, dtype="float64", stream_index=self.stream_index, channel_indexes=idx
        )


class EdfBackend:
    """EDF/BDF samples through the pyedflib reader neo opened, scaled by the EDF rule.

    neo 0.14's ``EDFRawIO`` casts every sample to int16 (BDF's 24-bit samples
    wrap around) and divides the physical range by ``digital range + 1``.
    Here the digital samples are read with ``readSignal(digital=True)`` and
    converted with ``phys_min + (d - dig_min) * (phys_max - phys_min) /
    (dig_max - dig_min)``, in the channel's own units.
    """

    def __init__(self, rawio, stream_index: int):
        self.path = rawio.filename
        self._reader = None
        self.file_channels = np.asarray(rawio.stream_idx_to_chidx[stream_index], dtype=np.int64)
        heads = rawio.signal_headers
        self.dmin = np.array([float(heads[c]["digital_min"]) for c in self.file_channels])
        dmax = np.array([float(heads[c]["digital_max"]) for c in self.file_channels])
        self.pmin = np.array([float(heads[c]["physical_min"]) for c in self.file_channels])
        pmax = np.array([float(heads[c]["physical_max"]) for c in self.file_channels])
        span = dmax - self.dmin
        self.gain = np.where(span != 0, (pmax - self.pmin) / np.where(span != 0, span, 1), np.nan)

    @property
    def reader(self):
        """pyedflib reader, opened on first use (neo closes its own after parsing)."""
        if self._reader is None:
            from pyedflib import EdfReader

            self._reader = EdfReader(str(self.path))
        return self._reader

    def __getstate__(self):
        state = dict(self.__dict__)
        state["_reader"] = None
        return state

    def read(self, segment, start, stop, channel_indices):
        idx = np.asarray(channel_indices, dtype=np.int64)
        out = np.empty((int(stop) - int(start), len(idx)), dtype=np.float64)
        for k, i in enumerate(idx):
            d = self.reader.readSignal(int(self.file_channels[i]), start=int(start),
                                       n=int(stop) - int(start), digital=True)
            out[: len(d), k] = (np.asarray(d, dtype=np.float64) - self.dmin[i]) * self.gain[i] \
                + self.pmin[i]
            if len(d) < out.shape[0]:
                return out[: len(d)]
        return out


class EpisodeSplitBackend:
    """One long segment cut into equal episodes (segment ``i`` = samples ``i*L:(i+1)*L``)."""

    def __init__(self, base, episode_samples: int):
        self.base = base
        self.length = int(episode_samples)

    def read(self, segment, start, stop, channel_indices):
        off = int(segment) * self.length
        return self.base.read(0, off + int(start), off + int(stop), channel_indices)


def _abf_episodes(reader, segments) -> int:
    """Episode length when neo merged an episodic ABF1 file into one segment, else 0.

    Fixed-length episodic ABF files (operation mode 5) written without a
    synch array (pyabf's writer, some converters) come out of neo as one
    segment holding every episode end to end.
    """
    info = getattr(reader, "_axon_info", None)
    if not info or len(segments) != 1:
        return 0
    n_ep = int(info.get("lActualEpisodes", 0) or 0)
    n_ch = int(info.get("nADCNumChannels", 1) or 1)
    per_ep = int(info.get("lNumSamplesPerEpisode", 0) or 0) // max(n_ch, 1)
    if (info.get("nOperationMode") == 5 and int(info.get("lSynchArraySize", 0) or 0) == 0
            and n_ep > 1 and per_ep > 0 and segments[0].n_samples == n_ep * per_ep):
        return per_ep
    return 0


def open_rawio(path: Path, spec: FormatSpec):
    """Instantiate and parse the neo rawio class of ``spec`` for ``path``.

    Raises
    ------
    InputError
        When neo cannot parse the file (corrupt, truncated, wrong format) or a
        library the reader needs is missing.
    """
    import neo.rawio

    cls = getattr(neo.rawio, spec.neo_class)
    try:
        reader = cls(filename=str(path))
        reader.parse_header()
    except ImportError as exc:
        raise InputError(
            f"reading {spec.name} needs a library that is not installed ({exc})", path
        ) from exc
    except FileNotFoundError as exc:  # a companion file (.eeg/.vmrk, ...) the header names
        missing = Path(exc.filename).name if exc.filename else "a companion file"
        raise InputError(
            f"{missing} not found next to it: the {spec.name} recording needs it "
            "(same folder, the name given in the header)",
            path,
        ) from exc
    except Exception as exc:  # neo raises anything from struct.error to KeyError
        detail = " ".join(str(exc).split()) or type(exc).__name__
        raise InputError(
            f"cannot read this {spec.name} file: it is corrupt, truncated or not "
            f"{spec.name} ({type(exc).__name__}: {detail[:200]})",
            path,
        ) from exc
    return reader


def stream_table(reader) -> list[dict]:
    """One dict per neo signal stream: index, name, id, channel count, rate, units."""
    sig = reader.header["signal_channels"]
    out = []
    for i, st in enumerate(reader.header["signal_streams"]):
        rows = sig[sig["stream_id"] == st["id"]]
        out.append({
            "index": i,
            "name": str(st["name"]),
            "id": str(st["id"]),
            "n_channels": int(len(rows)),
            "sampling_rate_hz": float(rows["sampling_rate"][0]) if len(rows) else None,
            "units": sorted({str(u) for u in rows["units"]}),
        })
    return out


class StreamGroup:
    """The neo streams that make one motorsign stream (usually exactly one).

    neo splits a Spike2 file into one stream per distinct gain/offset/units;
    channels that share rate and length are one recording for motorsign, so
    for formats with ``merge_streams`` such neo streams are grouped.
    """

    def __init__(self, members: list[int], name: str, ids: list[str]):
        self.members = members
        self.name = name
        self.ids = ids


def _stream_groups(reader, merge: bool) -> list[StreamGroup]:
    table = stream_table(reader)
    if not merge or len(table) < 2:
        return [StreamGroup([t["index"]], t["name"], [t["id"], t["name"]]) for t in table]
    groups: dict[tuple, list[int]] = {}
    for t in table:
        i = t["index"]
        sizes = tuple(
            int(reader.get_signal_size(block_index=b, seg_index=s, stream_index=i))
            for b in range(reader.block_count()) for s in range(reader.segment_count(b))
        )
        groups.setdefault((t["sampling_rate_hz"], sizes), []).append(i)
    out = []
    for (fs, _), members in groups.items():
        if len(members) == 1:
            t = table[members[0]]
            out.append(StreamGroup(members, t["name"], [t["id"], t["name"]]))
        else:
            ids = [table[m]["id"] for m in members] + [table[m]["name"] for m in members]
            out.append(StreamGroup(members, f"signals @ {fs:g} Hz", ids))
    return out


def _choose_stream(reader, groups: list[StreamGroup], stream, path: Path, *,
                   first_if_ambiguous: bool = False) -> int:
    n = len(groups)
    if n == 0:
        raise InputError("the file holds no continuous signal stream", path)
    names = [g.name for g in groups]
    listing = "; ".join(f"{i}: {nm!r}" for i, nm in enumerate(names))
    if stream is not None:
        key = str(stream)
        if key in names:
            return names.index(key)
        for i, g in enumerate(groups):
            if key in g.ids:
                return i
        if key.lstrip("-").isdigit() and 0 <= int(key) < n:
            return int(key)
        raise InputError(f"no signal stream {stream!r}; streams are: {listing}", path)
    if n == 1:
        return 0
    sig = reader.header["signal_channels"]
    streams = reader.header["signal_streams"]
    emg_like = []
    for i, g in enumerate(groups):
        units = [u for m in g.members for u in sig["units"][sig["stream_id"] == streams[m]["id"]]]
        if units and all(math.isfinite(units_to_uv_factor(u)) for u in units):
            emg_like.append(i)
    if len(emg_like) == 1:
        log.info("%s: using stream %r, the only one in volts", path, names[emg_like[0]])
        return emg_like[0]
    if first_if_ambiguous:
        return emg_like[0] if emg_like else 0
    raise InputError(
        f"the file has {n} signal streams; choose one with stream=/--stream: {listing}", path
    )


class GroupBackend:
    """Columns gathered from several neo streams of equal rate and length."""

    def __init__(self, parts: list, columns: list[tuple[int, int]]):
        self.parts = parts  # one NeoBackend per member stream
        self.columns = columns  # motorsign channel -> (part, channel index in that stream)

    def read(self, segment, start, stop, channel_indices):
        idx = np.asarray(channel_indices, dtype=np.int64)
        out = np.empty((int(stop) - int(start), len(idx)), dtype=np.float64)
        wanted: dict[int, list[tuple[int, int]]] = {}
        for k, c in enumerate(idx):
            part, local = self.columns[int(c)]
            wanted.setdefault(part, []).append((k, local))
        for part, pairs in wanted.items():
            block = self.parts[part].read(segment, start, stop, [lc for _, lc in pairs])
            if block.shape[0] != out.shape[0]:
                return block  # short read: Recording reports the truncation
            out[:, [k for k, _ in pairs]] = block
        return out


def _check_raw_buffers(reader, path: Path) -> None:
    """Refuse raw binary buffers whose file size is not a whole number of frames."""
    desc = getattr(reader, "_buffer_descriptions", None)
    if not isinstance(desc, dict):
        return
    for blocks in desc.values():
        for segs in blocks.values():
            for buf in segs.values():
                if buf.get("type") != "raw" or "file_path" not in buf:
                    continue
                fpath = buf["file_path"]
                try:
                    size = os.path.getsize(fpath) - int(buf.get("file_offset", 0))
                except OSError:
                    continue
                shape = buf.get("shape")
                itemsize = np.dtype(buf["dtype"]).itemsize
                if not shape:
                    continue
                n_ch = shape[1] if buf.get("time_axis", 0) == 0 else shape[0]
                frame = int(n_ch) * itemsize
                if frame and size % frame:
                    raise InputError(
                        f"data file {Path(fpath).name} holds {size} bytes, not a whole number "
                        f"of {n_ch}-channel frames of {itemsize}-byte samples: truncated or "
                        "corrupt, or the header's channel count/format is wrong",
                        path,
                    )


def _brainvision_resolutions(path: Path) -> dict[int, float]:
    """Per-channel resolution of a float BrainVision file (neo ignores it for floats)."""
    from neo.rawio.brainvisionrawio import read_brainvsion_soup

    head = read_brainvsion_soup(str(path))
    if head.get("Binary Infos", {}).get("BinaryFormat") != "IEEE_FLOAT_32":
        return {}
    out = {}
    for key, value in head.get("Channel Infos", {}).items():
        if not key.lower().startswith("ch"):
            continue
        parts = value.split(",")
        if len(parts) >= 3 and parts[2].strip():
            try:
                res = float(parts[2])
            except ValueError:
                continue
            if res != 1.0:
                out[int(key[2:]) - 1] = res
    return out


def _label(channel_name: str, label: str) -> str:
    channel_name, label = channel_name.strip(), label.strip()
    if channel_name and label:
        return f"{channel_name}/{label}"
    return channel_name or label or "event"


def _unescape_bv(text: str) -> str:
    return text.replace(r"\1", ",")


def read_neo(path: Path, spec: FormatSpec, *, stream=None, units: str | None = None,
             channels=None, first_stream_if_ambiguous: bool = False, **_ignored) -> Recording:
    """Open a file with its ``neo.rawio`` class.

    Parameters
    ----------
    path : Path
        The file.
    spec : FormatSpec
        Its format (from :data:`motorsign.io.formats.FORMATS`).
    stream : str | int | None
        Stream name, id or index; needed when the file has several
        voltage streams.
    units : str | None
        Override the channels' units (when the file has none).
    channels : names | indices | ``"A,B"`` | None
        Keep only these channels.
    first_stream_if_ambiguous : bool
        For ``info``: open the first voltage stream instead of failing when
        several could be meant (a warning says so).

    Returns
    -------
    Recording
    """
    reader = open_rawio(path, spec)
    _check_raw_buffers(reader, path)
    groups = _stream_groups(reader, spec.merge_streams)
    gi = _choose_stream(reader, groups, stream, path,
                        first_if_ambiguous=first_stream_if_ambiguous)
    group = groups[gi]
    si = group.members[0]
    streams = reader.header["signal_streams"]
    all_sig = reader.header["signal_channels"]
    is_bv = spec.name == "BrainVision"
    res = _brainvision_resolutions(path) if is_bv else {}

    chans = []
    columns: list[tuple[int, int]] = []
    for part, m in enumerate(group.members):
        sig = all_sig[all_sig["stream_id"] == streams[m]["id"]]
        for local, row in enumerate(sig):
            i = len(chans)
            name = str(row["name"])
            u = str(row["units"]).strip()
            if is_bv:
                name = _unescape_bv(name)
                if u == "u":  # neo's stand-in when the header omits the unit; the spec says µV
                    u = "µV"
            factor = units_to_uv_factor(u) * res.get(i, 1.0)
            chans.append(Channel(name or f"ch{i}", u, float(row["sampling_rate"]), factor))
            columns.append((part, local))
    fs = chans[0].sampling_rate_hz

    seg_map: list[tuple[int, int]] = []
    segments = []
    for b in range(reader.block_count()):
        for s in range(reader.segment_count(b)):
            n = int(reader.get_signal_size(block_index=b, seg_index=s, stream_index=si))
            t0 = float(reader.get_signal_t_start(block_index=b, seg_index=s, stream_index=si))
            segments.append(Segment(len(seg_map), n, t0))
            seg_map.append((b, s))
    if not segments or all(s.n_samples == 0 for s in segments):
        raise InputError(f"the {spec.name} file holds no samples", path)

    events = _read_events(reader, seg_map, segments, fs, spec, is_bv)
    if spec.neo_class == "EDFRawIO":
        backend = EdfBackend(reader, si)
    elif len(group.members) == 1:
        backend = NeoBackend(reader, si, seg_map)
    else:
        backend = GroupBackend([NeoBackend(reader, m, seg_map) for m in group.members], columns)
    episode = _abf_episodes(reader, segments) if spec.neo_class == "AxonRawIO" else 0
    if episode:
        n_ep = segments[0].n_samples // episode
        segments = [Segment(i, episode, segments[0].t_start_s + i * episode / fs)
                    for i in range(n_ep)]
        backend = EpisodeSplitBackend(backend, episode)
        events = [replace(e, segment=int(e.time_s * fs) // episode,
                          time_s=e.time_s - (int(e.time_s * fs) // episode) * episode / fs)
                  for e in events]
    rec = Recording(
        channels=override_units(chans, units, path),
        segments=tuple(segments),
        backend=backend,
        events=events,
        path=str(path),
        format=spec.name,
        stream=group.name,
        streams=tuple(g.name for g in groups),
        annotations={"neo_class": spec.neo_class, "streams": [
            {"index": i, "name": g.name, "neo_streams": [int(m) for m in g.members],
             "n_channels": int(sum((all_sig["stream_id"] == streams[m]["id"]).sum()
                                   for m in g.members)),
             "sampling_rate_hz": float(all_sig["sampling_rate"][
                 all_sig["stream_id"] == streams[g.members[0]]["id"]][0]),
             "units": sorted({str(u) for m in g.members for u in
                              all_sig["units"][all_sig["stream_id"] == streams[m]["id"]]})}
            for i, g in enumerate(groups)]},
    )
    if stream is None and len(groups) > 1 and first_stream_if_ambiguous:
        try:
            _choose_stream(reader, groups, None, path)
        except InputError:
            warn(rec.warnings, path, f"the file has {len(groups)} signal streams; showing "
                 f"{rec.stream!r}: choose with stream=/--stream")
    if len(set(c.sampling_rate_hz for c in rec.channels)) > 1:
        raise InputError("channels of one stream have different sampling rates", path)
    if is_bv:
        late = [e for e in events if e.segment < len(segments)
                and e.time_s * fs > segments[e.segment].n_samples]
        if late:
            warn(rec.warnings, path, f"{len(late)} marker(s) lie after the end of the data "
                 f"({rec.duration_s():g} s): is the .eeg file truncated?")
    if res:
        rec.annotations["brainvision_resolution"] = {chans[i].name: r for i, r in res.items()}
    if reader.header.get("spike_channels") is not None and len(reader.header["spike_channels"]):
        warn(rec.warnings, path, f"{len(reader.header['spike_channels'])} spike channel(s) ignored")
    return finish(rec, channels=channels)


def _read_events(reader, seg_map, segments, fs, spec: FormatSpec, is_bv: bool) -> list[Event]:
    events: list[Event] = []
    ev_chans = reader.header["event_channels"]
    shift_s = spec.marker_offset_samples / fs
    for k, ch in enumerate(ev_chans):
        ch_name = str(ch["name"])
        is_epoch = str(ch["type"]) in ("epoch", "b'epoch'")
        for seg_index, (b, s) in enumerate(seg_map):
            if reader.event_count(block_index=b, seg_index=s, event_channel_index=k) == 0:
                continue
            ts, durs, labels = reader.get_event_timestamps(
                block_index=b, seg_index=s, event_channel_index=k
            )
            times = reader.rescale_event_timestamp(ts, dtype="float64", event_channel_index=k)
            if is_epoch and durs is not None:
                d = reader.rescale_epoch_duration(durs, dtype="float64", event_channel_index=k)
            else:
                d = np.zeros(len(times))
            t0 = segments[seg_index].t_start_s
            for t, dur, lab in zip(times, d, labels):
                lab = lab.decode("latin-1") if isinstance(lab, bytes) else str(lab)
                label = _label(ch_name if spec.label_with_channel else "", lab)
                if is_bv:
                    label = _unescape_bv(label)
                events.append(Event(label=label, time_s=float(t) - t0 - shift_s,
                                    segment=seg_index, source="marker",
                                    duration_s=max(0.0, float(dur))))
    events.sort(key=lambda e: (e.segment, e.time_s))
    return [replace(e, time_s=round(e.time_s, 12)) for e in events]
