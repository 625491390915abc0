"""Spike2, Axon, Intan, Micromed and WinEDR files written from their specs, read through neo.

Each test writes a small file with a writer from ``tests/writers`` (pyabf for
ABF1), reads it with :func:`motorsign.io.read` and checks rate, duration,
channels, values (exact to the format's quantisation), events on their
sample, and that chunked reads equal whole reads.
"""

from __future__ import annotations

import numpy as np
import pytest

from motorsign.errors import InputError
from motorsign.io import read
from motorsign.io.formats import FORMATS
from motorsign.io.triggers import resolve_trigger
from writers.intan import write_rhd, write_rhs
from writers.micromed import trc_physical, write_trc
from writers.spike2 import write_smr
from writers.winedr import edr_physical, write_edr


def _chunks_equal_whole(rec, segment=0):
    whole = rec.get_traces(segment=segment)
    parts = np.concatenate([c.core for c in rec.iter_chunks(333, 7, segment=segment)])
    np.testing.assert_array_equal(parts, whole)
    return whole


def test_spike2(tmp_path, rng):
    adc = rng.integers(-30_000, 30_000, (5_500, 3))
    p = write_smr(tmp_path / "r.smr", adc, 10_000, ["FDI", "APB", "ADM"], ["mV", "mV", "uV"],
                  [1.0, 5.0, 2.0], [0.0, 0.1, 0.0],
                  events={"TMS": [10_000, 250_000]}, markers={"Keys": [(100_000, 65)]})
    rec = read(p)
    assert rec.format == "Spike2" and rec.sampling_rate_hz == 10_000
    assert rec.channel_names == ["FDI", "APB", "ADM"]  # one stream though neo splits them by gain
    assert rec.duration_s() == pytest.approx(0.55)
    expect = adc * np.array([1.0, 5.0, 2.0]) / 6553.6 + np.array([0.0, 0.1, 0.0])
    whole = _chunks_equal_whole(rec)
    np.testing.assert_allclose(whole, expect * np.array([1e3, 1e3, 1.0]), rtol=1e-6, atol=1e-3)
    np.testing.assert_allclose(rec.get_traces(10, 20, channels=["ADM", "FDI"]),
                               whole[10:20][:, [2, 0]])
    # event ticks are 1 µs: 10000 ticks = sample 100 at 10 kHz
    assert [round(e.time_s * 10_000) for e in resolve_trigger(rec, "TMS")] == [100, 2_500]
    assert [e.label for e in rec.events_for("Keys/65")] == ["Keys/65"]


def test_axon_abf1_episodes(tmp_path, rng):
    pyabf = pytest.importorskip("pyabf")
    from pyabf import abfWriter

    sweeps = rng.uniform(-5, 5, (4, 2_000))  # mV
    abfWriter.writeABF1(sweeps, str(tmp_path / "r.abf"), 10_000, units="mV")
    rec = read(tmp_path / "r.abf")
    assert rec.format == "Axon ABF" and rec.sampling_rate_hz == 10_000
    assert rec.n_segments == 4 and rec.n_samples(0) == 2_000
    assert [s.t_start_s for s in rec.segments] == pytest.approx([0.0, 0.2, 0.4, 0.6])
    ref = pyabf.ABF(str(tmp_path / "r.abf"))
    for k in range(4):
        ref.setSweep(k)
        whole = _chunks_equal_whole(rec, segment=k)
        np.testing.assert_allclose(whole[:, 0], ref.sweepY * 1e3, rtol=1e-6)
        np.testing.assert_allclose(whole[:, 0], sweeps[k] * 1e3, atol=0.5)  # 16-bit step


def test_intan_rhd(tmp_path, rng):
    raw = rng.integers(0, 65_535, (6_000, 2))
    p = write_rhd(tmp_path / "r.rhd", raw, 20_000, ["FDI", "APB"])
    rec = read(p)
    assert rec.format == "Intan RHD" and rec.sampling_rate_hz == 20_000
    assert rec.channel_names == ["FDI", "APB"] and rec.duration_s() == pytest.approx(0.3)
    whole = _chunks_equal_whole(rec)
    np.testing.assert_allclose(whole, 0.195 * (raw - 32_768.0), atol=1e-3)


