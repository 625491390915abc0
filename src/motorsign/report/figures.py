"""Figures of the report, drawn with matplotlib's object API (no pyplot,
no display) and returned as base64 PNG strings.

Each function takes plain arrays, so the drawing is independent of where
the numbers came from. Text taken from files goes through :func:`label`,
which keeps matplotlib from reading ``$...$`` as mathtext.
"""

from __future__ import annotations

import base64
import io
from collections.abc import Mapping, Sequence

import numpy as np

__all__ = [
    "KIND_COLORS",
    "label",
    "to_png_b64",
    "traces_with_discharges",
    "firing_trains",
    "mup_templates",
    "mep_overlay",
    "f_wave_raster",
]

#: colour of each discharge kind (detect's vocabulary)
KIND_COLORS = {
    "fibrillation": "#d62728",
    "positive_sharp_wave": "#ff7f0e",
    "fasciculation": "#1f77b4",
    "motor_unit_potential": "#2ca02c",
    "end_plate": "#9467bd",
    "complex_repetitive": "#8c564b",
    "artifact": "#7f7f7f",
    "unclassified": "#bcbd22",
}
#: resolution of the embedded PNGs
DPI = 80
#: line width of traces
TRACE_LW = 0.6
#: y range of a trace = this times the median peak of its marked discharges ...
GAIN_OVER_MEDIAN = 3.0
#: ... and at least this times its robust noise
GAIN_OVER_NOISE = 8.0
#: half-width of the window searched for a discharge's peak, s
PEAK_SEARCH_S = 0.002
#: inter-discharge intervals longer than this break the rate line (a pause, not a rate), s
RATE_GAP_S = 1.0
#: traces longer than this are drawn as their min/max envelope in this many bins
#: (every peak stays visible; a figure is ~900 px wide)
MAX_TRACE_BINS = 3000


def label(text) -> str:
    """A file string made safe for matplotlib text (no mathtext)."""
    return str(text).replace("$", r"\$")


def _figure(width: float, height: float):
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height), dpi=DPI)
    FigureCanvasAgg(fig)
    return fig


