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


@pytest.mark.parametrize("n_half, dur_ms, amp", [(2, 8.0, 300.0), (3, 12.0, 1000.0), (6, 6.0, 150.0)])
def test_amplitude_duration_phases_of_known_potentials(n_half, dur_ms, amp):
    f = quantify_mup(_embed(_cycles(n_half, dur_ms, amp)), FS, 0.0)
    assert f["duration_unreliable"] is False
    assert f["amplitude_uv"] == pytest.approx(2 * amp, rel=0.01)
    # onset/end sit where |x| first exceeds the 10 µV level inside the outer lobes
    lobe_ms = dur_ms / n_half
    lost = 2 * lobe_ms / math.pi * math.asin(10.0 / amp)
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
