"""``analyze_mups``: voluntary MUP analysis of a recording, channel by channel."""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from motorsign.mup.params import MupParams, resolve_params

__all__ = ["analyze_mups", "MupResult", "UNIT_COLUMNS", "DISCHARGE_COLUMNS"]

log = logging.getLogger(__name__)

#: Below this sampling rate the summary's ``quality.flags`` holds
#: ``low_sampling_rate``: MUP spikes carry energy up to several kHz, and
#: quantitative MUP analysis is normally recorded at 10-50 kHz; a 4-kHz
#: recording (behind its anti-alias filter) has lost the spikes' upper band,
#: where small units differ most. Measured on the band-limited simulator
#: (``bench_mup_accuracy.py --fs 4000``, analysis resampled to 20 kHz): muscle
#: classification 93 % / 92 % / 97 % (seeds 0-29 / 30-89 / 90-119),
#: discharges assigned to the right unit 93 % / 90 % / 88 % (myopathic
#: muscles 89 % / 86 % / 81 %) against 94-95 % / 92-93 % (seeds 0-29 /
#: 30-89) at 10 and 20 kHz.
LOW_RATE_HZ = 10000.0
LOW_RATE_NOTE = ("sampled below 10 kHz: the spikes' upper band is missing and small similar units "
                 "are told apart less reliably (simulation at 4 kHz: 88-94 % of discharges "
                 "assigned to the right unit, 82-91 % in myopathic muscle, against 93-95 % from "
                 "10 kHz); per-unit figures are less certain than the muscle means")

#: Contract columns of ``mups.csv`` followed by the extra ones.
UNIT_COLUMNS = (
    "channel", "unit_id", "n_discharges", "amplitude_uv", "duration_ms", "phases", "turns",
    "area_uvms", "firing_rate_hz",
    "size_index", "thickness_ms", "rise_time_ms", "polyphasic", "initial_polarity", "isi_cv",
    "isi_violation_fraction", "template_noise_uv", "n_averaged", "used", "flags",
    "duration_split_ms",  # added after the columns scripts already index (extend, never reorder)
)
#: Contract columns of ``mup_discharges.csv``.
DISCHARGE_COLUMNS = ("channel", "unit_id", "time_s")


@dataclass
class MupResult:
    """What :func:`analyze_mups` returns.

    Attributes
    ----------
    units : pandas.DataFrame
        One row per motor unit (:data:`UNIT_COLUMNS`).
    discharges : pandas.DataFrame
        One row per discharge assigned to a unit (:data:`DISCHARGE_COLUMNS`).
    summary : dict
        Per channel: means, polyphasic fraction, recruitment, interference
        pattern, classification with reasons and the reference values used,
        quality figures.
    templates : dict
        Per channel: ``unit_ids`` (int array), ``templates`` (µV, units ×
        samples, wide band), ``fs``, ``pre_samples`` (index of the discharge
        alignment point in each template).
    params : MupParams
    rules : ClassifyRules
        The classification's statistical settings.
    """

    units: Any
    discharges: Any
    summary: dict = field(default_factory=dict)
    templates: dict = field(default_factory=dict)
    params: MupParams = field(default_factory=MupParams)
    rules: Any = None  # the ClassifyRules used


def _firing(times: np.ndarray, p: MupParams) -> tuple[float, float, float]:
    """(firing rate Hz, ISI CV, fraction of ISIs below the refractory limit)."""
    if times.size < 2:
        return math.nan, math.nan, math.nan
    isi = np.diff(times) * 1e3
    # intervals under duplicate_ms are pairs of fits the sorting kept as two overlapping
    # discharges on the signal (split_close), not a firing interval: not counted
    fire = isi[isi >= p.duplicate_ms]
    viol = float(np.mean(fire < p.refractory_ms)) if fire.size else math.nan
    ok = isi[(isi >= p.isi_range_ms[0]) & (isi <= p.isi_range_ms[1])]
    if ok.size < 3:
        return math.nan, math.nan, viol
    return float(1e3 / np.median(ok)), float(np.std(ok) / np.mean(ok)), viol


