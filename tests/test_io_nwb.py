"""NWB files written with pynwb, read lazily with h5py."""

from __future__ import annotations

from datetime import datetime, timezone

import numpy as np
import pytest

from motorsign.errors import InputError
from motorsign.io import read

pynwb = pytest.importorskip("pynwb")


def _write(path, raw, fs, *, conversion=1e-6, extra_series=False, t0=0.0):
    from pynwb import NWBHDF5IO, NWBFile
    from pynwb.ecephys import ElectricalSeries
    from pynwb.misc import AnnotationSeries

    nwb = NWBFile(session_description="test", identifier="id1",
                  session_start_time=datetime(2024, 1, 1, tzinfo=timezone.utc))
    dev = nwb.create_device(name="amp")
    grp = nwb.create_electrode_group(name="g", description="emg", location="FDI", device=dev)
    nwb.add_electrode_column(name="label", description="channel label")
    for lab in ("FDI", "APB"):
        nwb.add_electrode(group=grp, location="hand", label=lab)
    region = nwb.create_electrode_table_region([0, 1], "both")
    nwb.add_acquisition(ElectricalSeries(name="EMG", data=raw, electrodes=region, rate=float(fs),
                                         conversion=conversion, starting_time=t0))
    if extra_series:
        nwb.add_acquisition(ElectricalSeries(name="EMG2", data=raw, electrodes=region,
                                             rate=float(fs), conversion=conversion))
    nwb.add_acquisition(AnnotationSeries(name="markers", data=["TMS", "TMS"],
                                         timestamps=[t0 + 0.1, t0 + 0.35]))
    nwb.add_trial(start_time=t0 + 0.05, stop_time=t0 + 0.25)
    with NWBHDF5IO(str(path), "w") as io:
        io.write(nwb)
    return path


def test_nwb_round_trip(tmp_path, rng):
    raw = rng.integers(-20_000, 20_000, (8_000, 2)).astype(np.int16)
    p = _write(tmp_path / "r.nwb", raw, 4_000, conversion=0.5e-6)  # 0.5 µV per count
    rec = read(p)
    assert rec.format == "NWB" and rec.sampling_rate_hz == 4_000
    assert rec.channel_names == ["FDI", "APB"] and rec.duration_s() == pytest.approx(2.0)
    assert rec.channels[0].units == "volts" and rec.channels[0].to_uv == 1e6
    np.testing.assert_allclose(rec.get_traces(), raw * 0.5, rtol=1e-6)
    chunks = np.concatenate([c.core for c in rec.iter_chunks(999, 3)])
    np.testing.assert_array_equal(chunks, rec.get_traces())
    np.testing.assert_allclose(rec.get_traces(10, 20, channels="APB")[:, 0], raw[10:20, 1] * 0.5)
    tms = rec.events_for("markers/TMS")
    assert [round(e.time_s * 4_000) for e in tms] == [400, 1_400]
    trials = rec.events_for("trials")
    assert trials[0].time_s == pytest.approx(0.05) and trials[0].duration_s == pytest.approx(0.2)


def test_nwb_events_relative_to_series_start(tmp_path, rng):
    raw = rng.integers(-100, 100, (4_000, 2)).astype(np.int16)
    rec = read(_write(tmp_path / "r.nwb", raw, 4_000, t0=10.0))
    assert rec.segments[0].t_start_s == 10.0
    assert [round(e.time_s * 4_000) for e in rec.events_for("markers/TMS")] == [400, 1_400]


def test_nwb_several_series_must_be_chosen(tmp_path, rng):
    raw = rng.integers(-100, 100, (400, 2)).astype(np.int16)
    p = _write(tmp_path / "r.nwb", raw, 4_000, extra_series=True)
    with pytest.raises(InputError, match="2 signal streams; choose one.*'EMG'.*'EMG2'"):
        read(p)
    assert read(p, stream="EMG2").stream == "EMG2"


def test_nwb_not_hdf5(tmp_path):
    p = tmp_path / "x.nwb"
    p.write_bytes(b"not hdf5 at all" * 10)
    with pytest.raises(InputError, match=r"x\.nwb: cannot open this NWB file"):
        read(p)
