"""Review cases for the readers and trigger specs: labels typed with other spacing, analog
thresholds that are not numbers, CSV exports with trailing delimiters or decimal commas,
3-D .mat variables."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.io

from motorsign.errors import InputError
from motorsign.io import read
from motorsign.io.triggers import resolve_trigger
from motorsign.recording import Event, Recording
from motorsign.simulate.brainvision import write_brainvision


@pytest.fixture
def bv(tmp_path, rng):
    fs = 5000
    x = rng.normal(0, 2, (fs * 5, 2)).astype(np.float32)
    marks = [("Stimulus", "S  1", fs, 1), ("Stimulus", "S  2", 2 * fs, 1), ("Stimulus", "S  1", 3 * fs, 1),
             ("Stimulus", "S 11", 4 * fs, 1)]
    p = tmp_path / "bv.vhdr"
    write_brainvision(p, x, fs, ["APB", "FDI"], markers=marks)
    return read(p)


def test_trigger_label_exact_with_its_two_spaces(bv):
    assert [e.time_s for e in resolve_trigger(bv, "Stimulus/S  1")] == pytest.approx([1.0, 3.0])
    assert [e.time_s for e in resolve_trigger(bv, "S  1")] == pytest.approx([1.0, 3.0])


@pytest.mark.parametrize("spec", ["Stimulus/S 1", "S 1", "S1", "Stimulus/S1", "stimulus/s 1"])
def test_trigger_label_typed_with_other_spacing_or_case_matches_when_unambiguous(bv, spec):
    # BrainVision pads marker numbers to three characters ("S  1"); a user types "S 1" or "S1"
    assert [e.time_s for e in resolve_trigger(bv, spec)] == pytest.approx([1.0, 3.0])


def test_relaxed_trigger_match_refuses_what_it_cannot_tell_apart():
    evs = [Event("Stimulus/S  1", 1.0), Event("Stimulus/S 1", 2.0)]
    rec = Recording.from_array(np.zeros((20_000, 1), np.float32), 5000.0, ["APB"], events=evs)
    with pytest.raises(InputError, match="ambiguous"):
        resolve_trigger(rec, "S1")


def test_analog_trigger_with_a_threshold_that_is_not_a_number(bv):
    with pytest.raises(InputError, match="threshold 'abc' .*not a number"):
        resolve_trigger(bv, "analog:APB:abc")


def test_csv_with_a_trailing_delimiter_on_every_line(tmp_path):
    x = np.arange(12.0).reshape(4, 3)
    p = tmp_path / "trail.csv"
    p.write_text("".join(",".join(f"{v:g}" for v in row) + ",\n" for row in x))
    rec = read(p, fs=1000, stim_sample=1, units="uV", layout="samples_x_trials")
    assert rec.n_segments == 3 and rec.n_samples(0) == 4
    np.testing.assert_array_equal(rec.get_traces(segment=2)[:, 0], x[:, 2])


def test_csv_with_semicolons_and_decimal_commas(tmp_path):
    # European LabChart/Excel export: ';' separates fields, ',' is the decimal mark
    x = np.array([[1.5, -2.25], [3.0, 4.125], [0.5, 0.0]])
    p = tmp_path / "semi.csv"
    p.write_text("t1;t2\n" + "".join(";".join(f"{v}".replace(".", ",") for v in row) + "\n" for row in x))
    rec = read(p, fs=1000, stim_sample=1, units="uV", layout="samples_x_trials")
    np.testing.assert_array_equal(rec.get_traces(segment=0)[:, 0], x[:, 0])
    np.testing.assert_array_equal(rec.get_traces(segment=1)[:, 0], x[:, 1])


def test_mat_with_only_a_3d_variable_names_it_and_its_shape(tmp_path):
    p = tmp_path / "three.mat"
    scipy.io.savemat(p, {"meps": np.zeros((100, 5, 2))})
    with pytest.raises(InputError, match=r"meps 100x5x2"):
        read(p, fs=1000, stim_sample=10)
    with pytest.raises(InputError, match=r"'meps' is 100x5x2.*1-D or 2-D"):
        read(p, fs=1000, stim_sample=10, variable="meps")


@pytest.mark.parametrize("shape", [(0, 100), (100, 0)])
def test_epoched_array_without_trials_or_samples_is_an_input_error(tmp_path, shape):
    p = tmp_path / "empty.npy"
    np.save(p, np.zeros(shape))
    with pytest.raises(InputError, match="no trials|no samples"):
        read(p, fs=1000, stim_sample=0, units="uV")


def test_complex_npy_is_refused(tmp_path):
    p = tmp_path / "c.npy"
    np.save(p, np.zeros((100, 3), complex))
    with pytest.raises(InputError, match="complex"):
        read(p, fs=1000, stim_sample=0, units="uV")


def test_units_option_that_is_not_a_voltage_is_an_error_for_arrays(tmp_path):
    p = tmp_path / "a.npy"
    np.save(p, np.zeros((100, 3)))
    with pytest.raises(InputError, match="furlongs.*not a voltage"):
        read(p, fs=1000, stim_sample=10, units="furlongs")
    # a sidecar with non-voltage units is the file's statement: a warning, values unscaled
    (tmp_path / "a.json").write_text('{"units": "a.u."}')
    with pytest.warns(Warning, match="not a voltage"):
        rec = read(p, fs=1000, stim_sample=10)
    assert not rec.channels[0].units_ok