def _channel(recording, idx: int, name: str, muscle, side, age, p: MupParams, engine: str,
             segment: int, rules=None):
    from motorsign.mup.classify import assess_muscle
    from motorsign.mup.features import quantify_mup
    from motorsign.mup.interference import interference_summary
    from motorsign.mup.preprocess import ChannelSource
    from motorsign.mup.reference import lookup_reference
    from motorsign.mup.sorting import sort_channel

    src = ChannelSource(recording, idx, p, segment=segment)
    sr = sort_channel(src, p, engine=engine)
    units, discharges = [], []
    tpl_ids, tpls = [], []
    for uid, u in enumerate(sr.units):
        f = quantify_mup(u.wide_template, sr.fs, u.template_noise_uv, p)
        # split-half reproducibility: durations of the templates of the even- and of the
        # odd-numbered discharges, measured at the full template's level
        split = math.nan
        if u.wide_halves is not None and math.isfinite(f["duration_ms"]):
            da, db = (quantify_mup(h, sr.fs, u.template_noise_uv, p)["duration_ms"]
                      for h in u.wide_halves)
            split = abs(da - db)
        rate, cv, viol = _firing(u.times_s, p)
        flags = []
        if f["duration_unreliable"]:
            flags.append("duration_unreliable")
        if math.isfinite(viol) and viol > p.max_isi_violation:
            flags.append("mixed")
        # rise time is judged only where the recording's sampling resolves it (5
        # samples per limit; resampling for the analysis adds no resolution)
        if (src.fs_in * p.max_rise_time_ms * 1e-3 >= 5 and math.isfinite(f["rise_time_ms"])
                and f["rise_time_ms"] > p.max_rise_time_ms):
            flags.append("distant")
        # a "mixed" train (two similar units merged) still gives a valid MUP
        # shape: its template enters the morphology means, not the firing
        # figures; a "distant" unit enters every test but the low-amplitude
        # one (amplitude falls steeply with distance, duration much less)
        used = not (set(flags) - {"mixed", "distant"})
        units.append({
            "channel": name, "unit_id": uid, "n_discharges": int(u.times_s.size),
            "amplitude_uv": f["amplitude_uv"], "duration_ms": f["duration_ms"],
            "phases": f["phases"], "turns": f["turns"], "area_uvms": f["area_uvms"],
            "firing_rate_hz": rate, "size_index": f["size_index"],
            "thickness_ms": f["thickness_ms"], "rise_time_ms": f["rise_time_ms"],
            "polyphasic": bool(math.isfinite(f["phases"]) and f["phases"] >= p.polyphasic_min_phases),
            "initial_polarity": f["initial_polarity"], "isi_cv": cv,
            "isi_violation_fraction": viol, "template_noise_uv": u.template_noise_uv,
            "n_averaged": u.n_averaged, "duration_split_ms": split, "used": used, "flags": ";".join(flags),
        })
        discharges.extend({"channel": name, "unit_id": uid, "time_s": float(t)} for t in u.times_s)
        tpl_ids.append(uid)
        tpls.append(u.wide_template)
    used_units = [r for r in units if r["used"]]

    def mean_of(key):
        vals = [r[key] for r in used_units if r[key] is not None and math.isfinite(r[key])]
        return float(np.mean(vals)) if vals else math.nan

    rates = [r["firing_rate_hz"] for r in used_units
             if math.isfinite(r["firing_rate_hz"]) and "mixed" not in r["flags"]]
    n_active = len(used_units)
    max_rate = max(rates) if rates else math.nan
    first = sorted(rates, reverse=True)[:2]
    recruitment = {
        "n_units": n_active,
        "max_firing_rate_hz": max_rate,
        "first_units_rate_hz": float(np.mean(first)) if first else math.nan,
        "recruitment_ratio": max_rate / n_active if n_active and math.isfinite(max_rate) else math.nan,
        "definition": "recruitment ratio = highest firing rate / number of clean units (Daube); "
                      "first_units_rate_hz = mean rate of the two fastest units",
    }
    active_thr = max(4.0 * sr.noise_sd_uv, 2 * p.ip_turn_uv) if math.isfinite(sr.noise_sd_uv) else math.inf
    ip = interference_summary(src, p, active_thr)
    stats = {
        "mean_amplitude_uv": mean_of("amplitude_uv"),
        "mean_duration_ms": mean_of("duration_ms"),
        "mean_phases": mean_of("phases"),
        "mean_turns": mean_of("turns"),
        "mean_area_uvms": mean_of("area_uvms"),
        "mean_size_index": mean_of("size_index"),
        "polyphasic_fraction": (float(np.mean([r["polyphasic"] for r in used_units]))
                                if used_units else math.nan),
        "n_units": len(units),
        "n_units_used": n_active,
        "n_discharges": int(sum(r["n_discharges"] for r in units)),
        "n_unassigned": sr.n_unassigned,
        "clipped_fraction": sr.clipped_fraction,
        "active_s": sr.active_s,
        "recruitment_ratio": recruitment["recruitment_ratio"],
    }
    near_amps = [r["amplitude_uv"] for r in used_units if "distant" not in r["flags"]]
    stats["unit_values"] = {k: [r[k] for r in used_units]
                            for k in ("duration_ms", "amplitude_uv", "area_uvms", "polyphasic")}
    stats["amplitude_near_uv"] = near_amps
    stats["sampling_rate_hz"] = src.fs_in  # the recording's band (classification's band-limit check)
    ref = lookup_reference(muscle, age)
    verdict = assess_muscle(stats, ref, p, rules)
    cls, reasons = verdict["classification"], verdict["reasons"]
    summary = {
        "muscle": muscle, "side": side, "age_years": age,
        "duration_s": sr.n_samples / sr.fs,
        **{k: v for k, v in stats.items()
           if k not in ("recruitment_ratio", "unit_values", "amplitude_near_uv", "sampling_rate_hz")},
        "n_units_near": len(near_amps),
        "mean_amplitude_near_uv": float(np.mean(near_amps)) if near_amps else math.nan,
        "classification": cls,
        "reasons": reasons,
        "confidence": verdict["confidence"],
        "tests": verdict["tests"],
        "chronic_neurogenic": cls == "neurogenic",
        "recruitment": recruitment,
        "interference": ip,
        "reference": {k: ref[k] for k in ref},
        "quality": {
            "noise_sd_uv": sr.noise_sd_uv, "signal_rms_uv": sr.signal_rms_uv,
            "threshold_uv": sr.threshold_uv, "n_candidates": sr.n_candidates,
            "clipped_fraction": sr.clipped_fraction, "active_s": sr.active_s,
            "sampling_rate_hz": src.fs_in,
            "analysis_rate_hz": sr.fs,
            "mains": src.mains,
            "flags": (["low_sampling_rate"] if src.fs_in < LOW_RATE_HZ else [])
                     + (["non_finite_samples"] if src.n_nonfinite else [])
                     + (["mains_notched"] if src.mains["notched_hz"] else []),
            **({"note": LOW_RATE_NOTE} if src.fs_in < LOW_RATE_HZ else {}),
        },
    }
    templates = {
        "unit_ids": np.asarray(tpl_ids, dtype=np.int64),
        "templates": (np.asarray(tpls, dtype=np.float32) if tpls
                      else np.zeros((0, sr.wide_pre * 2 + 1), np.float32)),
        "fs": sr.fs,
        "pre_samples": sr.wide_pre,
    }
    return units, discharges, summary, templates


