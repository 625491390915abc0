"""The one data model: :class:`Recording`.

A :class:`Recording` is one stream of one file (or of an in-memory array):
channels sampled at one rate, one or more segments (a continuous recording
has one; an epoched export has one per trial), and events (markers, event
channels, analog triggers, epoch stimuli). Samples are read lazily through a
backend with :meth:`Recording.get_traces` and :meth:`Recording.iter_chunks`,
always as float32 microvolts, so a 2 GB file is never loaded whole.

Layout: traces are ``(n_samples, n_channels)`` (time first, as in neo and
SpikeInterface).
"""

from __future__ import annotations

import logging
import math
import warnings
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field, replace
from os import PathLike
from typing import Any, Protocol

import numpy as np

from motorsign.errors import InputError, MotorsignWarning

__all__ = [
    "Channel",
    "Event",
    "Segment",
    "Chunk",
    "TraceBackend",
    "ArrayBackend",
    "Recording",
    "units_to_uv_factor",
]

log = logging.getLogger(__name__)

# Voltage units and their factor to microvolts. Keys are lower-cased and
# stripped; the micro sign has two code points (U+00B5, U+03BC).
_VOLT_FACTORS = {
    "v": 1e6,
    "volt": 1e6,
    "volts": 1e6,
    "mv": 1e3,
    "millivolt": 1e3,
    "millivolts": 1e3,
    "uv": 1.0,
    "\u00b5v": 1.0,
    "\u03bcv": 1.0,
    "microvolt": 1.0,
    "microvolts": 1.0,
    "nv": 1e-3,
    "kv": 1e9,
}


def units_to_uv_factor(units: str | None) -> float:
    """Factor that converts a value in ``units`` to microvolts.

    Parameters
    ----------
    units : str | None
        Units as written in a file header (``"mV"``, ``"uV"``, ``"µV"``,
        ``"V"``, ...). Case-insensitive for the prefix letter only where it
        is unambiguous (``"MV"`` is read as millivolts: megavolts do not
        occur in physiology).

    Returns
    -------
    float
        The factor, or NaN when ``units`` is missing or not a voltage.
    """
    if units is None:
        return math.nan
    key = str(units).strip().replace(" ", "").lower()
    if key.startswith("1.0*"):  # quantities' repr, e.g. "1.0*mV"
        key = key[4:]
    return _VOLT_FACTORS.get(key, math.nan)


@dataclass(frozen=True)
class Channel:
    """One recorded channel.

    Attributes
    ----------
    name : str
        Channel name as in the file.
    units : str
        Units as read from the file (``""`` when the file gives none).
    sampling_rate_hz : float
        Sampling rate.
    to_uv : float
        Factor from the backend's values (already in ``units``) to µV; NaN
        when ``units`` is missing or not a voltage (then traces are returned
        unscaled and :attr:`units_ok` is False).
    muscle, side : str | None
        Optional muscle (catalog name) and side (``"L"``/``"R"``).
    kind : str
        ``"emg"`` for signal channels, ``"trigger"`` for event/trigger
        channels, ``"misc"`` otherwise.
    """

    name: str
    units: str
    sampling_rate_hz: float
    to_uv: float = 1.0
    muscle: str | None = None
    side: str | None = None
    kind: str = "emg"

    @property
    def units_ok(self) -> bool:
        """True when the channel's units are a known voltage."""
        return math.isfinite(self.to_uv)


@dataclass(frozen=True)
class Event:
    """A labelled time point (a marker, a trigger, a stimulus).

    Attributes
    ----------
    label : str
        Event label (``"Stimulus/S  1"``, ``"TMS"``, a channel name).
    time_s : float
        Time from the start of its segment, in seconds.
    segment : int
        Segment index.
    source : str
        ``"marker"`` (file annotations), ``"event_channel"``,
        ``"analog"`` (edge on a signal), ``"epoch"`` (stimulus of an
        epoched array), ``"simulated"``.
    duration_s : float
        Duration (0 for point events).
    rounding_error_s : float
        Time between the true event time and the nearest sample, where known
        (analog triggers interpolate the crossing; markers are exact: 0).
    """

    label: str
    time_s: float
    segment: int = 0
    source: str = "marker"
    duration_s: float = 0.0
    rounding_error_s: float = 0.0


@dataclass(frozen=True)
class Segment:
    """A continuous run of samples (a whole recording, or one trial)."""

    index: int
    n_samples: int
    t_start_s: float = 0.0


