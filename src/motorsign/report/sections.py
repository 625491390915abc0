"""Sections of the report: each reads one result folder (and, for traces,
a window of the recording) and returns safe HTML. A section that cannot be
drawn says why in a note instead of stopping the report.
"""

from __future__ import annotations

import json
import logging
import math
from pathlib import Path
from typing import Any

import numpy as np

from motorsign.report import figures
from motorsign.report.html import details, esc, figure, fmt, note, table

__all__ = [
    "TRACE_WINDOW_S",
    "RecordingSource",
    "recording_info",
    "detect_section",
    "mup_section",
    "mep_section",
    "nerve_section",
    "cmct_section",
    "case_section",
]

log = logging.getLogger(__name__)

#: length of the trace window shown for spontaneous activity, s
TRACE_WINDOW_S = 10.0
#: kinds of spontaneous activity: the trace window shown is the one with most of them
SPONTANEOUS_KINDS = ("fibrillation", "positive_sharp_wave", "fasciculation", "complex_repetitive",
                     "end_plate")
#: most channels drawn in a trace figure
MAX_TRACE_CHANNELS = 6
#: most firing trains drawn
MAX_TRAINS = 24
#: MUP template window for averages computed here (no templates.npz), ms
MUP_WINDOW_MS = (-10.0, 15.0)
#: most units drawn per channel
MAX_UNITS_PER_CHANNEL = 8
#: MEP sweep window around the stimulus, ms
MEP_WINDOW_MS = (-20.0, 100.0)
#: nerve sweep window around the stimulus, ms (end extended to the latest F-wave + margin)
NERVE_WINDOW_MS = (-5.0, 60.0)
#: margin after the latest F-wave in the raster, ms
F_MARGIN_MS = 15.0
#: where the F-wave raster starts after the median M onset, ms
F_START_AFTER_M_MS = 15.0
#: most sweeps drawn per channel (MEP overlay, F raster)
MAX_SWEEPS = 60


def read_json(path: Path) -> Any:
    """A JSON file, or ``None`` when absent/unreadable."""
    try:
        with open(path, encoding="utf-8") as fh:
            return json.load(fh)
    except (OSError, ValueError):
        return None


def read_table(path: Path):
    """A CSV result as a DataFrame (``NaN`` parsed), or ``None`` when absent."""
    import pandas as pd

    if not path.is_file():
        return None
    return pd.read_csv(path, keep_default_na=True, na_values=["NaN"])


def _records(df) -> list[dict]:
    return [] if df is None else df.to_dict("records")


class RecordingSource:
    """Opens a recording once, on first use, for drawing.

    Parameters
    ----------
    path : str
        The recording.
    read_options : dict
        Options for :func:`motorsign.io.read`.
    """

    def __init__(self, path: str | None, read_options: dict | None = None):
        self.path = path
        self.read_options = dict(read_options or {})
        self._rec = None
        self._error: str | None = None

    def get(self):
        """The :class:`~motorsign.recording.Recording`; raises with the reason when it cannot be read."""
        if self._rec is None and self._error is None:
            try:
                from motorsign.io import read

                if not self.path:
                    raise FileNotFoundError("no recording path")
                self._rec = read(self.path, **self.read_options)
            except Exception as exc:  # noqa: BLE001 - explained in the page
                self._error = f"{type(exc).__name__}: {exc}"
        if self._rec is None:
            raise RuntimeError(f"the recording cannot be read for drawing ({self._error})")
        return self._rec

    def window(self, channel: str, segment: int, start: int, stop: int) -> np.ndarray:
        """Samples ``start:stop`` of one channel, NaN-padded outside the segment."""
        rec = self.get()
        n = rec.n_samples(segment)
        out = np.full(stop - start, np.nan, dtype=np.float32)
        a, b = max(0, start), min(n, stop)
        if b > a:
            out[a - start : b - start] = rec.get_traces(a, b, channel, segment)[:, 0]
        return out


