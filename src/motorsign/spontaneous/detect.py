"""``detect_spontaneous``: the whole spontaneous-activity stage.

One streaming pass over the recording, chunk by chunk with margins (memory
bounded by the chunk size), in ``n_jobs`` threads (the numba kernels release
the GIL):

1. band-pass for detection and a wide band for measuring (zero phase);
2. robust noise (MAD) per block, threshold ``threshold_k`` x noise, both
   polarities; one candidate per excursion;
3. features of each candidate on the wide-band signal, a snippet for shape
   comparison, and per-window statistics for rest/activity/artifacts.

Then, on these small tables: rest/activity/artifact intervals, shape
clustering into sources, firing statistics, classification, trains,
grading and the summary.
"""

from __future__ import annotations

import itertools
import logging
import math
import os
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numba
import numpy as np

from motorsign.errors import ConfigError, InputError
from motorsign.signal.filters import design_sos, lowpass_highpass_nb
from motorsign.signal.mains import (
    design_notches,
    estimate_mains,
    harmonics_up_to,
    notch_settling_s,
    probe_windows,
)
from motorsign.signal.noise import block_mad_nb, nanmedian_cols_nb
from motorsign.signal.segmentation import segment_channel, window_stats_nb
from motorsign.spontaneous.classify import KIND_NAMES, KINDS, classify_channel_codes
from motorsign.spontaneous.features import FEATURE_NAMES, measure_nb, snippets_nb
from motorsign.spontaneous.grading import fib_psw_grade, grade_rule_text
from motorsign.spontaneous.kernels import detect_excursions_nb
from motorsign.spontaneous.params import DetectParams, make_params
from motorsign.spontaneous.surface import SURFACE_DEFAULTS, classify_surface, grid_activity
from motorsign.spontaneous.trains import cluster_channel, train_stats_by_source
from motorsign.workers import alongside, collect, collect_quietly, submit_all

__all__ = ["DetectionResult", "detect_spontaneous", "release_scratch", "DISCHARGE_COLUMNS",
           "SPONTANEOUS_KINDS"]

log = logging.getLogger(__name__)

#: Contract columns of ``discharges.csv`` (extra columns follow them).
DISCHARGE_COLUMNS = (
    "channel",
    "time_s",
    "kind",
    "amplitude_uv",
    "duration_ms",
    "phases",
    "initial_polarity",
    "train_id",
    "confidence",
)
EXTRA_COLUMNS = ("turns", "rise_time_ms", "area_uvms", "snr", "source_id", "segment", "state")

#: Kinds counted per minute of rest (the others per minute of recording).
SPONTANEOUS_KINDS = ("fibrillation", "positive_sharp_wave", "fasciculation", "end_plate",
                     "complex_repetitive", "unclassified")

_F = {name: i for i, name in enumerate(FEATURE_NAMES)}
#: Features that reach the discharges table (kept per channel until assembly).
_OUT_FEATURE_NAMES = ("amplitude_uv", "duration_ms", "phases", "initial_sign", "turns",
                      "rise_time_ms", "area_uvms", "noise_uv")
_OUT_FEATURES = np.array([_F[name] for name in _OUT_FEATURE_NAMES], np.int64)
_POLARITIES = np.asarray(["negative", "positive"], dtype=object)
_STATES = np.asarray(["rest", "activity", "artifact"], dtype=object)  # the codes of rows["state"]
#: Consecutive chunks are read and analysed in one compiled call, up to this
#: many bytes of samples: fewer hand-overs of the GIL between threads (each
#: costs a system call on a virtual machine) and less Python per chunk.
_BATCH_BYTES = 8 << 20
# each kind's place in alphabetical order (a source's kind on a tie)
_NAME_RANK = np.argsort(np.argsort(KIND_NAMES.astype(str), kind="stable"), kind="stable")


@dataclass
class DetectionResult:
    """What :func:`detect_spontaneous` found.

    Attributes
    ----------
    discharges : pandas.DataFrame
        One row per discharge: the ``discharges.csv`` contract columns, then
        ``turns, rise_time_ms, area_uvms, snr, source_id, segment``.
    summary : dict
        The ``summary.json`` content: ``recording``, ``channels`` (per channel
        ``muscle, side, duration_s, rest_s, counts, rates_per_min,
        fib_psw_grade, fasciculation_rate_per_min, trains`` and extras), the
        grading rule and the parameters.
    intervals : pandas.DataFrame
        ``channel, start_s, stop_s, kind`` with kind ``rest``, ``activity``
        or ``artifact``.
    """

    discharges: Any
    summary: dict
    intervals: Any
    params: DetectParams = field(default_factory=DetectParams)


@dataclass
class _ChunkOut:
    segment: int
    start: int
    peaks: np.ndarray | None  # global sample index (segment coordinates)
    chans: np.ndarray | None  # sorted (detect_excursions_nb), each channel in time order
    feat: np.ndarray | None
    snips: np.ndarray | None
    stats: np.ndarray  # (n_windows, c, 5)
    noise: np.ndarray  # (c,)


class _Pool:
    """All chunks' candidates in one set of arrays, filled as chunks finish.

    Rows ``cuts[k, c]`` to ``cuts[k, c + 1]`` are channel ``c``'s candidates
    of chunk ``k`` (in time order); ``chunk_seg[k]`` is the chunk's segment.
    Chunks are added in any order (threads); each chunk's own arrays are
    dropped once copied, so the candidates are held once, in a few large
    arrays, rather than in hundreds of small ones that the allocator keeps
    after they are freed.
    """

    def __init__(self, chunk_seg: np.ndarray, n_channels: int, n_features: int):
        self.chunk_seg = chunk_seg
        self.cuts = np.zeros((chunk_seg.size, n_channels + 1), np.int64)
        self.peaks = np.empty(0, np.int64)
        self.feat = np.empty((0, n_features))
        self.snips = np.empty((0, 0), np.float32)  # the width comes with the first candidates
        self.n = 0
        self._added = 0
        self._grid = np.arange(n_channels + 1)
        self._cond = threading.Condition()
        self._copying = 0  # copies into the arrays under way

    def add(self, k: int, out: _ChunkOut) -> None:
        """Copy chunk ``k``'s candidates in, then drop them from ``out``."""
        self.add_batch([k], [out], out.peaks, out.chans, out.feat, out.snips)

    def add_batch(self, ks: list[int], outs: list[_ChunkOut], peaks: np.ndarray,
                  chans: np.ndarray, feat: np.ndarray, snips: np.ndarray) -> None:
        """Copy the candidates of consecutive chunks ``ks`` in at once.

        ``peaks`` .. ``snips`` hold the chunks' candidates one chunk after the
        other (``outs[j].peaks`` are views of them, dropped here).
        """
        m = peaks.size
        with self._cond:
            # room is made only while no copy is under way (a growth moves the arrays)
            while self.n + m > self.peaks.size and self._copying:
                self._cond.wait()
            dropped = None
            if self.n + m > self.peaks.size:
                dropped = self._grow(m, len(ks), snips.shape[1])
            if m and (feat.shape[1] != self.feat.shape[1] or snips.shape[1] != self.snips.shape[1]):
                raise RuntimeError("chunk candidates of another width than the pool's")
            at = self.n
            self.n += m
            self._added += len(ks)
            self._copying += 1
            dst = self.peaks, self.feat, self.snips
        del dropped  # a kept pool that did not fit: freed outside the lock
        # the rows are copied outside the lock: a copy that faults in fresh pages
        # (milliseconds on some machines) does not hold up the other threads
        try:
            _copy_rows_nb(*dst, at, peaks, feat, snips)
        finally:
            with self._cond:
                self._copying -= 1
                if not self._copying:
                    self._cond.notify_all()
        for k, out in zip(ks, outs):
            self.cuts[k] = at + np.searchsorted(out.chans, self._grid)
            at += out.peaks.size
            out.peaks = out.chans = out.feat = out.snips = None

    def _grow(self, m: int, n_chunks: int, snip_w: int) -> _PoolArrays | None:
        """Room for ``m`` more rows; returns a kept pool that did not fit (or None).

        The caller drops what is returned once out of the lock (freeing up
        to :data:`_SPARE_MAX_BYTES` takes time the other threads would wait).
        """
        # room for the chunks still to come at twice the rate seen so far (the
        # ``m`` new candidates come from ``n_chunks`` chunks): fresh pages not
        # yet written take no memory (a kept pool's are resident already), and
        # each growth copies what is held
        per_chunk = (self.n + m) / (self._added + n_chunks)
        cap = max(self.n + m, int(math.ceil(2.0 * per_chunk * self.chunk_seg.size)) + 64,
                  2 * self.peaks.size)
        width = snip_w if self.n == 0 else self.snips.shape[1]
        arrays, unfit = _take_spare(cap, self.feat.shape[1], width)
        if arrays is None:
            arrays = (np.empty(cap, np.int64), np.empty((cap, self.feat.shape[1])),
                      np.empty((cap, width), np.float32))
        peaks, feat, snips = arrays
        _copy_rows_nb(peaks, feat, snips, 0, self.peaks[:self.n], self.feat[:self.n],
                      self.snips[:self.n])
        self.peaks, self.feat, self.snips = peaks, feat, snips
        return unfit

    def release(self) -> None:
        """Hand the arrays over for the next call's pool (see :func:`release_scratch`).

        Only once nothing refers to them any more: the channels' tables are
        copies, and the snippets are read through row numbers during the
        per-channel work.
        """
        arrays = self.peaks, self.feat, self.snips
        self.peaks = np.empty(0, np.int64)
        self.feat = np.empty((0, self.feat.shape[1]))
        self.snips = np.empty((0, 0), np.float32)
        self.n = 0
        _give_spare(arrays)


