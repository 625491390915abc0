"""Zero-phase Butterworth band-pass filtering, compiled with numba.

The filter runs as second-order sections over ``(n_samples, n_channels)``
float32 blocks, forward then backward (zero phase, like
:func:`scipy.signal.sosfiltfilt`), channel-interleaved so memory is read
once per pass. It is meant for chunks with margins
(:meth:`motorsign.recording.Recording.iter_chunks`): the margins absorb the
start-up transients of both passes. Groups of 8 channels are filtered as
vector instructions (:mod:`motorsign.signal.simd`).
"""

from __future__ import annotations

import functools
import logging

import numba
import numpy as np

from motorsign.errors import ConfigError
from motorsign.signal.simd import LANES, cascade_lanes8, rows_contiguous, sos_pair_lanes8

__all__ = ["design_bandpass", "design_sos", "sosfiltfilt_nb", "lowpass_highpass_nb", "bandpass"]

log = logging.getLogger(__name__)


@functools.lru_cache(maxsize=64)
def _design(fs: float, low: float, high: float, order: int) -> np.ndarray:
    from scipy.signal import butter

    return np.ascontiguousarray(butter(order, [low, high], btype="bandpass", fs=fs, output="sos"))


@functools.lru_cache(maxsize=64)
def design_sos(fs: float, cutoff_hz: float, btype: str, order: int = 2) -> np.ndarray:
    """Second-order sections of a Butterworth low-pass or high-pass.

    Parameters
    ----------
    fs : float
        Sampling rate in Hz.
    cutoff_hz : float
        Corner frequency (must be below ``fs / 2``).
    btype : {"lowpass", "highpass"}
        Filter type.
    order : int
        Butterworth order.

    Returns
    -------
    ndarray, shape (n_sections, 6), float64

    Raises
    ------
    ConfigError
        When the corner is not between 0 and the Nyquist frequency.
    """
    from scipy.signal import butter

    if not 0 < cutoff_hz < fs / 2:
        raise ConfigError(f"{btype} corner {cutoff_hz:g} Hz does not fit a sampling rate of {fs:g} Hz")
    return np.ascontiguousarray(butter(int(order), float(cutoff_hz), btype=btype, fs=float(fs),
                                       output="sos"))


def design_bandpass(fs: float, low_hz: float, high_hz: float, order: int = 2,
                    max_fraction: float = 0.4) -> np.ndarray:
    """Second-order sections of a Butterworth band-pass.

    Parameters
    ----------
    fs : float
        Sampling rate in Hz.
    low_hz, high_hz : float
        Band edges; ``high_hz`` is capped at ``max_fraction * fs``.
    order : int
        Butterworth order (per edge).
    max_fraction : float
        Largest upper edge as a fraction of ``fs``.

    Returns
    -------
    ndarray, shape (n_sections, 6), float64

    Raises
    ------
    ConfigError
        When the band does not fit under the Nyquist frequency.
    """
    high = min(float(high_hz), max_fraction * fs)
    if not 0 < low_hz < high:
        raise ConfigError(
            f"band-pass {low_hz:g}-{high_hz:g} Hz does not fit a sampling rate of {fs:g} Hz"
        )
    return _design(float(fs), float(low_hz), float(high), int(order))


@numba.njit(nogil=True, cache=True)
def _first_row(x, row):  # pragma: no cover - compiled
    """Row ``row`` of ``x`` as float32, NaN read as 0 (the value a pass subtracts)."""
    out = np.zeros(x.shape[1], np.float32)
    for j in range(x.shape[1]):
        v = x[row, j]
        out[j] = v if v == v else np.float32(0.0)
    return out


@numba.njit(nogil=True, cache=True)
def _pass_setup(src, sos, backward, sub_first):  # pragma: no cover - compiled
    """float32 coefficients, zero state (2 x (n_sections, c)) and the first sample subtracted."""
    c = src.shape[1]
    ns = sos.shape[0]
    co = np.empty((ns, 6), np.float32)  # coefficients converted once, not per sample
    for s in range(ns):
        for q in range(6):
            co[s, q] = np.float32(sos[s, q])
    x0 = _first_row(src, src.shape[0] - 1 if backward else 0) if sub_first else np.zeros(c, np.float32)
    return co, np.zeros((ns, c), np.float32), np.zeros((ns, c), np.float32), x0