def recording_info(src: RecordingSource) -> str:
    """One line on the recording (format, rate, duration, channels) and its event labels."""
    try:
        rec = src.get()
    except Exception as exc:  # noqa: BLE001 - explained in the page
        return note(str(exc))
    chans = ", ".join(rec.channel_names[:16]) + (" ..." if rec.n_channels > 16 else "")
    labels = rec.event_labels()
    events = ", ".join(f"{k} \u00d7{v}" for k, v in list(labels.items())[:12]) or "none"
    return (f"<p>{esc(rec.format)}, {fmt(rec.sampling_rate_hz)} Hz, {fmt(rec.duration_s(), 4)} s, "
            f"{rec.n_segments} segment(s); channels: {esc(chans)}; events: {esc(events)}</p>")


def _guard(title: str, func, *args, **kwargs) -> str:
    try:
        return func(*args, **kwargs)
    except Exception as exc:  # noqa: BLE001 - one figure never stops the report
        log.warning("report: %s not drawn: %s", title, exc, exc_info=log.isEnabledFor(logging.DEBUG))
        return note(f"{title} not drawn: {type(exc).__name__}: {exc}")


def _best_window(times: np.ndarray, width: float, duration: float) -> float:
    """Start of the ``width`` window holding the most events."""
    times = times[np.isfinite(times)]
    if times.size == 0 or duration <= width:
        return 0.0
    t = np.sort(times)
    ends = np.searchsorted(t, t + width, side="left")
    k = int(np.argmax(ends - np.arange(t.size)))
    start = max(0.0, t[k] - 0.05 * width)
    return float(min(start, max(0.0, duration - width)))


# ----------------------------------------------------------------- detect
def _trace_figure(df, src: RecordingSource) -> str:
    rec = src.get()
    fs = rec.sampling_rate_hz
    chans = [c for c in dict.fromkeys(df["channel"].astype(str)) if c in rec.channel_names]
    chans = (chans + [c for c in rec.channel_names if c not in chans])[:MAX_TRACE_CHANNELS]
    dur = rec.duration_s(0)
    spont = df[df["kind"].astype(str).isin(SPONTANEOUS_KINDS)]
    busiest = spont if len(spont) else df
    start = _best_window(busiest["time_s"].to_numpy(float), TRACE_WINDOW_S, dur)
    stop = min(dur, start + TRACE_WINDOW_S)
    a, b = int(start * fs), int(stop * fs)
    traces = np.stack([src.window(c, 0, a, b) for c in chans], axis=1)
    t = (np.arange(a, b) / fs).astype(float)
    marks = {}
    sel = df[(df["time_s"] >= start) & (df["time_s"] < stop)]
    for c in chans:
        rows = sel[sel["channel"].astype(str) == c]
        marks[c] = list(zip(rows["time_s"].astype(float), rows["kind"].astype(str)))
    png = figures.traces_with_discharges(t, traces, chans, marks)
    which = "spontaneous activity" if len(spont) else "discharges"
    return figure(png, f"Traces {start:.1f}-{stop:.1f} s (the {TRACE_WINDOW_S:g} s with the most "
                       f"{which}); triangles mark discharges by kind.")


def _train_figure(df) -> str:
    if "train_id" not in df:
        return ""
    tr = df[df["train_id"] >= 0]
    if tr.empty:
        return "<p><em>no firing trains</em></p>"
    trains = []
    for (ch, tid), g in tr.groupby(["channel", "train_id"], sort=True):
        kind = g["kind"].mode().iloc[0] if not g["kind"].empty else "unclassified"
        trains.append((f"{ch} #{int(tid)} {kind}", kind, g["time_s"].to_numpy(float)))
    trains.sort(key=lambda x: -len(x[2]))
    shown = trains[:MAX_TRAINS]
    cap = f"{len(trains)} firing train(s)" + (f", the {MAX_TRAINS} longest shown" if len(trains) > MAX_TRAINS else "")
    return figure(figures.firing_trains(shown), cap)