def test_intan_rhs_picks_the_voltage_stream(tmp_path, rng):
    raw = rng.integers(0, 65_535, (1_280, 2))
    p = write_rhs(tmp_path / "r.rhs", raw, 30_000, ["FDI", "APB"])
    rec = read(p)  # the stim stream is in amperes, so the amplifier stream is the EMG
    assert rec.format == "Intan RHS" and rec.stream == "RHS2000 amplifier channel"
    assert rec.streams == ("RHS2000 amplifier channel", "Stim channel")
    assert rec.n_samples() == 1_280 and rec.sampling_rate_hz == 30_000
    whole = _chunks_equal_whole(rec)
    np.testing.assert_allclose(whole, 0.195 * (raw - 32_768.0), atol=1e-3)


def test_intan_two_streams_must_be_chosen(tmp_path, rng):
    raw = rng.integers(0, 65_535, (600, 2))
    adc = rng.integers(0, 65_535, (600, 1))
    p = write_rhd(tmp_path / "r.rhd", raw, 20_000, ["FDI", "APB"], adc_raw=adc)
    with pytest.raises(InputError, match="2 signal streams; choose one with stream=/--stream: "
                                         "0: 'RHD2000 amplifier channel'; 1: 'USB board ADC"):
        read(p)
    amp = read(p, stream="RHD2000 amplifier channel")
    assert amp.channel_names == ["FDI", "APB"]
    board = read(p, stream=1)
    assert board.channels[0].units == "V"
    np.testing.assert_allclose(board.get_traces()[:, 0], 50.354e-6 * adc[:, 0] * 1e6, rtol=1e-5)
    with pytest.raises(InputError, match="no signal stream 'aux'"):
        read(p, stream="aux")


def test_micromed_trc(tmp_path, rng):
    raw = rng.integers(0, 65_535, (4_096, 2))
    ranges = [(-3_200, 3_200), (-10, 10)]
    p = write_trc(tmp_path / "r.TRC", raw, 2_048, ["EMG1", "EMG2"], ["uV", "mV"], ranges,
                  triggers=[(100, 1), (2_000, 2)], notes=[(500, "rest")])
    rec = read(p)
    assert rec.format == "Micromed TRC" and rec.sampling_rate_hz == 2_048
    assert rec.duration_s() == pytest.approx(2.0)
    whole = _chunks_equal_whole(rec)
    np.testing.assert_allclose(whole, trc_physical(raw, ranges) * np.array([1.0, 1e3]),
                               rtol=1e-6, atol=1e-3)
    trig = resolve_trigger(rec, "Trigger")
    assert [round(e.time_s * 2_048) for e in trig] == [100, 2_000]
    assert [e.label for e in trig] == ["Trigger/1", "Trigger/2"]
    assert [round(e.time_s * 2_048) for e in rec.events_for("Note/rest")] == [500]


def test_winedr(tmp_path, rng):
    adc = rng.integers(-2_000, 2_000, (5_000, 2))
    p = write_edr(tmp_path / "r.EDR", adc, 1e-4, ["EMG1", "EMG2"], ["mV", "mV"],
                  [0.001, 0.001], [1.0, 10.0], [0, 5])
    rec = read(p)
    assert rec.format == "WinEDR" and rec.sampling_rate_hz == pytest.approx(10_000)
    assert rec.channel_names == ["EMG1", "EMG2"] and rec.n_samples() == 5_000
    whole = _chunks_equal_whole(rec)
    expect = edr_physical(adc, [0.001, 0.001], [1.0, 10.0], [0, 5]) * 1e3
    np.testing.assert_allclose(whole, expect, rtol=1e-6)


def test_format_map_covers_the_required_neo_extensions():
    neo_ext = {e for e, f in FORMATS.items() if f.reader == "neo"}
    assert {".vhdr", ".edf", ".bdf", ".smr", ".abf", ".rhd", ".rhs", ".trc", ".edr"} <= neo_ext
