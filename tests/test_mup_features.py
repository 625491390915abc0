"""MUP features on synthetic potentials with known amplitude, duration and phases."""

from __future__ import annotations

import math

import numpy as np
import pytest

from motorsign.mup.features import count_phases, count_turns, quantify_mup
from motorsign.mup.params import MupParams

FS = 20000.0


def _embed(wave: np.ndarray, pre_ms: float = 20.0, post_ms: float = 20.0) -> np.ndarray:
    pre, post = int(pre_ms * FS / 1000), int(post_ms * FS / 1000)
    return np.concatenate([np.zeros(pre), wave, np.zeros(post)])


def _cycles(n_half: int, dur_ms: float, amp: float) -> np.ndarray:
    """``n_half`` half-sine lobes of alternating sign over ``dur_ms`` (peak ``amp``)."""
    t = np.arange(int(dur_ms * FS / 1000)) / FS
    return amp * np.sin(np.pi * n_half * t / (dur_ms / 1000))


#: the single-level, unsmoothed deviation-from-baseline rule
PLAIN = MupParams(duration_level_span=1.0, duration_smooth_ms=0.0)


def _expected_duration(n_half: int, dur_ms: float, amp: float, p: MupParams) -> float:
    """Duration by the written definition, worked out on paper for sine lobes.

    The outer lobe ``amp·sin(π t / T)`` (``T`` its length) smoothed by a
    centred boxcar of ``w`` ms, near its start (``t − w/2 < 0``), is
    ``amp·T/(π w)·(1 − cos(π (t + w/2) / T))``; it reaches a level ``L`` at
    ``t = T/π·acos(1 − L·π·w/(amp·T)) − w/2`` (``w → 0``: ``T/π·asin(L/amp)``).
    The duration is ``dur_ms`` less twice the mean of these times over the levels.
    """
    lobe = dur_ms / n_half
    levels = p.duration_level_uv * p.duration_level_span ** np.linspace(-0.5, 0.5, p.duration_level_steps)
    if p.duration_level_span <= 1.0:
        levels = np.array([p.duration_level_uv])
    w = p.duration_smooth_ms
    if w > 0:
        t_on = lobe / np.pi * np.arccos(1 - levels * np.pi * w / (amp * lobe)) - w / 2
    else:
        t_on = lobe / np.pi * np.arcsin(levels / amp)
    return dur_ms - 2 * float(np.mean(t_on))


@pytest.mark.parametrize("n_half, dur_ms, amp", [(2, 8.0, 300.0), (3, 12.0, 1000.0), (6, 6.0, 150.0)])
@pytest.mark.parametrize("params", [MupParams(), PLAIN], ids=["default", "plain"])
def test_amplitude_duration_phases_of_known_potentials(n_half, dur_ms, amp, params):
    f = quantify_mup(_embed(_cycles(n_half, dur_ms, amp)), FS, 0.0, params)
    assert f["duration_unreliable"] is False
    assert f["amplitude_uv"] == pytest.approx(2 * amp, rel=0.01)
    # onset/end sit where the (smoothed) |x| first exceeds each level inside the outer lobes
    assert f["duration_ms"] == pytest.approx(_expected_duration(n_half, dur_ms, amp, params), abs=0.11)
    if params is PLAIN:
        lost = 2 * dur_ms / n_half / math.pi * math.asin(10.0 / amp)
        assert f["duration_ms"] == pytest.approx(dur_ms - lost, abs=0.11)
    assert f["phases"] == n_half
    assert f["turns"] == n_half  # every lobe peak is a turn of > 25 µV
    area = 2 * amp * (dur_ms / n_half) / math.pi * n_half  # each lobe: 2A·T/π
    assert f["area_uvms"] == pytest.approx(area, rel=0.03)
    assert f["size_index"] == pytest.approx(
        2 * math.log10(f["amplitude_uv"] / 1000) + f["area_uvms"] / f["amplitude_uv"])


def test_polarity_and_rise_time():
    lobes = _cycles(3, 6.0, 400.0)  # positive, negative, positive lobes of 2 ms
    lobes[40:80] *= 2.0  # the negative lobe is the main peak
    w = _embed(lobes)
    f = quantify_mup(w, FS, 0.0)
    assert f["initial_polarity"] == "positive"
    # main peak: negative lobe centre (3 ms in); the preceding positive peak is at 1 ms
    assert f["rise_time_ms"] == pytest.approx(2.0, abs=0.06)
    assert f["amplitude_uv"] == pytest.approx(1200.0, rel=0.01)
    assert quantify_mup(-w, FS, 0.0)["initial_polarity"] == "negative"


def _with_tail(tail_uv: float, tail_ms: float = 10.0, ramp_ms: float = 1.0) -> np.ndarray:
    """A 300-µV biphasic MUP (8 ms) followed at once by a slow tail of ``tail_uv``."""
    spike = _cycles(2, 8.0, 300.0)
    n, r = int(tail_ms * FS / 1000), int(ramp_ms * FS / 1000)
    env = np.ones(n)
    env[:r] = np.sin(np.linspace(0, np.pi / 2, r))  # rises out of the spike's end ...
    env[-r:] = np.cos(np.linspace(0, np.pi / 2, r))  # ... and fades to baseline
    return _embed(np.concatenate([spike, -tail_uv * env]), post_ms=25.0)


