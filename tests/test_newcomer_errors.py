"""Mistakes a new user makes: each gives exit 1 and one clear line on stderr (or a warning)."""

from __future__ import annotations

import shutil
import warnings

import numpy as np
import pytest

from motorsign.cli import _format_warning, main
from motorsign.errors import MotorsignWarning
from motorsign.simulate.brainvision import write_brainvision


def _err(capsys) -> str:
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1, err
    assert "Traceback" not in err[0]
    return err[0]


@pytest.fixture
def vhdr(tmp_path):
    return write_brainvision(tmp_path / "r.vhdr", np.zeros((4000, 1), np.float32), 1000, ["APB"],
                             [("Stimulus", "TMS", 500, 1), ("Stimulus", "TMS", 3500, 1)])


def test_folder_instead_of_recording(capsys, tmp_path):
    assert main(["info", str(tmp_path)]) == 1
    assert "is a folder, not a recording file" in _err(capsys)


def test_out_is_an_existing_file(capsys, tmp_path, vhdr):
    f = tmp_path / "afile"
    f.write_text("x")
    assert main(["detect", str(vhdr), "--out", str(f)]) == 1
    assert "--out exists and is a file, not a folder" in _err(capsys)


def test_missing_brainvision_companion(capsys, vhdr):
    vhdr.with_suffix(".eeg").unlink()
    assert main(["info", str(vhdr)]) == 1
    line = _err(capsys)
    assert "r.eeg not found next to it" in line and "corrupt" not in line


def test_truncated_eeg_warns_about_markers_after_the_end(tmp_path, vhdr):
    from motorsign import read

    eeg = vhdr.with_suffix(".eeg")
    eeg.write_bytes(eeg.read_bytes()[: 2000 * 4])  # whole samples: only the markers tell
    with pytest.warns(MotorsignWarning, match="after the end of the data"):
        rec = read(vhdr)
    assert any("truncated" in w for w in rec.warnings)


def test_untruncated_eeg_does_not_warn(vhdr):
    from motorsign import read

    with warnings.catch_warnings():
        warnings.simplefilter("error", MotorsignWarning)
        read(vhdr)


def test_warning_is_one_line_without_source():
    line = _format_warning("f.npy: units missing\n  more", MotorsignWarning, "/x/arrays.py", 42, "src")
    assert line == "f.npy: units missing more"
    assert "\n" not in _format_warning("w", UserWarning, "/x/y.py", 3, "src")


@pytest.mark.parametrize("kind", ["needle-emg", "hdsemg", "voluntary-emg"])
def test_simulate_infinite_duration(capsys, tmp_path, kind):
    assert main(["simulate", kind, "--out", str(tmp_path / "s"), "--duration-s", "inf"]) == 1
    assert "--duration-s must be a finite" in _err(capsys)


def _cmct_failing_with(monkeypatch, run) -> int:
    """Exit code of ``motorsign cmct`` whose ``run`` is replaced by ``run``."""
    import motorsign.commands.cmct as cmct

    monkeypatch.setattr(cmct, "run", run)
    return main(["cmct", "--mep-latency", "20", "--f-latency", "27", "--m-latency", "3"])


def test_memory_error_is_one_line(capsys, monkeypatch):
    def boom(args):
        raise MemoryError("Unable to allocate 146. TiB")

    assert _cmct_failing_with(monkeypatch, boom) == 1
    assert "not enough memory" in _err(capsys)


@pytest.mark.parametrize("wrapped", [True, False])
def test_ctrl_c_inside_compiled_code_is_an_interrupt(capsys, monkeypatch, wrapped):
    def interrupted(args):
        try:
            raise KeyboardInterrupt
        except KeyboardInterrupt as ki:
            if not wrapped:
                raise
            # what a C/numba call returning with the interrupt pending raises
            raise SystemError("<built-in function x> returned a result with an exception set") from ki

    assert _cmct_failing_with(monkeypatch, interrupted) == 130
    err = _err(capsys)
    assert "interrupted" in err and "internal error" not in err


def test_system_error_without_interrupt_stays_an_internal_error(capsys, monkeypatch):
    def bug(args):
        raise SystemError("a real bug")

    assert _cmct_failing_with(monkeypatch, bug) == 1
    assert "internal error SystemError" in _err(capsys)


