"""Mains (power-line) interference: find it, size it against the noise, notch it.

Needle and surface EMG often carry hum at 50 or 60 Hz and its harmonics. A
high-pass at 100 Hz removes the fundamental only in part and none of the
harmonics above it, and the robust noise (hence the detection threshold)
rises with the hum, so small fibrillations go undetected without any sign of
it. :func:`estimate_mains` measures the hum in a few probe windows of the
recording from its spectrum: a harmonic is *present* when its spectral line
stands ``min_excess_db`` above the neighbouring bins, and its size is the
power of the line above that floor. What matters for detection is how much
the hum raises the robust noise of the detection band, hence the threshold:
the *inflation* is that noise over the noise once the present harmonics are
notched. Callers notch them (:func:`design_notches`, zero phase) when the
inflation is large enough to cost sensitivity.
"""

from __future__ import annotations

import functools
import logging
import math
from dataclasses import dataclass, field

import numpy as np

from motorsign.errors import ConfigError

__all__ = ["MAINS_CANDIDATES_HZ", "MainsEstimate", "estimate_mains", "design_notches",
           "notch_settling_s", "probe_windows", "harmonics_up_to"]

log = logging.getLogger(__name__)

#: Mains frequencies looked for.
MAINS_CANDIDATES_HZ = (50.0, 60.0)
#: Half width (bins) of a spectral line of the Hann-windowed spectrum.
_LINE_HALF_BINS = 2
#: Neighbouring bins (from, to) on each side that give the noise floor of a line.
_FLOOR_BINS = (4, 15)
#: Highest frequency kept in the probe spectra (harmonics above are not looked for).
_PSD_MAX_HZ = 2000.0


@dataclass
class MainsEstimate:
    """Mains interference found in a recording.

    Attributes
    ----------
    hz : float | None
        Mains frequency (50 or 60 Hz), ``None`` when no harmonic is present.
    harmonics_hz : list of float
        Harmonics present on at least one channel, ascending.
    hum_uv : ndarray, shape (n_channels,)
        RMS of the hum that reaches the detection band (µV) in the window of
        ``inflation``; NaN where it could not be measured.
    noise_uv : ndarray, shape (n_channels,)
        Robust noise of the detection band, hum included, in that window (µV).
    measured : bool
        False when no window was long enough (1 s plus twice the notch
        settling time): nothing is known about the hum then.
    inflation : ndarray, shape (n_channels,)
        How much the hum raises the robust noise of the detection band (and
        so the detection threshold): that noise over the noise after
        notching the present harmonics, largest over the probe windows
        (1.0: no effect).
    """

    hz: float | None = None
    harmonics_hz: list[float] = field(default_factory=list)
    hum_uv: np.ndarray = field(default_factory=lambda: np.zeros(0))
    noise_uv: np.ndarray = field(default_factory=lambda: np.zeros(0))
    inflation: np.ndarray = field(default_factory=lambda: np.zeros(0))
    measured: bool = False


@functools.lru_cache(maxsize=8)
def _hann(n: int) -> np.ndarray:
    """Periodic Hann window of ``n`` samples (read-only, shared)."""
    win = 0.5 - 0.5 * np.cos(2 * np.pi * np.arange(n) / n)
    win.flags.writeable = False
    return win


