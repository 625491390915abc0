"""Review of the 8-lane vector kernels behind ``detect`` (:mod:`motorsign.signal.simd`).

Each vector path is checked against a small pure-numpy reference of the scalar
loop it replaced (bit for bit) and against the kernel's own scalar path
(reached with rows that are not contiguous), on the edge cases: 0-3 rows,
1-17 and 64 channels, read-only / Fortran / reversed / sliced / aliased
arrays, NaN, inf, huge and denormal samples, odd thresholds and dead times.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from motorsign.signal.filters import design_sos, lowpass_highpass_nb, sosfiltfilt_nb
from motorsign.signal.mains import design_notches
from motorsign.signal.noise import median_inplace_nb
from motorsign.signal.segmentation import window_stats_nb
from motorsign.spontaneous.kernels import detect_excursions_nb

FS = 20000.0
CHANNELS = list(range(1, 18)) + [64]
ROWS = [0, 1, 2, 3, 5, 40]
SETTINGS = settings(max_examples=40, deadline=None, derandomize=True,
                    suppress_health_check=[HealthCheck.too_slow])


def _sos_sets() -> dict[str, np.ndarray]:
    lp = design_sos(FS, 3000.0, "lowpass", 2)  # 1 section
    band = np.vstack([lp, design_sos(FS, 100.0, "highpass", 2)])  # 2
    hp4 = design_sos(FS, 100.0, "highpass", 6)  # 3: a sweep of 2, then 1
    notches = design_notches(FS, [50.0 * k for k in range(1, 4)], 4.0)
    five = np.vstack([notches, band])  # 5: a sweep of 4, then 1
    eleven = np.vstack([design_notches(FS, [50.0 * k for k in range(1, 10)], 4.0), band])
    return {"1": lp, "2": band, "3": hp4, "5": five, "11": eleven}


SOS = _sos_sets()


# ---------------------------------------------------------------- references


def _ref_pass(x: np.ndarray, sos: np.ndarray, backward: bool) -> np.ndarray:
    """One pass of the scalar recursion, numpy float32 across channels (no FMA)."""
    x = np.asarray(x, np.float32)
    n, c = x.shape
    out = np.empty((n, c), np.float32)
    if n == 0:
        return out
    co = sos.astype(np.float32)
    z1 = np.zeros((co.shape[0], c), np.float32)
    z2 = np.zeros_like(z1)
    first = x[n - 1 if backward else 0]
    x0 = np.where(np.isnan(first), np.float32(0), first).astype(np.float32)
    with np.errstate(all="ignore"):
        for k in range(n):
            i = n - 1 - k if backward else k
            v = x[i]
            y = np.where(np.isnan(v), np.float32(0), v - x0).astype(np.float32)
            for s in range(co.shape[0]):
                b0, b1, b2, _, a1, a2 = co[s]
                yo = b0 * y + z1[s]
                z1[s] = b1 * y - a1 * yo + z2[s]
                z2[s] = b2 * y - a2 * yo
                y = yo
            out[i] = y
    return out


def _ref_sosfiltfilt(x: np.ndarray, sos: np.ndarray) -> np.ndarray:
    return _ref_pass(_ref_pass(x, sos, False), sos, True)


def _ref_window_stats(raw, y, start, stop, win, sub, fs):
    """The scalar loop of ``window_stats_nb`` (before the vector lanes), numpy across channels."""
    raw = np.asarray(raw, np.float32)
    y = np.asarray(y, np.float32)
    c = raw.shape[1]
    nw = (stop - start + win - 1) // win
    out = np.zeros((nw, c, 5))
    for w in range(nw):
        a = start + w * win
        e = min(stop, a + win)
        ss = np.zeros(c)
        cnt = np.zeros(c, np.int64)
        nnan = np.zeros(c, np.int64)
        run = np.ones(c, np.int64)
        best = np.ones(c, np.int64)
        prev = raw[a].copy()
        smin = np.full(c, 1e30)
        smax = np.full(c, -1e30)
        sb = a
        while sb < e:
            se = min(e, sb + sub)
            sacc = np.zeros(c)
            scnt = np.zeros(c, np.int64)
            for i in range(sb, se):
                v = raw[i]
                bad = np.isnan(v)
                nnan += bad
                ok = ~bad
                with np.errstate(all="ignore"):
                    ss = np.where(ok, ss + (y[i] * y[i]).astype(np.float64), ss)
                    sacc = np.where(ok, sacc + v.astype(np.float64), sacc)
                cnt += ok
                scnt += ok
                same = ok & (v == prev) & (i > a)
                run = np.where(same, run + 1, 1)
                best = np.maximum(best, run)
                prev = v.copy()
            has = scnt > 0
            with np.errstate(all="ignore"):
                mval = sacc / np.maximum(scnt, 1)
            smin = np.where(has & (mval < smin), mval, smin)
            smax = np.where(has & (mval > smax), mval, smax)
            sb = se
        with np.errstate(all="ignore"):
            out[w, :, 0] = np.where(cnt > 0, np.sqrt(ss / np.maximum(cnt, 1)), np.nan)
        out[w, :, 1] = best * 1000.0 / fs
        out[w, :, 2] = nnan
        out[w, :, 3] = np.where(smax >= smin, smax - smin, 0.0)
        out[w, :, 4] = e - a
    return out


def _ref_excursions(y, thr, core_start, core_stop, dead):
    """The scalar excursion loop (before the vector lanes): (peak, channel) sorted by channel."""
    y = np.asarray(y, np.float32)
    n, c = y.shape
    t = np.array([v if v > 0 else np.inf for v in thr], np.float32)
    found = []
    for j in range(c):
        best, bestv, below = -1, np.float32(0), 0
        for i in range(n):
            a = abs(y[i, j])
            if a >= t[j]:
                if best < 0 or a > bestv:
                    best, bestv = i, a
                below = 0
            elif best >= 0:
                below += 1
                if below >= dead:
                    if core_start <= best < core_stop:
                        found.append((best, j))
                    best = -1
        if best >= 0 and core_start <= best < core_stop:
            found.append((best, j))
    idx = np.array([f[0] for f in found], np.int64)
    ch = np.array([f[1] for f in found], np.int64)
    return idx, ch


# ------------------------------------------------------------------ layouts


def _scalar_view(a: np.ndarray) -> np.ndarray:
    """The same values with rows not contiguous (the kernels' scalar path)."""
    buf = np.full((a.shape[0], 2 * a.shape[1]), np.float32(7.0), np.float32)
    buf[:, ::2] = a
    return buf[:, ::2]


def _layouts(a: np.ndarray) -> dict[str, np.ndarray]:
    """Views holding the values of ``a``: read-only, Fortran, reversed rows, a column slice."""
    ro = a.copy()
    ro.setflags(write=False)
    rev = a[::-1].copy()[::-1]  # negative row stride
    wide = np.zeros((a.shape[0], a.shape[1] + 3), np.float32)
    wide[:, 2:2 + a.shape[1]] = a
    # (numba compiles the kernels once per array type: C, read-only C and 'A' (any strides,
    # which covers Fortran order) are the types there are; more layouts of the same type
    # cost no compile time)
    out = {"C": np.ascontiguousarray(a), "readonly": ro, "reversed": rev,
           "slice": wide[:, 2:2 + a.shape[1]], "strided": _scalar_view(a)}
    if a.shape[1] == 1 and a.shape[0] > 0:  # (n, 1) with an odd column stride
        t = np.ascontiguousarray(a[:, 0])[:, None]
        out["col"] = np.lib.stride_tricks.as_strided(t, a.shape, (4, 80000))
    return out


def _signal(rng, n, c, scale=50.0, special=True):
    x = (rng.standard_normal((n, c)) * scale).astype(np.float32)
    if special and n > 2:
        flat = x.reshape(-1)
        k = flat.size
        for v in (np.nan, np.float32(1e-41), -np.float32(1e-41), np.float32(3e38), -np.float32(3e38)):
            flat[rng.integers(0, k)] = v
    return x


# ------------------------------------------------------- filters (cascades)


@pytest.mark.parametrize("key", list(SOS))
def test_sosfiltfilt_equals_the_numpy_scalar_reference_bit_for_bit(key):
    rng = np.random.default_rng(int(key))
    sos = SOS[key]
    for c in CHANNELS:
        for n in ROWS:
            x = _signal(rng, n, c, special=False)
            ref = _ref_sosfiltfilt(x, sos)
            got = np.empty_like(x)
            sosfiltfilt_nb(x, sos, got)
            np.testing.assert_array_equal(got, ref, err_msg=f"{key} sections, n={n}, c={c}")


@SETTINGS
@given(c=st.sampled_from(CHANNELS), n=st.integers(0, 30), key=st.sampled_from(list(SOS)),
       seed=st.integers(0, 2**32 - 1), special=st.booleans())
def test_sosfiltfilt_any_layout_equals_the_reference(c, n, key, seed, special):
    """NaN, denormal and huge samples (overflow to inf/NaN inside the cascade) included: the vector
    lanes, the scalar tail and every input layout give the reference's numbers."""
    rng = np.random.default_rng(seed)
    x = _signal(rng, n, c, special=special)
    ref = _ref_sosfiltfilt(x, SOS[key])
    for name, view in _layouts(x).items():
        got = np.empty((n, c), np.float32)
        sosfiltfilt_nb(view, SOS[key], got)
        np.testing.assert_array_equal(got, ref, err_msg=f"layout {name}")
    got_f = np.empty((n, c), np.float32, order="F")  # a strided output (any layout: one type)
    sosfiltfilt_nb(_layouts(x)["strided"], SOS[key], got_f)
    np.testing.assert_array_equal(got_f, ref, err_msg="strided in, Fortran out")


def test_sosfiltfilt_inf_poisons_every_channel_alike():
    """An infinite sample makes the recursion NaN from there on; after the first sweep of four
    sections the vector path must not read that NaN as 0 while the scalar path keeps it."""
    x = np.zeros((64, 9), np.float32)
    x[10, :] = np.inf
    sos = SOS["5"]
    got = np.empty_like(x)
    sosfiltfilt_nb(x, sos, got)
    ref = _ref_sosfiltfilt(x, sos)
    np.testing.assert_array_equal(got, ref)
    # channel 0 (vector lane) and channel 8 (scalar tail) carry the same data
    np.testing.assert_array_equal(got[:, 0], got[:, 8])


def test_sosfiltfilt_in_place_on_views():
    rng = np.random.default_rng(2)
    for c in (8, 9, 16, 17):
        x = _signal(rng, 50, c)
        ref = _ref_sosfiltfilt(x, SOS["5"])
        a = x.copy()
        sosfiltfilt_nb(a, SOS["5"], a)  # out is src
        np.testing.assert_array_equal(a, ref)
        wide = np.zeros((50, c + 8), np.float32)
        wide[:, 4:4 + c] = x
        v = wide[:, 4:4 + c]
        sosfiltfilt_nb(v, SOS["5"], v)  # in place on a column slice
        np.testing.assert_array_equal(v, ref)
        assert not wide[:, :4].any() and not wide[:, 4 + c:].any()


def test_sosfiltfilt_rejects_mismatched_shapes_without_writing_outside():
    """``out`` with fewer rows or channels than ``x`` must be refused, not written past its end."""
    x = np.ones((40, 8), np.float32)
    buf = np.zeros((60, 8), np.float32)
    with pytest.raises(ValueError):
        sosfiltfilt_nb(x, SOS["2"], buf[:30])
    assert not buf[30:].any()
    wide = np.zeros((40, 16), np.float32)
    with pytest.raises(ValueError):
        sosfiltfilt_nb(np.ones((40, 16), np.float32), SOS["2"], wide[:, :8])
    assert not wide[:, 8:].any()


# ------------------------------------------------- low-pass + high-pass pair


@SETTINGS
@given(c=st.sampled_from(CHANNELS), seed=st.integers(0, 2**32 - 1), nan=st.booleans())
def test_lowpass_highpass_matches_two_zero_phase_filters(c, seed, nan):
    """Within float32 rounding of ``sosfiltfilt_nb`` twice away from the ends, and a channel's
    numbers depend neither on the channel count nor on the input layout."""
    rng = np.random.default_rng(seed)
    n = 2400
    x = (rng.standard_normal((n, c)) * 40 + rng.uniform(-500, 500, c)).astype(np.float32)
    if nan:
        x[rng.integers(0, n, 3), rng.integers(0, c, 3)] = np.nan
    lp, hp = SOS["1"], design_sos(FS, 100.0, "highpass", 2)
    f0, y0 = np.empty_like(x), np.empty_like(x)
    sosfiltfilt_nb(x, lp, f0)
    sosfiltfilt_nb(f0, hp, y0)
    f1, y1 = np.empty_like(x), np.empty_like(x)
    lowpass_highpass_nb(x, lp, hp, f1, y1)
    core = slice(1000, -1000)
    scale = max(1.0, float(np.abs(y0[core]).max()))
    df = (f1 - f0)[core]
    df -= np.median(df, axis=0)  # each sweep keeps its first sample's offset
    assert np.abs(df).max() < 2e-5 * max(scale, float(np.abs(f0[core]).max()))
    assert np.abs((y1 - y0)[core]).max() < 1e-4 * scale
    for j in {0, c - 1, c // 2}:
        one = np.ascontiguousarray(x[:, [j]])
        fo, yo = np.empty_like(one), np.empty_like(one)
        lowpass_highpass_nb(one, lp, hp, fo, yo)
        np.testing.assert_array_equal(yo[:, 0], y1[:, j])
        np.testing.assert_array_equal(fo[:, 0], f1[:, j])
    for name, view in _layouts(x).items():
        fv = np.empty((n, c), np.float32, order="F")
        yv = np.empty((n, c), np.float32)
        lowpass_highpass_nb(view, lp, hp, fv, yv)
        np.testing.assert_array_equal(yv, y1, err_msg=f"layout {name}")
        np.testing.assert_array_equal(fv, f1, err_msg=f"layout {name}")


@pytest.mark.parametrize("n", [0, 1, 2, 3])
@pytest.mark.parametrize("c", [1, 7, 8, 9, 16, 17])
def test_lowpass_highpass_few_rows(n, c):
    x = np.arange(n * c, dtype=np.float32).reshape(n, c)
    f, y = np.full_like(x, 99), np.full_like(x, 99)
    lowpass_highpass_nb(x, SOS["1"], design_sos(FS, 100.0, "highpass", 2), f, y)
    assert np.isfinite(f).all() and np.isfinite(y).all()
    for j in range(c):
        one = np.ascontiguousarray(x[:, [j]])
        fo, yo = np.empty_like(one), np.empty_like(one)
        lowpass_highpass_nb(one, SOS["1"], design_sos(FS, 100.0, "highpass", 2), fo, yo)
        np.testing.assert_array_equal(yo[:, 0], y[:, j])


def test_lowpass_highpass_rejects_mismatched_shapes():
    x = np.ones((40, 8), np.float32)
    big = np.zeros((60, 8), np.float32)
    hp = design_sos(FS, 100.0, "highpass", 2)
    with pytest.raises(ValueError):
        lowpass_highpass_nb(x, SOS["1"], hp, big[:30], np.empty_like(x))
    with pytest.raises(ValueError):
        lowpass_highpass_nb(x, SOS["1"], hp, np.empty_like(x), big[:30])
    assert not big[30:].any()


def _odd_rows(a: np.ndarray, row_bytes: int) -> np.ndarray:
    """The values of ``a`` in a view whose rows start ``row_bytes`` apart (unaligned when odd)."""
    buf = np.zeros(a.shape[0] * row_bytes + 64, np.uint8)
    v = np.ndarray(a.shape, np.float32, buffer=buf, strides=(row_bytes, 4))
    v[:] = a
    return v


@pytest.mark.parametrize("row_bytes", [34, 38, 66])
def test_rows_not_a_whole_number_of_floats_apart(row_bytes):
    """The vector lanes address rows as ``row * (strides[0] // 4)``: a row stride that is not a
    multiple of 4 bytes (an unaligned view) must take the scalar path, not read the wrong rows."""
    rng = np.random.default_rng(row_bytes)
    x = (rng.standard_normal((60, 8)) * 10).astype(np.float32)
    v = _odd_rows(x, row_bytes)
    ref = np.empty_like(x)
    sosfiltfilt_nb(x, SOS["5"], ref)
    got = np.empty_like(x)
    sosfiltfilt_nb(v, SOS["5"], got)
    np.testing.assert_array_equal(got, ref)
    hp = design_sos(FS, 100.0, "highpass", 2)
    f0, y0, f1, y1 = (np.empty_like(x) for _ in range(4))
    lowpass_highpass_nb(x, SOS["1"], hp, f0, y0)
    lowpass_highpass_nb(v, SOS["1"], hp, f1, y1)
    np.testing.assert_array_equal(y1, y0)
    np.testing.assert_array_equal(window_stats_nb(v, v, 0, 60, 16, 5, FS),
                                  window_stats_nb(x, x, 0, 60, 16, 5, FS))
    for a, b in zip(detect_excursions_nb(v, np.full(8, 8.0), 0, 60, 2),
                    detect_excursions_nb(x, np.full(8, 8.0), 0, 60, 2)):
        np.testing.assert_array_equal(a, b)


# ------------------------------------------------------- window statistics


@SETTINGS
@given(c=st.sampled_from(CHANNELS), n=st.integers(1, 60), seed=st.integers(0, 2**32 - 1),
       win=st.integers(1, 25), sub=st.integers(1, 9), data=st.data())
def test_window_stats_equals_the_scalar_reference(c, n, seed, win, sub, data):
    """Runs of equal samples across sub-block and window boundaries, NaN runs, huge values:
    the vector lanes give the scalar loop's statistics exactly."""
    rng = np.random.default_rng(seed)
    raw = np.round(rng.standard_normal((n, c)) * 1.2).astype(np.float32)  # many repeats
    raw[rng.random((n, c)) < 0.1] = np.nan
    raw[rng.random((n, c)) < 0.05] = np.float32(3e38)
    y = _signal(rng, n, c)
    start = data.draw(st.integers(0, n - 1))
    stop = data.draw(st.integers(start, n))
    ref = _ref_window_stats(raw, y, start, stop, win, sub, FS)
    got = window_stats_nb(raw, y, start, stop, win, sub, FS)
    np.testing.assert_array_equal(got, ref)
    np.testing.assert_array_equal(window_stats_nb(_scalar_view(raw), _scalar_view(y), start, stop,
                                                  win, sub, FS), ref)
    ro_raw, ro_y = raw.copy(), y.copy()
    ro_raw.setflags(write=False)
    ro_y.setflags(write=False)
    np.testing.assert_array_equal(window_stats_nb(ro_raw, ro_y[::-1].copy()[::-1], start, stop,
                                                  win, sub, FS), ref)


def test_window_stats_rejects_mismatched_inputs():
    raw = np.zeros((30, 8), np.float32)
    with pytest.raises(ValueError):
        window_stats_nb(raw, np.zeros((30, 4), np.float32), 0, 30, 10, 5, FS)
    with pytest.raises(ValueError):
        window_stats_nb(raw, np.zeros((20, 8), np.float32), 0, 30, 10, 5, FS)
    with pytest.raises(ValueError):
        window_stats_nb(raw, raw, 0, 31, 10, 5, FS)


# ------------------------------------------------------------ threshold scan


def _check_excursions(y, thr, cs, ce, dead):
    ref = _ref_excursions(y, thr, cs, ce, dead)
    for name, view in (("C", y), ("strided", _scalar_view(y)), ("reversed", y[::-1].copy()[::-1])):
        idx, ch = detect_excursions_nb(view, thr, cs, ce, dead)
        np.testing.assert_array_equal(idx, ref[0], err_msg=f"{name}, dead={dead}")
        np.testing.assert_array_equal(ch, ref[1], err_msg=f"{name}, dead={dead}")
    return ref


@SETTINGS
@given(c=st.sampled_from(CHANNELS), n=st.integers(0, 80), seed=st.integers(0, 2**32 - 1),
       dead=st.sampled_from([0, 1, 2, 3, 7]), data=st.data())
def test_excursion_scan_equals_the_scalar_reference(c, n, seed, dead, data):
    rng = np.random.default_rng(seed)
    y = _signal(rng, n, c, scale=1.0)
    y[rng.random((n, c)) < 0.05] = np.nan
    thr = rng.uniform(0.5, 2.5, c)
    for j in range(c):  # non-finite and non-positive thresholds: channel skipped
        thr[j] = data.draw(st.sampled_from([thr[j], thr[j], thr[j], np.nan, np.inf, 0.0, -1.0]))
    cs = data.draw(st.integers(0, max(0, n)))
    ce = data.draw(st.integers(cs, max(cs, n)))
    _check_excursions(y, thr, cs, ce, dead)


@pytest.mark.parametrize("c", [8, 9, 16, 64])
def test_excursion_scan_edges(c):
    thr = np.ones(c)
    # all lanes ending on the same row, an excursion ending on the last row,
    # one open at the end of the chunk, and one starting on row 0
    y = np.zeros((30, c), np.float32)
    y[3:6] = 2.0
    y[4] = 3.0
    y[26:28, 0] = 5.0  # ends on the last row (dead = 2: rows 28, 29)
    y[28:, 1] = 4.0  # open at the end
    y[0, 2] = 6.0  # on row 0
    y[29, 3] = 9.0  # on the last row
    for dead in (0, 1, 2, 3):
        for cs, ce in ((0, 30), (4, 30), (0, 4), (5, 29), (0, 0), (30, 30)):
            _check_excursions(y, thr, cs, ce, dead)
    idx, ch = detect_excursions_nb(y, thr, 0, 30, 2)
    assert set(zip(idx.tolist(), ch.tolist())) >= {(4, j) for j in range(c)} | {(26, 0), (28, 1),
                                                                                  (0, 2), (29, 3)}


@pytest.mark.parametrize("n", [0, 1, 2, 3])
def test_excursion_scan_few_rows(n):
    for c in (1, 8, 17):
        y = np.full((n, c), 5.0, np.float32)
        _check_excursions(y, np.ones(c), 0, n, 1)


def test_excursion_scan_infinite_samples_on_a_skipped_channel():
    """A channel without a usable threshold (NaN, inf, <= 0) gives no candidate, even where the
    signal is infinite (|inf| >= an infinite threshold)."""
    y = np.zeros((20, 9), np.float32)
    y[5, :] = np.inf
    y[12, :] = -np.inf
    thr = np.array([np.nan, np.inf, 0.0, -1.0, np.nan, np.nan, np.nan, np.nan, np.nan])
    idx, ch = detect_excursions_nb(y, thr, 0, 20, 2)
    assert idx.size == 0


def test_excursion_scan_rejects_a_short_threshold_array():
    with pytest.raises(ValueError):
        detect_excursions_nb(np.zeros((10, 16), np.float32), np.ones(8), 0, 10, 2)


# ------------------------------------------------------------------- median


@settings(max_examples=200, deadline=None, derandomize=True)
@given(st.lists(st.sampled_from([0.0, 1.0, -1.0, 2.5, np.inf, -np.inf, 1e-45, 3e38])
                | st.floats(-1e6, 1e6, allow_nan=False, width=32), min_size=1, max_size=70))
def test_inplace_median_equals_numpys(values):
    a = np.asarray(values, np.float32)
    buf = np.concatenate([a, np.full(5, np.float32(-7))])  # only buf[:k] is used
    with np.errstate(invalid="ignore", over="ignore"):
        want = np.median(a)
    got = median_inplace_nb(buf, a.size)
    assert got == want or (np.isnan(got) and np.isnan(want))
    np.testing.assert_array_equal(np.sort(buf[: a.size]), np.sort(a))  # reordered, not lost
    assert (buf[a.size:] == -7).all()


def test_inplace_median_of_nothing_is_nan():
    assert np.isnan(median_inplace_nb(np.ones(4, np.float32), 0))


# ---------------------------------------------------------- whole detector


def _hum(n, c, fs, rng):
    t = np.arange(n) / fs
    ph = rng.uniform(0, 2 * np.pi, c)
    return (60 * np.sin(2 * np.pi * 50.0 * t[:, None] + ph)
            + 20 * np.sin(2 * np.pi * 150.0 * t[:, None] + ph)).astype(np.float32)


@pytest.mark.parametrize("c,hum,nan", [(3, True, True), (9, False, True), (9, True, False),
                                       (64, False, False)])
def test_threads_give_the_same_result(c, hum, nan):
    from motorsign.recording import Recording
    from motorsign.simulate import needle_emg
    from motorsign.spontaneous import detect_spontaneous

    fs = 10000.0
    dur = 3.0 if c < 64 else 1.2
    sim = needle_emg.generate(seed=c, duration_s=dur, fs=fs, n_channels=c, fasc_units=1)
    x = np.array(sim.data_uv, np.float32)
    rng = np.random.default_rng(c)
    if hum:
        x += _hum(x.shape[0], c, fs, rng)
    if nan:
        x[5000:5200, 0] = np.nan
        x[rng.integers(0, x.shape[0], 20), rng.integers(0, c, 20)] = np.nan
    rec = Recording.from_array(x, fs, [f"EMG{i + 1}" for i in range(c)])
    params = {"chunk_s": 0.4}
    one = detect_spontaneous(rec, n_jobs=1, params=params)
    two = detect_spontaneous(rec, n_jobs=2, params=params)
    assert len(one.discharges) > 0
    assert one.discharges.equals(two.discharges)
    assert one.intervals.equals(two.intervals)
    assert one.summary["mains"] == two.summary["mains"]
    if hum:
        assert one.summary["mains"]["notched_hz"]


# --------------------------------------------------- numba: JIT off, caching


def test_kernels_run_with_the_jit_disabled():
    """With NUMBA_DISABLE_JIT=1 the intrinsics cannot run in Python: the kernels must take their
    scalar paths (same numbers as the compiled vector paths) instead of raising."""
    rng = np.random.default_rng(4)
    x = _signal(rng, 40, 9, special=False)
    y = np.empty_like(x)
    sosfiltfilt_nb(x, SOS["5"], y)
    idx, ch = detect_excursions_nb(y, np.full(9, 40.0), 0, 40, 2)
    stats = window_stats_nb(x, y, 0, 40, 16, 5, FS)
    f2, y2 = np.empty_like(x), np.empty_like(x)
    lowpass_highpass_nb(x, SOS["1"], design_sos(FS, 100.0, "highpass", 2), f2, y2)
    code = textwrap.dedent("""
        import sys, numpy as np
        from motorsign.signal.filters import design_sos, lowpass_highpass_nb, sosfiltfilt_nb
        from motorsign.signal.mains import design_notches
        from motorsign.signal.segmentation import window_stats_nb
        from motorsign.spontaneous.kernels import detect_excursions_nb
        d = np.load(sys.argv[1])
        x, sos = d["x"], d["sos"]
        y = np.empty_like(x)
        sosfiltfilt_nb(x, sos, y)
        idx, ch = detect_excursions_nb(y, np.full(9, 40.0), 0, 40, 2)
        stats = window_stats_nb(x, y, 0, 40, 16, 5, 20000.0)
        f2, y2 = np.empty_like(x), np.empty_like(x)
        lowpass_highpass_nb(x, d["lp"], d["hp"], f2, y2)
        np.savez(sys.argv[2], y=y, idx=idx, ch=ch, stats=stats, f2=f2, y2=y2)
    """)
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        src, dst = os.path.join(tmp, "in.npz"), os.path.join(tmp, "out.npz")
        np.savez(src, x=x, sos=SOS["5"], lp=SOS["1"], hp=design_sos(FS, 100.0, "highpass", 2))
        env = dict(os.environ, NUMBA_DISABLE_JIT="1")
        proc = subprocess.run([sys.executable, "-c", code, src, dst], env=env, capture_output=True,
                              text=True, timeout=120)
        assert proc.returncode == 0, proc.stderr[-2000:]
        got = dict(np.load(dst))
    np.testing.assert_array_equal(got["y"], y)
    np.testing.assert_array_equal(got["idx"], idx)
    np.testing.assert_array_equal(got["ch"], ch)
    np.testing.assert_array_equal(got["stats"], stats)
    np.testing.assert_array_equal(got["f2"], f2)
    np.testing.assert_array_equal(got["y2"], y2)


def test_numba_cache_is_keyed_by_cpu_name_and_features():
    """The vector code is inlined into cached callers: numba must key those caches by the CPU
    (name and feature flags, e.g. +avx), so a cache built on an AVX machine is not loaded on a CPU
    without it. Guards against a numba upgrade dropping that."""
    import llvmlite.binding as ll
    from numba.core import config
    from numba.core.registry import cpu_target

    codegen = cpu_target.target_context.codegen()
    triple, cpu, features = codegen.magic_tuple()
    if config.CPU_NAME is None:
        assert cpu == ll.get_host_cpu_name()
    if config.CPU_FEATURES is None and cpu != "generic":
        assert features and set(features.split(",")) >= {
            f"+{k}" if v else f"-{k}" for k, v in ll.get_host_cpu_features().items() if k == "avx"}
    kern = detect_excursions_nb
    kern(np.zeros((4, 8), np.float32), np.ones(8), 0, 4, 1)
    sig = next(iter(kern.overloads))
    assert codegen.magic_tuple() in kern._cache._index_key(sig, codegen)


def test_intrinsics_refuse_other_element_types():
    """The intrinsics read raw memory as float32 / float64 / int64 vectors: arrays of another
    dtype (or a read-only output) must fail to compile instead of being misread."""
    import numba
    from numba.core.errors import TypingError

    from motorsign.signal.simd import cascade_lanes8, excursion_scan_lanes8

    @numba.njit
    def filt(src, out, co, x0):
        cascade_lanes8(src, out, co, 0, 1, x0, 0, 1, False, True)

    @numba.njit
    def scan(y, thr, best, bestv, below):
        return excursion_scan_lanes8(y, 0, 0, y.shape[0], thr, 2, best, bestv, below)

    x = np.ones((6, 8), np.float32)
    co = np.asarray(SOS["1"], np.float32)
    x0 = np.zeros(8, np.float32)
    out = np.empty_like(x)
    filt(x, out, co, x0)  # the right types compile and run (x0 = 0: no first-sample offset)
    ref = _ref_pass(np.vstack([np.zeros((1, 8), np.float32), x]), SOS["1"], False)[1:]
    np.testing.assert_array_equal(out, ref)
    with pytest.raises(TypingError):
        filt(x.astype(np.float64), out, co, x0)
    with pytest.raises(TypingError):
        filt(x, out, SOS["1"], x0)  # float64 sections
    ro = np.empty_like(x)
    ro.setflags(write=False)
    with pytest.raises(TypingError):
        filt(x, ro, co, x0)
    best = np.full(8, -1, np.int64)
    assert scan(x, np.full(8, 2.0, np.float32), best, np.zeros(8, np.float32),
                np.zeros(8, np.int64)) == 6
    with pytest.raises(TypingError):
        scan(x, np.full(8, 2.0), best, np.zeros(8, np.float32), np.zeros(8, np.int64))
