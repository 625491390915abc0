"""WFDB records: every common sample format, units, header/data consistency, real data."""

from __future__ import annotations

import numpy as np
import pytest

from motorsign.errors import InputError
from motorsign.io import read
from writers.wfdb_formats import write_wfdb_digital


def _write(tmp_path, fmt, rng, n=9_000, fs=4000, units=("mV", "uV")):
    import wfdb

    sig = np.column_stack([np.sin(np.arange(n) / 37.0) * 1.5, rng.uniform(-300, 300, n)])
    wfdb.wrsamp(f"r{fmt}", fs=fs, units=list(units), sig_name=["EMG", "EMG2"], p_signal=sig,
                fmt=[fmt, fmt], write_dir=str(tmp_path))
    return tmp_path / f"r{fmt}.hea", sig


@pytest.mark.parametrize("fmt", ["16", "212", "24", "32", "80"])
def test_wfdb_formats_round_trip(tmp_path, rng, fmt):
    import wfdb

    hea, sig = _write(tmp_path, fmt, rng)
    rec = read(hea)
    assert rec.format == "WFDB" and rec.sampling_rate_hz == 4000
    assert rec.n_samples() == 9_000 and rec.duration_s() == pytest.approx(2.25)
    assert rec.channel_names == ["EMG", "EMG2"]
    # compare with wfdb's own reading of the file (the format's quantisation is not ours)
    ref = wfdb.rdrecord(str(hea.with_suffix("")), physical=True).p_signal
    tr = rec.get_traces()
    np.testing.assert_allclose(tr[:, 0], ref[:, 0] * 1e3, rtol=1e-5, atol=1e-2)  # mV -> µV
    np.testing.assert_allclose(tr[:, 1], ref[:, 1], rtol=1e-5, atol=1e-2)
    # chunked reads give the same samples as the whole read
    pieces = np.concatenate([c.core for c in rec.iter_chunks(1_000, margin_samples=10)])
    np.testing.assert_array_equal(pieces, tr)


@pytest.mark.parametrize("fmt", ["61", "160", "8", "310", "311"])
def test_wfdb_formats_written_from_the_spec(tmp_path, rng, fmt):
    # digital values that every format can hold (10-bit range, small first differences)
    n = 3_001  # not a multiple of 3: the 10-bit formats end with a partial group
    d = np.clip(np.cumsum(rng.integers(-20, 21, n)), -500, 500)
    d[0] = 17
    hea = write_wfdb_digital(tmp_path, f"s{fmt}", fmt, d, fs=2000, gain=200.0, baseline=5)
    rec = read(hea)
    assert rec.n_samples() == n and rec.sampling_rate_hz == 2000
    expected_uv = (d - 5) / 200.0 * 1e3  # mV -> µV
    np.testing.assert_allclose(rec.get_traces()[:, 0], expected_uv, rtol=1e-6, atol=1e-3)
    np.testing.assert_allclose(rec.get_traces(1_234, 1_240)[:, 0], expected_uv[1_234:1_240],
                               rtol=1e-6, atol=1e-3)


def test_wfdb_format_61_is_big_endian(tmp_path):
    d = np.array([1, 256, -2, 300, 7] * 20)
    h61 = write_wfdb_digital(tmp_path, "b", "61", d, fs=1000, gain=1.0, units="uV")
    assert (tmp_path / "b.dat").read_bytes()[:4] == bytes([0, 1, 1, 0])
    np.testing.assert_array_equal(read(h61).get_traces()[:, 0], d.astype(np.float32))


def test_wfdb_units_case_insensitive(tmp_path, rng):
    hea, sig = _write(tmp_path, "16", rng)
    text = hea.read_text().replace("/mV", "/mv")
    hea.write_text(text)
    rec = read(hea)
    assert rec.channels[0].units == "mv" and rec.channels[0].to_uv == 1e3
    assert not rec.warnings


def test_wfdb_non_voltage_units_warn(tmp_path, rng):
    hea, _ = _write(tmp_path, "16", rng, units=("mV", "degC"))
    with pytest.warns(UserWarning, match="not a voltage"):
        rec = read(hea)
    assert rec.warnings and "EMG2" in rec.warnings[0]


def test_wfdb_header_longer_than_data_is_refused(tmp_path, rng):
    hea, _ = _write(tmp_path, "16", rng)
    lines = hea.read_text().splitlines()
    head = lines[0].split()
    head[3] = str(int(head[3]) * 2)
    hea.write_text("\n".join([" ".join(head)] + lines[1:]) + "\n")
    with pytest.raises(InputError, match=r"r16\.hea: the header says 18000 samples"):
        read(hea)


def test_wfdb_missing_dat(tmp_path, rng):
    hea, _ = _write(tmp_path, "16", rng)
    (tmp_path / "r16.dat").unlink()
    with pytest.raises(InputError, match="signal file r16.dat named in the header is missing"):
        read(hea)


def test_wfdb_annotations_become_events(tmp_path, rng):
    import wfdb

    hea, _ = _write(tmp_path, "16", rng)
    wfdb.wrann("r16", "atr", np.array([400, 4000]), symbol=["\"", "\""],
               aux_note=["TMS", "TMS"], fs=4000, write_dir=str(tmp_path))
    rec = read(hea)
    assert [e.label for e in rec.events] == ["atr/TMS", "atr/TMS"]
    assert [round(e.time_s * 4000) for e in rec.events] == [400, 4000]


@pytest.mark.realdata
def test_physionet_emg_healthy(realdata):
    rec = read(realdata / "physionet_emgdb" / "emg_healthy.hea")
    assert rec.sampling_rate_hz == 4000
    assert rec.n_samples() == 50_860
    assert rec.duration_s() == pytest.approx(12.715)
    assert rec.channels[0].units == "mV" and rec.channels[0].to_uv == 1000.0
    # the header: gain 10000/mV, baseline 0, first value -333 -> -0.0333 mV = -33.3 µV
    assert rec.get_traces(0, 1)[0, 0] == pytest.approx(-33.3, abs=1e-3)


@pytest.mark.realdata
def test_physionet_myopathy_lowercase_units(realdata):
    rec = read(realdata / "physionet_emgdb" / "emg_myopathy.hea")
    assert rec.channels[0].units == "mv" and rec.channels[0].units_ok
    assert rec.n_samples() == 110_337
    assert rec.get_traces(0, 1)[0, 0] == pytest.approx(-5.0, abs=1e-3)  # -50 / 10000 mV
