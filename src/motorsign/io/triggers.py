"""Trigger specifications -> stimulus events.

A trigger spec (``--trigger SPEC``) is one of:

* an event label, in full (``"Stimulus/TMS"``) or, when only one label
  carries it, the description alone (``"TMS"``);
* an event-channel name (every event of that channel: ``"Stimulus"``
  selects ``"Stimulus/S  1"`` and ``"Stimulus/S  2"``); a signal channel of
  kind ``trigger`` is read with the analog detector;
* ``analog:CHANNEL[:THRESHOLD]``: rising edges on a recorded signal.

When nothing matches exactly, a label, description or event channel equal to
the spec up to whitespace and case is taken (``"S 1"`` or ``"s1"`` for
BrainVision's ``"Stimulus/S  1"``), provided it designates one label.

Analog edges: the threshold defaults to half-way between the signal's
baseline (its median) and its top (its maximum), in the values
:meth:`Recording.get_traces` returns (µV for voltage channels). A crossing
needs the signal to have fallen below the threshold again (re-arming) and to
be at least ``refractory_s`` after the previous one, so one pulse gives one
event. The crossing time is interpolated between the two samples around it;
``Event.rounding_error_s`` is that time minus the time of the nearest sample.
"""

from __future__ import annotations

import logging
import math

import numpy as np

from motorsign.errors import InputError
from motorsign.recording import Event, Recording

__all__ = [
    "resolve_trigger",
    "detect_edges",
    "DEFAULT_REFRACTORY_S",
    "DEFAULT_CHUNK_SAMPLES",
    "MIN_LEVEL_SPAN",
]

log = logging.getLogger(__name__)

#: minimum time between two analog trigger events, seconds
DEFAULT_REFRACTORY_S = 0.005
#: samples read at a time by the analog detector
DEFAULT_CHUNK_SAMPLES = 1_000_000
#: below this span between baseline and top (in the channel's values) the channel is flat
MIN_LEVEL_SPAN = 1e-9


def _levels(rec: Recording, channel: int, segment: int, chunk: int) -> tuple[float, float]:
    """(baseline, top) of a channel: median of chunk medians and the maximum."""
    meds, top = [], -math.inf
    for ch in rec.iter_chunks(chunk, 0, [channel], segment):
        x = ch.core[:, 0]
        if x.size:
            meds.append(float(np.median(x)))
            top = max(top, float(np.max(x)))
    if not meds:
        return math.nan, math.nan
    return float(np.median(meds)), top


def detect_edges(
    rec: Recording,
    channel: str | int,
    threshold: float | None = None,
    *,
    refractory_s: float = DEFAULT_REFRACTORY_S,
    chunk_samples: int = DEFAULT_CHUNK_SAMPLES,
    label: str | None = None,
) -> list[Event]:
    """Rising threshold crossings of a signal channel, as events.

    Parameters
    ----------
    rec : Recording
        The recording.
    channel : str | int
        Channel name or index.
    threshold : float | None
        Crossing level in the channel's returned values; ``None``: half-way
        between baseline (median) and top (maximum), per segment.
    refractory_s : float
        Minimum time between two events.
    chunk_samples : int
        Block size of the chunked read (memory bound).
    label : str | None
        Event label (default ``"analog:<channel>"``).

    Returns
    -------
    list of Event
        ``source="analog"``, interpolated ``time_s`` and its ``rounding_error_s``.
    """
    idx = int(rec.channel_index(channel)[0])
    name = rec.channels[idx].name
    label = label or f"analog:{name}"
    fs = rec.sampling_rate_hz
    refr = max(1, int(math.ceil(refractory_s * fs)))
    events: list[Event] = []
    for seg in range(rec.n_segments):
        thr = threshold
        if thr is None:
            low, high = _levels(rec, idx, seg, chunk_samples)
            if not (math.isfinite(low) and high - low > MIN_LEVEL_SPAN):
                log.info("%s: channel %s is flat in segment %d: no trigger", rec.path, name, seg)
                continue
            thr = 0.5 * (low + high)
        prev = math.nan  # last sample of the previous chunk
        last = -(10**18)
        for ch in rec.iter_chunks(chunk_samples, 0, [idx], seg):
            x = ch.core[:, 0].astype(np.float64)
            if x.size == 0:
                continue
            xp = np.concatenate(([prev], x))
            # rising edges at j (in xp): xp[j-1] < thr <= xp[j]; being below the threshold
            # just before is what re-arms the detector
            cand = np.flatnonzero((xp[:-1] < thr) & (xp[1:] >= thr)) + 1
            for j in cand:
                sample = ch.start + j - 1  # segment index of xp[j]
                if sample - last < refr:
                    continue
                a, b = xp[j - 1], xp[j]
                frac = (thr - a) / (b - a) if b != a else 1.0
                t = (sample - 1 + frac) / fs
                nearest = round(t * fs) / fs
                events.append(Event(label, t, seg, "analog", 0.0, t - nearest))
                last = sample
            prev = float(x[-1])
    return events