def test_tail_on_the_level_does_not_jump():
    """A slow tail near λ = 10 µV: moving it by 2-4 µV moves the plain rule's end
    by the tail's whole length (~10 ms), the level-averaged rule by a fraction."""
    plain = [quantify_mup(_with_tail(a), FS, 0.0, PLAIN)["duration_ms"] for a in (8.0, 9.0, 11.0, 12.0)]
    dflt = [quantify_mup(_with_tail(a), FS, 0.0)["duration_ms"] for a in (8.0, 9.0, 11.0, 12.0)]
    assert plain[2] - plain[1] > 8.0  # the plain rule jumps as the tail crosses 10 µV
    assert plain[3] - plain[0] > 8.0
    # default: levels 5-20 µV, 9 steps; a 10-ms tail shifts the mean end by 10/9 ms per level it
    # crosses: 9 -> 11 µV crosses one level (10 µV), 8 -> 12 µV two (8.41 and 10; 11.9 < 12 a third)
    assert 0.5 < dflt[2] - dflt[1] < 2.0
    assert dflt[3] - dflt[0] < 4.0
    assert np.all(np.diff(dflt) >= -0.05)  # a larger tail never shortens the MUP


def test_component_above_every_level_counts_in_full():
    """Where nothing lies near the levels the averaging changes nothing: a 60-µV late
    component joined to the spike lies above all levels (≤ 20 µV) and counts in full."""
    base = quantify_mup(_with_tail(0.0), FS, 0.0)["duration_ms"]
    tall = quantify_mup(_with_tail(60.0), FS, 0.0)["duration_ms"]
    plain = quantify_mup(_with_tail(60.0), FS, 0.0, PLAIN)["duration_ms"]
    assert tall - base == pytest.approx(10.0, abs=0.4)
    assert tall == pytest.approx(plain, abs=0.3)


def test_level_follows_template_noise():
    p = MupParams()
    w = _embed(_cycles(2, 8.0, 300.0))
    quiet = quantify_mup(w, FS, 1.0, p)
    noisy = quantify_mup(w, FS, 10.0, p)  # level = 3 x 10 µV = 30 µV
    assert quiet["level_uv"] == p.duration_level_uv
    assert noisy["level_uv"] == pytest.approx(30.0)
    assert noisy["duration_ms"] < quiet["duration_ms"]


def test_small_phases_merge_and_satellite_gap():
    x = np.zeros(400)
    x[100:140] = 200 * np.sin(np.linspace(0, np.pi, 40))
    x[140:145] = -5.0  # below phase_min: not a phase
    x[145:185] = 200 * np.sin(np.linspace(0, np.pi, 40))
    n, first = count_phases(x, 20.0)
    assert (n, first) == (1, 1)
    # a late component separated by more than quiet_ms of baseline is excluded from the duration
    w = _embed(_cycles(2, 6.0, 500.0))
    sat = np.zeros_like(w)
    i = int(20e-3 * FS) + int(6e-3 * FS) + int(4e-3 * FS)  # 4 ms after the end
    sat[i : i + 20] = 80 * np.sin(np.linspace(0, np.pi, 20))
    f = quantify_mup(w + sat, FS, 0.0)
    assert f["duration_ms"] < 6.5


def test_baseline_not_quiet_gives_nan_with_flag():
    t = np.arange(int(0.04 * FS)) / FS
    f = quantify_mup(200 * np.sin(2 * np.pi * 200 * t), FS, 0.0)  # never returns to baseline
    assert f["duration_unreliable"] is True
    assert math.isnan(f["duration_ms"]) and math.isnan(f["amplitude_uv"])


def test_turns_threshold():
    x = np.array([0, 30, 10, 40, 0, 100, 90, 95, -50], dtype=float)
    assert count_turns(x, 25.0) == 3  # 30->10 is 20 (no); 40->0, 0->100, 100->-50
    assert count_turns(x, 200.0) == 0


def test_interference_turns_and_amplitude():
    from motorsign.mup.interference import turns_amplitude

    fs = 20000.0
    t = np.arange(int(0.5 * fs)) / fs
    x = 300.0 * np.sin(2 * np.pi * 50 * t)  # 600 µV swings, 100 turns/s
    n, amp = turns_amplitude(x.astype(np.float32), 100.0)
    assert n == pytest.approx(50, abs=1)  # 25 cycles: a peak and a trough each
    assert amp == pytest.approx(600.0, rel=0.01)
    n_small, _ = turns_amplitude((x / 10).astype(np.float32), 100.0)  # 60 µV swings: no turns
    assert n_small == 0


def test_split_half_column():
    """``duration_split_ms``: |duration of the even-discharge template − the odd one|;
    small for well-separated simulated units, NaN exactly where the duration is."""
    from motorsign.mup import analyze_mups
    from motorsign.simulate.voluntary import generate

    sim = generate(seed=3, condition="normal", duration_s=4.0)
    u = analyze_mups(sim.to_recording(), muscle="TA").units
    assert len(u) >= 2
    split = u["duration_split_ms"].to_numpy(dtype=float)
    assert np.array_equal(np.isnan(split), np.isnan(u["duration_ms"].to_numpy(dtype=float)))
    ok = split[np.isfinite(split)]
    assert ok.size and np.all(ok >= 0) and np.median(ok) < 2.0
