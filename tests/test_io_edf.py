"""EDF and BDF through neo's EDFRawIO header + motorsign's exact EDF scaling.

Files come from our spec writer (``tests/writers/edf.py``: EDF+C and BDF+C,
with annotations) and from edfio (EDF only: edfio cannot write BDF).
"""

from __future__ import annotations

import numpy as np
import pytest

from motorsign.errors import InputError
from motorsign.io import read
from writers.edf import digital_to_physical, write_edf

RANGES = [(-1000.0, 1000.0), (-2.0, 2.0)]


@pytest.fixture(params=[False, True], ids=["edf", "bdf"])
def edf_file(request, tmp_path, rng):
    bdf = request.param
    x = np.column_stack([rng.uniform(-900, 900, 12_000), rng.uniform(-1.5, 1.5, 12_000)])
    path = write_edf(tmp_path / ("rec.bdf" if bdf else "rec.edf"), x, 2000, ["FDI", "APB"],
                     ["uV", "mV"], RANGES, bdf=bdf,
                     annotations=[(1.0005, None, "TMS"), (4.25, 0.5, "rest")])
    return path, x, bdf


def test_edf_bdf_round_trip(edf_file):
    path, x, bdf = edf_file
    rec = read(path)
    assert rec.format == ("BDF" if bdf else "EDF")
    assert rec.sampling_rate_hz == 2000 and rec.duration_s() == pytest.approx(6.0)
    assert rec.channel_names == ["FDI", "APB"]
    assert [c.units for c in rec.channels] == ["uV", "mV"]
    expect = digital_to_physical(x, RANGES, bdf) * np.array([1.0, 1e3])  # -> µV
    tr = rec.get_traces()
    # exact EDF scaling (neo's own divides by digital range + 1 and wraps BDF to int16)
    np.testing.assert_allclose(tr, expect, rtol=2e-7, atol=1e-4)
    if bdf:  # 24-bit resolution really is there
        assert np.abs(tr[:, 0] - x[:, 0]).max() < 2000 / 2**24
    chunks = np.concatenate([c.core for c in rec.iter_chunks(777, 5)])
    np.testing.assert_array_equal(chunks, tr)


def test_edf_annotations_are_events(edf_file):
    path, *_ = edf_file
    rec = read(path)
    assert [(e.label, e.time_s) for e in rec.events] == [("TMS", 1.0005), ("rest", 4.25)]
    assert rec.events[0].duration_s == 0.0 and rec.events[1].duration_s == pytest.approx(0.5)


def test_edfio_file(tmp_path, rng):
    edfio = pytest.importorskip("edfio")
    x = rng.uniform(-900, 900, 8000)
    edfio.Edf([edfio.EdfSignal(x, sampling_frequency=1000, label="TA",
                               physical_dimension="uV", physical_range=(-1000, 1000))],
              annotations=[edfio.EdfAnnotation(2.5, None, "Stim")]).write(tmp_path / "e.edf")
    ref = edfio.read_edf(tmp_path / "e.edf").signals[0].data
    rec = read(tmp_path / "e.edf")
    assert rec.sampling_rate_hz == 1000 and rec.n_samples() == 8000
    np.testing.assert_allclose(rec.get_traces()[:, 0], ref, atol=1e-4)
    assert [(e.label, e.time_s) for e in rec.events] == [("Stim", 2.5)]


def test_edf_truncated(edf_file):
    path, *_ = edf_file
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(InputError, match=r"rec\.[eb]df: cannot read this [EB]DF file"):
        read(path)


def test_edf_header_garbage(tmp_path):
    p = tmp_path / "x.edf"
    p.write_bytes(b"this is not an EDF header" * 20)
    with pytest.raises(InputError, match=r"x\.edf: not a valid EDF file: the signature"):
        read(p)
    p.write_bytes(b"0       " + b"garbage header" * 30)
    with pytest.raises(InputError, match=r"x\.edf: cannot read this EDF file"):
        read(p)
