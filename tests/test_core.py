"""The data model, atomic outputs and the CLI shell."""

from __future__ import annotations

import json
import math
import subprocess
import sys

import numpy as np
import pytest

from motorsign.cli import VERBS, main
from motorsign.errors import InputError, MotorsignWarning
from motorsign.outputs import write_csv, write_json
from motorsign.recording import Event, Recording, units_to_uv_factor


@pytest.mark.parametrize(
    "units,factor",
    [("uV", 1.0), ("µV", 1.0), ("\u03bcV", 1.0), ("mV", 1e3), ("V", 1e6), ("1.0*mV", 1e3)],
)
def test_units_factor(units, factor):
    assert units_to_uv_factor(units) == factor


@pytest.mark.parametrize("units", [None, "", "degC", "a.u."])
def test_units_not_voltage_is_nan(units):
    assert math.isnan(units_to_uv_factor(units))


def test_from_array_converts_to_microvolts():
    data = np.arange(20, dtype=np.float64).reshape(10, 2) * 1e-3  # mV
    rec = Recording.from_array(data, 1000.0, ["a", "b"], units="mV")
    tr = rec.get_traces(2, 5, channels="b")
    assert tr.dtype == np.float32 and tr.shape == (3, 1)
    np.testing.assert_allclose(tr[:, 0], data[2:5, 1] * 1e3, rtol=1e-6)
    assert rec.duration_s() == pytest.approx(0.01)


def test_in_memory_reads_share_no_writable_memory():
    """Consecutive channels come back as a read-only view (no copy); others as a copy."""
    data = np.arange(30, dtype=np.float32).reshape(10, 3)
    rec = Recording.from_array(data, 1000.0, ["a", "b", "c"])
    view = rec.get_traces(1, 6)
    assert np.shares_memory(view, rec.backend.segments[0])
    with pytest.raises(ValueError):
        view[0, 0] = -1.0  # the caller's array cannot be changed through a read
    picked = rec.get_traces(1, 6, channels=["c", "a"])
    np.testing.assert_array_equal(picked, data[1:6][:, [2, 0]])
    picked[:] = 0.0  # a copy: writable, and the recording is untouched
    np.testing.assert_array_equal(rec.get_traces(1, 6), data[1:6])


def test_unknown_units_warn_and_stay_unscaled():
    with pytest.warns(MotorsignWarning, match="not a voltage"):
        rec = Recording.from_array(np.ones((5, 1)), 100.0, units="degC")
    assert rec.warnings and np.all(rec.get_traces() == 1.0)


def test_chunks_cover_segment_with_margins():
    x = np.arange(1000, dtype=np.float32)
    rec = Recording.from_array(x, 1000.0)
    chunks = list(rec.iter_chunks(300, margin_samples=10))
    assert [c.start for c in chunks] == [0, 300, 600, 900]
    np.testing.assert_array_equal(np.concatenate([c.core[:, 0] for c in chunks]), x)
    assert chunks[1].margin_before == 10 and chunks[-1].margin_after == 0


def test_unknown_channel_lists_names():
    rec = Recording.from_array(np.zeros((4, 2)), 10.0, ["EMG1", "EMG2"])
    with pytest.raises(InputError, match="EMG1, EMG2"):
        rec.get_traces(channels="EMG3")


def test_to_mne_has_emg_channels_and_annotations():
    rec = Recording.from_array(np.zeros((1000, 1)), 1000.0, ["FDI"],
                               events=[Event("TMS", 0.5)])
    raw = rec.to_mne()
    assert raw.get_channel_types() == ["emg"]
    assert list(raw.annotations.description) == ["TMS"]
    epochs = rec.to_mne_epochs("TMS", -0.1, 0.2)
    assert len(epochs) == 1


def test_write_csv_and_json_atomic(tmp_path):
    p = write_csv(tmp_path / "a" / "t.csv", [{"x": 1.5, "y": float("nan")}], ["x", "y"])
    assert p.read_text() == "x,y\n1.5,NaN\n"
    j = write_json(tmp_path / "s.json", {"v": np.float32(2.0), "n": float("nan")})
    assert json.loads(j.read_text()) == {"v": 2.0, "n": None}
    assert sorted(x.name for x in tmp_path.rglob("*")) == ["a", "s.json", "t.csv"]


def test_cli_lists_verbs(capsys):
    assert main([]) == 2
    out = capsys.readouterr().out
    for verb in VERBS:
        assert verb in out


def test_cli_unknown_verb_is_usage_error():
    with pytest.raises(SystemExit) as e:
        main(["frobnicate"])
    assert e.value.code == 2


def test_import_is_light():
    code = (
        "import sys, motorsign, motorsign.cli, motorsign.recording;"
        "heavy = [m for m in ('mne', 'matplotlib', 'dask', 'neo') if m in sys.modules];"
        "print(','.join(heavy))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


def test_written_files_follow_umask(tmp_path):
    import os

    old = os.umask(0o022)
    try:
        p = write_json(tmp_path / "x.json", {})
    finally:
        os.umask(old)
    assert p.stat().st_mode & 0o777 == 0o644


def test_cli_os_error_is_one_clean_line(tmp_path, capsys):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    code = main(["cmct", "--mep-latency", "21.5", "--f-latency", "27", "--m-latency", "3.5",
                 "--out", str(blocker / "sub" / "cmct.json")])
    err = capsys.readouterr().err.strip()
    assert code == 1 and "\n" not in err and "Errno" not in err and str(blocker) in err


def test_closed_pipe_is_quiet():
    # 2 MB of output into `head -c 1`: far more than a pipe buffer, so the
    # write is certain to hit a closed pipe.
    code = (
        "import sys; import motorsign.commands.cmct as m;"
        "m.run = lambda args: print('x' * 2_000_000) or 0;"
        "from motorsign.cli import main;"
        "sys.exit(main(['cmct', '--mep-latency', '21.5', '--f-latency', '27', '--m-latency', '3.5']))"
    )
    proc = subprocess.run(f'"{sys.executable}" -c "{code}" | head -c 1', shell=True,
                          capture_output=True, text=True)
    assert proc.stdout == "x"
    assert "Broken pipe" not in proc.stderr and "Traceback" not in proc.stderr