_PoolArrays = tuple[np.ndarray, np.ndarray, np.ndarray]  # peaks, features, snippets
#: One set of candidate-pool arrays kept from call to call (see :func:`release_scratch`).
_spare: _PoolArrays | None = None
_spare_lock = threading.Lock()
#: Pools larger than this (their capacity) are not kept between calls: about
#: 20 minutes of 8 channels at 20 kHz of the simulator's needle EMG (the
#: candidates per minute set the capacity). A kept pool is held while the
#: next table is assembled, on top of it, and long recordings' calls pay
#: little for fresh pages.
_SPARE_MAX_BYTES = 128 << 20


def _take_spare(cap: int, n_features: int,
                width: int) -> tuple[_PoolArrays | None, _PoolArrays | None]:
    """Take the kept pool arrays out of their slot.

    Returns ``(arrays, None)`` when they fit (at least ``cap`` rows, these
    widths), else ``(None, arrays)``: a kept pool that does not fit is the
    caller's to drop (freed, not held during the call), and the slot is
    empty either way.
    """
    global _spare
    with _spare_lock:
        arrays, _spare = _spare, None
    if arrays is None:
        return None, None
    if (arrays[0].size < cap or arrays[1].shape[1] != n_features
            or arrays[2].shape[1] != width):
        return None, arrays
    return arrays, None


def _give_spare(arrays: _PoolArrays) -> None:
    """Keep a finished call's pool arrays for the next call (the larger of two; bounded)."""
    global _spare
    nbytes = sum(a.nbytes for a in arrays)
    if not arrays[0].size or nbytes > _SPARE_MAX_BYTES:
        return
    with _spare_lock:
        # two calls at once: the larger pool is kept
        if _spare is None or _spare[0].size <= arrays[0].size:
            _spare = arrays


def _forget_spare_after_fork() -> None:
    # a forked child gets a lock of its own (the parent's may have been held by
    # another thread at the fork) and no kept pool (pages shared with the parent)
    global _spare, _spare_lock
    _spare = None
    _spare_lock = threading.Lock()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_spare_after_fork)


def release_scratch() -> None:
    """Free the candidate pool kept from earlier ``detect_spontaneous`` calls.

    At the end of a call its candidate pool (capacity up to 128 MB; 61 MB
    for 10 minutes of 8 channels at 20 kHz of the simulator's needle EMG)
    is kept for the next call, in place of a fresh one: memory written again
    costs no page faults, whereas fresh pages do, and on virtual machines a
    fresh page can cost milliseconds of system time. One pool is kept per
    process (of calls finishing at once, the largest). A process that
    detects once in a while and goes on with other work may call this to
    hand the memory back.
    """
    global _spare
    with _spare_lock:
        _spare = None


@numba.njit(nogil=True, cache=True)
def _copy_rows_nb(dst_peaks, dst_feat, dst_snips, at, peaks, feat, snips):  # pragma: no cover
    for i in range(peaks.size):
        dst_peaks[at + i] = peaks[i]
        for c in range(feat.shape[1]):
            dst_feat[at + i, c] = feat[i, c]
        for c in range(snips.shape[1]):
            dst_snips[at + i, c] = snips[i, c]


