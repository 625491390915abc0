"""Epoched arrays: .npy/.csv/.mat v5/v7.3, layouts, sidecars, stimulus events, real files."""

from __future__ import annotations

import json
import warnings

import numpy as np
import pytest

from motorsign.errors import InputError
from motorsign.io import read
from motorsign.io.arrays import STIM_LABEL, resolve_layout


def _trials(rng, n_samples=300, n_trials=12):
    return rng.standard_normal((n_samples, n_trials)) * 20  # samples x trials


def _check(rec, arr_st, fs, stim):
    n_samples, n_trials = arr_st.shape
    assert rec.n_segments == n_trials and rec.n_samples(0) == n_samples
    assert rec.sampling_rate_hz == fs
    assert rec.duration_s() == pytest.approx(n_samples * n_trials / fs)
    ev = rec.events_for(STIM_LABEL)
    assert [e.segment for e in ev] == list(range(n_trials))
    assert all(round(e.time_s * fs) == stim and e.source == "epoch" for e in ev)
    for k in (0, n_trials - 1):
        np.testing.assert_allclose(rec.get_traces(segment=k)[:, 0], arr_st[:, k], rtol=1e-6)


def test_npy_samples_x_trials(tmp_path, rng):
    a = _trials(rng)
    np.save(tmp_path / "m.npy", a)
    rec = read(tmp_path / "m.npy", fs=5000, stim_sample=100, units="uV")
    _check(rec, a, 5000, 100)
    assert rec.annotations["layout"] == "samples_x_trials" and not rec.warnings


def test_npy_trials_x_samples_resolved_by_stim_sample(tmp_path, rng):
    a = _trials(rng, n_samples=2000, n_trials=5)
    np.save(tmp_path / "t.npy", a.T)  # 5 x 2000 like dimep
    rec = read(tmp_path / "t.npy", fs=1000, stim_sample=1000, units="uV")
    assert rec.annotations["layout"] == "trials_x_samples"
    _check(rec, a, 1000, 1000)


def test_layout_auto_ambiguous_warns_and_explicit_does_not(tmp_path, rng):
    a = _trials(rng, n_samples=451, n_trials=152)
    np.save(tmp_path / "a.npy", a)
    with pytest.warns(UserWarning, match="layout auto: both orientations"):
        rec = read(tmp_path / "a.npy", fs=3000, stim_sample=150, units="uV")
    assert rec.annotations["layout"] == "samples_x_trials"
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        rec = read(tmp_path / "a.npy", fs=3000, stim_sample=150, units="uV",
                   layout="trials_x_samples")
    assert rec.n_segments == 451 and rec.n_samples() == 152


def test_resolve_layout_never_contradicts_stim_sample():
    assert resolve_layout((5, 2000), "auto", 1000, None)[0] == 0
    assert resolve_layout((2000, 5), "auto", 1000, None)[0] == 1
    with pytest.raises(InputError, match="fits neither"):
        resolve_layout((50, 60), "auto", 100, None)
    with pytest.raises(InputError, match="outside the 5 samples"):
        resolve_layout((5, 2000), "samples_x_trials", 1000, None)


def test_csv_with_header(tmp_path, rng):
    a = _trials(rng, n_samples=200, n_trials=4)
    lines = [",".join(f"trial{i}" for i in range(4))] + [",".join(f"{v:.9g}" for v in r) for r in a]
    (tmp_path / "c.csv").write_text("\n".join(lines) + "\n")
    rec = read(tmp_path / "c.csv", fs=2000, stim_sample=40, units="mV")
    assert rec.channels[0].to_uv == 1e3
    np.testing.assert_allclose(rec.get_traces(segment=2)[:, 0], a[:, 2] * 1e3, rtol=1e-6)


def test_mat_v5_variable_choice(tmp_path, rng):
    import scipy.io

    a, b = _trials(rng), _trials(rng)
    scipy.io.savemat(tmp_path / "v5.mat", {"meps": a, "raw_meps": b, "label": "x"})
    with pytest.raises(InputError, match="several arrays.*meps 300x12, raw_meps 300x12"):
        read(tmp_path / "v5.mat", fs=3000, stim_sample=150)
    rec = read(tmp_path / "v5.mat", fs=3000, stim_sample=150, variable="raw_meps", units="uV")
    _check(rec, b, 3000, 150)
    assert rec.channel_names == ["raw_meps"]
    with pytest.raises(InputError, match="no variable 'emg' in the file; numeric variables are"):
        read(tmp_path / "v5.mat", fs=3000, stim_sample=150, variable="emg")


