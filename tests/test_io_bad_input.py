"""Bad input: each case exits 1 with one line that names the file and the problem."""

from __future__ import annotations

import numpy as np
import pytest

from motorsign.cli import main
from motorsign.simulate.brainvision import write_brainvision


def _run(capsys, *argv):
    code = main(list(argv))
    err = capsys.readouterr().err
    return code, err


def _one_line_naming(err: str, path) -> str:
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert len(lines) == 1, err
    assert lines[0].startswith("motorsign info: error: ")
    assert str(path) in lines[0]
    assert "Traceback" not in err
    return lines[0]


def test_missing_file(capsys, tmp_path):
    p = tmp_path / "nothere.vhdr"
    code, err = _run(capsys, "info", str(p))
    assert code == 1
    assert "file not found" in _one_line_naming(err, p)


def test_unknown_extension_lists_supported(capsys, tmp_path):
    p = tmp_path / "rec.xyz"
    p.write_text("hello")
    code, err = _run(capsys, "info", str(p))
    line = _one_line_naming(err, p)
    assert code == 1 and "unknown file type '.xyz'" in line
    for ext in (".vhdr", ".edf", ".bdf", ".smr", ".abf", ".rhd", ".trc", ".edr", ".hea", ".mat"):
        assert ext in line


def test_data_file_instead_of_header(capsys, tmp_path):
    p = tmp_path / "rec.eeg"
    p.write_bytes(b"\0" * 16)
    code, err = _run(capsys, "info", str(p))
    assert code == 1 and "open the .vhdr header file instead" in _one_line_naming(err, p)


@pytest.mark.parametrize("ext", [".vhdr", ".edf", ".bdf", ".hea", ".mat", ".npy", ".csv", ".smr",
                                 ".abf", ".rhd", ".trc", ".edr"])
def test_empty_file(capsys, tmp_path, ext):
    p = tmp_path / f"empty{ext}"
    p.write_bytes(b"")
    code, err = _run(capsys, "info", str(p), "--fs", "1000", "--stim-sample", "1")
    assert code == 1 and "is empty (0 bytes)" in _one_line_naming(err, p)


@pytest.mark.parametrize("ext", [".smr", ".abf", ".rhd", ".rhs", ".trc", ".edr", ".mat"])
def test_garbage_file(capsys, tmp_path, ext):
    p = tmp_path / f"junk{ext}"
    p.write_bytes(np.random.default_rng(1).integers(0, 256, 4096, dtype=np.uint8).tobytes())
    code, err = _run(capsys, "info", str(p), "--fs", "1000", "--stim-sample", "1")
    line = _one_line_naming(err, p)
    assert code == 1
    assert "cannot" in line or "corrupt" in line or "truncated" in line or "not a valid" in line


def test_truncated_brainvision(capsys, tmp_path):
    p = write_brainvision(tmp_path / "t.vhdr", np.zeros((1000, 3), np.float32), 1000, list("abc"))
    eeg = p.with_suffix(".eeg")
    eeg.write_bytes(eeg.read_bytes()[:-2])
    code, err = _run(capsys, "info", str(p))
    assert code == 1 and "truncated" in _one_line_naming(err, p)


def test_header_contradicts_data_wfdb(capsys, tmp_path):
    import wfdb

    wfdb.wrsamp("w", fs=1000, units=["mV"], sig_name=["EMG"], p_signal=np.zeros((500, 1)),
                fmt=["16"], write_dir=str(tmp_path))
    hea = tmp_path / "w.hea"
    hea.write_text(hea.read_text().replace(" 1000 500", " 1000 5000", 1))
    code, err = _run(capsys, "info", str(hea))
    assert code == 1
    assert "the header says 5000 samples" in _one_line_naming(err, hea)


def test_mat_without_named_variable(capsys, tmp_path):
    import scipy.io

    p = tmp_path / "m.mat"
    scipy.io.savemat(p, {"meps": np.zeros((100, 4))})
    code, err = _run(capsys, "info", str(p), "--fs", "3000", "--stim-sample", "10",
                     "--variable", "raw_meps")
    line = _one_line_naming(err, p)
    assert code == 1 and "no variable 'raw_meps'" in line and "meps 100x4" in line


def test_trigger_channel_that_does_not_exist(tmp_path):
    from motorsign.errors import InputError
    from motorsign.io import read
    from motorsign.io.triggers import resolve_trigger

    p = write_brainvision(tmp_path / "t.vhdr", np.zeros((1000, 1), np.float32), 1000, ["EMG"],
                          [("Stimulus", "TMS", 10, 1)])
    rec = read(p)
    with pytest.raises(InputError) as exc:
        resolve_trigger(rec, "analog:TRIG")
    msg = str(exc.value)
    assert str(p) in msg and "'TRIG' does not exist" in msg and "'Stimulus/TMS' (1)" in msg
    assert "\n" not in msg


def test_trigger_channel_that_does_not_exist_cli(capsys, tmp_path):
    p = write_brainvision(tmp_path / "t.vhdr", np.zeros((1000, 1), np.float32), 1000, ["EMG"],
                          [("Stimulus", "TMS", 10, 1)])
    code, err = _run(capsys, "info", str(p), "--trigger", "analog:TRIG")
    line = _one_line_naming(err, p)
    assert code == 1 and "trigger channel 'TRIG' does not exist" in line
    code, err = _run(capsys, "info", str(p), "--trigger", "R 1")
    assert code == 1 and "matches no event or channel" in _one_line_naming(err, p)
    assert main(["info", str(p), "--trigger", "TMS"]) == 0
    assert "'TMS': 1 event(s) at 0.010000 s" in capsys.readouterr().out


def test_mat_v73_without_h5py(monkeypatch, tmp_path):
    import sys

    from motorsign.errors import InputError
    from motorsign.io import read

    p = tmp_path / "v73.mat"
    p.write_bytes(b"MATLAB 7.3 MAT-file".ljust(128, b" ") + b"\x89HDF\r\n\x1a\n" + b"\0" * 64)
    monkeypatch.setitem(sys.modules, "h5py", None)  # import h5py now fails
    with pytest.raises(InputError, match=r"v73\.mat: this is a MATLAB v7.3 \(HDF5\) file; "
                                         r"reading it needs h5py"):
        read(p, fs=1000, stim_sample=0)


def test_debug_shows_traceback(tmp_path):
    from motorsign.errors import InputError

    with pytest.raises(InputError):
        main(["info", str(tmp_path / "nothere.hea"), "--debug"])
