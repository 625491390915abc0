"""Per-discharge features measured on the recorded (wide-band) signal.

The measuring signal is the recording low-passed at the detection band's
upper edge (zero phase, so peaks are not delayed; nothing is high-passed, so
slow phases such as a PSW's are kept), with a local baseline removed per
discharge. Rules (all levels in :class:`~motorsign.spontaneous.params.DetectParams`):

* **baseline**: the deflection's onset is first found in the detection
  band; the median of the wide-band signal over the ``baseline_ms`` that
  end ``baseline_gap_ms`` before that onset is subtracted.
* **noise**: the robust noise of the detection band (the wide band also
  holds slow activity that is baseline, not noise).
* **time**: the largest absolute sample within ``peak_search_ms`` of the
  detection peak, or, when larger by ``peak_search_wide_margin``, within the
  deflection's extent (onset to end) and ``peak_search_wide_ms`` of it.
* **level** ``L = max(level_k_noise * noise, level_fraction * |peak|)``.
* **onset**: walking back from the peak, the earliest sample above ``L``
  before ``quiet_ms`` of samples below ``L``; **end**: the same forwards.
  Duration = end - onset.
* **amplitude**: max - min between onset and end (peak-to-peak), the
  baseline (0) included, so a monophasic deflection measures its height.
* **phases**: number of alternations of sign among the lobes exceeding
  ``L`` (a phase is a part of the waveform on one side of the baseline).
* **turns**: changes of direction of at least ``max(turn_k_noise * noise,
  turn_fraction * amplitude)``.
* **initial polarity**: sign of the first sample above ``L`` (recorded
  voltage: positive up).
* **rise time**: from the opposite extreme preceding the peak (or the onset
  when there is none) to the peak.
* **area**: integral of the absolute signal between onset and end (µV·ms).
* **half width**: width of the main peak at half its height (PSWs fall
  slowly, fibrillation spikes are sharp).
* **post minimum**: the lowest sample within ``psw_neg_window_ms`` after
  the peak (the sharp negative phase of a spike or MUP, which a PSW lacks).
"""

from __future__ import annotations

import numba
import numpy as np

from motorsign.signal.morphology import count_turns

__all__ = ["FEATURE_NAMES", "measure_nb"]

#: Columns of the feature matrix returned by :func:`measure_nb`.
FEATURE_NAMES = (
    "peak_idx",  # 0 sample index (chunk coordinates) of the largest |x|
    "amplitude_uv",  # 1
    "duration_ms",  # 2
    "phases",  # 3
    "turns",  # 4
    "initial_sign",  # 5 +1 / -1
    "rise_time_ms",  # 6
    "area_uvms",  # 7
    "pos_peak_uv",  # 8
    "neg_peak_uv",  # 9 (<= 0)
    "pos_above_ms",  # 10 time above +L
    "neg_above_ms",  # 11 time below -L
    "peak_sign",  # 12 sign of the largest peak
    "onset_ms",  # 13 onset relative to the peak (<= 0)
    "end_ms",  # 14 end relative to the peak (>= 0)
    "noise_uv",  # 15
    "pos_first_idx_ms",  # 16 time of the max relative to the peak
    "neg_first_idx_ms",  # 17 time of the min relative to the peak
    "post_min_uv",  # 18 lowest sample within psw_neg_window_ms after the peak
    "half_width_ms",  # 19 width of the main peak at half its height
    "det_peak_uv",  # 20 absolute detection-band value at the detection peak
)


@numba.njit(nogil=True, cache=True)
def _extent(x, j, p, limit, step, base, level, quiet):  # pragma: no cover - compiled
    """Last sample, walking from ``p`` towards ``limit`` (inclusive) by ``step`` (+1 or -1),
    where ``|x[:, j] - base| >= level``, the walk ending after ``quiet`` samples below it."""
    last = p
    q = 0
    i = p
    while (i >= limit) if step < 0 else (i <= limit):
        v = x[i, j] - base
        if (v if v >= 0 else -v) >= level:
            last = i
            q = 0
        else:
            q += 1
            if q >= quiet:
                break
        i += step
    return last


@numba.njit(nogil=True, cache=True)
def _median_into(f, b0, b1, j, buf):  # pragma: no cover - compiled
    """Median of ``f[b0:b1, j]`` (insertion sort in ``buf``; NaN when empty).

    The baseline window is short (``baseline_ms``), so sorting in a
    preallocated buffer is cheaper than :func:`numpy.median`'s copy.
    """
    k = b1 - b0
    if k <= 0:
        return np.nan
    for i in range(k):
        v = np.float64(f[b0 + i, j])
        if v != v:
            return np.nan
        q = i
        while q > 0 and buf[q - 1] > v:
            buf[q] = buf[q - 1]
            q -= 1
        buf[q] = v
    h = k // 2
    if k % 2:
        return buf[h]
    return 0.5 * (buf[h - 1] + buf[h])