@dataclass(frozen=True)
class Chunk:
    """A block of traces handed out by :meth:`Recording.iter_chunks`.

    ``traces[margin_before : margin_before + (stop - start)]`` are the
    samples ``start:stop`` of the segment; the margins let filters settle.
    """

    segment: int
    start: int
    stop: int
    margin_before: int
    margin_after: int
    traces: np.ndarray

    @property
    def core(self) -> np.ndarray:
        """The traces without margins."""
        return self.traces[self.margin_before : self.margin_before + (self.stop - self.start)]


class TraceBackend(Protocol):
    """What a reader supplies: values in the channels' own units."""

    def read(
        self, segment: int, start: int, stop: int, channel_indices: np.ndarray
    ) -> np.ndarray:
        """Return ``(stop - start, len(channel_indices))`` values (any float or int dtype)
        already scaled to each channel's ``units``."""
        ...


class ArrayBackend:
    """Backend over in-memory arrays, one ``(n_samples, n_channels)`` array per segment."""

    def __init__(self, segments: Sequence[np.ndarray]):
        self.segments = [np.asarray(s) for s in segments]

    def read(self, segment, start, stop, channel_indices):
        idx = np.asarray(channel_indices, dtype=np.int64)
        arr = self.segments[segment]
        if idx.size and np.all(np.diff(idx) == 1):
            # consecutive channels: a read-only view, no copy (callers that
            # change values in place must copy, as they must for file reads)
            view = arr[start:stop, int(idx[0]): int(idx[-1]) + 1]
            view.flags.writeable = False
            return view
        return arr[start:stop, idx]