def test_mat_v73_through_h5py(tmp_path, rng):
    h5py = pytest.importorskip("h5py")
    a = _trials(rng, n_samples=120, n_trials=7)
    # MATLAB v7.3 stores a 120x7 array as a 7x120 HDF5 dataset (column-major)
    with h5py.File(tmp_path / "v73.mat", "w", userblock_size=512) as f:
        f.create_dataset("meps", data=a.T)
    with open(tmp_path / "v73.mat", "r+b") as fh:
        fh.write(b"MATLAB 7.3 MAT-file, written by a test".ljust(128, b" "))
    rec = read(tmp_path / "v73.mat", fs=3000, stim_sample=30, units="uV")
    _check(rec, a, 3000, 30)


def test_sidecar_and_flag_override(tmp_path, rng):
    import scipy.io

    a = _trials(rng)
    scipy.io.savemat(tmp_path / "s.mat", {"meps": a, "raw_meps": a * 2})
    (tmp_path / "s.json").write_text(json.dumps(
        {"sampling_rate_hz": 3000, "stim_sample": 150, "units": "uV", "variable": "raw_meps"}))
    rec = read(tmp_path / "s.mat")
    _check(rec, a * 2, 3000, 150)
    assert rec.annotations["sidecar"].endswith("s.json")
    rec = read(tmp_path / "s.mat", fs=6000, stim_sample=10, variable="meps")
    _check(rec, a, 6000, 10)


def test_missing_fs_names_the_flags(tmp_path, rng):
    np.save(tmp_path / "m.npy", _trials(rng))
    with pytest.raises(InputError, match=r"m\.npy: .*no sampling rate.*pass --fs HZ and "
                                         r"--stim-sample N or write them in a sidecar"):
        read(tmp_path / "m.npy")
    with pytest.raises(InputError, match="no stimulus sample: pass --stim-sample N"):
        read(tmp_path / "m.npy", fs=1000)


def test_units_missing_warns(tmp_path, rng):
    np.save(tmp_path / "m.npy", _trials(rng))
    with pytest.warns(UserWarning, match="not in microvolts"):
        rec = read(tmp_path / "m.npy", fs=1000, stim_sample=3)
    assert not rec.channels[0].units_ok and rec.warnings


def test_corrupt_npy(tmp_path):
    (tmp_path / "bad.npy").write_bytes(b"\x93NUMPY\x01\x00garbage")
    with pytest.raises(InputError, match=r"bad\.npy: cannot read this \.npy"):
        read(tmp_path / "bad.npy", fs=1000, stim_sample=1)


@pytest.mark.realdata
@pytest.mark.parametrize("name,variable,shape", [("ID01", None, (451, 152)),
                                                  ("ID03", "raw_meps", (601, 80)),
                                                  ("ID04", "meps", (601, 20))])
def test_mepfeatx_files(realdata, name, variable, shape):
    path = realdata / "mepfeatx" / "data" / f"{name}.mat"
    rec = read(path, fs=3000, stim_sample=150, variable=variable, units="uV",
               layout="samples_x_trials")
    assert (rec.n_samples(), rec.n_segments) == shape
    assert rec.sampling_rate_hz == 3000
    ev = rec.events_for(STIM_LABEL)
    assert len(ev) == shape[1] and ev[0].time_s == pytest.approx(0.05)


@pytest.mark.realdata
def test_mepfeatx_without_fs_is_one_clear_error(realdata):
    with pytest.raises(InputError, match="ID01.mat: an epoched array .451x152. carries no "
                                         "sampling rate and no stimulus sample"):
        read(realdata / "mepfeatx" / "data" / "ID01.mat")


@pytest.mark.realdata
def test_dimep_examples(realdata):
    path = realdata / "dimep" / "examples.npy"
    rec = read(path, fs=1000, stim_sample=1000, units="uV")
    assert rec.annotations["layout"] == "trials_x_samples"
    assert rec.n_segments == 5 and rec.n_samples() == 2000
    raw = np.load(path)
    np.testing.assert_allclose(rec.get_traces(segment=3)[:, 0], raw[3], rtol=1e-6)
