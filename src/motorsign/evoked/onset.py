"""Numba kernels measuring evoked responses trial by trial.

:func:`measure_trials` takes one channel's epochs ``(n_trials, n_samples)``
(float32, stimulus artifact already blanked, see
:mod:`motorsign.signal.artifact`) and returns, per trial, the presence of a
response, its onset by five named methods, peak-to-peak amplitude, area,
duration, phases, the baseline statistics and the silent period.

Onset methods (all searched between the window start and the response's
first peak; a failed detection is NaN, never a window edge):

``threshold``
    First run of at least ``min_run_ms`` where the rectified, baseline-
    subtracted trace exceeds the rectified baseline's mean + ``k_threshold``
    SD.
``crossing``
    Last baseline crossing before the main peak (MEPFeatX style): walk back
    from the largest peak until ``quiet_ms`` of samples lie within
    ``k_band`` baseline SD of the baseline mean (continuing past that quiet
    run when a large earlier phase lies just before it); from the first sample out
    of that band walk back to the last crossing of the baseline mean, with
    linear interpolation between samples.
``derivative``
    Start of the longest run of monotonic slope (in the first phase's
    direction, on a trace smoothed over ``smooth_ms``) before the first
    peak (Bigoni et al. 2022).
``cusum``
    Page's one-sided CUSUM of the baseline-normalised trace in the first
    phase's direction (drift ``cusum_drift`` SD, alarm ``cusum_h`` SD); the
    change point is the last reset of the statistic before the alarm.
``extrapolation``
    The leading edge of the first phase, from where it leaves the baseline
    band (``min_run`` samples beyond it) up to ``extrap_frac`` of the first
    peak, fitted by a straight line (least squares) extended back to the
    baseline mean: it uses the high-SNR part of the edge, so same-sign noise
    just before the onset does not pull it early.
``tkeo``
    Threshold (mean + ``k_tkeo`` SD of the baseline) with a minimum run on
    the Teager-Kaiser energy of the trace (Solnik et al. 2010).
"""

from __future__ import annotations

import numba
import numpy as np

__all__ = ["FIELDS", "FLAG_BITS", "METHODS", "measure_trials", "flags_to_text"]

#: Onset methods, in the order of their columns in :data:`FIELDS`.
METHODS = ("threshold", "crossing", "derivative", "cusum", "tkeo", "extrapolation")

#: Columns of the float array returned by :func:`measure_trials`.
FIELDS = (
    "present", "onset_threshold", "onset_crossing", "onset_derivative", "onset_cusum",
    "onset_tkeo", "peak_to_peak_uv", "peak_sample", "area_uvms", "duration_samples",
    "phases", "polarity", "baseline_mean_uv", "baseline_sd_uv", "silent_period_end",
    "max_abs_z", "offset_sample", "first_peak_sample", "onset_extrapolation",
)

#: Bit flags set by the kernel (and by the callers for epoch-level problems).
FLAG_BITS = {
    "preactivated": 1,
    "artifact_long": 2,
    "saturated": 4,
    "onset_after_window": 8,
    "onset_before_window": 16,
    "methods_disagree": 32,
    "no_baseline": 64,
    "silent_period_unterminated": 128,
    "response_truncated": 256,
    "below_floor": 512,
    "not_measured": 1024,
    "epoch_truncated": 2048,
    "overlapping_pulse": 4096,
    "onset_failed": 8192,
    "artifact_tail_removed": 16384,
    "onset_fallback": 32768,
    "mains_removed": 65536,
    "trend_removed": 131072,
    "non_finite": 262144,
    "artifact_before_trigger": 524288,
    "presence_undecided": 1048576,
}

#: Samples outside the baseline band allowed in a quiet stretch, as a fraction of its
#: length (rounded down): none for stretches under 10 samples (1 ms below 10 kHz); at
#: higher rates the isolated noise samples beyond a 2 SD band (4.6 % of white noise)
#: would otherwise break nearly every 1 ms stretch (at 50 kHz 90 % of them), and a
#: present MEP would be taken for a deflection under way at the window start.
QUIET_SLACK = 0.1