def detect_section(folder: Path, src: RecordingSource) -> str:
    """Spontaneous activity: per-channel grades, traces with discharges, firing trains."""
    summary = read_json(folder / "summary.json") or {}
    rows = []
    for ch, s in (summary.get("channels") or {}).items():
        if not isinstance(s, dict):
            continue
        counts = s.get("counts") or {}
        rows.append({
            "channel": ch, "muscle": s.get("muscle"), "side": s.get("side"),
            "duration_s": s.get("duration_s"), "rest_s": s.get("rest_s"),
            "fib/PSW grade": s.get("fib_psw_grade"),
            "fasciculations/min": s.get("fasciculation_rate_per_min"),
            "counts": {k: v for k, v in counts.items() if v} if isinstance(counts, dict) else counts,
        })
    parts = ["<h3>Spontaneous activity</h3>", table(rows)]
    df = read_table(folder / "discharges.csv")
    if df is None:
        parts.append(note("discharges.csv is missing"))
    else:
        parts.append(f"<p>{len(df)} discharge(s).</p>")
        parts.append(_guard("trace figure", _trace_figure, df, src))
        parts.append(_guard("firing trains", _train_figure, df))
    return "".join(parts)


# -------------------------------------------------------------------- mup
def _npz_templates(path: Path) -> dict[str, tuple[np.ndarray, list]]:
    """channel -> (t_ms, [(unit label, waveform)]) from a templates.npz."""
    out: dict[str, tuple[np.ndarray, list]] = {}
    with np.load(path, allow_pickle=False) as z:
        keys = set(z.files)
        if "templates" in keys:
            tpl = np.asarray(z["templates"], dtype=float)
            if tpl.ndim == 1:
                tpl = tpl[None, :]
            n_units, n_samp = tpl.shape[0], tpl.shape[1]
            chans = [str(c) for c in z["channel"]] if "channel" in keys else (
                [str(c) for c in z["channels"]] if "channels" in keys else ["?"] * n_units)
            units = ([str(u) for u in z["unit_id"]] if "unit_id" in keys
                     else [str(i) for i in range(n_units)])
            if "t_ms" in keys:
                t_ms = np.asarray(z["t_ms"], dtype=float)
            else:
                fs = float(z["fs"]) if "fs" in keys else float(z["sampling_rate_hz"]) if "sampling_rate_hz" in keys else math.nan
                pre = int(z["pre_samples"]) if "pre_samples" in keys else n_samp // 2
                t_ms = (np.arange(n_samp) - pre) / fs * 1000.0 if math.isfinite(fs) else np.arange(n_samp, dtype=float)
            if tpl.ndim == 3:  # (units, samples, channels): the unit's own channel
                tpl = tpl[:, :, 0]
            for ch, u, w in zip(chans, units, tpl):
                out.setdefault(ch, (t_ms, []))[1].append((f"unit {u}", w))
        else:  # one array per "channel/unit" key
            for k in sorted(keys):
                w = np.asarray(z[k], dtype=float)
                if w.ndim != 1:
                    continue
                ch, _, u = k.rpartition("/")
                out.setdefault(ch or k, (np.arange(w.size, dtype=float), []))[1].append((f"unit {u or k}", w))
    return out


def _averaged_templates(folder: Path, src: RecordingSource) -> dict[str, tuple[np.ndarray, list]]:
    """Templates averaged here from mup_discharges.csv when no templates.npz exists."""
    df = read_table(folder / "mup_discharges.csv")
    if df is None or df.empty:
        return {}
    rec = src.get()
    fs = rec.sampling_rate_hz
    a = int(round(MUP_WINDOW_MS[0] * fs / 1000.0))
    b = int(round(MUP_WINDOW_MS[1] * fs / 1000.0))
    t_ms = np.arange(a, b) / fs * 1000.0
    out: dict[str, tuple[np.ndarray, list]] = {}
    for (ch, unit), g in df.groupby(["channel", "unit_id"], sort=True):
        if str(ch) not in rec.channel_names:
            continue
        sweeps = [src.window(str(ch), 0, int(round(t * fs)) + a, int(round(t * fs)) + b)
                  for t in g["time_s"].to_numpy(float)[:200]]
        w = np.nanmedian(np.stack(sweeps), axis=0) if sweeps else np.full(t_ms.size, np.nan)
        out.setdefault(str(ch), (t_ms, []))[1].append((f"unit {unit} (n={len(g)})", w))
    return out


