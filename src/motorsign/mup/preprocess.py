"""Filtering, noise, clipping and activity checks for one channel.

Two zero-phase signals are derived from the recorded one:

* the **wide-band** signal (high-pass ``wide_highpass_hz``, low-pass
  ``wide_lowpass_hz`` where the sampling rate allows): MUPs are measured on
  it, and discharge times are its largest absolute peaks;
* the **detection** signal (band ``detect_band_hz``): it keeps the spiky
  part of each MUP, where units differ most, and drops the slow components
  that overlap between units. Candidates, clustering and template matching
  use it.

A :class:`ChannelSource` hands out these signals chunk by chunk (with
margins, so filters settle) and keeps them in memory only when the channel is
short enough (``cache_samples``), so long recordings stay bounded in memory.

Below ``MupParams.internal_rate_hz`` (20 kHz) the channel is first resampled
by the smallest integer factor reaching it (band-limited,
``scipy.signal.resample_poly``, chunk by chunk with the same margins), and
everything downstream runs at that analysis rate: the sorting was built and
tuned on 20-kHz signals, and at 4 kHz a sampled 0.1-0.2 ms spike falls
between samples, so that its sampled peak (detection), its windows
(clustering) and the sample counts behind the shape comparisons all depend
on where the samples fall (``docs/mup.md``, *Sampling rate*). The raw signal
handed out with the filtered ones is the recorded samples repeated (so
clipping runs keep their meaning, ``clip_run`` × factor samples long).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from motorsign.mup.params import MupParams

__all__ = ["ChannelSource", "FilteredChunk", "design_filters", "design_match_filter", "upsample_factor"]

log = logging.getLogger(__name__)

#: Channels up to this many samples are filtered once and kept in memory.
CACHE_SAMPLES = 8_000_000
#: Chunk length (s) and filter margin (s) for long channels (the margin covers the
#: 0.4-s start-up of the mains notches).
CHUNK_S = 20.0
MARGIN_S = 0.5
#: Mains notches: -3 dB width (Hz), highest harmonic (Hz) and probe stretch (s).
MAINS_BANDWIDTH_HZ = 4.0
MAINS_MAX_HZ = 1000.0
MAINS_PROBE_S = 2.0


def design_filters(fs: float, params: MupParams) -> tuple[np.ndarray, np.ndarray]:
    """Second-order-section filters of the wide-band and detection signals.

    Parameters
    ----------
    fs : float
        Sampling rate (Hz).
    params : MupParams

    Returns
    -------
    sos_wide, sos_det : ndarray
    """
    from scipy.signal import butter

    nyq_cap = 0.45 * fs
    hp = params.wide_highpass_hz
    lp = params.wide_lowpass_hz
    if lp < nyq_cap:
        sos_wide = butter(2, [hp, lp], btype="bandpass", fs=fs, output="sos")
    else:
        sos_wide = butter(2, hp, btype="highpass", fs=fs, output="sos")
    lo, hi = params.detect_band_hz
    hi = min(hi, nyq_cap)
    if not lo < hi:
        from motorsign.errors import ConfigError

        raise ConfigError(
            f"detect_band_hz {params.detect_band_hz} is empty at fs={fs:g} Hz "
            f"(upper corner capped at {nyq_cap:g} Hz)"
        )
    sos_det = butter(2, [lo, hi], btype="bandpass", fs=fs, output="sos")
    return sos_wide, sos_det


def design_match_filter(fs: float, params: MupParams) -> np.ndarray | None:
    """Second-order sections of the match-band signal, or None when it is off.

    The band runs from ``params.match_highpass_hz`` to the detection band's
    upper corner (capped at 0.45·fs), zero-phase Butterworth order 2 each
    side; the sorter's last round chooses between units on it
    (:func:`motorsign.mup.kernels.relabel_wide`).

    Parameters
    ----------
    fs : float
        Sampling rate (Hz).
    params : MupParams

    Returns
    -------
    ndarray or None
    """
    from scipy.signal import butter

    lo = float(params.match_highpass_hz)
    if not lo > 0:
        return None
    hi = min(params.detect_band_hz[1], 0.45 * fs)
    if not lo < hi:
        from motorsign.errors import ConfigError

        raise ConfigError(f"match_highpass_hz {lo:g} must lie below the detection band's "
                          f"upper corner ({hi:g} Hz at fs={fs:g} Hz)")
    return butter(2, [lo, hi], btype="bandpass", fs=fs, output="sos")


def upsample_factor(fs: float, params: MupParams) -> int:
    """Integer factor by which a recording at ``fs`` is resampled for the analysis.

    The smallest integer reaching ``params.internal_rate_hz`` (1 at or above
    it, or when it is 0).

    Parameters
    ----------
    fs : float
        Sampling rate of the recording (Hz).
    params : MupParams

    Returns
    -------
    int
    """
    target = float(params.internal_rate_hz)
    if not target > 0 or fs >= target:
        return 1
    return int(np.ceil(target / fs - 1e-9))


@dataclass
class FilteredChunk:
    """One chunk of a channel: raw, wide-band and detection signals.

    ``start``/``stop`` are the core's sample range in the channel;
    ``offset`` is the channel sample of index 0 of the arrays (which include
    margins).
    """

    start: int
    stop: int
    offset: int
    raw: np.ndarray
    wide: np.ndarray
    det: np.ndarray
    #: match-band signal (``MupParams.match_highpass_hz``), None when off
    match: np.ndarray | None = None


class ChannelSource:
    """Filtered chunks of one channel of a recording.

    Parameters
    ----------
    recording : motorsign.recording.Recording
    channel : int
        Channel index.
    params : MupParams
    segment : int
        Segment index.
    """

    def __init__(self, recording, channel: int, params: MupParams, segment: int = 0):
        self.recording = recording
        self.channel = int(channel)
        self.segment = int(segment)
        #: sampling rate of the recording (Hz)
        self.fs_in = float(recording.sampling_rate_hz)
        self.n_in = int(recording.n_samples(segment))
        #: integer resampling factor to the analysis rate (1: none)
        self.up = upsample_factor(self.fs_in, params)
        #: analysis rate (Hz) and length (samples) of every signal handed out
        self.fs = self.fs_in * self.up
        self.n = self.n_in * self.up
        self.sos_wide, self.sos_det = design_filters(self.fs, params)
        self.sos_match = design_match_filter(self.fs, params)
        self.mains = self._setup_mains(params)
        self._cache: list[FilteredChunk] | None = None
        self._nonfinite: dict[int, int] = {}  # chunk start -> NaN/inf samples in its core
        if self.n <= CACHE_SAMPLES:
            self._cache = list(self._compute(self.n_in, 0))

    def _setup_mains(self, params: MupParams) -> dict:
        """Measure mains hum on the channel; notch it in both signals when it matters.

        Returns the record written to the summary's ``quality["mains"]``.
        """
        from motorsign.signal.mains import (
            design_notches,
            estimate_mains,
            harmonics_up_to,
            probe_windows,
        )

        info = {"setting": params.mains, "hz": None, "harmonics_hz": [], "notched_hz": [],
                "hum_uv": None}
        if params.mains == "off":
            return info
        bw = MAINS_BANDWIDTH_HZ
        top = min(MAINS_MAX_HZ, 0.45 * self.fs_in - 2 * bw)
        windows = probe_windows(self.recording, [self.channel], self.segment, MAINS_PROBE_S, 3)
        force = float(params.mains) if params.mains in ("50", "60") else None
        # the probe windows are recorded samples: measured at the recording's rate
        sos_in = self.sos_wide if self.up == 1 else design_filters(self.fs_in, params)[0]
        est = estimate_mains(windows, self.fs_in, np.ascontiguousarray(sos_in), max_hz=top,
                             notch_bandwidth_hz=bw, force_hz=force)
        hum = float(np.nanmax(est.hum_uv)) if np.isfinite(est.hum_uv).any() else None
        info.update(hz=est.hz, harmonics_hz=est.harmonics_hz, hum_uv=hum)
        if force is not None:
            notch = harmonics_up_to(force, top)
        elif est.hz is not None and hum is not None and hum >= params.mains_min_uv:
            notch = [h for h in est.harmonics_hz if h <= top]
        else:
            notch = []
        if notch:
            sections = design_notches(self.fs, notch, bw)
            self.sos_wide = np.vstack([sections, self.sos_wide])
            self.sos_det = np.vstack([sections, self.sos_det])
            if self.sos_match is not None:
                self.sos_match = np.vstack([sections, self.sos_match])
            info["notched_hz"] = notch
            log.info("channel %d: mains %g Hz notched at %s Hz", self.channel, force or est.hz,
                     ", ".join(f"{h:g}" for h in notch))
        return info

    def _filt(self, sos: np.ndarray, x: np.ndarray) -> np.ndarray:
        from scipy.signal import sosfiltfilt

        if x.size < 16:
            return np.zeros_like(x)
        padlen = min(x.size - 1, 3 * (2 * sos.shape[0] + 1))
        return np.ascontiguousarray(sosfiltfilt(sos, x, padlen=padlen), dtype=np.float32)

    def _compute(self, chunk: int, margin: int) -> Iterator[FilteredChunk]:
        for c in self.recording.iter_chunks(chunk, margin, channels=[self.channel],
                                            segment=self.segment):
            raw = np.ascontiguousarray(c.traces[:, 0], dtype=np.float32)
            bad = ~np.isfinite(raw)
            if bad.any():
                # a gap (NaN/inf) would turn the whole filtered chunk into NaN (and a
                # short recording is one chunk): hold it at the chunk's median instead
                good = raw[~bad]
                fill = np.float32(np.median(good)) if good.size else np.float32(0.0)
                raw = np.where(bad, fill, raw).astype(np.float32)
                self._nonfinite[c.start] = int(bad[c.margin_before:bad.size - c.margin_after].sum())
            up = self.up
            if up > 1:
                from scipy.signal import resample_poly

                sig = np.ascontiguousarray(resample_poly(raw.astype(np.float64), up, 1),
                                           dtype=np.float32)
                raw = np.repeat(raw, up)
            else:
                sig = raw
            yield FilteredChunk(
                start=c.start * up,
                stop=c.stop * up,
                offset=(c.start - c.margin_before) * up,
                raw=raw,
                wide=self._filt(self.sos_wide, sig - np.median(sig)),
                det=self._filt(self.sos_det, sig),
                match=None if self.sos_match is None else self._filt(self.sos_match, sig),
            )

    @property
    def n_nonfinite(self) -> int:
        """NaN/inf samples of the channel seen so far (held at the chunk median)."""
        return int(sum(self._nonfinite.values()))

    def chunks(self) -> Iterator[FilteredChunk]:
        """Yield the channel's filtered chunks (from memory when cached)."""
        if self._cache is not None:
            yield from self._cache
            return
        yield from self._compute(int(CHUNK_S * self.fs_in), int(MARGIN_S * self.fs_in))