@pytest.mark.parametrize("argv, text", [
    (["--mep-latency", "-21.5", "--f-latency", "27", "--m-latency", "3.5"], "--mep-latency must be a positive"),
    (["--mep-latency", "nan", "--f-latency", "27", "--m-latency", "3.5"], "--mep-latency must be a positive"),
    (["--mep-latency", "21.5", "--f-latency", "3.5", "--m-latency", "27"], "are the two swapped"),
])
def test_cmct_impossible_latencies(capsys, argv, text):
    assert main(["cmct", *argv]) == 1
    assert text in _err(capsys)


def test_score_swapped_files(capsys, tmp_path):
    truth = tmp_path / "truth.csv"
    truth.write_text("trial,channel,present,onset_ms\n0,APB,True,20.0\n")
    res = tmp_path / "meps.csv"
    res.write_text("trial,channel,present,onset_ms,method,flags\n0,APB,True,20.1,consensus,\n")
    assert main(["score", "mep", "--truth", str(truth), "--detected", str(res)]) == 0
    capsys.readouterr()
    assert main(["score", "mep", "--truth", str(res), "--detected", str(truth)]) == 1
    assert "swapped" in _err(capsys)


def test_score_names_the_file_lacking_columns(capsys, tmp_path):
    truth = tmp_path / "truth.csv"
    truth.write_text("channel,time_s,kind\nA,1.0,fibrillation\n")
    res = tmp_path / "meps.csv"
    res.write_text("trial,channel,present,onset_ms,method,flags\n0,APB,True,20.1,consensus,\n")
    assert main(["score", "mep", "--truth", str(truth), "--detected", str(res)]) == 1
    assert _err(capsys).startswith(f"motorsign score: error: {truth}: truth table lacks")


def test_score_folder(capsys, tmp_path):
    truth = tmp_path / "truth.csv"
    truth.write_text("trial,channel,present,onset_ms\n0,APB,True,20.0\n")
    assert main(["score", "mep", "--truth", str(truth), "--detected", str(tmp_path)]) == 1
    assert "is a folder" in _err(capsys)


def test_copied_sample_without_eeg_is_not_called_corrupt(capsys, tmp_path):
    from pathlib import Path

    sample = Path(__file__).resolve().parents[1] / "sample_data" / "needle_ta_r.vhdr"
    if not sample.is_file():
        pytest.skip("no sample data")
    shutil.copy(sample, tmp_path / sample.name)
    shutil.copy(sample.with_suffix(".vmrk"), tmp_path / "needle_ta_r.vmrk")
    assert main(["info", str(tmp_path / sample.name)]) == 1
    assert "needle_ta_r.eeg not found" in _err(capsys)


def test_units_override_of_declared_units_warns(vhdr):
    from motorsign import read

    with pytest.warns(MotorsignWarning, match="overrides the units the file declares"):
        rec = read(vhdr, units="mV")
    assert rec.channels[0].to_uv == pytest.approx(1000.0)
    with warnings.catch_warnings():
        warnings.simplefilter("error", MotorsignWarning)
        read(vhdr, units="uV")


def test_unknown_muscle_warns_once(caplog):
    with caplog.at_level("WARNING", logger="motorsign"):
        assert main(["cmct", "--mep-latency", "21.5", "--f-latency", "27", "--m-latency", "3.5",
                     "--muscle", "FDIX"]) == 0
    msgs = [r.getMessage() for r in caplog.records if "catalog" in r.getMessage()]
    assert len(msgs) == 1 and "did you mean FDI" in msgs[0]
    caplog.clear()
    with caplog.at_level("WARNING", logger="motorsign"):
        assert main(["cmct", "--mep-latency", "21.5", "--f-latency", "27", "--m-latency", "3.5",
                     "--muscle", "APB"]) == 0
    assert not [r for r in caplog.records if "catalog" in r.getMessage()]


def test_out_that_cannot_be_created_is_named(capsys, tmp_path):
    blocker = tmp_path / "afile"
    blocker.write_text("x")  # a file where a parent folder of --out should be
    out = blocker / "sub"
    assert main(["simulate", "needle-emg", "--out", str(out), "--duration-s", "1"]) == 1
    line = _err(capsys)
    assert "cannot write the --out folder" in line and str(blocker) in line