def _psd(x: np.ndarray, fs: float) -> tuple[np.ndarray, float]:
    """Welch power spectral density (µV²/Hz) of each column, 1-s Hann segments, half overlap.

    Only the bins up to :data:`_PSD_MAX_HZ` plus the floor ring are kept.
    Returns ``(psd (n_bins, n_columns), bin width)``.
    """
    from scipy.fft import rfft

    n = x.shape[0]
    nper = min(n, int(round(fs)))
    step = max(1, nper // 2)
    win = _hann(nper)
    scale = 1.0 / (fs * np.sum(win ** 2))
    df = fs / nper
    keep = min(nper // 2 + 1, int(_PSD_MAX_HZ / df) + _FLOOR_BINS[1] + 2)
    acc = np.zeros((keep, x.shape[1]))
    m = 0
    for a in range(0, n - nper + 1, step):
        seg = x[a:a + nper].astype(np.float64)
        seg = (seg - seg.mean(axis=0)) * win[:, None]
        acc += np.abs(rfft(seg, axis=0)[:keep]) ** 2
        m += 1
    psd = acc * (2.0 * scale / max(1, m))
    return psd, df


def _lines(psd: np.ndarray, df: float, freqs_hz: list[float]) -> tuple[np.ndarray, np.ndarray]:
    """Excess (dB) and power (µV²) of each line in ``freqs_hz``, per channel.

    ``psd`` is (n_freqs, n_channels); returns two (n_lines, n_channels) arrays.
    """
    nf, nc = psd.shape
    excess = np.full((len(freqs_hz), nc), -np.inf)
    power = np.zeros((len(freqs_hz), nc))
    lo_gap, hi_gap = _FLOOR_BINS
    ks = np.array([int(round(fh / df)) for fh in freqs_hz], dtype=np.int64)
    ok = np.flatnonzero((ks - hi_gap >= 1) & (ks + hi_gap < nf))
    if ok.size == 0:
        return excess, power
    ks = ks[ok]
    half = np.arange(-_LINE_HALF_BINS, _LINE_HALF_BINS + 1)
    ring_off = np.concatenate([np.arange(-hi_gap, -lo_gap + 1), np.arange(lo_gap, hi_gap + 1)])
    line = psd[ks[:, None] + half[None, :]]  # (n_lines, width, nc)
    floor = np.median(psd[ks[:, None] + ring_off[None, :]], axis=1)  # (n_lines, nc)
    peak = line.max(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        excess[ok] = 10.0 * np.log10(peak / floor)
    power[ok] = np.maximum(0.0, (line.sum(axis=1) - floor * half.size) * df)
    excess[~np.isfinite(excess)] = -np.inf
    return excess, power


def _map(fn, items: list, n_jobs: int) -> list:
    """``[fn(i) for i in items]``, in ``n_jobs`` threads when more than one."""
    if n_jobs <= 1 or len(items) <= 1:
        return [fn(i) for i in items]
    from functools import partial

    from motorsign.workers import run_all

    return run_all([partial(fn, i) for i in items], n_jobs)


def _noise(y: np.ndarray, start: int, stop: int, fs: float) -> np.ndarray:
    """Robust noise per column: MAD of (at most 1024 samples of) each 0.25-s block, median."""
    from motorsign.signal.noise import block_mad_nb, nanmedian_cols_nb

    return nanmedian_cols_nb(block_mad_nb(y, start, stop, max(16, int(0.25 * fs)), 1024))


def estimate_mains(
    windows: list[np.ndarray],
    fs: float,
    band_sos: np.ndarray,
    *,
    candidates_hz: tuple[float, ...] = MAINS_CANDIDATES_HZ,
    max_hz: float = 1000.0,
    min_excess_db: float = 10.0,
    notch_bandwidth_hz: float = 4.0,
    force_hz: float | None = None,
    n_jobs: int = 1,
) -> MainsEstimate:
    """Find mains hum in probe windows and size it against the detection-band noise.

    Parameters
    ----------
    windows : list of ndarray, each (n_samples, n_channels) float32
        Stretches of the recording (µV), e.g. a few seconds at evenly spread
        places; windows shorter than 1 s are ignored.
    fs : float
        Sampling rate (Hz).
    band_sos : ndarray (n_sections, 6)
        The detection band as second-order sections, applied forward and
        backward by the caller (its squared magnitude weighs the hum).
    candidates_hz : tuple of float
        Mains frequencies to choose from.
    max_hz : float
        Highest harmonic considered.
    min_excess_db : float
        A harmonic is present on a channel when its line stands this far
        above the median of the neighbouring bins.
    notch_bandwidth_hz : float
        Width of the notches the inflation is measured with (windows shorter
        than 1 s plus twice their settling time are ignored).
    force_hz : float | None
        Use this mains frequency instead of choosing.
    n_jobs : int
        Threads for the noise measurement (the compiled filters, by window and
        block of 8 channels); the spectra run in the calling thread.

    Returns
    -------
    MainsEstimate
    """
    from scipy.signal import sosfreqz

    from motorsign.signal.filters import sosfiltfilt_nb

    settle = int(math.ceil(notch_settling_s(notch_bandwidth_hz) * fs))
    usable = [w for w in windows if w.shape[0] >= int(fs) + 2 * settle]
    nc = windows[0].shape[1] if windows else 0
    est = MainsEstimate(hum_uv=np.full(nc, np.nan), noise_uv=np.full(nc, np.nan),
                        inflation=np.full(nc, np.nan))
    if not usable or nc == 0:
        log.info("mains hum not measured: no stretch of %.1f s", (int(fs) + 2 * settle) / fs)
        return est
    est.measured = True
    cands = (float(force_hz),) if force_hz else tuple(float(c) for c in candidates_hz)
    def prepare(w):
        # float32 like the recording's chunks: the probe's arrays stay no larger
        # than a chunk's, so the allocator keeps returning chunk buffers to
        # the system (glibc raises its mmap threshold to the largest block
        # freed; a larger probe array would make chunk buffers heap-allocated
        # and raise the peak memory of long recordings by ~100 MB)
        return np.nan_to_num(np.ascontiguousarray(w, np.float32))

    xs = [prepare(w) for w in usable]
    # the spectra one window at a time, all channels together: split by channel
    # block the FFTs ran strided and slower, and neither split gained from
    # threads (numpy and pocketfft on 2-s windows; bench_detect_speed stages)
    windows_psd = [(x, *_psd(x, fs)) for x in xs]

    per_window = []
    best_total = {c: 0.0 for c in cands}
    for x, psd, df in windows_psd:
        res = {}
        for c in cands:
            hz = [h * c for h in range(1, int(min(max_hz, _PSD_MAX_HZ) // c) + 1)
                  if h * c < fs / 2]
            excess, power = _lines(psd, df, hz)
            present = excess >= min_excess_db
            best_total[c] += float(np.sum(power * present))
            res[c] = (hz, present, power)
        per_window.append((x, res))
    chosen = max(cands, key=lambda c: best_total[c])
    if best_total[chosen] <= 0.0:
        return est
    hz_all, _, _ = per_window[0][1][chosen]
    present_any = np.zeros(len(hz_all), bool)
    for _, res in per_window:
        present_any |= res[chosen][1].any(axis=1)
    lines = [f for f, p in zip(hz_all, present_any) if p]
    if not lines:
        return est
    _, h = sosfreqz(band_sos, worN=np.asarray(hz_all), fs=fs)
    gain = np.abs(h) ** 4  # forward and backward: squared magnitude, as power
    with_notch = np.vstack([design_notches(fs, lines, notch_bandwidth_hz), band_sos])
    def noises(x):
        y = np.empty_like(x)
        sosfiltfilt_nb(x, band_sos, y)
        noise = _noise(y, settle, x.shape[0] - settle, fs)
        sosfiltfilt_nb(x, with_notch, y)
        return noise, _noise(y, settle, x.shape[0] - settle, fs)

    # by window and block of whole filter vectors (8 channels: a smaller block
    # runs the scalar recursion, slower than the whole vector)
    n_vec = max(1, min(n_jobs, -(-nc // 8)))
    cuts = [min(nc, 8 * (-(-nc // 8) * k // n_vec)) for k in range(n_vec + 1)]
    pieces = [(i, a, b) for i in range(len(per_window)) for a, b in zip(cuts[:-1], cuts[1:])
              if b > a]
    parts = _map(lambda pc: noises(np.ascontiguousarray(per_window[pc[0]][0][:, pc[1]:pc[2]])),
                 pieces, n_jobs)
    measured = [(np.concatenate([r[0] for pc, r in zip(pieces, parts) if pc[0] == i]),
                 np.concatenate([r[1] for pc, r in zip(pieces, parts) if pc[0] == i]))
                for i in range(len(per_window))]
    for (_x, res), (noise, clean) in zip(per_window, measured):
        _, present, power = res[chosen]
        hum = np.sqrt(np.sum(power * present * gain[:, None], axis=0))
        with np.errstate(divide="ignore", invalid="ignore"):
            infl = noise / clean
        better = np.isfinite(infl) & ~(infl <= est.inflation)  # NaN in est: take the value
        est.hum_uv[better] = hum[better]
        est.noise_uv[better] = noise[better]
        est.inflation[better] = infl[better]
    est.hz = chosen
    est.harmonics_hz = lines
    log.debug("mains %s Hz, harmonics %s, noise inflation %s", est.hz, lines, est.inflation)
    return est


def probe_windows(recording, channels, segment: int, probe_s: float,
                  n_windows: int) -> list[np.ndarray]:
    """``n_windows`` stretches of ``probe_s`` evenly spread over a segment, for :func:`estimate_mains`.

    Parameters
    ----------
    recording : motorsign.recording.Recording
    channels : sequence of int
        Channel indices.
    segment : int
        Segment index.
    probe_s : float
        Length of each stretch (s); a shorter segment gives itself, once.
    n_windows : int
        Number of stretches.

    Returns
    -------
    list of ndarray, each (n_samples, n_channels) float32 µV
    """
    n = recording.n_samples(segment)
    length = min(n, int(round(probe_s * float(recording.sampling_rate_hz))))
    starts = np.unique(np.linspace(0, n - length, max(1, int(n_windows))).astype(int))
    return [np.asarray(recording.get_traces(a, a + length, channels, segment)) for a in starts]


def harmonics_up_to(mains_hz: float, top_hz: float) -> list[float]:
    """Every harmonic of ``mains_hz`` up to ``top_hz`` (Hz), the fundamental first."""
    return [h * mains_hz for h in range(1, int(top_hz // mains_hz) + 1)]


def design_notches(fs: float, harmonics_hz: list[float], bandwidth_hz: float) -> np.ndarray:
    """Second-order notch sections, one per harmonic.

    Parameters
    ----------
    fs : float
        Sampling rate (Hz).
    harmonics_hz : list of float
        Frequencies to remove (below ``fs / 2``).
    bandwidth_hz : float
        -3 dB width of each notch (one pass; applied forward and backward the
        width at -3 dB is a little narrower).

    Returns
    -------
    ndarray, shape (len(harmonics_hz), 6), float64

    Raises
    ------
    ConfigError
        For a non-positive width or a harmonic outside ``(0, fs / 2)``.
    """
    from scipy.signal import iirnotch, tf2sos

    if not bandwidth_hz > 0:
        raise ConfigError(f"mains notch width must be > 0 Hz, got {bandwidth_hz}")
    rows = []
    for f0 in harmonics_hz:
        if not 0 < f0 < fs / 2 - bandwidth_hz:
            raise ConfigError(f"mains harmonic {f0:g} Hz does not fit a sampling rate of {fs:g} Hz")
        b, a = iirnotch(f0, f0 / bandwidth_hz, fs=fs)
        rows.append(tf2sos(b, a)[0])
    return np.ascontiguousarray(np.array(rows, dtype=np.float64).reshape(-1, 6))


def notch_settling_s(bandwidth_hz: float, time_constants: float = 5.0) -> float:
    """Time for a notch's start-up transient to decay ``time_constants`` times (s).

    A notch of -3 dB width ``B`` has poles at radius about ``1 - pi B / fs``:
    its transients decay with time constant ``1 / (pi B)``.
    """
    return time_constants / (math.pi * float(bandwidth_hz))
