"""Placing discharge waveforms into a recording and recording their truth.

:class:`Canvas` holds the clean signal ``(n_samples, n_channels)`` and the
truth rows. A waveform is band-limited for the target sampling rate (a
zero-phase anti-alias low-pass on the fine grid, as an amplifier's filter
would do before the converter), placed with its largest absolute peak at the
requested time, and measured as added: the truth row's amplitude, duration,
phases and initial polarity are those of the waveform in the file, and its
``time_s`` is the time of its largest absolute peak.
"""

from __future__ import annotations

import numpy as np

from motorsign.simulate.shapes import FINE_FS_HZ, band_limit, measure_waveform, sample_fine

__all__ = ["Canvas", "band_limit"]

class Canvas:
    """A clean recording being assembled, with its truth rows.

    Parameters
    ----------
    n_samples, n_channels : int
    fs : float
        Sampling rate (Hz).
    channel_names : list of str
    """

    def __init__(self, n_samples: int, n_channels: int, fs: float, channel_names: list[str]):
        # float32 like the file: half the memory of a long many-channel recording
        self.data = np.zeros((n_samples, n_channels), dtype=np.float32)
        self.fs = float(fs)
        self.channel_names = list(channel_names)
        self.rows: list[dict] = []
        self._cache: dict[int, tuple[np.ndarray, int, dict]] = {}

    @property
    def n_samples(self) -> int:
        """Number of samples."""
        return self.data.shape[0]

    def prepare(
        self, fine: np.ndarray, key: int | None = None, prefiltered: bool = False
    ) -> tuple[np.ndarray, int, dict]:
        """Band-limit and measure a fine waveform (cached by ``key``).

        ``prefiltered`` skips the filter (the waveform is already band-limited
        for this rate, e.g. a :meth:`MotorUnit.band_limited` discharge).

        Returns
        -------
        fine_bl : ndarray
            The band-limited fine waveform.
        peak_index : int
            Its largest absolute value's index.
        features : dict
            :func:`~motorsign.simulate.shapes.measure_waveform` at the fine rate.
        """
        if key is not None and key in self._cache:
            return self._cache[key]
        bl = np.asarray(fine, dtype=float) if prefiltered else band_limit(fine, self.fs)
        feats = measure_waveform(bl, FINE_FS_HZ)
        out = (bl, int(feats["peak_index"]), feats)
        if key is not None:
            self._cache[key] = out
        return out

    def add(
        self,
        channel: int,
        fine: np.ndarray,
        peak_time_s: float,
        *,
        scale: float = 1.0,
        key: int | None = None,
        row: dict | None = None,
        prefiltered: bool = False,
    ) -> bool:
        """Add a waveform with its peak at ``peak_time_s``; record its truth row.

        Parameters
        ----------
        channel : int
            Column index.
        fine : ndarray
            Fine-grid waveform (µV).
        peak_time_s : float
            Time of its largest absolute value (s).
        scale : float
            Amplitude factor for this discharge.
        key : int | None
            Cache key for waveforms reused unchanged (trains).
        row : dict | None
            Truth fields (``kind``, ``train_id``, ``unit_id``, ...); None adds
            the waveform without a truth row (background events).
        prefiltered : bool
            The waveform is already band-limited for this rate.

        Returns
        -------
        bool
            False when the waveform would not fit in the recording (nothing
            added).
        """
        bl, peak, feats = self.prepare(fine, key, prefiltered)
        start, vals = sample_fine(bl, peak, self.fs, peak_time_s)
        if start < 0 or start + vals.size > self.n_samples:
            return False
        self.data[start : start + vals.size, channel] += (scale * vals).astype(np.float32)
        if row is not None:
            r = {
                "channel": self.channel_names[channel],
                "time_s": float(peak_time_s),
                "amplitude_uv": float(feats["amplitude_uv"] * abs(scale)),
                "duration_ms": float(feats["duration_ms"]),
                "phases": int(feats["phases"]),
                "initial_polarity": feats["initial_polarity"]
                if scale >= 0
                else ("negative" if feats["initial_polarity"] == "positive" else "positive"),
            }
            r.update(row)
            self.rows.append(r)
        return True

    def add_signal(self, channel: int, start: int, values: np.ndarray) -> None:
        """Add raw samples (artifacts) at ``start`` (clipped to the recording)."""
        a = max(start, 0)
        b = min(start + values.size, self.n_samples)
        if b > a:
            self.data[a:b, channel] += values[a - start : b - start].astype(np.float32)
