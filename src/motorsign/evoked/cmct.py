"""Central motor conduction time (CMCT).

F-wave method (IFCN; Groppa et al. 2012): the peripheral motor time is
``PMT = (F + M - 1) / 2`` (F the minimal F latency, M the distal motor
latency, 1 ms the turnaround at the motoneuron) and ``CMCT = MEP onset - PMT``.
Root method: ``CMCT = cortical MEP onset - root MEP onset`` (cervical or
lumbar root stimulation; includes the proximal root). The result is compared
with the norms table (:mod:`motorsign.evoked.tables`): abnormal above the
stated ULN or mean + 2.5 SD.
"""

from __future__ import annotations

import json
import logging
import math
import os
from pathlib import Path

from motorsign.errors import ConfigError, InputError
from motorsign.evoked.tables import find_norm

__all__ = ["TURNAROUND_MS", "cmct_f_wave", "cmct_root", "compute_cmct", "cmct_from_results"]

log = logging.getLogger(__name__)

#: Turnaround time at the motoneuron in the F-wave method (ms).
TURNAROUND_MS = 1.0


def _finite(v) -> bool:
    return v is not None and isinstance(v, (int, float)) and math.isfinite(v)


def cmct_f_wave(mep_onset_ms: float, f_latency_ms: float, m_latency_ms: float,
                turnaround_ms: float = TURNAROUND_MS) -> tuple[float, float]:
    """CMCT by the F-wave method.

    Parameters
    ----------
    mep_onset_ms : float
        Cortical MEP onset latency.
    f_latency_ms : float
        Minimal F-wave latency.
    m_latency_ms : float
        M-wave onset (distal motor latency).
    turnaround_ms : float
        Turnaround at the motoneuron (1 ms).

    Returns
    -------
    cmct_ms, peripheral_ms : float
        NaN when an input is missing.
    """
    if not all(_finite(v) for v in (mep_onset_ms, f_latency_ms, m_latency_ms)):
        return math.nan, math.nan
    pmt = (f_latency_ms + m_latency_ms - turnaround_ms) / 2.0
    return mep_onset_ms - pmt, pmt


def cmct_root(cortical_ms: float, root_ms: float) -> float:
    """CMCT by the root method: cortical minus root MEP onset (NaN if missing)."""
    if not (_finite(cortical_ms) and _finite(root_ms)):
        return math.nan
    return cortical_ms - root_ms


