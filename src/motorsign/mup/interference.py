"""Interference-pattern analysis: turns and amplitude (Willison's method).

Where units overlap too much to be separated, the pattern is described by
epochs of the wide-band signal (``ip_epoch_ms``): the number of **turns** per
second (changes of direction of at least ``ip_turn_uv``, 100 µV by Willison's
criterion) and the **mean amplitude** between successive turns (µV). Myopathic
patterns have many turns of small amplitude (high turns/amplitude ratio);
neurogenic ones few turns of large amplitude.
"""

from __future__ import annotations

import numpy as np

from motorsign.mup.params import MupParams

__all__ = ["turns_amplitude", "interference_summary"]


def turns_amplitude(x: np.ndarray, turn_uv: float) -> tuple[int, float]:
    """Turns and mean amplitude between turns of one epoch.

    Parameters
    ----------
    x : ndarray
        Wide-band signal (µV).
    turn_uv : float
        Turn criterion (µV).

    Returns
    -------
    (n_turns, mean_amplitude_uv)
        Mean amplitude is NaN with fewer than two turns.
    """
    from motorsign.mup.kernels import turn_points

    pts = turn_points(np.ascontiguousarray(x, dtype=np.float32), float(turn_uv))
    if len(pts) < 2:
        return len(pts), float("nan")
    return len(pts), float(np.mean(np.abs(np.diff(pts))))


def interference_summary(source, params: MupParams, active_threshold_uv: float) -> dict:
    """Turns/amplitude of the active epochs of a channel.

    Parameters
    ----------
    source : motorsign.mup.preprocess.ChannelSource
    params : MupParams
    active_threshold_uv : float
        Epochs whose wide-band peak-to-peak stays below this are rest and skipped.

    Returns
    -------
    dict
        ``n_epochs``, ``turns_per_s`` (median), ``mean_amplitude_uv`` (median),
        ``ratio_turns_per_s_per_uv`` (median turns/s divided by median amplitude).
    """
    fs = source.fs
    ne = max(4, int(round(params.ip_epoch_ms * 1e-3 * fs)))
    turns, amps = [], []
    for ch in source.chunks():
        core = ch.wide[ch.start - ch.offset : ch.stop - ch.offset]
        for a in range(0, core.size - ne + 1, ne):
            seg = core[a : a + ne]
            if float(seg.max() - seg.min()) < active_threshold_uv:
                continue
            n, m = turns_amplitude(seg, params.ip_turn_uv)
            turns.append(n / (ne / fs))
            amps.append(m)
    if not turns:
        return {"n_epochs": 0, "turns_per_s": float("nan"), "mean_amplitude_uv": float("nan"),
                "ratio_turns_per_s_per_uv": float("nan")}
    tps = float(np.median(turns))
    amp = float(np.nanmedian(amps)) if np.isfinite(amps).any() else float("nan")
    return {"n_epochs": len(turns), "turns_per_s": tps, "mean_amplitude_uv": amp,
            "ratio_turns_per_s_per_uv": tps / amp if amp and np.isfinite(amp) else float("nan")}