def analyze_mups(
    recording,
    *,
    channels: str | Sequence[str] | None = None,
    muscle: str | None = None,
    age_years: float | None = None,
    params: MupParams | dict | None = None,
    engine: str = "numba",
    segment: int = 0,
    rules=None,
) -> MupResult:
    """Voluntary motor unit potential analysis.

    Detects MUP discharges, sorts them into motor units (templates,
    clustering, peeling of overlaps), measures each unit's template
    (amplitude, duration, phases, turns, area, size index; definitions in
    :mod:`motorsign.mup.features` and ``docs/mup.md``) and firing, and
    classifies each channel's muscle as ``neurogenic``, ``myopathic``,
    ``normal`` or ``indeterminate`` against ``data/mup_reference.csv``.

    Parameters
    ----------
    recording : motorsign.recording.Recording
        Needle EMG at low to moderate voluntary effort.
    channels : str | sequence of str | None
        Channels to analyse (default: all ``emg`` channels).
    muscle : str | None
        Muscle name for the reference lookup (default: each channel's muscle).
    age_years : float | None
        Subject age (selects the reference age band where the table has one).
    params : MupParams | dict | None
        Parameters or overrides (:class:`~motorsign.mup.params.MupParams`).
    engine : {"numba", "numpy"}
        Compiled kernels (default) or the plain numpy/scipy versions.
    segment : int
        Segment of the recording.
    rules : ClassifyRules | dict | None
        Classification settings or overrides
        (:class:`~motorsign.mup.classify.ClassifyRules`).

    Returns
    -------
    MupResult
    """
    import pandas as pd

    from motorsign.errors import InputError
    from motorsign.mup.classify import resolve_rules

    p = resolve_params(params)
    r = resolve_rules(rules)
    if isinstance(channels, str):
        channels = [c.strip() for c in channels.split(",") if c.strip()]
    if channels is None:
        idx = [i for i, c in enumerate(recording.channels) if c.kind == "emg"]
        if not idx:
            raise InputError("no EMG channel to analyse", recording.path)
    else:
        idx = [int(i) for i in recording.channel_index(list(channels))]
    all_units, all_dis, summary, templates = [], [], {}, {}
    for i in idx:
        ch = recording.channels[i]
        m = muscle if muscle is not None else ch.muscle
        log.info("mup: channel %s (muscle %s)", ch.name, m)
        u, d, s, t = _channel(recording, i, ch.name, m, ch.side, age_years, p, engine, segment,
                              r)
        all_units += u
        all_dis += d
        summary[ch.name] = s
        templates[ch.name] = t
    units = pd.DataFrame(all_units, columns=list(UNIT_COLUMNS))
    dis = pd.DataFrame(all_dis, columns=list(DISCHARGE_COLUMNS))
    if len(dis):
        dis = dis.sort_values(["channel", "time_s"], kind="stable").reset_index(drop=True)
    return MupResult(units=units, discharges=dis, summary=summary, templates=templates, params=p,
                     rules=r)