def _mup_figure(folder: Path, src: RecordingSource) -> str:
    npz = folder / "templates.npz"
    if npz.is_file():
        panels_d = _npz_templates(npz)
        how = "templates.npz"
    else:
        panels_d = _averaged_templates(folder, src)
        how = "median of the assigned discharges (no templates.npz)"
    if not panels_d:
        return "<p><em>no MUP templates</em></p>"
    panels = [(ch, t, units[:MAX_UNITS_PER_CHANNEL]) for ch, (t, units) in panels_d.items()]
    return figure(figures.mup_templates(panels), f"MUP templates per channel ({how}).")


def mup_section(folder: Path, src: RecordingSource) -> str:
    """Voluntary MUPs: per-channel classification, units table, templates."""
    summary = read_json(folder / "summary.json") or {}
    chans = summary.get("channels", summary) if isinstance(summary, dict) else {}
    rows = []
    for ch, s in chans.items():
        if isinstance(s, dict) and ("classification" in s or "mean_amplitude_uv" in s):
            rows.append({"channel": ch, **{k: s.get(k) for k in (
                "classification", "mean_amplitude_uv", "mean_duration_ms", "polyphasic_fraction")}})
    parts = ["<h3>Motor unit potentials</h3>", table(rows)]
    units = read_table(folder / "mups.csv")
    if units is not None:
        parts.append(details(f"{len(units)} unit(s)", table(_records(units))))
    parts.append(_guard("MUP templates", _mup_figure, folder, src))
    return "".join(parts)


# -------------------------------------------------------------------- mep
def _epoch_locations(rec, trials: list, times: list) -> list[tuple[int, int]]:
    """(segment, stimulus sample) of each trial."""
    fs = rec.sampling_rate_hz
    if rec.n_segments == 1:
        return [(0, int(round(t * fs))) for t in times]
    order = {tr: k for k, tr in enumerate(sorted(set(trials)))}
    return [(min(order[tr], rec.n_segments - 1), int(round(t * fs))) for tr, t in zip(trials, times)]


def _mep_figure(df, src: RecordingSource) -> str:
    rec = src.get()
    fs = rec.sampling_rate_hz
    a = int(round(MEP_WINDOW_MS[0] * fs / 1000.0))
    b = int(round(MEP_WINDOW_MS[1] * fs / 1000.0))
    t_ms = np.arange(a, b) / fs * 1000.0
    panels = []
    for ch, g in df.groupby("channel", sort=False):
        if str(ch) not in rec.channel_names:
            continue
        g = g.head(MAX_SWEEPS)
        locs = _epoch_locations(rec, list(g["trial"]), list(g["trigger_time_s"].astype(float)))
        sweeps = np.stack([src.window(str(ch), seg, s + a, s + b) for seg, s in locs])
        onsets = g["onset_ms"].to_numpy(float)
        if "present" in g:
            onsets = np.where(g["present"].astype(str).str.lower().isin(["true", "1"]), onsets, np.nan)
        panels.append((str(ch), t_ms, sweeps, onsets))
    if not panels:
        return "<p><em>nothing to draw</em></p>"
    return figure(figures.mep_overlay(panels), "MEP sweeps overlaid (grey: no MEP), onsets in red.")