class _Context:
    def __init__(self, rec, chan_idx: np.ndarray, p: DetectParams, n_jobs: int = 1, *,
                 measure_mains: bool = True):
        fs = float(rec.sampling_rate_hz)
        self.rec = rec
        self.fs = fs
        self._local = threading.local()  # per-thread scratch buffers (see _buffers)
        self.idx = chan_idx
        self.p = p
        lp = min(p.lowpass_hz, p.lowpass_max_fraction * fs)
        if not 0 < p.highpass_hz < lp:
            raise ConfigError(f"detection band {p.highpass_hz:g}-{p.lowpass_hz:g} Hz does not fit "
                              f"a sampling rate of {fs:g} Hz")
        self.sos_lp = design_sos(fs, lp, "lowpass", p.filter_order)
        self.sos_lp0 = self.sos_lp  # without notches
        self.sos_hp = design_sos(fs, p.highpass_hz, "highpass", p.filter_order)
        self.win = max(1, int(round(p.segment_window_s * fs)))
        self.chunk = max(1, int(round(p.chunk_s / p.segment_window_s))) * self.win
        self.margin = int(round(p.margin_s * fs))
        self.margin0 = self.margin  # without notches
        self.edge_guard = 0  # notch start-up at segment ends (samples); see apply_notches
        self.pad_span = 0  # continuation taken this far away (whole hum periods)
        self.guarded: set[int] = set()  # segments whose ends are left out of detection
        self.lp_hz = lp
        self.mains_top_hz = self.mains_top
        # the summary's mains record; None until measured (see _run_chunks)
        self.mains: dict | None = None
        self.notched: list[float] = []
        if measure_mains:
            est = self.measure_mains(n_jobs)
            self.apply_notches(self.notches_for(est), est.hz)
        self.block = max(16, int(round(p.noise_block_s * fs)))
        self.dead = max(1, int(round(p.dead_time_ms * fs / 1000)))
        self.search = max(1, int(round(p.peak_search_ms * fs / 1000)))
        self.pre = int(round(p.window_pre_ms * fs / 1000))
        self.post = int(round(p.window_post_ms * fs / 1000))
        self.quiet = max(3, int(round(p.quiet_ms * fs / 1000)))
        self.sn_pre = max(1, int(round(p.snippet_pre_ms * fs / 1000)))
        self.sn_post = max(1, int(round(p.snippet_post_ms * fs / 1000)))
        self.sn_step = max(1, int(fs // p.snippet_rate_hz))
        self.sub = max(1, int(round(0.005 * fs)))
        self.bl_n = max(2, int(round(p.baseline_ms * fs / 1000)))
        self.wide = max(1, int(round(p.peak_search_wide_ms * fs / 1000)))
        self.neg_win = max(1, int(round(p.psw_neg_window_ms * fs / 1000)))
        self.bl_gap = max(1, int(round(p.baseline_gap_ms * fs / 1000)))
        # the compiled chunk analysis's parameters (see _analyse_chunks_nb)
        self.int_params = (self.block, self.dead, self.search, self.pre, self.post, self.quiet,
                           self.bl_n, self.bl_gap, self.neg_win, self.wide, self.sn_pre,
                           self.sn_post, self.sn_step, self.win, self.sub)
        self.float_params = np.array([p.threshold_k, p.flat_noise_uv, fs, p.level_k_noise,
                                      p.level_fraction, p.turn_k_noise, p.turn_fraction,
                                      p.peak_search_wide_margin], np.float64)

    @property
    def mains_top(self) -> float:
        """Highest harmonic notched (Hz)."""
        p = self.p
        return float(min(p.mains_max_hz, self.lp_hz, self.fs / 2 - 2 * p.mains_bandwidth_hz))

    @property
    def forced_hz(self) -> float | None:
        """The mains frequency set by ``mains`` = 50 or 60, else None."""
        return float(self.p.mains) if self.p.mains in ("50", "60") else None

    def notches_before_probe(self) -> list[float]:
        """The notches when the probe's answer does not matter or is assumed absent.

        ``mains`` = 50/60: every harmonic; ``off``: none; ``auto``: none
        until the probe finds hum that matters (see :meth:`notches_for`).
        """
        force = self.forced_hz
        return harmonics_up_to(force, self.mains_top) if force is not None else []

    def measure_mains(self, n_jobs: int):
        """Measure mains hum in probe windows; sets :attr:`mains` (the summary record).

        Only reads the recording: the chunk settings are changed by
        :meth:`apply_notches`, so chunks may run meanwhile.
        """
        p, fs, rec = self.p, self.fs, self.rec
        top = self.mains_top
        self.mains_top_hz = top  # the rule's text
        # probed on the longest segment (a short first segment would hide the hum)
        seg = max(range(rec.n_segments), key=rec.n_samples)
        windows = probe_windows(rec, self.idx, seg, p.mains_probe_s, p.mains_probe_windows)
        band = np.vstack([self.sos_lp0, self.sos_hp])
        est = estimate_mains(windows, fs, band, max_hz=top, min_excess_db=p.mains_min_excess_db,
                             notch_bandwidth_hz=p.mains_bandwidth_hz, force_hz=self.forced_hz,
                             n_jobs=n_jobs)
        self.mains = {"setting": p.mains, "hz": est.hz, "harmonics_hz": est.harmonics_hz,
                      "notched_hz": [], "bandwidth_hz": p.mains_bandwidth_hz,
                      "hum_uv": est.hum_uv,
                      "noise_inflation": est.inflation, "measured": est.measured}
        return est

    def notches_for(self, est) -> list[float]:
        """The harmonics to notch given the probe's estimate (the rule in the summary)."""
        p = self.p
        if p.mains == "off":
            return []
        if self.forced_hz is not None:
            return self.notches_before_probe()
        if (est.hz is not None and np.isfinite(est.inflation).any()
                and np.nanmedian(est.inflation) >= p.mains_min_inflation):
            return [h for h in est.harmonics_hz if h <= self.mains_top]
        return []

    def apply_notches(self, notch: list[float], hz: float | None) -> None:
        """Set the chunk filters (and margins) for these notches; none: the band alone.

        Not while chunks run: they read these settings.
        """
        p, fs, rec = self.p, self.fs, self.rec
        self.sos_lp = self.sos_lp0
        self.margin = self.margin0
        self.edge_guard = self.pad_span = 0
        self.guarded = set()
        self.notched = list(notch)
        if self.mains is not None:
            self.mains["notched_hz"] = list(notch)
        if not notch:
            return
        self.sos_lp = np.ascontiguousarray(
            np.vstack([design_notches(fs, notch, p.mains_bandwidth_hz), self.sos_lp0]))
        settle = int(math.ceil(notch_settling_s(p.mains_bandwidth_hz) * fs))
        self.margin = max(self.margin0, settle)
        # at a segment's ends the notches would start from rest and ring with the
        # hum for about `settle`. The segment is continued there by its own
        # samples one whole number of hum periods away (the hum goes on in phase),
        # and the notches start up in that continuation. Segments too short for
        # it are left out of detection within `settle` of their ends instead.
        self.edge_guard = settle
        period = _hum_period_samples(fs, float(self.forced_hz or hz))
        self.pad_span = period * int(math.ceil(settle / period)) if period else 0
        self.guarded = {s for s in range(rec.n_segments)
                        if not self.pad_span or rec.n_samples(s) < self.pad_span + settle}
        log.info("mains %g Hz: notching %s Hz", self.forced_hz or hz,
                 ", ".join(f"{h:g}" for h in notch))

    def _buffers(self, shape: tuple[int, int]) -> tuple[np.ndarray, np.ndarray]:
        """This thread's two band buffers, as views of ``shape``.

        Reused from chunk to chunk: fresh multi-megabyte arrays for every chunk
        made the allocator map and fault in new pages, which two threads do
        one at a time.
        """
        buf = getattr(self._local, "bands", None)
        if buf is None or buf.shape[1] < shape[0] or buf.shape[2] != shape[1]:
            buf = np.empty((2, max(shape[0], self.chunk + 2 * self.margin + 2 * self.edge_guard),
                            shape[1]), np.float32)
            self._local.bands = buf
        return buf[0, :shape[0]], buf[1, :shape[0]]

    def batch_size(self, n_chunks: int, n_jobs: int) -> int:
        """Chunks read and analysed per compiled call (see :data:`_BATCH_BYTES`).

        At most ``_BATCH_BYTES`` of samples, and small enough that every
        thread gets several batches (they finish together).
        """
        per_chunk = max(1, (self.chunk + 2 * self.margin) * self.idx.size * 4)
        return int(max(1, min(_BATCH_BYTES // per_chunk, -(-n_chunks // (8 * n_jobs)))))

    def alone(self, segment: int, start: int) -> bool:
        """Whether this chunk is analysed on its own: it is continued past a segment end."""
        if not self.edge_guard or segment in self.guarded:
            return False
        n = self.rec.n_samples(segment)
        return start - self.margin <= 0 or min(n, start + self.chunk) + self.margin >= n

    def process_batch(self, segment: int, starts: list[int]) -> tuple[list[_ChunkOut], tuple]:
        """Consecutive chunks of a segment, read at once, analysed in one compiled call.

        Each chunk gets exactly its own samples and computation (its margins,
        filters from rest, noise and threshold); only the Python around them
        is shared. Returns the chunks' records and their candidates one chunk
        after the other ``(peaks, channels, features, snippets)`` (the
        records' candidate arrays are views of these).
        """
        n = self.rec.n_samples(segment)
        a0 = max(0, starts[0] - self.margin)
        b1 = min(n, min(n, starts[-1] + self.chunk) + self.margin)
        raw = np.ascontiguousarray(self.rec.get_traces(a0, b1, self.idx, segment), dtype=np.float32)
        pieces = []
        for start in starts:
            a = max(0, start - self.margin)
            b = min(n, min(n, start + self.chunk) + self.margin)
            pieces.append((a - a0, b - a, self._spans(segment, start, a)))
        return self._analyse(segment, starts, raw, a0, pieces)

    def process(self, segment: int, start: int) -> tuple[list[_ChunkOut], tuple]:
        """One chunk (with margins), continued past its segment's ends when notched.

        Returns what :meth:`process_batch` returns, for this one chunk.
        """
        n = self.rec.n_samples(segment)
        stop = min(n, start + self.chunk)
        a = max(0, start - self.margin)
        b = min(n, stop + self.margin)
        raw = np.ascontiguousarray(self.rec.get_traces(a, b, self.idx, segment), dtype=np.float32)
        if self.edge_guard and segment not in self.guarded and (a == 0 or b == n):
            # continue the segment past its ends with its own samples a whole
            # number of hum periods away, so the notches start up out there
            g, k = self.edge_guard, self.pad_span
            parts = [raw]
            if a == 0:
                parts.insert(0, self.rec.get_traces(k - g, k, self.idx, segment))
                a -= g
            if b == n:
                parts.append(self.rec.get_traces(n - k, n - k + g, self.idx, segment))
            raw = np.ascontiguousarray(np.vstack(parts), dtype=np.float32)
        return self._analyse(segment, [start], raw, a,
                             [(0, raw.shape[0], self._spans(segment, start, a))])

    def _spans(self, segment: int, start: int, a: int) -> tuple[int, int, int, int]:
        """Core start/stop and detection start/stop of a chunk read from sample ``a``."""
        n = self.rec.n_samples(segment)
        cs, ce = start - a, min(n, start + self.chunk) - a
        lo_det, hi_det = cs, ce
        guard = self.edge_guard if segment in self.guarded else 0
        if guard:
            lo_det = max(cs, guard - a)
            hi_det = max(lo_det, min(ce, n - guard - a))
        return cs, ce, lo_det, hi_det

    def _analyse(self, segment: int, starts: list[int], raw: np.ndarray, a0: int,
                 pieces: list) -> tuple[list[_ChunkOut], tuple]:
        """The compiled analysis of chunks ``pieces`` = (offset in ``raw``, length, spans)."""
        rows = np.array([(o, length, *spans, *self.int_params) for o, length, spans in pieces],
                        np.int64)
        # filters, noise, detection, features, snippets and window statistics in one
        # compiled call (no Python between the steps: the GIL is free for other threads)
        f, y = self._buffers((int(rows[:, 1].max()), raw.shape[1]))
        pk, ch, feat, snips, stats, noise, n_cand, n_win = _analyse_chunks_nb(
            raw, f, y, self.sos_lp, self.sos_hp, rows, self.float_params)
        pk += a0
        outs = []
        c0 = w0 = 0
        for j, start in enumerate(starts):
            c1, w1 = c0 + n_cand[j], w0 + n_win[j]
            outs.append(_ChunkOut(segment, start, pk[c0:c1], ch[c0:c1], feat[c0:c1], snips[c0:c1],
                                  stats[w0:w1], noise[j]))
            c0, w0 = c1, w1
        return outs, (pk, ch, feat, snips)


@numba.njit(nogil=True, cache=True)
def _analyse_chunks_nb(raw, f, y, sos_lp, sos_hp, rows, floats):  # pragma: no cover - compiled
    """Everything consecutive chunks of one read need from their samples, in one call.

    Per chunk: the wide band (low-pass) and the detection band (its
    high-pass), robust noise and threshold, detection, features, snippets
    and window statistics. ``rows[j]``: chunk ``j``'s first sample in
    ``raw`` and its length (with margins), its core start/stop and
    detection start/stop (chunk coordinates), then
    :attr:`_Context.int_params`; ``floats``: :attr:`_Context.float_params`.
    ``f`` and ``y`` (the caller's buffers, reused from chunk to chunk)
    receive each chunk's two bands in turn. Returns the chunks' peaks
    (``raw`` coordinates), channels, features, snippets and window
    statistics one chunk after the other, their detection-band noise
    (n_chunks, n_channels), and each chunk's numbers of candidates and
    windows. (The chunk's analysis is written out here, not called, so
    that it is compiled once.)
    """
    nk, c = rows.shape[0], raw.shape[1]
    noise = np.empty((nk, c))
    n_cand = np.zeros(nk, np.int64)
    n_win = np.zeros(nk, np.int64)
    pks = []
    chs = []
    feats = []
    snipss = []
    statss = []
    threshold_k, flat_noise, fs = floats[0], floats[1], floats[2]
    for j in range(nk):
        o, n = rows[j, 0], rows[j, 1]
        x, fj, yj, ints = raw[o:o + n], f[:n], y[:n], rows[j, 2:]
        cs, ce, lo_det, hi_det = ints[0], ints[1], ints[2], ints[3]
        block, dead, search, pre, post, quiet = ints[4], ints[5], ints[6], ints[7], ints[8], ints[9]
        bl_n, bl_gap, neg_win, wide, sn_pre, sn_post = (ints[10], ints[11], ints[12], ints[13],
                                                       ints[14], ints[15])
        sn_step, win, sub = ints[16], ints[17], ints[18]
        # wide band (low-pass only) for measuring, then the detection band from it
        lowpass_highpass_nb(x, sos_lp, sos_hp, fj, yj)
        noise_y = nanmedian_cols_nb(block_mad_nb(yj, cs, ce, block, np.int64(128)))
        thr = np.empty(noise_y.size)
        for q in range(noise_y.size):
            thr[q] = threshold_k * noise_y[q] if noise_y[q] >= flat_noise else np.nan
        cand, ch = detect_excursions_nb(yj, thr, lo_det, hi_det, dead)
        feat = measure_nb(fj, yj, cand, ch, noise_y, fs, search, pre, post, quiet, floats[3],
                          floats[4], floats[5], floats[6], bl_n, bl_gap, neg_win, wide, floats[7])
        pk = np.empty(feat.shape[0], np.int64)
        for k in range(feat.shape[0]):
            pk[k] = np.int64(feat[k, 0])
        snips = snippets_nb(yj, pk, ch, sn_pre, sn_post, sn_step)
        stats = window_stats_nb(x, yj, cs, ce, win, sub, fs)
        pks.append(pk + o)
        chs.append(ch)
        feats.append(feat)
        snipss.append(snips)
        statss.append(stats)
        noise[j] = noise_y
        n_cand[j] = pk.size
        n_win[j] = stats.shape[0]
    m, w = n_cand.sum(), n_win.sum()
    pk_all = np.empty(m, np.int64)
    ch_all = np.empty(m, chs[0].dtype)
    feat_all = np.empty((m, feats[0].shape[1]), feats[0].dtype)
    snips_all = np.empty((m, snipss[0].shape[1]), snipss[0].dtype)
    stats_all = np.empty((w, c, statss[0].shape[2]), statss[0].dtype)
    at = 0
    wt = 0
    # explicit loops: slice assignment compiles far more slowly
    for j in range(nk):
        pk, ch, feat, snips, stats = pks[j], chs[j], feats[j], snipss[j], statss[j]
        for i in range(n_cand[j]):
            pk_all[at + i] = pk[i]
            ch_all[at + i] = ch[i]
            for q in range(feat.shape[1]):
                feat_all[at + i, q] = feat[i, q]
            for q in range(snips.shape[1]):
                snips_all[at + i, q] = snips[i, q]
        for i in range(n_win[j]):
            for q in range(c):
                for r in range(stats.shape[2]):
                    stats_all[wt + i, q, r] = stats[i, q, r]
        at += n_cand[j]
        wt += n_win[j]
    return pk_all, ch_all, feat_all, snips_all, stats_all, noise, n_cand, n_win


def _hum_period_samples(fs: float, mains_hz: float, max_periods: int = 200,
                        tolerance: float = 0.02) -> int:
    """Samples spanning a whole number of mains periods (within ``tolerance`` samples), or 0."""
    for m in range(1, max_periods + 1):
        k = m * fs / mains_hz
        if abs(k - round(k)) <= tolerance:
            return int(round(k))
    return 0


def _resolve_channels(rec, channels) -> np.ndarray:
    if channels is None:
        idx = [i for i, c in enumerate(rec.channels) if c.kind == "emg"]
        if not idx:
            raise InputError("the recording has no EMG channel to analyse", rec.path)
        return np.asarray(idx, dtype=np.int64)
    if isinstance(channels, str):
        channels = [c.strip() for c in channels.split(",") if c.strip()]
    return rec.channel_index(channels)


class _ChunkRun:
    """The chunks of a recording, taken one at a time by any number of threads."""

    def __init__(self, ctx: _Context, n_jobs: int = 1):
        rec = ctx.rec
        self.ctx = ctx
        self.tasks = [(s, st) for s in range(rec.n_segments)
                      for st in range(0, rec.n_samples(s), ctx.chunk)]
        self.pool = _Pool(np.array([s for s, _ in self.tasks], np.int64), ctx.idx.size,
                          len(FEATURE_NAMES))
        self.out: list[_ChunkOut | None] = [None] * len(self.tasks)
        # consecutive chunks of a segment in batches; those continued past a
        # segment end (notches) alone. With threads the batches shrink towards
        # the end (at most a 2 * n_jobs-th of the chunks left), so that the
        # threads finish within about one chunk of each other.
        size = ctx.batch_size(len(self.tasks), n_jobs)
        self.batches: list[list[int]] = []
        n_tasks = len(self.tasks)
        for k, (s, st) in enumerate(self.tasks):
            last = self.batches[-1] if self.batches else None
            cap = size if n_jobs <= 1 else max(1, min(size, (n_tasks - k + len(last or ()))
                                                      // (2 * n_jobs)))
            if (last is None or len(last) >= cap or self.tasks[last[0]][0] != s
                    or ctx.alone(s, st) or ctx.alone(*self.tasks[last[-1]])):
                self.batches.append([k])
            else:
                last.append(k)
        self._next = itertools.count()  # shared: next() is atomic under the GIL
        self.stop = threading.Event()

    def work(self) -> None:
        """Analyse the next free batch of chunks until none is left (or :attr:`stop` is set).

        Each thread takes the next batch when it is done with one (threads
        finish together even when one core runs slower), holding one batch's
        signals at a time.
        """
        for b in self._next:
            if b >= len(self.batches) or self.stop.is_set():
                return
            ks = self.batches[b]
            seg = self.tasks[ks[0]][0]
            if len(ks) == 1 and self.ctx.alone(*self.tasks[ks[0]]):
                outs, cands = self.ctx.process(seg, self.tasks[ks[0]][1])
            else:
                outs, cands = self.ctx.process_batch(seg, [self.tasks[k][1] for k in ks])
            self.pool.add_batch(ks, outs, *cands)
            for k, res in zip(ks, outs):
                self.out[k] = res


def _run_chunks(ctx: _Context, n_jobs: int) -> tuple[list[_ChunkOut], _Pool]:
    """Every chunk analysed (``n_jobs`` threads); their candidates pooled.

    When the mains hum is not measured yet (``ctx.mains`` None), it is
    measured here. With one thread first, then the chunks. With more, the
    calling thread measures it while the others start on the chunks with the
    notches known beforehand (``mains`` = 50/60: every harmonic; otherwise
    none), then joins them; should the measurement call for other notches
    (``auto`` and hum that matters), the chunks done so far are dropped and
    every chunk is analysed again with them. The numbers are those of the
    serial order either way.
    """
    if ctx.mains is None and (n_jobs <= 1 or ctx.rec.n_segments == 0):
        est = ctx.measure_mains(1)
        ctx.apply_notches(ctx.notches_for(est), est.hz)
    if ctx.mains is not None:
        run = _ChunkRun(ctx, n_jobs)
        if n_jobs <= 1 or len(run.batches) <= 1:
            run.work()
        else:
            alongside(run.work, n_jobs - 1, run.stop)
        return run.out, run.pool  # type: ignore[return-value]

    assumed = ctx.notches_before_probe()
    ctx.apply_notches(assumed, ctx.forced_hz)
    run = _ChunkRun(ctx, n_jobs)
    # a worker that fails sets run.stop: the others (and this thread) stop early
    futures = submit_all([run.work] * (n_jobs - 1), n_jobs - 1, run.stop)
    try:
        est = ctx.measure_mains(1)  # the other threads are busy with chunks
        notch = ctx.notches_for(est)
        if notch != assumed:
            run.stop.set()
        else:
            run.work()
    except BaseException:
        run.stop.set()
        collect_quietly(futures)  # no thread still works on the chunks when this raises
        raise
    collect(futures)
    if notch == assumed:
        ctx.mains["notched_hz"] = list(notch)
        return run.out, run.pool  # type: ignore[return-value]
    log.debug("mains: the chunks are analysed again with notches at %s Hz", notch)
    run.pool.release()  # every thread has stopped: the arrays serve the new run
    run = None
    ctx.apply_notches(notch, est.hz)
    return _run_chunks(ctx, n_jobs)


@numba.njit(nogil=True, cache=True)
def _dedupe_nb(times, det, onset_ms, end_ms, hw_ms, dead_s, ratio, window_s,
               spike_hw_ms):  # pragma: no cover - compiled
    m = times.size
    keep = np.ones(m, np.bool_)
    order = np.argsort(times)
    last = -1
    for j in order:
        if last < 0:
            last = j
            continue
        i = last
        dt = times[j] - times[i]
        reach_i = max(end_ms[i] / 1000.0, window_s if hw_ms[j] > spike_hw_ms else 0.0)
        reach_j = max(-onset_ms[j] / 1000.0, window_s if hw_ms[i] > spike_hw_ms else 0.0)
        inside_i = dt <= reach_i and det[i] >= ratio * det[j]
        inside_j = dt <= reach_j and det[j] >= ratio * det[i]
        if dt < dead_s or inside_i or inside_j:
            if det[j] > det[i]:
                keep[i] = False
                last = j
            else:
                keep[j] = False
        else:
            last = j
    return keep


@numba.njit(nogil=True, cache=True)
def _channel_candidates_nb(peaks, feat, cuts, chunk_seg, ci, fs, seg_offsets, cols,
                           dead_s, ratio, window_s, spike_hw_ms):  # pragma: no cover - compiled
    """Channel ``ci``'s candidates out of the pool, duplicates and satellites removed.

    ``cols``: the feature columns of the detection-band peak, onset, end and
    half width. Returns features, rows in the pool (where the snippets are:
    read there, not copied), segments and times (s, segments end to end) of
    the kept candidates, in time order.
    """
    m = 0
    for k in range(cuts.shape[0]):
        m += cuts[k, ci + 1] - cuts[k, ci]
    rows = np.empty(m, np.int64)
    segs = np.empty(m, np.int64)
    times = np.empty(m)
    j = 0
    for k in range(cuts.shape[0]):
        for r in range(cuts[k, ci], cuts[k, ci + 1]):
            rows[j] = r
            segs[j] = chunk_seg[k]
            times[j] = peaks[r] / fs + seg_offsets[chunk_seg[k]]
            j += 1
    det = np.empty(m)
    onset = np.empty(m)
    end = np.empty(m)
    hw = np.empty(m)
    for i in range(m):
        det[i] = feat[rows[i], cols[0]]
        onset[i] = feat[rows[i], cols[1]]
        end[i] = feat[rows[i], cols[2]]
        hw[i] = feat[rows[i], cols[3]]
    keep = _dedupe_nb(times, det, onset, end, hw, dead_s, ratio, window_s, spike_hw_ms)
    # kept rows, in time order (chunks come in order and each channel's candidates
    # in time order, so this is a safeguard; a channel's times are distinct)
    kept = np.flatnonzero(keep)
    for i in range(1, kept.size):
        if times[kept[i]] < times[kept[i - 1]]:
            kept = kept[np.argsort(times[kept])]
            break
    n = kept.size
    out_feat = np.empty((n, feat.shape[1]))
    out_rows = np.empty(n, np.int64)
    out_segs = np.empty(n, np.int64)
    out_times = np.empty(n)
    for i in range(n):
        r = rows[kept[i]]
        for c in range(feat.shape[1]):
            out_feat[i, c] = feat[r, c]
        out_rows[i] = r
        out_segs[i] = segs[kept[i]]
        out_times[i] = times[kept[i]]
    return out_feat, out_rows, out_segs, out_times


_DEDUPE_COLS = np.array([_F["det_peak_uv"], _F["onset_ms"], _F["end_ms"], _F["half_width_ms"]],
                        np.int64)


def _channel_candidates(pool: _Pool, ci: int, fs: float, seg_offsets: np.ndarray,
                        p: DetectParams):
    """Channel ``ci``'s candidates (features, rows in the pool, segments, times), deduplicated.

    Removes duplicates (closer than ``dead_time_ms``) and satellites: a
    satellite is a smaller candidate (detection-band peak ``satellite_ratio``
    times smaller) inside the extent of a neighbour, or within
    ``satellite_window_ms`` of it when the satellite is not a sharp spike (a
    late MUP phase, the slow phase of a PSW).
    """
    return _channel_candidates_nb(pool.peaks, pool.feat, pool.cuts, pool.chunk_seg,
                                  ci, fs, np.ascontiguousarray(seg_offsets, np.float64),
                                  _DEDUPE_COLS, p.dead_time_ms / 1000.0, float(p.satellite_ratio),
                                  p.satellite_window_ms / 1000.0,
                                  float(p.spike_max_half_width_ms))


def _in_intervals(t: np.ndarray, iv: list[tuple[float, float]]) -> np.ndarray:
    out = np.zeros(t.size, bool)
    for a, b in iv:
        out |= (t >= a) & (t < b)
    return out


def detect_spontaneous(
    recording,
    *,
    channels: Sequence[str | int] | str | None = None,
    muscle: str | None = None,
    side: str | None = None,
    n_jobs: int = 1,
    params: DetectParams | dict | None = None,
    mode: str = "auto",
):
    """Detect and classify spontaneous discharges in a recording.

    Parameters
    ----------
    recording : Recording
        Continuous EMG (any sampling rate from 4 to 48 kHz); multi-segment
        recordings are analysed segment by segment (times are then counted
        from the start of the first segment, segments end to end).
    channels : names, indices, "A,B" | None
        Channels to analyse (``None``: all EMG channels).
    muscle, side : str | None
        Written into the summary (default: the channels' own metadata).
    n_jobs : int
        Threads over chunks (the kernels release the GIL).
    params : DetectParams | dict | None
        Threshold overrides (see :class:`~motorsign.spontaneous.params.DetectParams`).
    mode : {"auto", "needle", "surface"}
        ``surface`` (HD-sEMG grids) uses :data:`~motorsign.spontaneous.surface.SURFACE_DEFAULTS`
        under the overrides and links candidates across channels into
        events (:mod:`motorsign.spontaneous.surface`); ``auto`` picks
        ``surface`` below 4 kHz or from 16 channels on.

    Returns
    -------
    DetectionResult

    Raises
    ------
    InputError
        No channel to analyse, or a sampling rate outside 1-100 kHz.
    ConfigError
        Unknown or invalid parameters.

    Notes
    -----
    The candidate pool of a call (capacity up to 128 MB) is kept for the
    next call in the same process, which writes it again instead of faulting
    in fresh memory; :func:`release_scratch` frees it.
    """
    import pandas as pd

    rec = recording
    fs = float(rec.sampling_rate_hz)
    if not (math.isfinite(fs) and 1000.0 <= fs <= 100000.0):
        raise InputError(f"sampling rate {fs:g} Hz is outside 1-100 kHz: not needle EMG", rec.path)
    idx = _resolve_channels(rec, channels)
    if mode not in ("auto", "needle", "surface"):
        raise ConfigError(f"detect mode must be auto, needle or surface, got {mode!r}")
    if mode == "auto":
        mode = "surface" if (fs < 4000.0 or len(idx) >= 16) else "needle"
    if mode == "surface":
        base = dict(SURFACE_DEFAULTS)
        if isinstance(params, DetectParams):
            params = params.to_dict()
        base.update(params or {})
        params = base
    p = make_params(params)
    names = [rec.channels[i].name for i in idx]
    # the hum is measured by _run_chunks, alongside the first chunks with threads
    ctx = _Context(rec, idx, p, max(1, int(n_jobs)), measure_mains=False)
    chunks, pool = _run_chunks(ctx, max(1, int(n_jobs)))
    seg_offsets = np.concatenate([[0.0], np.cumsum([rec.n_samples(s) / fs for s in range(rec.n_segments)])])
    total_s = float(seg_offsets[-1])

    nch = len(names)
    noise_mat = (np.stack([c.noise for c in chunks]) if chunks
                 else np.zeros((0, nch)))
    seg_stats = []
    for s_ in range(rec.n_segments):
        st = [c.stats for c in chunks if c.segment == s_]
        seg_stats.append(np.concatenate(st) if st else np.zeros((0, nch, 5)))

    # per channel (threads: the kernels release the GIL)
    def _post(ci: int, name: str):
        iv_rows: list[dict] = []
        chan_summary: dict[str, dict] = {}
        train_counter = 0
        feat, pool_rows, segs, times = _channel_candidates(pool, ci, fs, seg_offsets, p)
        noise_all = noise_mat[:, ci]
        amp = feat[:, _F["amplitude_uv"]]

        # rest / activity / artifact per segment
        activity: list[tuple[float, float]] = []
        artifact: list[tuple[float, float]] = []
        flags: list[str] = []
        rest_s = 0.0
        resting_noise = []
        for s in range(rec.n_segments):
            stats = seg_stats[s][:, ci, :]
            sel = segs == s
            seg_res = segment_channel(stats, times[sel] - seg_offsets[s], amp[sel],
                                      rec.n_samples(s) / fs, p)
            activity += [(a + seg_offsets[s], b + seg_offsets[s]) for a, b in seg_res["activity"]]
            artifact += [(a + seg_offsets[s], b + seg_offsets[s]) for a, b in seg_res["artifact"]]
            rest_s += seg_res["rest_s"]
            resting_noise.append(seg_res["resting_noise_uv"])
            flags += [f for f in seg_res["flags"] if f not in flags and f != "no_rest"
                      and f != "rest_too_short_to_exclude_fasciculations"]
        if ctx.guarded:
            # the notches' start-up at the ends of segments too short to continue:
            # not analysed, so not rest
            g = ctx.edge_guard / fs
            for s in sorted(ctx.guarded):
                a0, b0 = float(seg_offsets[s]), float(seg_offsets[s + 1])
                artifact += [(a0, min(b0, a0 + g)), (max(a0, b0 - g), b0)]
            rest_s = float(sum(b - a for a, b in _complement(activity + artifact, seg_offsets)))
        finite_noise = noise_all[np.isfinite(noise_all)]
        noise_med = float(np.median(finite_noise)) if finite_noise.size else math.nan
        if not finite_noise.size:
            flags.append("no_valid_samples")
        elif noise_med < p.flat_noise_uv:
            flags.append("flat_channel")
        infl = ctx.mains["noise_inflation"]
        if not ctx.mains["measured"]:
            flags.append("mains_not_measured")  # no segment long enough to look for hum
        if ctx.mains["notched_hz"]:
            flags.append("mains_notched")  # one set of notches serves every channel
        elif infl is not None and infl[ci] >= p.mains_min_inflation:
            flags.append("mains_interference")
        if rest_s <= 0:
            flags.append("no_rest")
        elif rest_s < p.rest_min_s:
            flags.append("rest_too_short_to_exclude_fasciculations")

        in_act = _in_intervals(times, activity)
        in_art = _in_intervals(times, artifact)

        # shape clusters among rest discharges
        labels, _ = cluster_channel(pool.snips, amp, feat[:, _F["noise_uv"]], p.shape_min_corr,
                                    p.shape_floor_corr, p.shape_max_amp_ratio,
                                    select=~in_act & ~in_art, rows=pool_rows)
        stats_by_src = train_stats_by_source(times, labels)
        codes, conf = classify_channel_codes(feat, labels, times, in_act, in_art, p, stats_by_src)

        # trains: sources with enough rest discharges of one spontaneous kind
        train_ids = np.full(times.size, -1, np.int64)
        trains = []
        n_src = len(stats_by_src)  # labels 0 .. n_src - 1, each with discharges
        if n_src:
            nk = KIND_NAMES.size
            has = labels >= 0
            cnt = np.bincount(labels[has] * nk + codes[has], minlength=n_src * nk).reshape(n_src, nk)
            # each source's most frequent kind; ties: the first name alphabetically
            tied = cnt == cnt.max(axis=1, keepdims=True)
            top = np.argmin(np.where(tied, _NAME_RANK, nk), axis=1)
            srt = np.argsort(labels, kind="stable")
            bounds = np.searchsorted(labels[srt], np.arange(n_src + 1))
            # times are in order: a source's first and last discharges bound it
            first_s = times[srt[bounds[:-1]]]
            last_s = times[srt[bounds[1:] - 1]]
            train_of = np.full(n_src, -1, np.int64)
            for lab, st in stats_by_src.items():
                kind = KIND_NAMES[top[lab]]
                if st.n < p.train_min_n or kind in ("artifact", "unclassified"):
                    continue
                train_of[lab] = train_counter
                trains.append({
                    "train_id": train_counter, "kind": kind, "n": int(st.n),
                    "rate_hz": st.rate_hz, "isi_cv": st.isi_cv,
                    "regularity_cv2": st.regularity_cv2,
                    "consistent_fraction": st.consistent_fraction,
                    "regular": st.is_regular(p.regular_max_isi_cv, p.regular_min_consistent,
                                             p.train_min_n),
                    "first_s": float(first_s[lab]), "last_s": float(last_s[lab]),
                })
                train_counter += 1
            train_ids[has] = train_of[labels[has]]

        # columns as arrays; one DataFrame is assembled for all channels at the end
        rows = {
            "channel": np.full(times.size, ci, dtype=np.int64),
            "time_s": times,
            "kind": KIND_NAMES[codes],
            "feat": np.ascontiguousarray(feat[:, _OUT_FEATURES]),
            "train_id": train_ids,
            "confidence": np.round(conf, 3),
            "source_id": labels,
            "segment": segs,
            "state": np.where(in_art, 2, np.where(in_act, 1, 0)).astype(np.int8),
        }

        # intervals table
        for a, b in activity:
            iv_rows.append({"channel": name, "start_s": a, "stop_s": b, "kind": "activity"})
        for a, b in artifact:
            iv_rows.append({"channel": name, "start_s": a, "stop_s": b, "kind": "artifact"})
        for a, b in _complement(activity + artifact, seg_offsets):
            iv_rows.append({"channel": name, "start_s": a, "stop_s": b, "kind": "rest"})

        counts, rates = _counts_rates(codes, in_act, rest_s, total_s)
        n_reg = sum(1 for t in trains if t["kind"] in ("fibrillation", "positive_sharp_wave")
                    and t["regular"])
        grade = fib_psw_grade(counts["fibrillation"] + counts["positive_sharp_wave"], rest_s,
                              n_reg, p.grade_rates_per_min)
        chan = rec.channels[idx[ci]]
        act_s = sum(b - a for a, b in activity)
        chan_summary[name] = {
            "muscle": muscle if muscle is not None else chan.muscle,
            "side": side if side is not None else chan.side,
            "duration_s": total_s,
            "rest_s": rest_s,
            "counts": counts,
            "rates_per_min": rates,
            "fib_psw_grade": grade,
            "fasciculation_rate_per_min": rates["fasciculation"],
            "trains": trains,
            "activity_s": act_s,
            "artifact_s": sum(b - a for a, b in artifact),
            "noise_uv": noise_med,
            "rest_sufficient_for_fasciculations": bool(rest_s >= p.rest_min_s),
            "fasciculations_present": bool(counts["fasciculation"] > 0) if rest_s > 0 else None,
            "flags": flags,
        }
        log.info("%s: %d discharges, rest %.1f s, grade %s", name, times.size, rest_s, grade)
        return rows, iv_rows, chan_summary

    if n_jobs > 1 and len(names) > 1:
        # this thread and n_jobs - 1 workers (as for the chunks: the same worker
        # threads from call to call, whose memory is already mapped) take the
        # channels from one queue, the busiest first, so that they finish together
        sizes = (pool.cuts[:, 1:] - pool.cuts[:, :-1]).sum(axis=0)
        order = np.argsort(-sizes, kind="stable").tolist()
        by_channel: dict[int, tuple] = {}
        next_channel = itertools.count()
        stop = threading.Event()

        def _post_queue() -> None:
            for k in next_channel:
                if k >= len(order) or stop.is_set():
                    return
                by_channel[order[k]] = _post(order[k], names[order[k]])

        alongside(_post_queue, min(n_jobs, len(names)) - 1, stop)
        per_channel = [by_channel[ci] for ci in range(len(names))]
    else:
        per_channel = [_post(ci, name) for ci, name in enumerate(names)]
    pool.release()  # the candidates are in per_channel now: the arrays serve the next call
    rows: list[dict] = []
    iv_rows: list[dict] = []
    chan_summary: dict[str, dict] = {}
    offset = 0
    for ch_rows, ch_iv, ch_sum in per_channel:
        n_trains = 0
        for summ in ch_sum.values():
            for t in summ["trains"]:
                t["train_id"] += offset
            n_trains = len(summ["trains"])
        tid = ch_rows["train_id"]
        tid[tid >= 0] += offset
        offset += n_trains
        rows.append(ch_rows)
        iv_rows += ch_iv
        chan_summary.update(ch_sum)
    discharges = _assemble(rows, names)
    intervals = pd.DataFrame(iv_rows, columns=["channel", "start_s", "stop_s", "kind"])
    surface_info = None
    if mode == "surface":
        grid_act = grid_activity(intervals, names, total_s, p)
        in_grid = _in_intervals(discharges["time_s"].to_numpy(), grid_act)
        newly = in_grid & (discharges["state"] == "rest").to_numpy()
        discharges.loc[newly, "state"] = "activity"
        discharges.loc[newly, "kind"] = np.where(
            discharges.loc[newly, "amplitude_uv"] >= p.mup_min_uv, "motor_unit_potential",
            "unclassified")
        iv_rows = []
        for name in names:
            art = [(a, b) for a, b, k in intervals.loc[intervals["channel"] == name,
                                                       ["start_s", "stop_s", "kind"]].itertuples(
                index=False) if k == "artifact"]
            for a, b in grid_act:
                iv_rows.append({"channel": name, "start_s": a, "stop_s": b, "kind": "activity"})
            for a, b in art:
                iv_rows.append({"channel": name, "start_s": a, "stop_s": b, "kind": "artifact"})
            rest_iv = _complement(grid_act + art, seg_offsets)
            for a, b in rest_iv:
                iv_rows.append({"channel": name, "start_s": a, "stop_s": b, "kind": "rest"})
            cs = chan_summary[name]
            cs["rest_s"] = float(sum(b - a for a, b in rest_iv))
            cs["activity_s"] = float(sum(b - a for a, b in grid_act))
            cs["rest_sufficient_for_fasciculations"] = bool(cs["rest_s"] >= p.rest_min_s)
        intervals = pd.DataFrame(iv_rows, columns=["channel", "start_s", "stop_s", "kind"])
        discharges, events = classify_surface(discharges, p)
        for name in names:
            d_ch = discharges[discharges["channel"] == name]
            kinds = d_ch["kind"].to_numpy(object)
            cs = chan_summary[name]
            cs["counts"], cs["rates_per_min"] = _counts_rates(
                kinds, (d_ch["state"] == "activity").to_numpy(), cs["rest_s"], total_s)
            cs["fasciculation_rate_per_min"] = cs["rates_per_min"]["fasciculation"]
            cs["fasciculations_present"] = (bool(cs["counts"]["fasciculation"] > 0)
                                            if cs["rest_s"] > 0 else None)
            cs["trains"] = [t for t in cs["trains"] if t["kind"] == "fasciculation"]
            cs["fib_psw_grade"] = None  # not graded on surface recordings
        rest_all = min((c["rest_s"] for c in chan_summary.values()), default=0.0)
        surface_info = {
            "n_fasciculation_events": int(len(events)),
            "fasciculation_events_per_min": (len(events) / (rest_all / 60.0)
                                             if rest_all > 0 else math.nan),
            "rest_s": rest_all,
            "events": events.to_dict("records"),
            "rule": (f"an event links rest candidates across channels within "
                     f"{p.coincidence_ms:g} ms; a fasciculation spreads over >= "
                     f"{p.spread_min_channels} channels and reaches {p.surface_min_uv:g} µV"),
        }
    mains = dict(ctx.mains)
    for key in ("hum_uv", "noise_inflation"):
        vals = mains[key]
        mains[key] = ({nm: (float(v) if np.isfinite(v) else None) for nm, v in zip(names, vals)}
                      if vals is not None else None)
    mains["rule"] = (f"mains={p.mains}: harmonics whose spectral line stands >= "
                     f"{p.mains_min_excess_db:g} dB above the neighbouring bins are present; "
                     f"they are notched (zero phase, {p.mains_bandwidth_hz:g} Hz wide, up to "
                     f"{ctx.mains_top_hz:g} Hz) when the hum raises the robust noise of the "
                     f"detection band (the threshold) {p.mains_min_inflation:g}-fold "
                     f"(median over channels)"
                     if p.mains == "auto" else
                     f"mains={p.mains}: " + ("hum measured and flagged, not notched"
                                             if p.mains == "off" else
                                             f"every harmonic of {p.mains} Hz up to "
                                             f"{ctx.mains_top_hz:g} Hz notched"))
    summary = {
        "recording": rec.path if rec.path else "(array)",
        "sampling_rate_hz": fs,
        "channels": chan_summary,
        "mains": mains,
        "fib_psw_grade_rule": grade_rule_text(p.grade_rates_per_min),
        "rates_rule": "rates_per_min: spontaneous kinds per minute of rest; "
                      "motor_unit_potential and artifact per minute of recording",
        "parameters": p.to_dict(),
        "mode": mode,
    }
    if surface_info is not None:
        summary["surface"] = surface_info
    return DetectionResult(discharges=discharges, summary=summary, intervals=intervals, params=p)


def _assemble(rows: list[dict], names: list[str]):
    """The discharges table of all channels (one pandas construction), time-sorted."""
    import pandas as pd

    cols = list(DISCHARGE_COLUMNS) + list(EXTRA_COLUMNS)
    rows = [r for r in rows if r["time_s"].size]
    if not rows:
        return pd.DataFrame(
            {c: pd.Series(dtype=object if c in ("channel", "kind", "initial_polarity") else float)
             for c in cols})
    name_rank = np.argsort(np.argsort(np.asarray(names, dtype=str), kind="stable"), kind="stable")
    order = np.lexsort((name_rank[np.concatenate([r["channel"] for r in rows])],
                        np.concatenate([r["time_s"] for r in rows])))  # time, then channel name
    # each row's place in the output: every column is written there straight
    # from the channels' arrays (no concatenated copy to reorder: fewer fresh pages)
    pos = np.empty_like(order)
    pos[order] = np.arange(order.size)
    bounds = np.cumsum([0] + [r["time_s"].size for r in rows])

    def col(key, j=None):  # one column at a time, in output order (bounded extra memory)
        out = np.empty(order.size, np.result_type(*[r[key].dtype for r in rows]))
        for r, a, b in zip(rows, bounds[:-1], bounds[1:]):
            out[pos[a:b]] = r[key] if j is None else r[key][:, j]
        return out

    o = {name: i for i, name in enumerate(_OUT_FEATURE_NAMES)}
    amp = col("feat", o["amplitude_uv"])
    # the text columns as pandas would type them (str from pandas 3, object
    # before), given that type directly: pandas' own inference scans them again
    text_dtype = pd.Series(np.asarray(["x"], dtype=object)).dtype
    text = ((lambda a: a) if isinstance(text_dtype, np.dtype)  # noqa: E731
            else (lambda a: pd.array(a, dtype=text_dtype)))
    # the columns are fresh arrays: taken as they are (copy=False), in output
    # order, so pandas neither copies nor reorders them (fewer fresh pages)
    df = pd.DataFrame({
        "channel": text(np.asarray(names, dtype=object)[col("channel")]),
        "time_s": col("time_s"),
        "kind": text(col("kind").astype(object)),
        "amplitude_uv": amp,
        "duration_ms": col("feat", o["duration_ms"]),
        "phases": col("feat", o["phases"]).astype(np.int64),
        "initial_polarity": text(_POLARITIES[(col("feat", o["initial_sign"]) > 0).view(np.int8)]),
        "train_id": col("train_id"),
        "confidence": col("confidence"),
        "turns": col("feat", o["turns"]).astype(np.int64),
        "rise_time_ms": col("feat", o["rise_time_ms"]),
        "area_uvms": col("feat", o["area_uvms"]),
        "snr": amp / np.maximum(col("feat", o["noise_uv"]), 1e-9),
        "source_id": col("source_id"),
        "segment": col("segment"),
        "state": text(_STATES[col("state")]),
    }, columns=cols, copy=False)
    return df


def _counts_rates(kinds: np.ndarray, in_act: np.ndarray, rest_s: float,
                  total_s: float) -> tuple[dict, dict]:
    """Counts per kind (rest kinds outside activity) and rates per minute.

    ``kinds`` are names, or codes into :data:`~motorsign.spontaneous.classify.KIND_NAMES`.
    """
    if kinds.dtype == object:
        code_of = {k: i for i, k in enumerate(KIND_NAMES)}
        kinds = np.fromiter((code_of[k] for k in kinds), np.int64, kinds.size)
    mup = KINDS.index("motor_unit_potential")
    n = np.bincount(kinds[~in_act | (kinds == mup)], minlength=KIND_NAMES.size)
    counts = {k: int(n[i]) for i, k in enumerate(KINDS)}
    rest_min = rest_s / 60.0
    rates = {}
    for k in KINDS:
        if k in SPONTANEOUS_KINDS:
            rates[k] = counts[k] / rest_min if rest_min > 0 else math.nan
        else:
            rates[k] = counts[k] / (total_s / 60.0) if total_s > 0 else math.nan
    return counts, rates


def _complement(iv: list[tuple[float, float]], seg_offsets: np.ndarray) -> list[tuple[float, float]]:
    out = []
    for s in range(len(seg_offsets) - 1):
        a0, b0 = float(seg_offsets[s]), float(seg_offsets[s + 1])
        cur = a0
        for a, b in sorted(iv):
            if b <= cur or a >= b0:
                continue
            if a > cur:
                out.append((cur, min(a, b0)))
            cur = max(cur, b)
        if cur < b0:
            out.append((cur, b0))
    return out