@numba.njit(nogil=True, cache=True)
def _pass_nb(src, sos, out, backward, sub_first, j0):  # pragma: no cover - compiled
    # scalar path, channels j0 .. c-1
    n, c = src.shape
    ns = sos.shape[0]
    co, z1, z2, x0 = _pass_setup(src, sos, backward, sub_first)
    cur = np.empty(c, np.float32)
    if ns == 1:
        # one section (order-2 low- or high-pass): read, filter and write in
        # one loop over the channels, without the intermediate row
        b0 = co[0, 0]
        b1 = co[0, 1]
        b2 = co[0, 2]
        a1 = co[0, 4]
        a2 = co[0, 5]
        for k in range(n):
            i = n - 1 - k if backward else k
            for j in range(j0, c):
                v = src[i, j]
                y = (v - x0[j]) if v == v else np.float32(0.0)
                yo = b0 * y + z1[0, j]
                z1[0, j] = b1 * y - a1 * yo + z2[0, j]
                z2[0, j] = b2 * y - a2 * yo
                out[i, j] = yo
        return
    for k in range(n):
        i = n - 1 - k if backward else k
        for j in range(j0, c):
            v = src[i, j]
            cur[j] = (v - x0[j]) if v == v else np.float32(0.0)
        for s in range(ns):
            b0 = co[s, 0]
            b1 = co[s, 1]
            b2 = co[s, 2]
            a1 = co[s, 4]
            a2 = co[s, 5]
            # channels innermost: independent recursions
            for j in range(j0, c):
                y = cur[j]
                yo = b0 * y + z1[s, j]
                z1[s, j] = b1 * y - a1 * yo + z2[s, j]
                z2[s, j] = b2 * y - a2 * yo
                cur[j] = yo
        for j in range(j0, c):
            out[i, j] = cur[j]


@numba.njit(nogil=True, cache=True)
def _sweep_groups(src, out, co, s0, ns, x0, stop, backward, clean):  # pragma: no cover - compiled
    # sections s0 .. s0+ns-1 (ns = 1 or 2) over lanes [0, stop), two vectors per row where
    # there are two (each variant is more compiled code: few variants, short start-up);
    # `clean`: the pass's first sweep (NaN read as 0). Every call keeps g + 8 * groups <= stop
    # <= c and ns <= rows of co left after s0, so no vector access leaves the arrays.
    g = 0
    if ns == 2:
        while g + 2 * LANES <= stop:
            cascade_lanes8(src, out, co, s0, 2, x0, g, 2, backward, clean)
            g += 2 * LANES
        while g + LANES <= stop:
            cascade_lanes8(src, out, co, s0, 2, x0, g, 1, backward, clean)
            g += LANES
    else:
        while g + 2 * LANES <= stop:
            cascade_lanes8(src, out, co, s0, 1, x0, g, 2, backward, clean)
            g += 2 * LANES
        while g + LANES <= stop:
            cascade_lanes8(src, out, co, s0, 1, x0, g, 1, backward, clean)
            g += LANES


@numba.njit(nogil=True, cache=True)
def _pass_lanes(src, sos, out, backward, sub_first, stop):  # pragma: no cover - compiled
    # vector path, channels 0 .. stop-1: sweeps of up to 2 sections each (the first
    # sweep reads src, subtracts x0 and reads NaN as 0; the later ones filter `out`
    # in place)
    co, _, _, x0 = _pass_setup(src, sos, backward, sub_first)
    total = co.shape[0]
    ns = 2 if total >= 2 else 1
    _sweep_groups(src, out, co, np.int64(0), ns, x0, stop, backward, np.bool_(True))
    s = ns
    none = np.zeros(src.shape[1], np.float32)
    while s < total:
        left = total - s
        ns = 2 if left >= 2 else 1
        # NaN from an overflow inside the cascade goes on, as in the scalar path
        _sweep_groups(out, out, co, s, ns, none, stop, backward, np.bool_(False))
        s += ns


