"""The in-memory result of a simulator and the one way it is written.

Every simulator (``needle-emg``, ``hdsemg``, ``tms``, ``nerve``,
``voluntary-emg``) returns a :class:`SimResult` from ``generate`` and writes
it with :func:`write_result` from ``simulate``: a BrainVision recording
(float32 µV), ``truth.csv`` (the rows a perfect analysis would report) and
``truth_intervals.csv`` (voluntary activity, movement artifacts and any other
stretch of the recording that is not rest).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from motorsign.errors import ConfigError

__all__ = [
    "SimResult",
    "write_result",
    "INTERVAL_COLUMNS",
    "DISCHARGE_TRUTH_COLUMNS",
    "empty_intervals",
    "seed_rng",
]

log = logging.getLogger(__name__)

#: Columns of ``truth_intervals.csv``.
INTERVAL_COLUMNS = ("channel", "start_s", "stop_s", "kind")

#: Columns of a discharge truth table: detect's ``discharges.csv`` columns
#: (without ``confidence``) plus ``unit_id``.
DISCHARGE_TRUTH_COLUMNS = (
    "channel",
    "time_s",
    "kind",
    "amplitude_uv",
    "duration_ms",
    "phases",
    "initial_polarity",
    "train_id",
    "unit_id",
)


def empty_intervals():
    """An empty interval table with the contract columns.

    Returns
    -------
    pandas.DataFrame
        Columns ``channel, start_s, stop_s, kind`` and no rows.
    """
    import pandas as pd

    return pd.DataFrame({c: pd.Series(dtype=float if c.endswith("_s") else object) for c in INTERVAL_COLUMNS})


def seed_rng(seed: int | None) -> np.random.Generator:
    """A numpy generator from a user seed (validated).

    Parameters
    ----------
    seed : int | None
        Non-negative integer; None means 0 (simulations are deterministic by
        default).

    Returns
    -------
    numpy.random.Generator
    """
    if seed is None:
        seed = 0
    try:
        seed = int(seed)
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"--seed must be a non-negative integer, got {seed!r}") from exc
    if seed < 0:
        raise ConfigError(f"--seed must be a non-negative integer, got {seed}")
    return np.random.default_rng(seed)


@dataclass
class SimResult:
    """A simulated recording with its ground truth.

    Attributes
    ----------
    data_uv : ndarray, shape (n_samples, n_channels), float32
        The recording in µV.
    fs : float
        Sampling rate in Hz.
    channel_names : list of str
        One name per column of ``data_uv``.
    markers : list of (type, description, sample0, duration)
        Markers with 0-based sample indices and durations in samples
        (written 1-based in the ``.vmrk`` file).
    truth : pandas.DataFrame
        One row per true event, in the columns of the matching result file
        (discharges: :data:`DISCHARGE_TRUTH_COLUMNS`; MEP/nerve: per trial).
    intervals : pandas.DataFrame
        ``channel, start_s, stop_s, kind`` (kind e.g. ``voluntary``,
        ``artifact``); ``channel`` is ``"*"`` for every channel.
    meta : dict
        Free-form description (kind, options, seed, muscle, side, units).
    """

    data_uv: np.ndarray
    fs: float
    channel_names: list[str]
    markers: list[tuple[str, str, int, int]] = field(default_factory=list)
    truth: Any = None
    intervals: Any = None
    meta: dict = field(default_factory=dict)

    def __post_init__(self) -> None:
        data = np.asarray(self.data_uv, dtype=np.float32)
        if data.ndim == 1:
            data = data[:, None]
        if data.ndim != 2:
            raise ValueError(f"data_uv must be (n_samples, n_channels), got shape {data.shape}")
        self.data_uv = np.ascontiguousarray(data)
        self.channel_names = [str(c) for c in self.channel_names]
        if len(self.channel_names) != data.shape[1]:
            raise ValueError(f"{len(self.channel_names)} channel names for {data.shape[1]} channels")
        self.fs = float(self.fs)
        if not self.fs > 0:
            raise ValueError(f"fs must be positive, got {self.fs}")
        self.markers = [(str(t), str(d), int(s), int(n)) for t, d, s, n in self.markers]
        if self.truth is None:
            import pandas as pd

            self.truth = pd.DataFrame()
        if self.intervals is None:
            self.intervals = empty_intervals()

    @property
    def n_samples(self) -> int:
        """Number of samples."""
        return int(self.data_uv.shape[0])

    @property
    def duration_s(self) -> float:
        """Duration in seconds."""
        return self.n_samples / self.fs

    def to_recording(self):
        """The result as an in-memory :class:`~motorsign.recording.Recording`.

        Markers become events labelled ``"Type/Description"`` (as the
        BrainVision reader labels them).

        Returns
        -------
        motorsign.recording.Recording
        """
        from motorsign.recording import Event, Recording

        events = [
            Event(
                label=f"{t}/{d}",
                time_s=s / self.fs,
                source="simulated",
                duration_s=n / self.fs if n > 1 else 0.0,
            )
            for t, d, s, n in self.markers
        ]
        return Recording.from_array(
            self.data_uv,
            self.fs,
            self.channel_names,
            units="uV",
            events=events,
            muscle=self.meta.get("muscle"),
            side=self.meta.get("side"),
            format="simulated",
        )


def write_result(
    result: SimResult, out_dir: str | os.PathLike, stem: str, *, prefix_truth: bool = False
) -> dict[str, Path]:
    """Write a simulated recording and its truth files.

    Parameters
    ----------
    result : SimResult
        What ``generate`` returned.
    out_dir : path-like
        Destination folder (created).
    stem : str
        File stem of the recording (``<stem>.vhdr/.vmrk/.eeg``).
    prefix_truth : bool
        Name the truth files ``<stem>_truth.csv`` and
        ``<stem>_truth_intervals.csv`` (several recordings in one folder)
        instead of ``truth.csv`` and ``truth_intervals.csv``.

    Returns
    -------
    dict of str to Path
        ``vhdr``, ``vmrk``, ``eeg``, ``truth``, ``intervals``.
    """
    from motorsign.outputs import write_csv
    from motorsign.simulate.brainvision import write_brainvision

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    stem = str(stem)
    if not stem or any(sep in stem for sep in ("/", "\\")):
        raise ConfigError(f"invalid file stem {stem!r}")
    vhdr = write_brainvision(
        out / f"{stem}.vhdr", result.data_uv, result.fs, result.channel_names, result.markers
    )
    pre = f"{stem}_" if prefix_truth else ""
    truth_path = write_csv(out / f"{pre}truth.csv", result.truth)
    intervals = result.intervals
    cols: Sequence[str] = list(INTERVAL_COLUMNS) + [c for c in intervals.columns if c not in INTERVAL_COLUMNS]
    intervals_path = write_csv(out / f"{pre}truth_intervals.csv", intervals, columns=cols)
    log.info("wrote %s (%d samples x %d channels)", vhdr, result.n_samples, len(result.channel_names))
    return {
        "vhdr": vhdr,
        "vmrk": vhdr.with_suffix(".vmrk"),
        "eeg": vhdr.with_suffix(".eeg"),
        "truth": truth_path,
        "intervals": intervals_path,
    }