def compute_cmct(*, mep_latency_ms: float | None, f_latency_ms: float | None = None,
                 m_latency_ms: float | None = None, root_latency_ms: float | None = None,
                 muscle: str | None = None, condition: str | None = None,
                 norms: str | os.PathLike | None = None, mep_amplitude_uv: float | None = None,
                 cmap_amplitude_mv: float | None = None, mep_present: bool | None = None,
                 turnaround_ms: float = TURNAROUND_MS) -> dict:
    """CMCT from latencies, judged against the norms.

    Parameters
    ----------
    mep_latency_ms : float | None
        Cortical MEP onset.
    f_latency_ms, m_latency_ms : float | None
        Minimal F latency and distal motor latency (F-wave method).
    root_latency_ms : float | None
        Root MEP onset (root method; used when given).
    muscle, condition : str | None
        Norm lookup (``condition`` e.g. ``"120% MT"``).
    norms : path-like | None
        A lab's norms table (default: the packaged one).
    mep_amplitude_uv, cmap_amplitude_mv : float | None
        For the MEP/CMAP amplitude ratio (%).
    mep_present : bool | None
        False when no MEP was found: CMCT is then NaN and the result abnormal.
    turnaround_ms : float

    Returns
    -------
    dict
        ``cmct_ms, peripheral_ms, method, muscle, uln_ms, abnormal,
        norm_source`` (contract) and the inputs, the norm's mean/SD, the
        MEP-latency norm and the MEP/CMAP ratio.
    """
    if root_latency_ms is not None:
        method = "root"
        cmct = cmct_root(mep_latency_ms, root_latency_ms)
        pmt = root_latency_ms if _finite(root_latency_ms) else math.nan
    else:
        method = "f_wave"
        if f_latency_ms is None or m_latency_ms is None:
            raise ConfigError("the F-wave method needs the F latency and the M latency "
                              "(--f-latency/--m-latency or --nerve DIR); or give a root latency")
        cmct, pmt = cmct_f_wave(mep_latency_ms, f_latency_ms, m_latency_ms, turnaround_ms)
    norm = find_norm(muscle, "cmct_ms", condition=condition, path=norms)
    uln = norm.limit if norm is not None else math.nan
    reasons = []
    if math.isfinite(cmct) and cmct <= 0:
        # Central conduction cannot take no time: the inputs do not belong
        # together (another muscle's F-wave, a swapped or mis-set latency).
        log.warning("CMCT would be %.2f ms (MEP onset %.2f ms is not after the peripheral time "
                    "%.2f ms): reported as NaN; check that the latencies belong together",
                    cmct, mep_latency_ms, pmt)
        cmct = math.nan
        reasons.append("cmct_not_positive")
    if mep_present is None and not _finite(mep_latency_ms):
        abnormal = None
        reasons += ["mep_not_measured", "cmct_not_measured"]
    elif mep_present is False:
        abnormal = True
        reasons.append("mep_absent")
    elif math.isfinite(cmct) and math.isfinite(uln):
        abnormal = bool(cmct > uln)
        if abnormal:
            reasons.append("cmct_above_uln")
    else:
        abnormal = None
        if not math.isfinite(cmct):
            reasons.append("cmct_not_measured")
        if not math.isfinite(uln):
            reasons.append("no_norm")
    lat_norm = find_norm(muscle, "mep_latency_ms", condition=condition, path=norms)
    lat_uln = lat_norm.limit if lat_norm is not None else math.nan
    ratio = math.nan
    if _finite(mep_amplitude_uv) and _finite(cmap_amplitude_mv) and cmap_amplitude_mv > 0:
        ratio = 100.0 * (mep_amplitude_uv / 1000.0) / cmap_amplitude_mv
    return {
        "cmct_ms": cmct,
        "peripheral_ms": pmt,
        "method": method,
        "muscle": muscle,
        "uln_ms": uln,
        "abnormal": abnormal,
        "norm_source": norm.source if norm is not None else None,
        "norm_mean_ms": norm.mean if norm is not None else math.nan,
        "norm_sd_ms": norm.sd if norm is not None else math.nan,
        "norm_condition": norm.condition if norm is not None else None,
        "reasons": reasons,
        "mep_latency_ms": mep_latency_ms,
        "f_latency_ms": f_latency_ms,
        "m_latency_ms": m_latency_ms,
        "root_latency_ms": root_latency_ms,
        "turnaround_ms": turnaround_ms if method == "f_wave" else None,
        "mep_present": mep_present,
        "mep_latency_uln_ms": lat_uln,
        "mep_latency_abnormal": bool(mep_latency_ms > lat_uln)
        if _finite(mep_latency_ms) and math.isfinite(lat_uln) else None,
        "mep_latency_norm_source": lat_norm.source if lat_norm is not None else None,
        "mep_amplitude_uv": mep_amplitude_uv,
        "cmap_amplitude_mv": cmap_amplitude_mv,
        "mep_cmap_ratio_pct": ratio,
    }


#: keys a channel of each result's summary.json must have (a wrong folder is refused, not
#: read as "no MEP", which would call the CMCT abnormal)
_RESULT_KEYS = {"mep": ("n_present", "onset_ms_min"), "nerve": ("m_onset_ms", "f_min_latency_ms")}


def _summary(folder: str | os.PathLike, what: str) -> dict:
    p = Path(folder)
    f = p / "summary.json" if p.is_dir() else p
    if not f.is_file():
        raise InputError(f"no summary.json: not a {what} result folder", folder)
    try:
        obj = json.loads(f.read_text(encoding="utf-8"))
    except ValueError as exc:
        raise InputError(f"summary.json is not valid JSON ({exc})", f) from exc
    chans = obj.get("channels") if isinstance(obj, dict) else None
    if not isinstance(chans, dict) or not chans:
        raise InputError(f"summary.json has no channels: not a {what} result", f)
    keys = _RESULT_KEYS[what]
    bad = [ch for ch, v in chans.items() if not isinstance(v, dict) or not all(k in v for k in keys)]
    if bad:
        raise InputError(f"summary.json of channel {bad[0]!r} lacks {', '.join(keys)}: not a {what} "
                         "result folder", f)
    return chans


