"""Epochs around stimuli, from continuous recordings or epoched arrays.

Pulse grouping (paired-pulse and repetitive protocols)
------------------------------------------------------
Stimuli closer than ``burst_gap_ms`` to the previous one belong to the same
*burst* (paired pulses for SICI/ICF/SICF/LICI, a train of rTMS). By default
``burst_gap_ms`` equals the epoch's post-stimulus length, so an epoch never
contains an unannounced later pulse. One epoch is cut per burst, on the
pulse chosen by ``pulse``:

* ``"first"`` (default): time zero at the first pulse of each burst; the
  later pulses of the burst inside the epoch are blanked like the first one
  (their offsets are returned in :attr:`Epochs.extra_pulses`);
* ``N`` (1-based int): time zero at the N-th pulse of each burst (e.g. the
  test pulse of a conditioning-test pair); bursts with fewer pulses are
  skipped with a warning; earlier pulses of the burst are blanked too, and
  the trial is flagged ``overlapping_pulse`` when one lies in the baseline;
* ``"all"``: every pulse is a trial; trials with another pulse inside the
  epoch are flagged ``overlapping_pulse`` (and that pulse is blanked).

Epoched arrays (one segment per trial, a stimulus event in each) give one
trial per segment; trials of unequal lengths are cut to the shortest.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass, field

import numpy as np

from motorsign.errors import AnalysisError, ConfigError, InputError
from motorsign.recording import Event, Recording

__all__ = ["Epochs", "find_stimuli", "group_bursts", "make_epochs", "signal_channels"]

log = logging.getLogger(__name__)


@dataclass
class Epochs:
    """Trials of a recording cut around stimuli.

    Attributes
    ----------
    data : ndarray (n_channels, n_trials, n_samples) float32
        Signal in µV (C-contiguous per channel). Incomplete epochs are zeros
        and marked in ``complete``.
    fs : float
        Sampling rate (Hz).
    stim : int
        Sample index of time zero (the pulse) in every epoch.
    channel_names : list of str
    trigger_time_s : ndarray (n_trials,)
        Time of the pulse in its segment.
    segment : ndarray (n_trials,) int
    complete : ndarray (n_trials,) bool
        False where the recording did not hold the whole epoch.
    extra_pulses : ndarray (n_trials, k) int
        Other pulses of the burst inside the epoch (sample indices), -1 padded.
    overlapping : ndarray (n_trials,) bool
        Another pulse lies in this epoch's baseline (or, with ``pulse="all"``,
        anywhere in the epoch).
    n_pulses : ndarray (n_trials,) int
        Pulses in the trial's burst.
    stim_offset : ndarray (n_trials,) float
        Where the pulse really was, in samples from ``stim`` (sub-sample
        trigger times, e.g. interpolated analog edges); latencies are
        measured from it.
    """

    data: np.ndarray
    fs: float
    stim: int
    channel_names: list[str]
    trigger_time_s: np.ndarray
    segment: np.ndarray
    complete: np.ndarray
    extra_pulses: np.ndarray
    overlapping: np.ndarray
    n_pulses: np.ndarray
    stim_offset: np.ndarray | None = None
    meta: dict = field(default_factory=dict)

    @property
    def n_trials(self) -> int:
        """Number of trials."""
        return int(self.data.shape[1])

    @property
    def n_samples(self) -> int:
        """Samples per epoch."""
        return int(self.data.shape[2])


def signal_channels(recording: Recording, trigger: str | None, channels=None) -> list[int]:
    """Indices of the channels to analyse.

    The given ``channels``, else every ``emg`` channel except the one an
    ``analog:CHANNEL`` trigger reads.
    """
    if channels is not None:
        return [int(i) for i in recording.channel_index(channels)]
    skip = None
    if trigger and str(trigger).lower().startswith("analog:"):
        body = str(trigger)[len("analog:"):]
        skip = body if body in recording.channel_names else body.rsplit(":", 1)[0]
        if skip not in recording.channel_names and skip.isdigit() and int(skip) < recording.n_channels:
            skip = recording.channel_names[int(skip)]  # the channel given by its index
    idx = [i for i, c in enumerate(recording.channels) if c.kind == "emg" and c.name != skip]
    if not idx:
        why = f" (channel {skip!r} is the trigger)" if skip in recording.channel_names else ""
        raise InputError(f"the recording has no signal channel to analyse{why}", recording.path)
    return idx


def find_stimuli(recording: Recording, trigger: str | None) -> list[Event]:
    """The stimulus events of a recording.

    Parameters
    ----------
    recording : Recording
    trigger : str | None
        Trigger spec (see :func:`motorsign.io.triggers.resolve_trigger`).
        None is allowed for epoched arrays (their per-trial stimulus events).

    Returns
    -------
    list of Event
    """
    if trigger is None or str(trigger).strip() == "":
        evs = [e for e in recording.events if e.source == "epoch"]
        if evs:
            return sorted(evs, key=lambda e: (e.segment, e.time_s))
        labels = ", ".join(f"{k!r} ({v})" for k, v in recording.event_labels().items()) or "none"
        raise ConfigError(f"--trigger is required for this recording; event labels: {labels}")
    from motorsign.io.triggers import resolve_trigger

    evs = resolve_trigger(recording, str(trigger))
    if not evs:
        raise AnalysisError(f"trigger {trigger!r} found no stimulus", recording.path)
    return evs


def group_bursts(times_s: np.ndarray, gap_s: float) -> list[list[int]]:
    """Group sorted stimulus times into bursts.

    Parameters
    ----------
    times_s : ndarray
        Sorted times (one segment).
    gap_s : float
        A stimulus starts a new burst when it comes at least ``gap_s`` after
        the previous stimulus.

    Returns
    -------
    list of list of int
        Indices into ``times_s``, one list per burst.
    """
    bursts: list[list[int]] = []
    prev = -math.inf
    for i, t in enumerate(np.asarray(times_s, dtype=float)):
        if t - prev >= gap_s or not bursts:
            bursts.append([i])
        else:
            bursts[-1].append(i)
        prev = t
    return bursts


def make_epochs(
    recording: Recording,
    trigger: str | None = None,
    *,
    channels=None,
    pre_ms: float = 50.0,
    post_ms: float = 100.0,
    pulse: str | int = "first",
    burst_gap_ms: float | None = None,
) -> Epochs:
    """Cut epochs around stimuli.

    Parameters
    ----------
    recording : Recording
        Continuous (one segment, stimuli as events) or epoched (one segment
        per trial).
    trigger : str | None
        Trigger spec; None for epoched arrays.
    channels : names | None
        Channels to cut (default: every ``emg`` channel).
    pre_ms, post_ms : float
        Baseline before and span after the pulse (continuous recordings;
        epoched arrays keep their own span).
    pulse : "first" | "all" | int
        Which pulse of a burst is time zero (see the module docstring).
    burst_gap_ms : float | None
        Pulses closer than this form a burst (default ``post_ms``).

    Returns
    -------
    Epochs
    """
    fs = float(recording.sampling_rate_hz)
    if channels is None:
        idx = [i for i, c in enumerate(recording.channels) if c.kind == "emg"]
        if not idx:
            raise InputError("the recording has no signal channel", recording.path)
    else:
        idx = list(recording.channel_index(channels))
    names = [recording.channels[i].name for i in idx]
    stims = find_stimuli(recording, trigger)
    if _is_epoched(recording, stims, fs):
        return _epochs_from_segments(recording, stims, idx, names, fs)
    if pre_ms <= 0 or post_ms <= 0:
        raise ConfigError(f"epoch span must be positive (pre {pre_ms} ms, post {post_ms} ms)")
    gap_s = (post_ms if burst_gap_ms is None else float(burst_gap_ms)) / 1000.0
    pre = int(round(pre_ms * fs / 1000.0))
    post = int(round(post_ms * fs / 1000.0))
    n_s = pre + post + 1
    rows = []  # (segment, zero sample, pulse samples of the burst, n_pulses, time_s)
    for seg in sorted({e.segment for e in stims}):
        evs = [e for e in stims if e.segment == seg]
        times = np.array([e.time_s for e in evs])
        samples = np.rint(times * fs).astype(np.int64)
        if pulse == "all":
            for i, s0 in enumerate(samples):
                rows.append((seg, int(s0), [int(v) for v in samples], 1, float(times[i])))
            continue
        skipped = 0
        for burst in group_bursts(times, gap_s):
            if pulse == "first":
                k = 0
            else:
                try:
                    k = int(pulse) - 1
                except (TypeError, ValueError) as exc:
                    raise ConfigError(f"--pulse must be 'first', 'all' or a pulse number, got {pulse!r}") from exc
                if k < 0:
                    raise ConfigError(f"--pulse numbers start at 1, got {pulse!r}")
                if k >= len(burst):
                    skipped += 1
                    continue
            s0 = int(samples[burst[k]])
            rows.append((seg, s0, [int(samples[b]) for b in burst], len(burst), float(times[burst[k]])))
        if skipped:
            log.warning("%s: %d burst(s) have fewer than %s pulses and were skipped",
                        recording.path, skipped, pulse)
    if not rows:
        raise AnalysisError(f"no trial to analyse for trigger {trigger!r} (pulse {pulse!r})", recording.path)
    n_tr = len(rows)
    data = np.zeros((len(idx), n_tr, n_s), dtype=np.float32)
    complete = np.zeros(n_tr, dtype=bool)
    overlapping = np.zeros(n_tr, dtype=bool)
    extra: list[list[int]] = []
    for t, (seg, s0, burst_samples, _n, _ti) in enumerate(rows):
        a, b = s0 - pre, s0 + post + 1
        n_avail = recording.n_samples(seg)
        if a >= 0 and b <= n_avail:
            data[:, t, :] = recording.get_traces(a, b, idx, seg).T
            complete[t] = True
        others = [p - a for p in burst_samples if p != s0 and a <= p < b]
        extra.append(others)
        if pulse == "all":
            overlapping[t] = bool(others)
        else:
            overlapping[t] = any(o < pre for o in others)
    k = max((len(e) for e in extra), default=0)
    extra_arr = np.full((n_tr, max(k, 0)), -1, dtype=np.int64)
    for t, e in enumerate(extra):
        extra_arr[t, : len(e)] = e
    if not complete.any():
        raise AnalysisError(
            f"recording too short for the epoch ({pre_ms:g} ms before to {post_ms:g} ms after "
            f"each of {n_tr} stimuli)", recording.path)
    return Epochs(
        data=data, fs=fs, stim=pre, channel_names=names,
        trigger_time_s=np.array([r[4] for r in rows]),
        segment=np.array([r[0] for r in rows], dtype=np.int64),
        complete=complete, extra_pulses=extra_arr, overlapping=overlapping,
        n_pulses=np.array([r[3] for r in rows], dtype=np.int64),
        stim_offset=np.array([r[4] * fs - round(r[4] * fs) for r in rows]),
        meta={"pulse": pulse, "burst_gap_ms": gap_s * 1000.0, "pre_ms": pre_ms, "post_ms": post_ms},
    )


def _is_epoched(recording: Recording, stims: list[Event], fs: float) -> bool:
    """Whether every segment is one trial (cut whole) rather than a stretch to cut epochs from.

    Epoched arrays (stimulus events of source ``"epoch"``) are; so are
    multi-segment files (episodic ABF/WinWCP sweeps) with exactly one stimulus
    per segment at the same sample of every segment. Segments with their one
    stimulus at different samples are continuous runs (several recording
    blocks): epochs are cut around the stimuli as in a one-segment file.
    """
    if stims and all(e.source == "epoch" for e in stims):
        return True
    if recording.n_segments < 2 or len({e.segment for e in stims}) != len(stims):
        return False
    return len({int(round(e.time_s * fs)) for e in stims}) == 1


def _epochs_from_segments(recording: Recording, stims: list[Event], idx, names, fs) -> Epochs:
    by_seg: dict[int, Event] = {}
    for e in stims:
        by_seg.setdefault(e.segment, e)
    segs = sorted(by_seg)
    zero = [int(round(by_seg[s].time_s * fs)) for s in segs]
    if len(set(zero)) != 1:
        raise InputError("epoched trials have their stimulus at different samples", recording.path)
    stim = zero[0]
    n_s = min(recording.n_samples(s) for s in segs)
    if not 0 <= stim < n_s:
        raise InputError(f"stimulus sample {stim} outside the {n_s}-sample trials", recording.path)
    data = np.zeros((len(idx), len(segs), n_s), dtype=np.float32)
    for t, s in enumerate(segs):
        data[:, t, :] = recording.get_traces(0, n_s, idx, s).T
    n_tr = len(segs)
    return Epochs(
        data=data, fs=fs, stim=stim, channel_names=names,
        trigger_time_s=np.array([by_seg[s].time_s for s in segs]),
        segment=np.array(segs, dtype=np.int64), complete=np.ones(n_tr, dtype=bool),
        extra_pulses=np.full((n_tr, 0), -1, dtype=np.int64), overlapping=np.zeros(n_tr, dtype=bool),
        n_pulses=np.ones(n_tr, dtype=np.int64), stim_offset=np.zeros(n_tr),
        meta={"pulse": "first", "epoched": True, "pre_ms": stim / fs * 1000.0,
              "post_ms": (n_s - 1 - stim) / fs * 1000.0},
    )