@dataclass
class Recording:
    """One stream of a recording, read lazily, in microvolts.

    Use :func:`motorsign.read` to open a file, or :meth:`from_array` for data
    already in memory.

    Attributes
    ----------
    channels : tuple of Channel
    segments : tuple of Segment
    events : list of Event
    backend : TraceBackend
    path : str | None
        The file read (``None`` for arrays).
    format : str
        Reader name (``"BrainVision"``, ``"WFDB"``, ``"epoched-mat"``, ...).
    stream : str | None
        The stream's name where the file has several.
    streams : tuple of str
        All signal streams of the file.
    annotations : dict
        Anything else the reader found worth keeping (header comments,
        sidecar fields, stimulus intensities).
    warnings : list of str
        What the reader noticed and the user should know (missing units...).
    """

    channels: tuple[Channel, ...]
    segments: tuple[Segment, ...]
    backend: Any
    events: list[Event] = field(default_factory=list)
    path: str | None = None
    format: str = "array"
    stream: str | None = None
    streams: tuple[str, ...] = ()
    annotations: dict = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)

    # ------------------------------------------------------------------ build
    @classmethod
    def from_array(
        cls,
        data: np.ndarray | Sequence[np.ndarray],
        sampling_rate_hz: float,
        channel_names: Sequence[str] | None = None,
        *,
        units: str = "uV",
        events: Sequence[Event] | None = None,
        muscle: str | None = None,
        side: str | None = None,
        format: str = "array",
        path: str | PathLike | None = None,
        annotations: dict | None = None,
    ) -> Recording:
        """Build a recording from arrays.

        Parameters
        ----------
        data : array ``(n_samples, n_channels)`` | ``(n_samples,)`` | list of arrays
            One array per segment (a list), or a single segment.
        sampling_rate_hz : float
            Sampling rate.
        channel_names : sequence of str | None
            Defaults to ``ch0, ch1, ...``.
        units : str
            Units of ``data`` (converted to µV on read).
        events : sequence of Event | None
            Events (times from each segment's start).
        muscle, side : str | None
            Applied to every channel.
        """
        segs = list(data) if isinstance(data, (list, tuple)) else [data]
        arrays = []
        for s in segs:
            a = np.asarray(s)
            if a.ndim == 1:
                a = a[:, None]
            if a.ndim != 2:
                raise InputError(f"expected (n_samples, n_channels) arrays, got shape {a.shape}", path)
            arrays.append(a)
        n_ch = arrays[0].shape[1]
        if any(a.shape[1] != n_ch for a in arrays):
            raise InputError("segments have different channel counts", path)
        if not (np.isfinite(sampling_rate_hz) and sampling_rate_hz > 0):
            raise InputError(f"sampling rate must be positive, got {sampling_rate_hz}", path)
        names = list(channel_names) if channel_names is not None else [f"ch{i}" for i in range(n_ch)]
        if len(names) != n_ch:
            raise InputError(f"{len(names)} channel names for {n_ch} channels", path)
        factor = units_to_uv_factor(units)
        chans = tuple(
            Channel(n, units, float(sampling_rate_hz), factor, muscle, side) for n in names
        )
        rec = cls(
            channels=chans,
            segments=tuple(Segment(i, a.shape[0]) for i, a in enumerate(arrays)),
            backend=ArrayBackend(arrays),
            events=list(events or []),
            path=None if path is None else str(path),
            format=format,
            annotations=dict(annotations or {}),
        )
        rec._check_units()
        return rec

    def _check_units(self) -> None:
        bad = [c.name for c in self.channels if c.kind == "emg" and not c.units_ok]
        if bad:
            units = sorted({repr(c.units) for c in self.channels if c.name in bad})
            msg = (
                f"channel(s) {', '.join(bad[:8])}{' ...' if len(bad) > 8 else ''} have units "
                f"{', '.join(units)} which are not a voltage: values are returned unscaled, "
                "not in microvolts"
            )
            self.warnings.append(msg)
            warnings.warn(f"{self.path or 'recording'}: {msg}", MotorsignWarning, stacklevel=3)

    # ------------------------------------------------------------- properties
    @property
    def sampling_rate_hz(self) -> float:
        """The stream's sampling rate (all channels share it)."""
        return self.channels[0].sampling_rate_hz if self.channels else math.nan

    @property
    def channel_names(self) -> list[str]:
        return [c.name for c in self.channels]

    @property
    def n_channels(self) -> int:
        return len(self.channels)

    @property
    def n_segments(self) -> int:
        return len(self.segments)

    def n_samples(self, segment: int = 0) -> int:
        """Number of samples of a segment."""
        return self.segments[segment].n_samples

    def duration_s(self, segment: int | None = None) -> float:
        """Duration of one segment, or of all segments together (``None``)."""
        if segment is None:
            return sum(s.n_samples for s in self.segments) / self.sampling_rate_hz
        return self.segments[segment].n_samples / self.sampling_rate_hz

    def channel_index(self, channels: str | int | Sequence[str | int] | None) -> np.ndarray:
        """Indices of channels given by name or index (``None``: all)."""
        if channels is None:
            return np.arange(self.n_channels)
        if isinstance(channels, (str, int, np.integer)):
            channels = [channels]
        names = self.channel_names
        out = []
        for c in channels:
            if isinstance(c, (int, np.integer)):
                if not 0 <= int(c) < self.n_channels:
                    raise InputError(
                        f"channel index {c} out of range (0..{self.n_channels - 1})", self.path
                    )
                out.append(int(c))
            elif c in names:
                out.append(names.index(c))
            else:
                raise InputError(
                    f"no channel named {c!r}; channels are: {', '.join(names)}", self.path
                )
        return np.asarray(out, dtype=np.int64)

    def events_for(self, label: str | None = None, segment: int | None = None) -> list[Event]:
        """Events with a label (all when ``None``), optionally of one segment."""
        return [
            e
            for e in self.events
            if (label is None or e.label == label) and (segment is None or e.segment == segment)
        ]

    def event_labels(self) -> dict[str, int]:
        """Event label -> count."""
        counts: dict[str, int] = {}
        for e in self.events:
            counts[e.label] = counts.get(e.label, 0) + 1
        return counts

    # ------------------------------------------------------------------ read
    def get_traces(
        self,
        start: int = 0,
        stop: int | None = None,
        channels: str | int | Sequence[str | int] | None = None,
        segment: int = 0,
    ) -> np.ndarray:
        """Read samples ``start:stop`` of a segment as float32 microvolts.

        Parameters
        ----------
        start, stop : int
            Sample range (``stop=None``: to the end). Clipped to the segment.
        channels : names or indices | None
            Channels to read (``None``: all).
        segment : int
            Segment index.

        Returns
        -------
        ndarray, shape (n_samples, n_channels), float32
        """
        if not 0 <= segment < self.n_segments:
            raise InputError(f"segment {segment} out of range (0..{self.n_segments - 1})", self.path)
        n = self.segments[segment].n_samples
        stop = n if stop is None else min(int(stop), n)
        start = max(0, int(start))
        idx = self.channel_index(channels)
        if stop <= start:
            return np.zeros((0, len(idx)), dtype=np.float32)
        raw = self.backend.read(segment, start, stop, idx)
        out = np.asarray(raw, dtype=np.float32)
        if out.shape != (stop - start, len(idx)):
            raise InputError(
                f"the file holds fewer samples than its header says (asked {start}:{stop} of "
                f"segment {segment}, got {out.shape[0]}): truncated or corrupt",
                self.path,
            )
        factors = np.array([self.channels[i].to_uv for i in idx], dtype=np.float32)
        factors = np.where(np.isfinite(factors), factors, np.float32(1.0))
        if not np.all(factors == 1.0):
            if out is raw or np.shares_memory(out, raw):
                out = out.copy()
            out *= factors
        return out

    def iter_chunks(
        self,
        chunk_samples: int,
        margin_samples: int = 0,
        channels: str | int | Sequence[str | int] | None = None,
        segment: int = 0,
    ) -> Iterator[Chunk]:
        """Yield consecutive chunks of a segment with margins on both sides.

        Memory stays bounded by ``chunk_samples + 2 * margin_samples`` rows.
        Margins are truncated at the segment's ends (not padded).
        """
        if chunk_samples <= 0:
            raise ValueError("chunk_samples must be positive")
        n = self.segments[segment].n_samples
        for start in range(0, n, chunk_samples):
            stop = min(start + chunk_samples, n)
            a = max(0, start - margin_samples)
            b = min(n, stop + margin_samples)
            yield Chunk(segment, start, stop, start - a, b - stop, self.get_traces(a, b, channels, segment))

    # ---------------------------------------------------------------- derive
    def with_metadata(self, *, muscle: str | None = None, side: str | None = None,
                      channels: Sequence[str] | None = None) -> Recording:
        """A copy whose channels (all, or those named) carry ``muscle`` and ``side``."""
        sel = set(self.channel_names if channels is None else channels)
        chans = tuple(
            replace(c, muscle=muscle if muscle is not None else c.muscle,
                    side=side if side is not None else c.side) if c.name in sel else c
            for c in self.channels
        )
        return replace(self, channels=chans)

    def __repr__(self) -> str:
        return (
            f"<Recording {self.format} {self.path or '(array)'}: {self.n_channels} ch @ "
            f"{self.sampling_rate_hz:g} Hz, {self.n_segments} segment(s), "
            f"{self.duration_s():.3f} s, {len(self.events)} events>"
        )

    # ------------------------------------------------------------------ MNE
    def to_mne(self, segment: int = 0, channels: Sequence[str] | None = None):
        """This segment as an :class:`mne.io.RawArray` with ``emg`` channel types.

        Signals are converted to volts (MNE's unit); events become
        annotations. Loads the segment into memory.
        """
        import mne

        idx = self.channel_index(channels)
        data = self.get_traces(0, None, idx, segment).T.astype(np.float64) * 1e-6
        names = [self.channels[i].name for i in idx]
        info = mne.create_info(names, self.sampling_rate_hz, ch_types="emg")
        raw = mne.io.RawArray(data, info, verbose="error")
        evs = self.events_for(segment=segment)
        if evs:
            raw.set_annotations(
                mne.Annotations(
                    onset=[e.time_s for e in evs],
                    duration=[e.duration_s for e in evs],
                    description=[e.label for e in evs],
                )
            )
        return raw

    def to_mne_epochs(self, label: str, tmin: float = -0.05, tmax: float = 0.1,
                      channels: Sequence[str] | None = None, baseline=None):
        """Epochs around the events with ``label`` as :class:`mne.Epochs`.

        Continuous recordings are cut around the events; an epoched recording
        (one segment per trial) is returned trial by trial with the stimulus
        event as time zero.
        """
        import mne

        idx = self.channel_index(channels)
        names = [self.channels[i].name for i in idx]
        info = mne.create_info(names, self.sampling_rate_hz, ch_types="emg")
        fs = self.sampling_rate_hz
        pre, post = int(round(-tmin * fs)), int(round(tmax * fs))
        trials = []
        for e in self.events_for(label):
            s = int(round(e.time_s * fs))
            if s - pre < 0 or s + post + 1 > self.n_samples(e.segment):
                continue
            trials.append(self.get_traces(s - pre, s + post + 1, idx, e.segment).T * 1e-6)
        if not trials:
            raise InputError(f"no complete epoch around events {label!r}", self.path)
        return mne.EpochsArray(np.stack(trials), info, tmin=-pre / fs, baseline=baseline,
                               verbose="error")