_F = {name: i for i, name in enumerate(FIELDS)}
F_PRESENT, F_THR, F_CROSS, F_DER, F_CUSUM, F_TKEO = 0, 1, 2, 3, 4, 5
F_P2P, F_PEAK, F_AREA, F_DUR, F_PHASES, F_POL = 6, 7, 8, 9, 10, 11
F_BMEAN, F_BSD, F_SP, F_Z, F_OFFSET, F_FIRSTPEAK = 12, 13, 14, 15, 16, 17
F_EXTRAP = 18

#: Column of :data:`FIELDS` holding each method's onset.
METHOD_FIELD = {"threshold": 1, "crossing": 2, "derivative": 3, "cusum": 4, "tkeo": 5,
                "extrapolation": 18}


def flags_to_text(bits: int) -> str:
    """Turn a flag bit mask into ``"a;b"`` text (``""`` when none)."""
    return ";".join(name for name, b in FLAG_BITS.items() if int(bits) & b)


@numba.njit(nogil=True, cache=True)
def _first_run(z: np.ndarray, thr: float, lo: int, hi: int, run: int, absolute: bool) -> float:
    # first index i in [lo, hi) starting a run of `run` samples with z > thr (|z| if absolute)
    count = 0
    for i in range(lo, hi):
        if (abs(z[i]) if absolute else z[i]) > thr:
            count += 1
            if count >= run:
                return float(i - run + 1)
        else:
            count = 0
    return np.nan


@numba.njit(nogil=True, cache=True)
def _quiet_run_before(y: np.ndarray, start: int, lo: int, band: float, quiet: int, slack: int) -> int:
    """Walk back from ``start`` to the first stretch of ``quiet`` samples within ``band``.

    The stretch may hold up to ``slack`` samples outside the band (isolated
    noise samples at high sampling rates). Returns the sample just after its
    last in-band sample (where the deflection begins), or -1 when no such
    stretch lies between ``lo`` and ``start``. With ``slack = 0`` this is the
    last run of ``quiet`` in-band samples.
    """
    n_out = 0
    i = start
    while i >= lo:
        if not abs(y[i]) <= band:
            n_out += 1
        if start - i + 1 > quiet:
            if not abs(y[i + quiet]) <= band:
                n_out -= 1
        if start - i + 1 >= quiet and n_out <= slack:
            r = i + quiet
            while r > i and not abs(y[r - 1]) <= band:
                r -= 1
            return r
        i -= 1
    return -1