@numba.njit(nogil=True, cache=True)
def _pass(src, sos, out, backward):  # pragma: no cover - compiled
    c = src.shape[1]
    stop = 0
    if rows_contiguous(src) and rows_contiguous(out):  # vector lanes
        stop = c - c % LANES
    if stop:
        _pass_lanes(src, sos, out, backward, np.bool_(True), stop)
    if stop < c:
        _pass_nb(src, sos, out, backward, np.bool_(True), stop)


@numba.njit(nogil=True, cache=True)
def sosfiltfilt_nb(x, sos, out):  # pragma: no cover - compiled
    """Zero-phase filter ``x`` (n, c) float32 with ``sos`` into ``out`` (n, c) float32.

    Forward then backward pass of the second-order sections (transposed
    direct form II, float32 state, zero initial state). Channels are
    independent recursions: groups of 8 run as vector instructions
    (:func:`motorsign.signal.simd.cascade_lanes8`, two sections per sweep),
    the remaining ``c % 8`` in a scalar loop (all sections per row); both
    do the same operations, so a channel's numbers do not depend on the
    channel count. Each pass subtracts its first sample per channel (this
    only shortens start-up transients of filters that remove DC; for a
    low-pass the output lacks the first sample's offset, which the callers
    remove as local baseline anyway). NaNs are read as 0. ``out`` may be
    ``x``; any layout (strided, Fortran, read-only ``x``) gives the same
    numbers.

    Raises
    ------
    ValueError
        When ``out`` does not have the shape of ``x`` or ``sos`` is not
        (n_sections >= 1, 6).
    """
    if out.shape[0] != x.shape[0] or out.shape[1] != x.shape[1]:
        raise ValueError("sosfiltfilt_nb: out must have the shape of x")
    if sos.shape[0] < 1 or sos.shape[1] != 6:
        raise ValueError("sosfiltfilt_nb: sos must be (n_sections >= 1, 6)")
    if x.shape[0] == 0:
        return
    # flags as np.bool_ (not literals): numba compiles one specialisation per literal
    # value, which multiplied the start-up compile time
    _pass(x, sos, out, np.bool_(False))
    _pass(out, sos, out, np.bool_(True))


@numba.njit(nogil=True, cache=True)
def _pair_sweeps(x, f, y, lp, hp, hplp, stop):  # pragma: no cover - compiled
    # forward: f <- LP(x) and y <- HP(LP(x)) in one sweep; backward: f <- LP(f) and
    # y <- LP(HP(y)) in one sweep. Lanes 0 .. stop-1 (stop a multiple of LANES).
    n, c = x.shape
    none = np.zeros(c, np.float32)
    x0 = _first_row(x, np.int64(0))
    for g in range(0, stop, LANES):
        sos_pair_lanes8(x, f, lp, x0, 1, x, y, hp, none, 1, g, True, False)
    f0 = _first_row(f, n - 1)
    y0 = _first_row(y, n - 1)
    for g in range(0, stop, LANES):
        sos_pair_lanes8(f, f, lp, f0, 1, y, y, hplp, y0, 2, g, False, True)