@numba.njit(nogil=True, cache=True)
def measure_nb(f, y, cand_idx, cand_ch, noise, fs, search, pre, post, quiet,
               level_k, level_frac, turn_k, turn_frac, bl_n, bl_gap, neg_win, wide,
               wide_margin):  # pragma: no cover - compiled
    """Measure the candidates ``(cand_idx, cand_ch)``.

    ``y`` (n, c) is the detection band, ``f`` (n, c) the wide band the
    features are measured on. The local baseline of ``f`` is the median of
    the ``bl_n`` samples ending ``bl_gap`` samples before the onset of the
    deflection in ``y``. Returns a float64 matrix (n_candidates,
    len(FEATURE_NAMES)).
    """
    n = f.shape[0]
    m = cand_idx.shape[0]
    out = np.full((m, len(FEATURE_NAMES)), np.nan)
    ms = 1000.0 / fs
    blbuf = np.empty(max(2, bl_n), np.float64)
    for k in range(m):
        j = cand_ch[k]
        p0 = cand_idx[k]
        nz = noise[j]
        # 0. onset of the deflection in the detection band, then the baseline before it
        yv = y[p0, j]
        ly = max(level_k * nz, level_frac * (yv if yv >= 0 else -yv))
        lo = max(0, p0 - pre)
        oy = _extent(y, j, p0, lo, -1, 0.0, ly, quiet)
        b1 = max(0, oy - bl_gap)
        b0 = max(0, b1 - bl_n)
        if b1 - b0 < 2:
            b0 = 0
            b1 = min(n, bl_n)
        bl = _median_into(f, b0, b1, j, blbuf)
        # 1. time: largest |f| near the detection peak
        a = max(0, p0 - search)
        b = min(n, p0 + search + 1)
        p = p0
        best = -1.0
        for i in range(a, b):
            v = (f[i, j] - bl)
            av = v if v >= 0 else -v
            if av > best:
                best = av
                p = i
        pk = (f[p, j] - bl)
        L = max(level_k * nz, level_frac * best)
        # 2. onset and end
        lo = max(0, p - pre)
        hi = min(n - 1, p + post)
        onset = _extent(f, j, p, lo, -1, bl, L, quiet)
        end = _extent(f, j, p, hi, 1, bl, L, quiet)
        # 2b. the largest peak of the whole deflection (two near-equal phases:
        # the detection band may favour the sharper one)
        a = max(onset, p - wide)
        b = min(end, p + wide)
        best2 = best * wide_margin
        p2 = -1
        for i in range(a, b + 1):
            v = f[i, j] - bl
            av = v if v >= 0 else -v
            if av > best2:
                best2 = av
                p2 = i
        if p2 >= 0:
            p = p2
            best = best2
        pk = f[p, j] - bl
        # 3. amplitude, area, phases, durations above level, extremes
        vmax = 0.0
        vmin = 0.0
        imax = p
        imin = p
        area = 0.0
        sign = 0
        first = 0
        phases = 0
        pos_n = 0
        neg_n = 0
        for i in range(onset, end + 1):
            v = (f[i, j] - bl)
            if v > vmax:
                vmax = v
                imax = i
            if v < vmin:
                vmin = v
                imin = i
            area += v if v >= 0 else -v
            if v >= L:
                pos_n += 1
                if sign != 1:
                    phases += 1
                    sign = 1
                    if first == 0:
                        first = 1
            elif v <= -L:
                neg_n += 1
                if sign != -1:
                    phases += 1
                    sign = -1
                    if first == 0:
                        first = -1
        amp = vmax - vmin
        # 4. turns (hysteresis on direction changes)
        tt = max(turn_k * nz, turn_frac * amp)
        turns = count_turns(f[onset:end + 1, j], tt)
        # 5. rise time: opposite extreme before the peak
        r0 = onset
        if pk >= 0:
            lowest = 0.0
            for i in range(onset, p):
                if (f[i, j] - bl) < lowest:
                    lowest = (f[i, j] - bl)
                    r0 = i
        else:
            highest = 0.0
            for i in range(onset, p):
                if (f[i, j] - bl) > highest:
                    highest = (f[i, j] - bl)
                    r0 = i
        # 6. lowest sample just after the peak (a spike's or MUP's negative phase)
        pmin = 0.0
        for i in range(p + 1, min(n, p + neg_win + 1)):
            if (f[i, j] - bl) < pmin:
                pmin = (f[i, j] - bl)
        hl = p
        while hl > 0 and (f[hl - 1, j] - bl) * pk >= 0.5 * pk * pk:
            hl -= 1
        hr = p
        while hr < n - 1 and (f[hr + 1, j] - bl) * pk >= 0.5 * pk * pk:
            hr += 1
        out[k, 18] = pmin
        out[k, 19] = (hr - hl + 1) * ms
        out[k, 20] = yv if yv >= 0 else -yv
        out[k, 0] = p
        out[k, 1] = amp
        out[k, 2] = (end - onset + 1) * ms
        out[k, 3] = max(phases, 1)
        out[k, 4] = turns
        out[k, 5] = first if first != 0 else (1.0 if pk >= 0 else -1.0)
        out[k, 6] = (p - r0) * ms
        out[k, 7] = area * ms
        out[k, 8] = max(vmax, 0.0)
        out[k, 9] = min(vmin, 0.0)
        out[k, 10] = pos_n * ms
        out[k, 11] = neg_n * ms
        out[k, 12] = 1.0 if pk >= 0 else -1.0
        out[k, 13] = (onset - p) * ms
        out[k, 14] = (end - p) * ms
        out[k, 15] = nz
        out[k, 16] = (imax - p) * ms
        out[k, 17] = (imin - p) * ms
    return out


@numba.njit(nogil=True, cache=True)
def snippets_nb(y, peaks, chs, pre, post, step):  # pragma: no cover - compiled
    """Waveforms ``y[p - pre : p + post : step, ch]`` (zero outside the chunk), float32."""
    n = y.shape[0]
    m = peaks.shape[0]
    w = (pre + post + step - 1) // step
    out = np.zeros((m, w), np.float32)
    for k in range(m):
        p = peaks[k]
        j = chs[k]
        for i in range(w):
            s = p - pre + i * step
            if 0 <= s < n:
                out[k, i] = y[s, j]
    return out