def mep_section(folder: Path, src: RecordingSource) -> str:
    """MEPs: per-channel summary and sweep overlays with onsets."""
    summary = read_json(folder / "summary.json") or {}
    chans = summary.get("channels", summary) if isinstance(summary, dict) else {}
    rows = [{"channel": ch, **{k: s.get(k) for k in (
        "n_trials", "n_present", "onset_ms_min", "onset_ms_median", "peak_to_peak_uv_median")}}
        for ch, s in chans.items() if isinstance(s, dict) and "n_trials" in s]
    parts = ["<h3>Motor evoked potentials</h3>", table(rows)]
    df = read_table(folder / "meps.csv")
    if df is None:
        parts.append(note("meps.csv is missing"))
    else:
        parts.append(_guard("MEP overlay", _mep_figure, df, src))
    return "".join(parts)


# ------------------------------------------------------------------ nerve
def _nerve_figure(df, src: RecordingSource, trigger: str | None) -> str:
    rec = src.get()
    fs = rec.sampling_rate_hz
    if "trigger_time_s" in df:
        times = list(df["trigger_time_s"].astype(float))
        trials = list(df["trial"])
    else:
        if not trigger:
            raise RuntimeError("responses.csv has no trigger_time_s and no trigger was given")
        from motorsign.io.triggers import resolve_trigger

        events = resolve_trigger(rec, trigger)
        order = {tr: k for k, tr in enumerate(sorted(set(df["trial"])))}
        times, trials = [], []
        for tr in df["trial"]:
            k = order[tr]
            if k >= len(events):
                raise RuntimeError(f"trial {tr} has no matching trigger event")
            times.append(events[k].time_s)
            trials.append(events[k].segment if rec.n_segments > 1 else tr)
    parts = []
    for ch, g in df.assign(_t=times, _tr=trials).groupby("channel", sort=False):
        if str(ch) not in rec.channel_names:
            continue
        g = g.head(MAX_SWEEPS)
        f_lat = g["f_latency_ms"].to_numpy(float) if "f_latency_ms" in g else np.full(len(g), np.nan)
        m_on = g["m_onset_ms"].to_numpy(float) if "m_onset_ms" in g else np.full(len(g), np.nan)
        end_ms = max(NERVE_WINDOW_MS[1], (np.nanmax(f_lat) + F_MARGIN_MS) if np.isfinite(f_lat).any() else 0)
        a = int(round(NERVE_WINDOW_MS[0] * fs / 1000.0))
        b = int(round(end_ms * fs / 1000.0))
        t_ms = np.arange(a, b) / fs * 1000.0
        locs = _epoch_locations(rec, list(g["_tr"]), list(g["_t"]))
        sweeps = np.stack([src.window(str(ch), seg, s + a, s + b) for seg, s in locs])
        m_med = np.nanmedian(m_on) if np.isfinite(m_on).any() else 5.0
        f_start = float(m_med + F_START_AFTER_M_MS)
        png = figures.f_wave_raster(str(ch), t_ms, sweeps, m_on, f_lat, f_start)
        parts.append(figure(png, f"{ch}: M-waves and F-wave raster"))
    return "".join(parts) or "<p><em>nothing to draw</em></p>"


def nerve_section(folder: Path, src: RecordingSource, trigger: str | None = None) -> str:
    """Nerve conduction: per-channel M/F summary and F-wave rasters."""
    summary = read_json(folder / "summary.json") or {}
    chans = summary.get("channels", summary) if isinstance(summary, dict) else {}
    keys = ("m_onset_ms", "cmap_amplitude_mv", "f_min_latency_ms", "f_mean_latency_ms",
            "f_persistence", "f_chronodispersion_ms")
    rows = [{"channel": ch, **{k: s.get(k) for k in keys}}
            for ch, s in chans.items() if isinstance(s, dict) and any(k in s for k in keys)]
    parts = ["<h3>M-waves and F-waves</h3>", table(rows)]
    df = read_table(folder / "responses.csv")
    if df is None:
        parts.append(note("responses.csv is missing"))
    else:
        parts.append(_guard("F-wave raster", _nerve_figure, df, src, trigger))
    return "".join(parts)


