"""What ``motorsign info`` shows: a plain description of a recording.

:func:`describe` opens a file with :func:`motorsign.io.read` and returns a
JSON-ready dict (format, streams, channels with units/rate/samples,
duration, segments, events by label, warnings); :func:`format_text` turns it
into the human-readable listing. Nothing here imports MNE or matplotlib.
"""

from __future__ import annotations

import math
import os
import warnings
from pathlib import Path

from motorsign.errors import MotorsignWarning
from motorsign.recording import Recording

__all__ = ["describe", "describe_recording", "format_text"]

#: segments listed one by one in the text output before they are summarised
MAX_SEGMENTS_LISTED = 5


def describe_recording(rec: Recording) -> dict:
    """JSON-ready description of an open recording.

    Parameters
    ----------
    rec : Recording

    Returns
    -------
    dict
        Keys: ``path, format, stream, streams, sampling_rate_hz, n_channels,
        channels, n_segments, segments, duration_s, events, warnings,
        annotations``.
    """
    fs = rec.sampling_rate_hz
    n_seg = rec.n_segments
    seg_lengths = [s.n_samples for s in rec.segments]
    streams = rec.annotations.get("streams") or [
        {"index": i, "name": s} for i, s in enumerate(rec.streams)
    ]
    events = rec.event_labels()
    out = {
        "path": rec.path,
        "format": rec.format,
        "stream": rec.stream,
        "streams": streams,
        "sampling_rate_hz": fs,
        "n_channels": rec.n_channels,
        "channels": [
            {
                "name": c.name,
                "units": c.units,
                "units_ok": c.units_ok,
                "to_uv": c.to_uv if math.isfinite(c.to_uv) else None,
                "sampling_rate_hz": c.sampling_rate_hz,
                "n_samples": sum(seg_lengths),
                "kind": c.kind,
            }
            for c in rec.channels
        ],
        "n_segments": n_seg,
        "segments": [
            {"index": s.index, "n_samples": s.n_samples, "t_start_s": s.t_start_s,
             "duration_s": s.n_samples / fs}
            for s in rec.segments
        ],
        "samples_per_segment": seg_lengths[0] if len(set(seg_lengths)) == 1 else None,
        "duration_s": rec.duration_s(),
        "events": [{"label": k, "count": v} for k, v in events.items()],
        "n_events": len(rec.events),
        "warnings": list(rec.warnings),
        "annotations": {k: v for k, v in rec.annotations.items() if k != "streams"},
    }
    return out


#: trigger times listed by ``info --trigger`` before the list is cut
MAX_TRIGGERS_LISTED = 20


def describe(path: str | os.PathLike, *, trigger: str | None = None, **read_options) -> dict:
    """Open ``path`` and describe it (see :func:`describe_recording`).

    With ``trigger`` (a trigger spec), the events it resolves to are added
    under ``"trigger"`` (count, first times, sample rounding errors); a spec
    that matches nothing raises :class:`~motorsign.errors.InputError`.

    A ``.mat`` file with several numeric variables and no ``variable=`` is
    described through its first variable, with the others listed under
    ``"variables"`` and a warning; a file with several signal streams and no
    ``stream=`` is described through its first voltage stream, likewise.
    """
    from motorsign.io import read
    from motorsign.io.formats import format_for

    p = Path(path)
    spec = format_for(p)
    extra: dict = {}
    note = None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", MotorsignWarning)  # they are shown in the description
        if spec is not None and p.suffix.lower() == ".mat" and read_options.get("variable") is None:
            from motorsign.io._common import check_file
            from motorsign.io.arrays import list_mat_variables, load_sidecar, shape_str

            check_file(p)
            sidecar, _ = load_sidecar(p)
            cands = list_mat_variables(p)
            extra["variables"] = {k: list(v) for k, v in cands.items()}
            if len(cands) > 1 and not sidecar.get("variable"):
                first = next(iter(cands))
                read_options = {**read_options, "variable": first}
                note = (f"the file holds {len(cands)} arrays ("
                        + ", ".join(f"{k} {shape_str(v)}" for k, v in cands.items())
                        + f"); describing {first!r}: choose with --variable")
        if spec is not None and spec.reader == "neo" and read_options.get("stream") is None:
            from motorsign.io._common import check_file
            from motorsign.io.neo_reader import read_neo

            check_file(p, spec)
            rec = read_neo(p, spec, first_stream_if_ambiguous=True, **read_options)
        else:
            rec = read(p, **read_options)
    desc = describe_recording(rec)
    if trigger is not None:
        from motorsign.io.triggers import resolve_trigger

        evs = resolve_trigger(rec, trigger)
        desc["trigger"] = {
            "spec": trigger,
            "n": len(evs),
            "times_s": [e.time_s for e in evs[:MAX_TRIGGERS_LISTED]],
            "segments": [e.segment for e in evs[:MAX_TRIGGERS_LISTED]],
            "max_abs_rounding_error_s": max((abs(e.rounding_error_s) for e in evs), default=0.0),
        }
    if note:
        desc["warnings"].insert(0, note)
    desc.update(extra)
    return desc