def to_png_b64(fig) -> str:
    """Render a figure to a base64 PNG string."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=DPI, bbox_inches="tight")
    return base64.b64encode(buf.getvalue()).decode("ascii")


def _kind_color(kind: str) -> str:
    return KIND_COLORS.get(str(kind), "#17becf")


def envelope(t: np.ndarray, y: np.ndarray, n_bins: int = MAX_TRACE_BINS) -> tuple[np.ndarray, np.ndarray]:
    """Min/max decimation of a trace for drawing: ``2 * n_bins`` points that keep every peak.

    Parameters
    ----------
    t, y : ndarray (n,)
        Times and values.
    n_bins : int
        Number of bins; traces with at most ``2 * n_bins`` points are returned as they are.
    """
    n = y.size
    if n <= 2 * n_bins:
        return t, y
    per = n // n_bins
    m = per * n_bins
    yb = y[:m].reshape(n_bins, per)
    tb = t[:m].reshape(n_bins, per)
    with np.errstate(invalid="ignore"):
        lo = np.nanargmin(np.where(np.isnan(yb), np.inf, yb), axis=1)
        hi = np.nanargmax(np.where(np.isnan(yb), -np.inf, yb), axis=1)
    first = np.minimum(lo, hi)
    second = np.maximum(lo, hi)
    rows = np.arange(n_bins)
    idx_t = np.stack([tb[rows, first], tb[rows, second]], axis=1).ravel()
    idx_y = np.stack([yb[rows, first], yb[rows, second]], axis=1).ravel()
    return np.concatenate([idx_t, t[m:]]), np.concatenate([idx_y, y[m:]])


def display_range(t_s: np.ndarray, y: np.ndarray, event_times: Sequence[float]) -> float:
    """Half-range of the y axis: like an EMG machine's gain, set so the typical
    marked discharge is clearly visible; larger potentials are clipped.

    The range is :data:`GAIN_OVER_MEDIAN` times the median peak of the marked
    discharges, at least :data:`GAIN_OVER_NOISE` times the robust noise (MAD),
    and never more than the largest value.
    """
    finite = np.abs(y[np.isfinite(y)])
    if finite.size == 0:
        return 1.0
    top = float(finite.max()) or 1.0
    mad = 1.4826 * float(np.median(np.abs(y[np.isfinite(y)] - np.nanmedian(y))))
    floor = GAIN_OVER_NOISE * mad
    if len(event_times):
        idx = np.clip(np.searchsorted(t_s, np.asarray(event_times, float)), 0, y.size - 1)
        half = max(1, int(round(PEAK_SEARCH_S / max(t_s[1] - t_s[0], 1e-9)))) if t_s.size > 1 else 1
        peaks = [np.nanmax(np.abs(y[max(0, k - half) : k + half + 1])) for k in idx]
        want = GAIN_OVER_MEDIAN * float(np.nanmedian(peaks))
    else:
        want = top
    return float(min(top, max(want, floor))) or 1.0


def traces_with_discharges(
    t_s: np.ndarray,
    traces_uv: np.ndarray,
    channel_names: Sequence[str],
    discharges: Mapping[str, Sequence[tuple[float, str]]],
) -> str:
    """Traces stacked one per channel, each discharge marked above its trace by kind.

    Parameters
    ----------
    t_s : ndarray (n_samples,)
        Time of each sample, s.
    traces_uv : ndarray (n_samples, n_channels)
        Signals, µV.
    channel_names : sequence of str
    discharges : mapping channel -> [(time_s, kind), ...]
        Discharges inside the window.
    """
    n = traces_uv.shape[1]
    fig = _figure(11, 0.6 + 1.25 * n)
    axes = fig.subplots(n, 1, sharex=True, squeeze=False)[:, 0]
    seen: dict[str, str] = {}
    for i, ax in enumerate(axes):
        y = traces_uv[:, i]
        ax.plot(*envelope(t_s, y), color="#333", lw=TRACE_LW)
        ev = discharges.get(channel_names[i], [])
        lim = display_range(t_s, y, [e[0] for e in ev])
        top, span = lim, 2 * lim
        ax.set_ylim(-1.25 * lim, 1.25 * lim)
        if np.nanmax(np.abs(y)) > 1.25 * lim:
            ax.text(0.002, 0.02, "larger potentials clipped", transform=ax.transAxes, fontsize=6,
                    color="#777")
        if ev:
            times = np.array([e[0] for e in ev])
            kinds = [str(e[1]) for e in ev]
            for kind in sorted(set(kinds)):
                sel = np.array([k == kind for k in kinds])
                ax.plot(times[sel], np.full(sel.sum(), top + 0.08 * span), "v",
                        color=_kind_color(kind), ms=5, label=kind)
                seen[kind] = _kind_color(kind)
        ax.set_ylabel(f"{label(channel_names[i])}\nµV", fontsize=8)
        ax.tick_params(labelsize=7)
    axes[-1].set_xlabel("time (s)")
    if seen:
        from matplotlib.lines import Line2D

        handles = [Line2D([], [], marker="v", ls="", color=c, label=k) for k, c in seen.items()]
        axes[0].legend(handles=handles, loc="lower right", bbox_to_anchor=(1.0, 1.0), fontsize=7,
                       ncol=min(4, len(handles)), frameon=False)
    return to_png_b64(fig)


def firing_trains(trains: Sequence[tuple[str, str, np.ndarray]]) -> str:
    """Raster and instantaneous rate of firing trains.

    Parameters
    ----------
    trains : sequence of (name, kind, times_s)
        One entry per train.
    """
    fig = _figure(11, 0.8 + 0.28 * max(4, len(trains)))
    ax_r, ax_f = fig.subplots(1, 2, gridspec_kw={"width_ratios": [3, 2]})
    for i, (_name, kind, times) in enumerate(trains):
        c = _kind_color(kind)
        times = np.sort(np.asarray(times, dtype=float))
        ax_r.plot(times, np.full(times.size, i), "|", color=c, ms=8)
        if times.size > 1:
            isi = np.diff(times)
            ok = isi > 0
            rate = 1.0 / isi[ok]
            tt = times[1:][ok]
            rate = np.where(isi[ok] > RATE_GAP_S, np.nan, rate)  # a pause breaks the line
            ax_f.plot(tt, rate, ".-", color=c, ms=3, lw=0.6)
    ax_r.set_yticks(range(len(trains)))
    ax_r.set_yticklabels([label(n) for n, _, _ in trains], fontsize=7)
    ax_r.set_xlabel("time (s)")
    ax_r.set_title("firing trains", fontsize=9)
    ax_f.set_xlabel("time (s)")
    ax_f.set_ylabel("instantaneous rate (Hz)")
    ax_f.set_title("rate", fontsize=9)
    for ax in (ax_r, ax_f):
        ax.tick_params(labelsize=7)
    return to_png_b64(fig)


def mup_templates(panels: Sequence[tuple[str, np.ndarray, list[tuple[str, np.ndarray]]]]) -> str:
    """MUP templates, one panel per channel, one line per unit.

    Parameters
    ----------
    panels : sequence of (channel, t_ms, [(unit label, waveform_uv), ...])
    """
    n = len(panels)
    cols = min(4, n)
    rows = int(np.ceil(n / cols))
    fig = _figure(2.8 * cols, 2.3 * rows)
    axes = np.atleast_1d(fig.subplots(rows, cols, squeeze=False)).ravel()
    for ax, (ch, t_ms, units) in zip(axes, panels):
        for name, w in units:
            ax.plot(t_ms, w, lw=1.0, label=label(name))
        ax.set_title(label(ch), fontsize=9)
        ax.set_xlabel("ms", fontsize=8)
        ax.set_ylabel("µV", fontsize=8)
        ax.tick_params(labelsize=7)
        if units:
            ax.legend(fontsize=6, loc="upper right")
    for ax in axes[n:]:
        ax.set_visible(False)
    return to_png_b64(fig)


def mep_overlay(panels: Sequence[tuple[str, np.ndarray, np.ndarray, np.ndarray]]) -> str:
    """MEP sweeps overlaid per channel with each trial's onset marked.

    Parameters
    ----------
    panels : sequence of (channel, t_ms, sweeps (n_trials, n_samples), onsets_ms (n_trials,))
        ``onsets_ms`` NaN for absent MEPs.
    """
    n = len(panels)
    fig = _figure(5.5 * min(2, n), 3.0 * int(np.ceil(n / 2)))
    axes = np.atleast_1d(fig.subplots(int(np.ceil(n / 2)), min(2, n), squeeze=False)).ravel()
    for ax, (ch, t_ms, sweeps, onsets) in zip(axes, panels):
        for k, sw in enumerate(sweeps):
            present = np.isfinite(onsets[k])
            ax.plot(t_ms, sw, lw=0.6, color="#1f77b4" if present else "#aaaaaa", alpha=0.8)
            if present:
                y = np.interp(onsets[k], t_ms, sw)
                ax.plot([onsets[k]], [y], "o", color="#d62728", ms=4)
        ax.axvline(0, color="k", lw=0.6, ls=":")
        n_present = int(np.isfinite(onsets).sum())
        ax.set_title(f"{label(ch)}: {n_present}/{len(onsets)} MEPs (red: onset)", fontsize=9)
        ax.set_xlabel("ms after stimulus", fontsize=8)
        ax.set_ylabel("µV", fontsize=8)
        ax.tick_params(labelsize=7)
    for ax in axes[n:]:
        ax.set_visible(False)
    return to_png_b64(fig)


def f_wave_raster(
    channel: str,
    t_ms: np.ndarray,
    sweeps: np.ndarray,
    m_onsets_ms: np.ndarray,
    f_latencies_ms: np.ndarray,
    f_window_start_ms: float,
) -> str:
    """M-waves overlaid (left) and F-waves as a raster of sweeps at higher gain (right).

    Parameters
    ----------
    channel : str
    t_ms : ndarray (n_samples,)
    sweeps : ndarray (n_trials, n_samples), µV
    m_onsets_ms, f_latencies_ms : ndarray (n_trials,)
        NaN where absent.
    f_window_start_ms : float
        Start of the raster panel (after the M-wave).
    """
    fig = _figure(11, 1.5 + 0.22 * max(8, len(sweeps)))
    ax_m, ax_f = fig.subplots(1, 2, gridspec_kw={"width_ratios": [1, 2]})
    m_sel = t_ms <= f_window_start_ms
    for k, sw in enumerate(sweeps):
        ax_m.plot(t_ms[m_sel], sw[m_sel] / 1000.0, lw=0.6, color="#1f77b4", alpha=0.7)
        if np.isfinite(m_onsets_ms[k]):
            ax_m.axvline(m_onsets_ms[k], color="#d62728", lw=0.4, alpha=0.5)
    ax_m.set_title(f"{label(channel)}: M-waves (red: onset)", fontsize=9)
    ax_m.set_xlabel("ms", fontsize=8)
    ax_m.set_ylabel("mV", fontsize=8)
    f_sel = t_ms > f_window_start_ms
    late = sweeps[:, f_sel]
    scale = np.nanpercentile(np.abs(late), 99) if late.size else 1.0
    scale = scale if np.isfinite(scale) and scale > 0 else 1.0
    for k, sw in enumerate(sweeps):
        y = np.clip(sw[f_sel] / (2.0 * scale), -0.6, 0.6)
        ax_f.plot(t_ms[f_sel], k - y, lw=0.6, color="#333")  # y axis inverted: up is up
        if np.isfinite(f_latencies_ms[k]):
            ax_f.plot([f_latencies_ms[k]], [k], "|", color="#d62728", ms=10, mew=2)
    ax_f.set_title(f"F-waves: one row per trial, row spacing = {2.0 * scale:.0f} µV (red: latency)",
                   fontsize=9)
    ax_f.set_xlabel("ms", fontsize=8)
    ax_f.set_ylabel("trial", fontsize=8)
    ax_f.invert_yaxis()
    from matplotlib.ticker import MaxNLocator

    ax_f.yaxis.set_major_locator(MaxNLocator(integer=True))
    for ax in (ax_m, ax_f):
        ax.tick_params(labelsize=7)
    return to_png_b64(fig)