@numba.njit(nogil=True, cache=True)
def lowpass_highpass_nb(x, sos_lp, sos_hp, f, y):  # pragma: no cover - compiled
    """Zero-phase low-pass ``f`` of ``x`` and zero-phase high-pass ``y`` of ``f``.

    ``x``, ``f``, ``y``: float32 (n, c); ``sos_lp``, ``sos_hp``: sections.
    The result is that of ``sosfiltfilt_nb(x, sos_lp, f)`` then
    ``sosfiltfilt_nb(f, sos_hp, y)`` (to float32 rounding, away from the
    start-up transients at the ends). With one section each (the
    detector's order-2 band), the four passes run as two sweeps over the
    rows, forward and backward (the filters are linear and time-invariant,
    so the high-pass may follow the forward low-pass before the backward
    one), the channels in 8-lane vectors
    (:func:`motorsign.signal.simd.sos_pair_lanes8`; channels beyond a
    multiple of 8 are padded to a vector, so every channel gets the same
    arithmetic). Other section counts run as the two separate zero-phase
    filters. Each sweep subtracts the first sample of its inputs; NaNs are
    read as 0. ``f`` or ``y`` may be ``x`` (not each other); arrays whose
    rows are not contiguous (Fortran order, column steps) go through
    contiguous copies, so the numbers do not depend on the layout.

    Raises
    ------
    ValueError
        When ``f`` or ``y`` does not have the shape of ``x``, or a set of
        sections is not (n_sections >= 1, 6).
    """
    n, c = x.shape
    if f.shape[0] != n or f.shape[1] != c or y.shape[0] != n or y.shape[1] != c:
        raise ValueError("lowpass_highpass_nb: f and y must have the shape of x")
    if sos_lp.shape[0] < 1 or sos_lp.shape[1] != 6 or sos_hp.shape[0] < 1 or sos_hp.shape[1] != 6:
        raise ValueError("lowpass_highpass_nb: sections must be (n_sections >= 1, 6)")
    if n == 0:
        return
    if sos_lp.shape[0] != 1 or sos_hp.shape[0] != 1:
        sosfiltfilt_nb(x, sos_lp, f)
        sosfiltfilt_nb(f, sos_hp, y)
        return
    stop = c - c % LANES  # channels in whole vectors; the rest are padded to one
    if stop and not (rows_contiguous(x) and rows_contiguous(f) and rows_contiguous(y)):
        xc = np.ascontiguousarray(x)
        fc = np.empty((n, c), np.float32)
        yc = np.empty((n, c), np.float32)
        _pair_filter(xc, sos_lp, sos_hp, fc, yc)
        f[:, :] = fc
        y[:, :] = yc
        return
    _pair_filter(x, sos_lp, sos_hp, f, y)


@numba.njit(nogil=True, cache=True)
def _pair_filter(x, sos_lp, sos_hp, f, y):  # pragma: no cover - compiled
    # lowpass_highpass_nb with one section each; rows contiguous when c >= LANES
    n, c = x.shape
    stop = c - c % LANES
    lp = np.empty((1, 6), np.float32)
    hp = np.empty((1, 6), np.float32)
    hplp = np.empty((2, 6), np.float32)
    for q in range(6):
        lp[0, q] = np.float32(sos_lp[0, q])
        hp[0, q] = np.float32(sos_hp[0, q])
        hplp[0, q] = hp[0, q]
        hplp[1, q] = lp[0, q]
    # whole arrays and a lane count (column views would compile a second layout)
    if stop:
        _pair_sweeps(x, f, y, lp, hp, hplp, stop)
    if stop == c:
        return
    # the last c % 8 channels, padded to one vector
    k = c - stop
    xp = np.zeros((n, LANES), np.float32)
    for i in range(n):
        for j in range(k):
            xp[i, j] = x[i, stop + j]
    fp = np.empty_like(xp)
    yp = np.empty_like(xp)
    _pair_sweeps(xp, fp, yp, lp, hp, hplp, np.int64(LANES))
    for i in range(n):
        for j in range(k):
            f[i, stop + j] = fp[i, j]
            y[i, stop + j] = yp[i, j]


def bandpass(x: np.ndarray, fs: float, low_hz: float, high_hz: float, order: int = 2,
             max_fraction: float = 0.4) -> np.ndarray:
    """Zero-phase Butterworth band-pass of a whole array.

    Parameters
    ----------
    x : ndarray, shape (n_samples,) or (n_samples, n_channels)
        Signal in µV.
    fs : float
        Sampling rate in Hz.
    low_hz, high_hz, order, max_fraction
        See :func:`design_bandpass`.

    Returns
    -------
    ndarray, float32, same shape as ``x``
    """
    a = np.asarray(x, dtype=np.float32)
    one = a.ndim == 1
    a2 = np.ascontiguousarray(a[:, None] if one else a)
    out = np.empty_like(a2)
    sosfiltfilt_nb(a2, design_bandpass(fs, low_hz, high_hz, order, max_fraction), out)
    return out[:, 0] if one else out