def _fmt_num(x: float) -> str:
    return f"{x:.6g}"


def format_text(desc: dict) -> str:
    """Human-readable listing of a :func:`describe` dict."""
    lines = [
        f"file:        {desc['path']}",
        f"format:      {desc['format']}",
    ]
    streams = desc.get("streams") or []
    if streams:
        parts = []
        for s in streams:
            txt = f"{s.get('index', '?')}: {s.get('name')!s}"
            if s.get("n_channels") is not None:
                txt += f" ({s['n_channels']} ch @ {_fmt_num(s['sampling_rate_hz'] or math.nan)} Hz)"
            parts.append(txt)
        shown = desc.get("stream")
        if shown is None and len(streams) == 1:  # a single-stream reader (WFDB) names none
            shown = streams[0].get("name")
        lines.append(f"streams:     {'; '.join(parts)}   [shown: {shown}]")
    if desc.get("variables"):
        lines.append("variables:   " + ", ".join(
            f"{k} {'x'.join(map(str, v))}" for k, v in desc["variables"].items()))
    lines.append(f"rate:        {_fmt_num(desc['sampling_rate_hz'])} Hz")
    lines.append(f"duration:    {desc['duration_s']:.6g} s")
    n_seg = desc["n_segments"]
    if n_seg == 1:
        lines.append(f"segments:    1 ({desc['segments'][0]['n_samples']} samples)")
    else:
        sps = desc.get("samples_per_segment")
        each = (f"{sps} samples each" if sps is not None
                else "lengths " + ", ".join(str(s["n_samples"]) for s in
                                            desc["segments"][:MAX_SEGMENTS_LISTED]) + " ...")
        lines.append(f"segments:    {n_seg} ({each})")
    ann = desc.get("annotations", {})
    if "stim_sample" in ann:
        lines.append(f"epochs:      layout {ann.get('layout')}, stimulus at sample "
                     f"{ann['stim_sample']} ({ann['stim_sample'] / desc['sampling_rate_hz'] * 1e3:.6g} ms)")
    lines.append(f"channels:    {desc['n_channels']}")
    w = max([len(c["name"]) for c in desc["channels"]] + [4])
    lines.append(f"  {'name':<{w}}  {'units':<8} {'fs (Hz)':>10} {'samples':>10}  kind")
    for c in desc["channels"]:
        units = c["units"] or "(none)"
        flag = "" if c["units_ok"] or c["kind"] != "emg" else "  ! not a voltage"
        lines.append(f"  {c['name']:<{w}}  {units:<8} {_fmt_num(c['sampling_rate_hz']):>10} "
                     f"{c['n_samples']:>10}  {c['kind']}{flag}")
    if desc["events"]:
        lines.append(f"events:      {desc['n_events']}")
        w = max(len(e["label"]) for e in desc["events"])
        for e in desc["events"]:
            lines.append(f"  {e['label']:<{w}}  {e['count']}")
    else:
        lines.append("events:      none")
    trig = desc.get("trigger")
    if trig is not None:
        times = ", ".join(f"{t:.6f}" for t in trig["times_s"])
        more = " ..." if trig["n"] > len(trig["times_s"]) else ""
        lines.append(f"trigger:     {trig['spec']!r}: {trig['n']} event(s) at {times}{more} s")
    for msg in desc["warnings"]:
        lines.append(f"warning:     {msg}")
    return "\n".join(lines)
