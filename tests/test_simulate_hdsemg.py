"""hdsemg simulator: spatial spread, truth per visible channel, determinism."""

from __future__ import annotations

import hashlib

import numpy as np
import pandas as pd
import pytest

from motorsign.errors import ConfigError
from motorsign.simulate import hdsemg

OPTS = {"duration_s": 20.0, "fs": 2048.0, "rows": 4, "cols": 4, "fasc_units": 2, "fasc_rate_per_min": 30.0,
        "voluntary": 1, "voluntary_units": 3, "voluntary_s": (2.0, 2.5)}


@pytest.fixture(scope="module")
def res():
    return hdsemg.generate(seed=2, noise_uv=0.0, mains_uv=0.0, wander_uv=0.0, **OPTS)


def test_grid_and_truth(res):
    assert res.data_uv.shape == (int(20 * 2048), 16)
    assert res.channel_names[:5] == ["R1C1", "R1C2", "R1C3", "R1C4", "R2C1"]
    t = res.truth
    fasc = t[t.kind == "fasciculation"]
    assert len(fasc) > 0
    # one peak-channel row per discharge, the others on visible channels
    per = fasc.groupby("discharge_id")
    assert (per["peak_channel"].sum() == 1).all()
    units = res.meta["units"].set_index("unit_id")
    for uid, g in fasc.groupby("unit_id"):
        vis = set(units.loc[uid, "visible_channels"].split(";"))
        assert set(g["channel"]) <= vis
    assert (fasc["amplitude_uv"] >= 30.0 * 0.85).all()
    mup = t[t.kind == "motor_unit_potential"]
    iv = res.intervals.iloc[0]
    assert mup["time_s"].between(iv.start_s - 0.05, iv.stop_s + 0.05).all()


def test_potential_falls_off_with_distance(res):
    """Across the fibres, amplitude decreases away from the unit's peak column."""
    units = res.meta["units"]
    names = res.channel_names
    for _, u in units.iterrows():
        pk = names.index(u.peak_channel)
        row, col = divmod(pk, 4)
        t = res.truth
        g = t[(t.unit_id == u.unit_id) & (t.kind == "fasciculation")]
        if g.empty:
            continue
        amp = g.groupby("channel")["amplitude_uv"].median()
        same_row = [f"R{row + 1}C{c + 1}" for c in range(4)]
        vals = [(abs(c - col), amp.get(n, 0.0)) for c, n in enumerate(same_row)]
        vals.sort()
        assert vals[0][1] >= max(v for _, v in vals[1:]) * 0.999


def test_time_is_channel_peak(res):
    t = res.truth
    fasc = t[t.kind == "fasciculation"]
    x, fs = res.data_uv, res.fs
    times = np.sort(t["time_s"].unique())
    n = 0
    for _, r in fasc[fasc.peak_channel].iterrows():
        others = t[(t.channel == r.channel) & (t.discharge_id != r.discharge_id)]
        if (np.abs(others["time_s"] - r.time_s) < 0.05).any():
            continue
        ch = res.channel_names.index(r.channel)
        i0 = int(round(r.time_s * fs))
        seg = x[i0 - 10 : i0 + 11, ch]
        assert abs(int(np.argmax(np.abs(seg))) - 10) <= 1
        n += 1
    assert n >= 3 or len(times) == 0


def test_deterministic(tmp_path):
    small = {**OPTS, "duration_s": 3.0, "rows": 2, "cols": 3, "fasc_units": 1, "voluntary": 0}
    hdsemg.simulate(tmp_path / "a", seed=1, **small)
    hdsemg.simulate(tmp_path / "b", seed=1, **small)
    for name in ("hdsemg.eeg", "hdsemg.vmrk", "truth.csv", "truth_units.csv"):
        assert hashlib.sha256((tmp_path / "a" / name).read_bytes()).digest() == hashlib.sha256(
            (tmp_path / "b" / name).read_bytes()
        ).digest()
    assert pd.read_csv(tmp_path / "a" / "truth_units.csv").shape[0] == 1


def test_bad_options():
    with pytest.raises(ConfigError):
        hdsemg.generate(rows=30, ied_mm=10.0)
    with pytest.raises(ConfigError):
        hdsemg.generate(grid=3)


def test_score_hdsemg_per_discharge(res):
    """A perfect per-discharge detector (peak channel only) scores 1 across channels."""
    from motorsign.scoring import score_discharges

    t = res.truth
    det = t[t.peak_channel & (t.kind == "fasciculation")][["channel", "time_s", "kind"]]
    det = det.assign(channel="grid")
    s = score_discharges(t, det, 1.0, res.intervals, ignore_channels=True).set_index("kind")
    assert s.loc["fasciculation", "f1"] == 1.0
    assert s.loc["any", "fn"] == 0
    # per channel the same detections miss every non-peak row
    s2 = score_discharges(t, det.assign(channel=t.loc[det.index, "channel"]), 1.0, res.intervals)
    assert s2.set_index("kind").loc["fasciculation", "recall"] < 1.0