@numba.njit(nogil=True, cache=True)
def measure_trials(
    epochs: np.ndarray,
    stim: np.ndarray,
    blank_end: np.ndarray,
    baseline_start: np.ndarray,
    baseline_stop: np.ndarray,
    win_lo: int,
    win_hi: int,
    resp_end: int,
    quiet: int,
    min_run: int,
    smooth: int,
    lookback: int,
    k_band: float,
    k_threshold: float,
    k_tkeo: float,
    cusum_drift: float,
    cusum_h: float,
    presence_k: float,
    floor_uv: float,
    preact_rms_uv: float,
    sat_run: int,
    sat_k: float,
    sp_win: int,
    sp_silence: float,
    sp_return: float,
    sp_min: int,
    sp_force: bool,
    sd_floor: float,
    extrap_frac: float,
    merge_gap: int,
    merge_frac: float,
    quiet_slack: int = 0,
) -> tuple[np.ndarray, np.ndarray]:
    """Measure the response of every trial of one channel.

    Parameters
    ----------
    epochs : ndarray (n_trials, n_samples) float32
        Artifact-blanked epochs.
    stim : ndarray (n_trials,) int64
        Pulse sample of each trial.
    blank_end : ndarray (n_trials,) int64
        First sample after the blanked artifact (nothing is searched before).
    baseline_start, baseline_stop : ndarray (n_trials,) int64
        Baseline ``[start, stop)`` of each trial.
    win_lo, win_hi : int
        Onset search window in samples after the pulse.
    resp_end : int
        End of the response window in samples after the pulse.
    quiet, min_run, smooth, lookback : int
        Quiet run (crossing, offset), minimum run (threshold, tkeo),
        smoothing width (derivative) and the longest look-back before the
        first peak (derivative, cusum), in samples.
    k_band, k_threshold, k_tkeo, cusum_drift, cusum_h, presence_k : float
        Thresholds in baseline SD units (see the module docstring).
    floor_uv : float
        Peak-to-peak amplitude floor of a present response.
    preact_rms_uv : float
        Baseline RMS above which the muscle counts as pre-activated.
    sat_run, sat_k : int, float
        Saturation: ``sat_run`` equal samples at the window's extreme, which
        lies more than ``sat_k`` baseline SD from the mean.
    sp_win, sp_silence, sp_return, sp_min, sp_force :
        Silent period: RMS envelope width (samples), silence and return
        levels (fractions of the baseline RMS), minimum silence (samples),
        and whether to measure it without pre-activation.
    sd_floor : float
        The noise SD used by the onset thresholds is at least this fraction
        of the response's peak-to-peak amplitude (very clean or filtered
        recordings, where slow post-stimulus drifts exceed the baseline
        noise); presence still uses the measured SD.
    extrap_frac : float
        Top of the leading edge used by the extrapolation method (fraction
        of the first peak).
    quiet_slack : int
        Samples outside the band allowed in a quiet stretch (crossing walk-back
        and response offset); see :data:`QUIET_SLACK`.
    merge_gap, merge_frac : int, float
        A deflection of at least ``merge_frac`` x peak-to-peak (and twice
        the baseline band, so noise never qualifies) within
        ``merge_gap`` samples before the quiet run found by the crossing
        walk-back is part of the response (phases separated by a short dwell
        near the baseline); the walk-back continues from it.

    Returns
    -------
    values : ndarray (n_trials, len(FIELDS)) float64
        Sample positions are in samples from the epoch start (NaN when not
        measured).
    flags : ndarray (n_trials,) int64
        Bit mask of :data:`FLAG_BITS`.
    """
    n_tr, n_s = epochs.shape
    nf = 19
    out = np.full((n_tr, nf), np.nan)
    flags = np.zeros(n_tr, dtype=np.int64)
    y = np.empty(n_s, dtype=np.float64)
    sm = np.empty(n_s, dtype=np.float64)
    psi = np.zeros(n_s, dtype=np.float64)  # Teager-Kaiser energy of y
    for t in range(n_tr):
        x = epochs[t]
        s = stim[t]
        b0 = max(0, baseline_start[t])
        b1 = min(n_s, baseline_stop[t])
        nb = b1 - b0
        if nb < 4:
            flags[t] |= 64
            out[t, F_PRESENT] = 0.0
            continue
        mu = 0.0
        for i in range(b0, b1):
            mu += x[i]
        mu /= nb
        var = 0.0
        for i in range(b0, b1):
            var += (x[i] - mu) ** 2
        sd = np.sqrt(var / (nb - 1))
        out[t, F_BMEAN] = mu
        out[t, F_BSD] = sd
        if not (sd > 0 and np.isfinite(sd)):
            flags[t] |= 64
            out[t, F_PRESENT] = 0.0
            continue
        for i in range(n_s):
            y[i] = x[i] - mu
        # rectified baseline statistics
        rmean = 0.0
        for i in range(b0, b1):
            rmean += abs(y[i])
        rmean /= nb
        rvar = 0.0
        for i in range(b0, b1):
            rvar += (abs(y[i]) - rmean) ** 2
        rsd = np.sqrt(rvar / (nb - 1))
        preact = sd > preact_rms_uv
        if preact:
            flags[t] |= 1
        lo = max(s + win_lo, blank_end[t])
        we = s + resp_end
        if we > n_s:
            flags[t] |= 256
            we = n_s
        if lo >= we - 2:
            flags[t] |= 1024
            out[t, F_PRESENT] = 0.0
            continue
        # main peak, peak-to-peak
        vmax = -1e300
        vmin = 1e300
        imax = lo
        imin = lo
        for i in range(lo, we):
            if y[i] > vmax:
                vmax = y[i]
                imax = i
            if y[i] < vmin:
                vmin = y[i]
                imin = i
        p2p = vmax - vmin
        ipk = imax if vmax >= -vmin else imin
        zmax = max(vmax, -vmin) / sd
        out[t, F_P2P] = p2p
        out[t, F_Z] = zmax
        out[t, F_PEAK] = ipk
        # saturation: a flat run at the extreme, far from the baseline
        if zmax > sat_k:
            ext = y[ipk]
            run = 0
            best = 0
            for i in range(lo, we):
                if y[i] == ext:
                    run += 1
                    if run > best:
                        best = run
                else:
                    run = 0
            if best >= sat_run:
                flags[t] |= 4
        ratio = 1.0
        if sd_floor > 0 and sd < sd_floor * p2p:
            ratio = sd_floor * p2p / sd
        sd_e = sd * ratio
        rmean *= ratio
        rsd *= ratio
        present = p2p >= floor_uv and zmax >= presence_k
        if zmax >= presence_k and p2p < floor_uv:
            flags[t] |= 512
        band = k_band * sd_e
        # ---- crossing: walk back from the main peak to a quiet run
        j = _quiet_run_before(y, ipk, lo, band, quiet, quiet_slack)
        # a phase separated from the next by a short near-baseline dwell (a slow
        # change of polarity) belongs to the same response: when a deflection larger
        # than merge_frac of the peak-to-peak lies within merge_gap before the quiet
        # run, walk back again from there
        merge_level = max(merge_frac * p2p, 2.0 * band)
        while j >= 0:
            qs = j - quiet
            hit = -1
            for i in range(qs - 1, max(lo, qs - merge_gap) - 1, -1):
                if abs(y[i]) >= merge_level:
                    hit = i
                    break
            if hit < 0:
                break
            j = _quiet_run_before(y, hit, lo, band, quiet, quiet_slack)
        if j < 0 and present:
            # no quiet baseline between the window start (or the blank) and the peak: the
            # deflection began earlier (artifact tail, response before the window) and its
            # onset cannot be measured: not counted as a response
            flags[t] |= 16
            present = False
        pol = 1.0
        onset_cross = np.nan
        c_last = -1.0
        first_peak = ipk
        if j >= 0 and j <= ipk:
            # the response proper starts with an excursion beyond the band that lasts
            # min_run samples and reaches twice the band: short noise excursions just
            # before it are skipped
            i = j
            while i <= ipk:
                if abs(y[i]) <= band:
                    i += 1
                    continue
                v = 1.0 if y[i] > 0 else -1.0
                k = i
                top = 0.0
                while k <= ipk and v * y[k] > band:
                    if v * y[k] > top:
                        top = v * y[k]
                    k += 1
                if k - i >= min_run and top >= 2.0 * band:
                    j = i
                    break
                i = max(k, i + 1)  # never stall (a NaN sample is neither in nor out of the band)
            pol = 1.0 if y[j] > 0 else -1.0
            c = j
            while c > lo and pol * y[c] > 0:
                c -= 1
            c_last = float(c)
            if pol * y[c] <= 0 and c < j:
                d = y[c] - y[c + 1]
                frac = y[c] / d if d != 0 else 0.0
                onset_cross = c + frac
            else:
                onset_cross = float(j)
            # first peak of the first phase: extreme of pol*y until it re-crosses the mean
            best = -1e300
            k = j
            while k < we and pol * y[k] > -band:
                if pol * y[k] > best:
                    best = pol * y[k]
                    first_peak = k
                k += 1
        out[t, F_CROSS] = onset_cross
        out[t, F_POL] = pol
        out[t, F_FIRSTPEAK] = first_peak
        # ---- extrapolation of the leading edge back to the baseline mean
        if j >= 0 and first_peak > j:
            top = extrap_frac * pol * y[first_peak]
            sx = 0.0
            sy = 0.0
            sxx = 0.0
            sxy = 0.0
            ne = 0
            for i in range(j, first_peak + 1):
                v = pol * y[i]
                sx += i
                sy += v
                sxx += i * i
                sxy += i * v
                ne += 1
                if v >= top and ne >= 2:
                    break
            den = ne * sxx - sx * sx
            if ne >= 2 and den > 0:
                slope = (ne * sxy - sx * sy) / den
                if slope > 0:
                    icpt = (sy - slope * sx) / ne
                    x0 = -icpt / slope
                    # not before the last mean crossing (the trace was at the baseline there)
                    if c_last - 1.0 <= x0 <= j + 1:
                        out[t, F_EXTRAP] = x0
        fp = first_peak
        # ---- threshold (rectified) with a minimum run
        out[t, F_THR] = np.nan
        thr = rmean + k_threshold * rsd
        out[t, F_THR] = _first_run(y, thr, lo, fp + 1, min_run, True)
        # ---- tkeo
        for i in range(1, n_s - 1):
            psi[i] = y[i] * y[i] - y[i - 1] * y[i + 1]
        tm = 0.0
        nt = 0
        for i in range(b0 + 1, b1 - 1):
            tm += psi[i]
            nt += 1
        if nt > 2:
            tm /= nt
            tv = 0.0
            for i in range(b0 + 1, b1 - 1):
                tv += (psi[i] - tm) ** 2
            tsd = np.sqrt(tv / (nt - 1))
            tthr = (tm + k_tkeo * tsd) * ratio * ratio
            out[t, F_TKEO] = _first_run(psi, tthr, max(lo, 1), min(fp + 1, n_s - 1), min_run, False)
        # ---- derivative (longest monotonic run before the first peak)
        a = max(lo, fp - lookback)
        h = smooth // 2
        for i in range(max(a - 1, h), min(fp + 1, n_s - h)):
            acc = 0.0
            for q in range(i - h, i + h + 1):
                acc += y[q]
            sm[i] = acc / (2 * h + 1)
        best_len = 0
        best_start = -1
        run_start = -1
        for i in range(max(a, h + 1), min(fp + 1, n_s - h)):
            if pol * (sm[i] - sm[i - 1]) > 0:
                if run_start < 0:
                    run_start = i - 1
                ln = i - run_start
                if ln >= best_len:
                    best_len = ln
                    best_start = run_start
            else:
                run_start = -1
        if best_start >= 0 and best_len >= 2:
            out[t, F_DER] = best_start
        # ---- cusum
        g = 0.0
        last_zero = a - 1
        for i in range(a, fp + 1):
            g = g + pol * y[i] / sd_e - cusum_drift
            if g <= 0:
                g = 0.0
                last_zero = i
            elif g > cusum_h:
                out[t, F_CUSUM] = last_zero + 1
                break
        # ---- offset, duration, phases, area (from the crossing onset)
        if np.isfinite(onset_cross):
            o = int(np.floor(onset_cross)) + 1
            e = -1
            n_out = 0
            for i in range(ipk, we):
                if not abs(y[i]) <= band:
                    n_out += 1
                if i - ipk + 1 > quiet and not abs(y[i - quiet]) <= band:
                    n_out -= 1
                if i - ipk + 1 >= quiet and n_out <= quiet_slack:
                    e = i - quiet + 1
                    while e < i and not abs(y[e]) <= band:
                        e += 1
                    break
            if e < 0:
                e = we
                flags[t] |= 256
            out[t, F_OFFSET] = e
            out[t, F_DUR] = e - onset_cross
            area = 0.0
            state = 0
            phases = 0
            for i in range(o, e):
                area += abs(y[i])
                if y[i] > band and state != 1:
                    state = 1
                    phases += 1
                elif y[i] < -band and state != -1:
                    state = -1
                    phases += 1
            out[t, F_AREA] = area
            out[t, F_PHASES] = phases
        if present and not np.isfinite(onset_cross):
            flags[t] |= 8192
        if present and np.isfinite(onset_cross) and onset_cross > s + win_hi:
            flags[t] |= 8
            present = False
        out[t, F_PRESENT] = 1.0 if present else 0.0
        # ---- silent period (active muscle): RMS envelope after the response
        if preact or sp_force:
            base_rms = sd
            if present and np.isfinite(out[t, F_OFFSET]):
                st = int(out[t, F_OFFSET])
            else:
                st = s + win_hi
            # running mean square over sp_win samples
            acc = 0.0
            silent_from = -1
            sp_end = -1
            for i in range(st, n_s):
                acc += y[i] * y[i]
                if i - st >= sp_win:
                    acc -= y[i - sp_win] * y[i - sp_win]
                if i - st + 1 < sp_win:
                    continue
                env = np.sqrt(max(acc, 0.0) / sp_win)
                c_i = i - sp_win // 2
                if silent_from < 0:
                    if env < sp_silence * base_rms:
                        silent_from = c_i
                elif env >= sp_return * base_rms:
                    if c_i - silent_from >= sp_min:
                        sp_end = c_i
                    else:
                        silent_from = -1
                        continue
                    break
            if silent_from >= 0 and sp_end < 0:
                flags[t] |= 128
            elif sp_end >= 0:
                out[t, F_SP] = sp_end
    return out, flags