def cmct_section(results: dict[str, dict]) -> str:
    """CMCT of the [[cmct]] pairs."""
    rows = []
    for cid, r in results.items():
        rows.append({"id": cid, **{k: r.get(k) for k in (
            "muscle", "side", "cmct_ms", "peripheral_ms", "method", "uln_ms", "abnormal",
            "norm_source")}})
    return "<h3>Central motor conduction time</h3>" + table(rows)


# ------------------------------------------------------------------- case
REGIONS = ("bulbar", "cervical", "thoracic", "lumbosacral")
#: evidence keys drawn for each level (DESIGN.md: umn.clinical/supportive_tms, lmn.clinical/emg)
LEVEL_KEYS = {"umn": ("clinical", "supportive_tms"), "lmn": ("clinical", "emg", "supportive")}
#: how those keys are named on the page
KEY_LABELS = {"clinical": "clinical", "supportive_tms": "TMS", "emg": "EMG", "supportive": "supportive"}


def _ids(value) -> tuple[bool, list[str]]:
    """(present, finding ids) from an evidence entry of any of the usual shapes."""
    if value is None:
        return False, []
    if isinstance(value, bool):
        return value, []
    if isinstance(value, (list, tuple)):
        ids = [str(v.get("id", v)) if isinstance(v, dict) else str(v) for v in value]
        return bool(ids), ids
    if isinstance(value, dict):
        ids = value.get("finding_ids", value.get("ids", value.get("findings", [])))
        _, ids = _ids(ids) if not isinstance(ids, bool) else (ids, [])
        present = value.get("positive", value.get("present", value.get("met", bool(ids))))
        return bool(present), ids
    return bool(value), [str(value)]


def _level_items(region: dict, level: str) -> list[tuple[str, bool, list[str]]]:
    """(label, present, ids) of one level (umn/lmn) of a region."""
    sub = region.get(level) if isinstance(region, dict) else None
    if not isinstance(sub, dict):
        return []
    items = []
    for key in LEVEL_KEYS[level]:
        if key not in sub:
            continue
        v = sub[key]
        name = KEY_LABELS.get(key, key)
        nested = isinstance(v, dict) and v and all(isinstance(x, dict) for x in v.values())
        if nested:  # one verdict per criterion, e.g. emg.{revised_el_escorial, awaji, gold_coast}
            for crit, verdict in v.items():
                p, ids = _ids(verdict)
                items.append((f"{name} ({crit})", p, ids))
        else:
            p, ids = _ids(v)
            items.append((name, p, ids))
    return items


def region_map_svg(regions: dict) -> str:
    """An inline SVG: one row per region, UMN and LMN halves shaded by evidence."""
    w, h, top, cw = 760, 56, 28, 300
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{top + h * len(REGIONS) + 8}" '
             'role="img" aria-label="region map of UMN and LMN evidence">',
             f'<text x="{110 + cw / 2 - 20}" y="18" font-size="13" font-weight="600">UMN</text>',
             f'<text x="{120 + 1.5 * cw - 20}" y="18" font-size="13" font-weight="600">LMN</text>']
    for i, name in enumerate(REGIONS):
        y = top + i * h
        reg = regions.get(name, {}) if isinstance(regions, dict) else {}
        parts.append(f'<text x="4" y="{y + 30}" font-size="13">{esc(name)}</text>')
        for j, level in enumerate(("umn", "lmn")):
            items = _level_items(reg, level)
            present = [lab for lab, p, _ in items if p]
            colour = ("#c9302c" if level == "umn" else "#2f6fb0") if present else "#e9ecef"
            x = 110 + j * (cw + 10)
            parts.append(f'<rect x="{x}" y="{y}" width="{cw}" height="{h - 8}" rx="5" fill="{colour}" '
                         'stroke="#8a949e"/>')
            label = ", ".join(present) if present else "no evidence"
            parts.append(f'<text x="{x + 8}" y="{y + 28}" font-size="12" '
                         f'fill="{"#fff" if present else "#555"}">{esc(label[:48])}</text>')
    parts.append("</svg>")
    return "".join(parts)


