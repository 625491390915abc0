"""BrainVision through neo: sample-exact markers, escaped names, units, chunked reads."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from motorsign.errors import InputError
from motorsign.io import read
from motorsign.simulate.brainvision import write_brainvision

FS = 20_000.0


@pytest.fixture
def bv_file(tmp_path, rng):
    data = (rng.standard_normal((30_000, 3)) * 50).astype(np.float32)
    markers = [("Stimulus", "TMS", 100, 1), ("Stimulus", "TMS", 20_000, 1),
               ("Response", "R  1", 12_345, 1)]
    path = write_brainvision(tmp_path / "rec.vhdr", data, FS, ["FDI, R", "APB", "Trig"], markers)
    return path, data


def test_brainvision_markers_land_on_their_sample(bv_file):
    path, _ = bv_file
    rec = read(path)
    tms = rec.events_for("Stimulus/TMS")
    # 0-based sample 100 at 20 kHz is 5 ms exactly, not 5.05 ms (neo keeps the 1-based position)
    assert [round(e.time_s * FS) for e in tms] == [100, 20_000]
    assert tms[0].time_s == pytest.approx(100 / FS, abs=1e-12)
    assert [round(e.time_s * FS) for e in rec.events_for("Response/R  1")] == [12_345]
    assert rec.events_for("New Segment")[0].time_s == 0.0


def test_brainvision_channels_rate_duration_values(bv_file):
    path, data = bv_file
    rec = read(path)
    assert rec.format == "BrainVision"
    assert rec.channel_names == ["FDI, R", "APB", "Trig"]  # "\1" unescaped to a comma
    assert rec.sampling_rate_hz == FS
    assert rec.duration_s() == pytest.approx(1.5)
    assert all(c.units_ok and c.to_uv == 1.0 for c in rec.channels)
    np.testing.assert_array_equal(rec.get_traces(), data)
    np.testing.assert_array_equal(rec.get_traces(7, 19, channels=["APB"]), data[7:19, [1]])


def test_brainvision_chunked_reads_match_whole(bv_file):
    path, data = bv_file
    rec = read(path)
    whole = rec.get_traces()
    pieces = [c.core for c in rec.iter_chunks(4_096, margin_samples=64)]
    np.testing.assert_array_equal(np.concatenate(pieces), whole)
    for c in rec.iter_chunks(10_000, margin_samples=100):
        a = c.start - c.margin_before
        np.testing.assert_array_equal(c.traces, data[a : c.stop + c.margin_after])


@pytest.mark.parametrize("fmt,unit,resolution", [("binary_float32", "µV", 0.1),
                                                 ("binary_int16", "µV", 0.1),
                                                 ("binary_int16", "mV", 0.001)])
def test_pybv_files(tmp_path, rng, fmt, unit, resolution):
    pybv = pytest.importorskip("pybv")
    fs = 5000.0
    uv = rng.uniform(-500, 500, size=(2, 12_000))
    scale = {"µV": 1e-6, "mV": 1e-6}[unit]  # pybv takes volts
    events = np.array([[250, 1], [7_777, 2]])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        pybv.write_brainvision(data=uv * scale, sfreq=fs, ch_names=["EMG1", "EMG2"],
                               fname_base="p", folder_out=str(tmp_path), events=events,
                               resolution=resolution, unit=unit, fmt=fmt)
    rec = read(tmp_path / "p.vhdr")
    assert rec.sampling_rate_hz == fs and rec.n_samples() == 12_000
    assert rec.channel_names == ["EMG1", "EMG2"]
    # int16 quantises to `resolution` in the file's unit
    step = resolution * (1e3 if unit == "mV" else 1.0)
    np.testing.assert_allclose(rec.get_traces(), uv.T, atol=step if "int" in fmt else 1e-3)
    stim = sorted(round(e.time_s * fs) for e in rec.events if e.label.startswith("Stimulus/"))
    assert stim == [250, 7_777]


def test_brainvision_float_resolution_applied(tmp_path):
    data = np.ones((100, 1), dtype=np.float32)
    path = write_brainvision(tmp_path / "r.vhdr", data, 1000, ["a"])
    text = path.read_text().replace("Ch1=a,,1,µV", "Ch1=a,,0.5,µV")
    path.write_text(text)
    np.testing.assert_allclose(read(path).get_traces()[:, 0], 0.5)


def test_brainvision_truncated_data_is_refused(bv_file):
    path, _ = bv_file
    eeg = path.with_suffix(".eeg")
    eeg.write_bytes(eeg.read_bytes()[:-6])  # not a whole frame any more
    with pytest.raises(InputError, match="truncated"):
        read(path)


def test_brainvision_missing_data_file(bv_file):
    path, _ = bv_file
    path.with_suffix(".eeg").unlink()
    with pytest.raises(InputError, match=r"rec\.vhdr"):
        read(path)


def test_brainvision_channel_selection(bv_file):
    path, data = bv_file
    rec = read(path, channels="Trig,APB")
    assert rec.channel_names == ["Trig", "APB"]
    np.testing.assert_array_equal(rec.get_traces(0, 50), data[:50, [2, 1]])
    with pytest.raises(InputError, match="no channel named 'XYZ'"):
        read(path, channels=["XYZ"])