def _split_analog(spec: str) -> tuple[str, float | None]:
    body = spec[len("analog:"):]
    if ":" in body:
        head, tail = body.rsplit(":", 1)
        try:
            return head, float(tail)
        except ValueError:
            pass
    return body, None


def resolve_trigger(recording: Recording, spec: str, **options) -> list[Event]:
    """The stimulus events a trigger spec designates.

    Parameters
    ----------
    recording : Recording
        The recording.
    spec : str
        Event label, bare description, event-channel name, or
        ``analog:CHANNEL[:THRESHOLD]``.
    **options
        Passed to :func:`detect_edges` for analog triggers (``refractory_s``).

    Returns
    -------
    list of Event
        Sorted by segment and time.

    Raises
    ------
    InputError
        When nothing matches (the message lists the event labels and channels)
        or a bare description is ambiguous.
    """
    spec = str(spec).strip()
    rec = recording
    if not spec:
        raise InputError("empty --trigger", rec.path)

    def listing() -> str:
        labels = rec.event_labels()
        ev = ", ".join(f"{k!r} ({v})" for k, v in labels.items()) or "none"
        return f"event labels: {ev}; channels: {', '.join(rec.channel_names) or 'none'}"

    if spec.lower().startswith("analog:"):
        ch, thr = _split_analog(spec)
        if thr is None and ch not in rec.channel_names and ":" in ch:
            head, tail = ch.rsplit(":", 1)
            if head in rec.channel_names or (head.isdigit() and int(head) < rec.n_channels):
                raise InputError(
                    f"trigger {spec!r}: threshold {tail!r} is not a number "
                    "(analog:CHANNEL[:THRESHOLD], the threshold in the channel's values, µV)",
                    rec.path,
                )
        if ch not in rec.channel_names and not (ch.isdigit() and int(ch) < rec.n_channels):
            raise InputError(f"trigger channel {ch!r} does not exist; {listing()}", rec.path)
        evs = detect_edges(rec, int(ch) if ch not in rec.channel_names else ch, thr,
                           label=spec if thr is not None else None, **options)
        if not evs:
            log.warning("%s: no rising edge found on %s", rec.path, ch)
        return _sorted(evs)

    exact = rec.events_for(spec)
    if exact:
        return _sorted(exact)

    # the description alone ("TMS" for "Stimulus/TMS")
    by_desc = [e for e in rec.events if "/" in e.label and e.label.split("/", 1)[1] == spec]
    if by_desc:
        labels = sorted({e.label for e in by_desc})
        if len(labels) > 1:
            raise InputError(
                f"trigger {spec!r} is ambiguous: it matches {', '.join(map(repr, labels))}; "
                "give the full label",
                rec.path,
            )
        return _sorted(by_desc)

    # an event channel (the part before "/")
    by_chan = [e for e in rec.events if e.label.split("/", 1)[0] == spec]
    if by_chan:
        return _sorted(by_chan)

    # the same, typed with other spacing or case ("S 1" or "s1" for BrainVision's "S  1")
    if spec not in rec.channel_names:
        relaxed = _relaxed_match(rec, spec)
        if relaxed:
            return _sorted(relaxed)

    # a trigger signal channel
    if spec in rec.channel_names:
        c = rec.channels[rec.channel_names.index(spec)]
        if c.kind == "trigger":
            return _sorted(detect_edges(rec, spec, None, **options))
        raise InputError(
            f"trigger {spec!r} is a signal channel, not an event: use 'analog:{spec}' to detect "
            "edges on it",
            rec.path,
        )
    raise InputError(f"trigger {spec!r} matches no event or channel; {listing()}", rec.path)


def _squash(text: str) -> str:
    """A label without whitespace, lower-cased (for the relaxed match)."""
    return "".join(text.split()).lower()


def _relaxed_match(rec: Recording, spec: str) -> list[Event]:
    """Events whose full label, description or event channel equals ``spec`` up to spacing and case.

    Tried in that order; the first level that matches must designate one label (or one event
    channel), else the spec is ambiguous.

    Raises
    ------
    InputError
        When the relaxed spec matches several labels.
    """
    key = _squash(spec)
    if not key:
        return []
    levels = (
        lambda lab: lab,
        lambda lab: lab.split("/", 1)[1] if "/" in lab else None,
    )
    for part in levels:
        labels = sorted({e.label for e in rec.events
                         if part(e.label) is not None and _squash(part(e.label)) == key})
        if len(labels) > 1:
            raise InputError(
                f"trigger {spec!r} is ambiguous: it matches {', '.join(map(repr, labels))} "
                "(ignoring spaces and case); give the exact label",
                rec.path,
            )
        if labels:
            log.info("%s: trigger %r read as the event label %r", rec.path, spec, labels[0])
            return [e for e in rec.events if e.label == labels[0]]
    chans = sorted({e.label.split("/", 1)[0] for e in rec.events
                    if _squash(e.label.split("/", 1)[0]) == key})
    if len(chans) == 1:
        return [e for e in rec.events if e.label.split("/", 1)[0] == chans[0]]
    return []


def _sorted(evs: list[Event]) -> list[Event]:
    return sorted(evs, key=lambda e: (e.segment, e.time_s))
