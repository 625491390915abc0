"""Trigger specs: labels, bare descriptions, event channels, analog edges with sub-sample times."""

from __future__ import annotations

import numpy as np
import pytest

from motorsign.errors import InputError
from motorsign.io import read
from motorsign.io.triggers import detect_edges, resolve_trigger
from motorsign.recording import Event, Recording
from motorsign.simulate.brainvision import write_brainvision


def _rec_with_events():
    evs = [Event("Stimulus/TMS", 0.1), Event("Stimulus/TMS", 0.6), Event("Stimulus/S  2", 0.3),
           Event("Response/R 1", 0.2), Event("Comment/TMS2", 0.4)]
    return Recording.from_array(np.zeros((1000, 2)), 1000.0, ["EMG", "TRIG"], events=evs)


def test_full_label_and_bare_description():
    rec = _rec_with_events()
    assert [e.time_s for e in resolve_trigger(rec, "Stimulus/TMS")] == [0.1, 0.6]
    assert [e.time_s for e in resolve_trigger(rec, "TMS")] == [0.1, 0.6]
    assert [e.label for e in resolve_trigger(rec, "Stimulus")] == [
        "Stimulus/TMS", "Stimulus/S  2", "Stimulus/TMS"]


def test_ambiguous_description_is_refused():
    evs = [Event("Stimulus/X", 0.1), Event("Response/X", 0.2)]
    rec = Recording.from_array(np.zeros((500, 1)), 1000.0, events=evs)
    with pytest.raises(InputError, match="ambiguous.*'Response/X', 'Stimulus/X'"):
        resolve_trigger(rec, "X")


def test_unknown_trigger_lists_labels_and_channels():
    rec = _rec_with_events()
    with pytest.raises(InputError, match=r"matches no event or channel; event labels: "
                                         r"'Stimulus/TMS' \(2\).*channels: EMG, TRIG"):
        resolve_trigger(rec, "Nope")
    with pytest.raises(InputError, match="trigger channel 'X9' does not exist"):
        resolve_trigger(rec, "analog:X9")
    with pytest.raises(InputError, match="use 'analog:EMG'"):
        resolve_trigger(rec, "EMG")


def _pulses(fs, n, onsets_s, width_s=0.001, high=5000.0, rise_samples=4, noise=0.0, seed=0):
    """Trapezoid pulses whose threshold crossing time is known analytically."""
    t = np.arange(n) / fs
    x = np.zeros(n)
    rise = rise_samples / fs
    for t0 in onsets_s:
        up = np.clip((t - t0) / rise, 0, 1)
        down = np.clip((t - (t0 + width_s)) / rise, 0, 1)
        x += high * (up - down)
    if noise:
        x += np.random.default_rng(seed).normal(0, noise, n)
    return x


def test_analog_edges_subsample_time_and_rounding_error():
    fs = 10_000.0
    onsets = [0.10003, 0.35017, 0.70091]  # not on the sample grid
    x = _pulses(fs, 10_000, onsets)
    rec = Recording.from_array(np.column_stack([np.zeros_like(x), x]), fs, ["EMG", "TRIG"])
    evs = resolve_trigger(rec, "analog:TRIG")
    # half-way threshold: the ramp crosses it half a rise time after onset
    expect = np.array(onsets) + 0.5 * 4 / fs
    got = np.array([e.time_s for e in evs])
    np.testing.assert_allclose(got, expect, atol=1e-9)
    for e in evs:
        assert e.source == "analog" and e.label == "analog:TRIG"
        assert e.rounding_error_s == pytest.approx(e.time_s - round(e.time_s * fs) / fs)
        assert abs(e.rounding_error_s) <= 0.5 / fs
    assert any(abs(e.rounding_error_s) > 1e-6 for e in evs)


def test_analog_explicit_threshold_refractory_and_chunk_borders():
    fs = 5_000.0
    # a noisy pulse with ringing: one pulse must give one event
    x = _pulses(fs, 50_000, [1.0, 2.0, 3.0, 9.99], width_s=0.002, noise=100.0)
    rec = Recording.from_array(x[:, None], fs, ["TRIG"])
    evs = resolve_trigger(rec, "analog:TRIG:2500")
    assert len(evs) == 4 and evs[0].label == "analog:TRIG:2500"
    # chunking must not change anything, even with a crossing across a chunk border
    border = int(round(2.0 * fs)) + 1
    small = detect_edges(rec, "TRIG", 2500.0, chunk_samples=border)
    assert [e.time_s for e in small] == [e.time_s for e in evs]


def test_flat_channel_gives_no_event():
    rec = Recording.from_array(np.ones((1000, 1)), 1000.0, ["TRIG"])
    assert resolve_trigger(rec, "analog:TRIG") == []


def test_trigger_on_a_brainvision_file(tmp_path):
    fs = 20_000.0
    x = _pulses(fs, 40_000, [0.5, 1.5])
    data = np.column_stack([np.zeros(40_000), x]).astype(np.float32)
    p = write_brainvision(tmp_path / "t.vhdr", data, fs, ["EMG", "TRIG"],
                          [("Stimulus", "TMS", 10_000, 1), ("Stimulus", "TMS", 30_000, 1)])
    rec = read(p)
    by_marker = [round(e.time_s * fs) for e in resolve_trigger(rec, "TMS")]
    by_analog = [round(e.time_s * fs) for e in resolve_trigger(rec, "analog:TRIG")]
    assert by_marker == [10_000, 30_000]
    assert by_analog == [10_002, 30_002]  # onset + half of the 4-sample ramp
