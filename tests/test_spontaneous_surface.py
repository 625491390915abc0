"""Surface / HD-sEMG fasciculations: events linked across channels."""

from __future__ import annotations

import numpy as np
import pytest

from motorsign.spontaneous import detect_spontaneous
from motorsign.spontaneous.surface import link_events_nb

hdsemg = pytest.importorskip("motorsign.simulate.hdsemg")


def test_link_events_single_linkage():
    t = np.array([0.0, 0.002, 0.004, 0.1, 0.103, 0.5])
    assert link_events_nb(t, 0.003).tolist() == [0, 0, 0, 1, 1, 2]


@pytest.fixture(scope="module")
def grid():
    sim = hdsemg.generate(seed=3, duration_s=20.0, rows=4, cols=4, fasc_units=4,
                          fasc_rate_per_min=12.0)
    return sim, detect_spontaneous(sim.to_recording())


def test_surface_mode_finds_fasciculation_events(grid):
    sim, res = grid
    assert res.summary["mode"] == "surface"
    truth = sim.truth[(sim.truth["kind"] == "fasciculation") & sim.truth["peak_channel"]]
    vol = sim.intervals[sim.intervals["kind"] == "voluntary"]
    t_true = np.array([t for t in truth["time_s"]
                       if not any(a - 0.1 <= t < b + 0.1 for a, b in zip(vol.start_s, vol.stop_s))])
    big = truth.set_index("time_s").loc[t_true, "amplitude_uv"].to_numpy() >= 60.0
    events = res.summary["surface"]["events"]
    t_det = np.array([e["time_s"] for e in events])
    assert t_det.size > 0
    hit = np.array([np.any(np.abs(t_det - t) <= 0.010) for t in t_true])
    assert hit[big].mean() >= 0.85
    real = np.array([np.any(np.abs(t_true - t) <= 0.010) or
                     any(a - 0.1 <= t < b + 0.1 for a, b in zip(vol.start_s, vol.stop_s))
                     for t in t_det])
    assert real.mean() >= 0.9
    assert all(e["n_channels"] >= 4 for e in events)


def test_surface_voluntary_is_activity_on_the_whole_grid(grid):
    sim, res = grid
    vol = sim.intervals[sim.intervals["kind"] == "voluntary"].iloc[0]
    act = res.intervals[res.intervals["kind"] == "activity"]
    assert set(act["channel"]) == set(sim.channel_names)
    one = act[act["channel"] == sim.channel_names[0]]
    covered = sum(max(0.0, min(b, vol.stop_s) - max(a, vol.start_s))
                  for a, b in zip(one.start_s, one.stop_s))
    assert covered >= 0.9 * (vol.stop_s - vol.start_s)
    d = res.discharges
    inside = d[(d["time_s"] > vol.start_s + 0.3) & (d["time_s"] < vol.stop_s - 0.3)]
    assert (inside["kind"] == "fasciculation").sum() == 0


def test_needle_mode_can_be_forced(grid):
    sim, _ = grid
    rec = sim.to_recording()
    with pytest.raises(Exception, match="mode"):
        detect_spontaneous(rec, mode="bogus")