def _pick(chans: dict, channel: str | None, muscle: str | None, where, what: str) -> tuple[str, dict]:
    if channel is not None:
        if channel not in chans:
            raise InputError(f"no channel {channel!r} in the {what} result; channels: {', '.join(chans)}", where)
        return channel, chans[channel]
    if len(chans) == 1:
        return next(iter(chans.items()))
    if muscle:
        hits = [(k, v) for k, v in chans.items() if str(v.get("muscle") or "").lower() == muscle.lower()]
        if len(hits) == 1:
            return hits[0]
    raise InputError(f"the {what} result has several channels ({', '.join(chans)}): name one with --channel "
                     "or --muscle", where)


def cmct_from_results(mep_dir, nerve_dir=None, *, root_dir=None, channel: str | None = None,
                      nerve_channel: str | None = None, muscle: str | None = None,
                      condition: str | None = None, norms=None, mep_statistic: str = "min") -> dict:
    """CMCT from ``mep`` (and ``nerve`` or root ``mep``) result folders.

    Parameters
    ----------
    mep_dir : path-like
        Cortical ``mep`` result folder (or its summary.json).
    nerve_dir : path-like | None
        ``nerve`` result folder (F-wave method).
    root_dir : path-like | None
        ``mep`` result folder of root stimulation (root method).
    channel, nerve_channel : str | None
        Channels to use when the results have several: ``channel`` for the
        mep result (and the nerve/root one when it has that channel too),
        ``nerve_channel`` for the nerve result; otherwise its only channel,
        or the one of the mep channel's muscle.
    muscle, condition, norms :
        Norm lookup (muscle defaults to the result's muscle).
    mep_statistic : str
        ``"min"`` (shortest onset, default) or ``"median"``.

    Returns
    -------
    dict
        As :func:`compute_cmct`, plus the folders and channels used.
    """
    if mep_statistic not in ("min", "median"):
        raise ConfigError(f"--mep-statistic must be min or median, got {mep_statistic!r}")
    key = f"onset_ms_{mep_statistic}"
    ch, mep = _pick(_summary(mep_dir, "mep"), channel, muscle, mep_dir, "mep")
    muscle = muscle or mep.get("muscle")
    lat = mep.get(key)
    lat = math.nan if lat is None else float(lat)
    present = int(mep.get("n_present", 0) or 0) > 0
    if not present and int(mep.get("n_trials", 1) or 0) == 0:
        # no trial could be measured (artifact, no baseline, bad samples): unknown, not absent
        present = None
    amp = mep.get("peak_to_peak_uv_max")
    kwargs = {}
    src = {"mep": str(mep_dir), "mep_channel": ch}
    cmap = None
    if root_dir is not None:
        rchans = _summary(root_dir, "mep")
        rch, root = _pick(rchans, channel if channel in rchans else None, muscle, root_dir, "root mep")
        r = root.get(key)
        kwargs["root_latency_ms"] = math.nan if r is None else float(r)
        src.update(root=str(root_dir), root_channel=rch)
    elif nerve_dir is not None:
        nchans = _summary(nerve_dir, "nerve")
        want = nerve_channel
        if want is None and channel is not None and channel in nchans:
            want = channel  # the same channel name in both results
        nch, nerve = _pick(nchans, want, muscle, nerve_dir, "nerve")
        f = nerve.get("f_min_latency_ms")
        m = nerve.get("m_onset_ms")
        kwargs["f_latency_ms"] = math.nan if f is None else float(f)
        kwargs["m_latency_ms"] = math.nan if m is None else float(m)
        cmap = nerve.get("cmap_peak_to_peak_mv") or nerve.get("cmap_amplitude_mv")
        src.update(nerve=str(nerve_dir), nerve_channel=nch)
    else:
        raise ConfigError("give --nerve DIR (F-wave method) or --root DIR (root method) with --mep DIR")
    out = compute_cmct(mep_latency_ms=lat, muscle=muscle, condition=condition, norms=norms,
                       mep_amplitude_uv=None if amp is None else float(amp),
                       cmap_amplitude_mv=None if cmap is None else float(cmap),
                       mep_present=present, **kwargs)
    out["mep_statistic"] = mep_statistic
    out["sources"] = src
    return out
