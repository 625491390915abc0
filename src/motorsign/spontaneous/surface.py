"""Surface and HD-sEMG fasciculations: one discharge seen on many channels.

A fasciculating motor unit under a surface grid shows on a patch of
neighbouring electrodes within a few milliseconds (the potential propagates
along the fibres). Per-channel candidates at rest are linked across channels
when they follow each other within ``coincidence_ms`` (single linkage in
time), giving one *event* per discharge. An event is a fasciculation when it
spreads over at least ``spread_min_channels`` channels and its largest
channel reaches ``surface_min_uv`` (SPiQE's exclusion threshold is 100 µV;
the default is lower, see :data:`SURFACE_DEFAULTS`); other rest candidates
are ``unclassified``. Voluntary activity engages the muscle under the whole
grid: the activity intervals found per channel are pooled
(:func:`grid_activity`: a window is active when at least
``grid_activity_fraction`` of the channels are) and applied to every
channel; artifacts stay per channel.
"""

from __future__ import annotations

import numba
import numpy as np

__all__ = ["SURFACE_DEFAULTS", "link_events_nb", "classify_surface", "grid_activity"]

#: Parameter defaults for surface recordings (low rates, wide potentials).
#: ``mains_min_inflation`` is higher than for needle EMG: surface potentials
#: carry much of their energy near the mains frequency, so the notches take
#: some signal too (on the hdsemg simulator, 3 seeds x 60 s: sensitivity
#: 0.973 without and 0.947 with notches at the default 3 µV hum, which raises
#: the threshold 1.4-1.8-fold; with 10 µV, 3.9-fold, 0.858 without and 0.947
#: with). They are applied once the hum at least doubles the threshold.
SURFACE_DEFAULTS = {
    "mains_min_inflation": 2.0,
    "highpass_hz": 20.0,
    "lowpass_hz": 450.0,
    "dead_time_ms": 5.0,
    "peak_search_ms": 2.0,
    "peak_search_wide_ms": 8.0,
    "window_pre_ms": 20.0,
    "window_post_ms": 40.0,
    "quiet_ms": 3.0,
    "baseline_ms": 4.0,
    "baseline_gap_ms": 1.0,
    "snippet_pre_ms": 5.0,
    "snippet_post_ms": 15.0,
    "snippet_rate_hz": 1000.0,
    "satellite_window_ms": 15.0,
    "activity_spike_min_uv": 50.0,
    "mup_min_uv": 30.0,
    "mup_min_duration_ms": 5.0,
    "mup_max_duration_ms": 60.0,
    "coincidence_ms": 8.0,
    "spread_min_channels": 4,
    "surface_min_uv": 40.0,
    "grid_activity_fraction": 0.1,
}


@numba.njit(nogil=True, cache=True)
def link_events_nb(times, gap):  # pragma: no cover - compiled
    """Event id of each time (sorted input): a new event after a gap > ``gap``."""
    m = times.size
    ev = np.empty(m, np.int64)
    k = -1
    last = -1e300
    for i in range(m):
        if times[i] - last > gap:
            k += 1
        ev[i] = k
        last = times[i]
    return ev


def classify_surface(discharges, p):
    """Link rest candidates across channels and classify the events.

    Parameters
    ----------
    discharges : pandas.DataFrame
        Per-channel discharges with columns ``channel, time_s, amplitude_uv,
        kind, state`` (state ``rest``/``activity``/``artifact``).
    p : DetectParams
        ``coincidence_ms``, ``spread_min_channels``, ``surface_min_uv``.

    Returns
    -------
    discharges : pandas.DataFrame
        With ``kind`` set for rest rows (``fasciculation`` or
        ``unclassified``) and an ``event_id`` column (-1 outside events).
    events : pandas.DataFrame
        One row per event: ``event_id, time_s`` (time on its largest
        channel), ``peak_channel, amplitude_uv, n_channels, kind``.
    """
    import pandas as pd

    d = discharges.copy()
    d["event_id"] = -1
    rest = (d["state"] == "rest").to_numpy()
    if not rest.any():
        return d, pd.DataFrame(columns=["event_id", "time_s", "peak_channel", "amplitude_uv",
                                        "n_channels", "kind"])
    sub = d.loc[rest].sort_values("time_s", kind="stable")
    ev = link_events_nb(sub["time_s"].to_numpy(np.float64), p.coincidence_ms / 1000.0)
    sub = sub.assign(_ev=ev)
    g = sub.groupby("_ev")
    n_ch = g["channel"].nunique()
    peak_idx = g["amplitude_uv"].idxmax()
    amp = g["amplitude_uv"].max()
    is_fasc = (n_ch >= p.spread_min_channels) & (amp >= p.surface_min_uv)
    events = pd.DataFrame({
        "event_id": n_ch.index.to_numpy(),
        "time_s": d.loc[peak_idx.to_numpy(), "time_s"].to_numpy(),
        "peak_channel": d.loc[peak_idx.to_numpy(), "channel"].to_numpy(),
        "amplitude_uv": amp.to_numpy(),
        "n_channels": n_ch.to_numpy(),
        "kind": np.where(is_fasc.to_numpy(), "fasciculation", "unclassified"),
    })
    kinds = np.where(is_fasc.reindex(ev).to_numpy(), "fasciculation", "unclassified")
    d.loc[sub.index, "kind"] = kinds
    d.loc[sub.index, "event_id"] = ev
    events = events[events["kind"] == "fasciculation"].reset_index(drop=True)
    return d, events


def grid_activity(intervals, names, duration_s, p) -> list[tuple[float, float]]:
    """Activity intervals of the whole grid from the per-channel ones.

    Parameters
    ----------
    intervals : pandas.DataFrame
        ``channel, start_s, stop_s, kind`` (per-channel ``activity`` rows).
    names : list of str
        Channels analysed.
    duration_s : float
        Recording duration.
    p : DetectParams
        ``segment_window_s``, ``grid_activity_fraction``, ``activity_merge_s``,
        ``activity_pad_s``.

    Returns
    -------
    list of (start_s, stop_s)
    """
    from motorsign.signal.segmentation import intervals_from_mask

    win = p.segment_window_s
    nw = max(1, int(np.ceil(duration_s / win)))
    count = np.zeros(nw)
    act = intervals[intervals["kind"] == "activity"]
    for _, grp in act.groupby("channel"):
        on = np.zeros(nw, bool)
        for a, b in zip(grp["start_s"], grp["stop_s"]):
            on[int(a // win): int(np.ceil(b / win))] = True
        count += on
    need = max(1.0, p.grid_activity_fraction * len(names))
    return intervals_from_mask(count >= need, win, duration_s, merge_s=p.activity_merge_s)