def case_section(evidence: dict) -> str:
    """The fused case: region map, per-region findings, criteria with reasons, phenotype."""
    regions = evidence.get("regions") or {}
    parts = ["<h3>Region map of UMN/LMN evidence</h3>", region_map_svg(regions)]
    rows = []
    for name in REGIONS:
        reg = regions.get(name) or {}
        row = {"region": name}
        for level in ("umn", "lmn"):
            for lab, p, ids in _level_items(reg, level):
                row[f"{level.upper()} {lab}"] = (", ".join(ids) if ids else "yes") if p else "-"
        mixed = _ids(reg.get("mixed_muscles")) if isinstance(reg, dict) else (False, [])
        row["mixed muscles"] = ", ".join(mixed[1]) if mixed[0] else "-"
        rows.append(row)
    parts.append(table(rows))
    parts.append("<h3>Criteria</h3>")
    crit = evidence.get("criteria") or {}
    for name, c in crit.items():
        if not isinstance(c, dict):
            parts.append(f"<p><span class=\"crit\">{esc(name)}</span>: {fmt(c)}</p>")
            continue
        verdict = c.get("category", c.get("met"))
        parts.append(f'<p><span class="crit">{esc(name)}</span>: <span class="tag">{esc(verdict)}</span></p>')
        parts.append(_reasons(c.get("reasons")))
        nxt = c.get("next")
        if isinstance(nxt, dict) and nxt.get("add_one_of"):
            opts = ["; ".join(str(x.get("text", x)) if isinstance(x, dict) else str(x) for x in alt)
                    if isinstance(alt, list) else str(alt) for alt in nxt["add_one_of"]]
            parts.append(f"<p>to reach <em>{esc(nxt.get('target'))}</em>, add one of:</p>"
                         "<ul>" + "".join(f"<li>{esc(o)}</li>" for o in opts) + "</ul>")
    ph = evidence.get("phenotype")
    if ph is not None:
        if isinstance(ph, dict):
            parts.append(f'<p><span class="crit">phenotype</span>: <span class="tag">'
                         f'{esc(ph.get("category", ph.get("phenotype")))}</span></p>')
            parts.append(_reasons(ph.get("reasons")))
        else:
            parts.append(f'<p><span class="crit">phenotype</span>: <span class="tag">{esc(ph)}</span></p>')
            parts.append(_reasons(evidence.get("phenotype_reasons")))
    warns = evidence.get("warnings")
    if warns:
        parts.append(details(f"{len(warns)} fusion warning(s)",
                             "<ul>" + "".join(f"<li>{esc(w)}</li>" for w in warns) + "</ul>"))
    return "".join(parts)


def _reasons(reasons) -> str:
    if not reasons:
        return ""
    items = []
    for r in reasons if isinstance(reasons, list) else [reasons]:
        if isinstance(r, dict):
            rule = r.get("rule", r.get("id", ""))
            ids = r.get("finding_ids", r.get("findings", r.get("ids", [])))
            text = r.get("text", r.get("reason", r.get("message", "")))
            ids_s = ", ".join(map(str, ids)) if isinstance(ids, (list, tuple)) else str(ids or "")
            regs = r.get("regions")
            regs_s = f" ({', '.join(map(str, regs))})" if isinstance(regs, list) and regs else ""
            items.append(f"<li><code>{esc(rule)}</code> {esc(text)}{esc(regs_s)}"
                         f"{' [findings: ' + esc(ids_s) + ']' if ids_s else ''}</li>")
        else:
            items.append(f"<li>{esc(r)}</li>")
    return "<ul>" + "".join(items) + "</ul>"
