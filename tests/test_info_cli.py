"""``motorsign info``: text and JSON on real and written files; no MNE/matplotlib import."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

from motorsign.cli import main
from motorsign.simulate.brainvision import write_brainvision


def _info_json(capsys, *argv):
    assert main(["info", *argv, "--json"]) == 0
    return json.loads(capsys.readouterr().out)


def test_info_brainvision_json(capsys, tmp_path):
    p = write_brainvision(tmp_path / "r.vhdr", np.zeros((40_000, 2), np.float32), 20_000,
                          ["FDI", "ADM"], [("Stimulus", "TMS", 100, 1), ("Stimulus", "TMS", 900, 1)])
    d = _info_json(capsys, str(p))
    assert d["format"] == "BrainVision" and d["sampling_rate_hz"] == 20_000
    assert d["duration_s"] == 2.0 and d["n_segments"] == 1
    assert [(c["name"], c["units"], c["n_samples"]) for c in d["channels"]] == [
        ("FDI", "uV", 40_000), ("ADM", "uV", 40_000)]
    assert {e["label"]: e["count"] for e in d["events"]} == {"New Segment": 1, "Stimulus/TMS": 2}
    assert d["warnings"] == []


def test_info_text(capsys, tmp_path):
    p = write_brainvision(tmp_path / "r.vhdr", np.zeros((1000, 1), np.float32), 1000, ["TA"],
                          [("Stimulus", "S  1", 10, 1)])
    assert main(["info", str(p)]) == 0
    out = capsys.readouterr().out
    assert "format:      BrainVision" in out and "Stimulus/S  1  1" in out
    assert "duration:    1 s" in out


@pytest.mark.realdata
def test_info_physionet(capsys, realdata):
    d = _info_json(capsys, str(realdata / "physionet_emgdb" / "emg_healthy.hea"))
    assert d["format"] == "WFDB" and d["sampling_rate_hz"] == 4000
    assert d["duration_s"] == pytest.approx(12.715)
    assert d["channels"][0]["units"] == "mV" and d["channels"][0]["n_samples"] == 50_860


@pytest.mark.realdata
def test_info_mepfeatx(capsys, realdata):
    d = _info_json(capsys, str(realdata / "mepfeatx" / "data" / "ID03.mat"), "--fs", "3000",
                   "--stim-sample", "150", "--units", "uV")
    assert d["format"] == "epoched-mat" and d["sampling_rate_hz"] == 3000
    assert d["n_segments"] == 80 and d["samples_per_segment"] == 601
    assert d["annotations"]["stim_sample"] == 150
    assert d["variables"] == {"meps": [601, 80], "raw_meps": [601, 80]}
    assert any("choose with --variable" in w for w in d["warnings"])
    assert {e["label"]: e["count"] for e in d["events"]} == {"stimulus": 80}
    d = _info_json(capsys, str(realdata / "mepfeatx" / "data" / "ID01.mat"), "--fs", "3000",
                   "--stim-sample", "150", "--units", "uV", "--layout", "samples_x_trials")
    assert d["n_segments"] == 152 and d["samples_per_segment"] == 451 and d["warnings"] == []


@pytest.mark.realdata
def test_info_mepfeatx_needs_fs(capsys, realdata):
    p = realdata / "mepfeatx" / "data" / "ID01.mat"
    assert main(["info", str(p)]) == 1
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and str(p) in err and "--fs HZ and --stim-sample N" in err


@pytest.mark.realdata
def test_info_dimep(capsys, realdata):
    d = _info_json(capsys, str(realdata / "dimep" / "examples.npy"), "--fs", "1000",
                   "--stim-sample", "1000")
    assert d["n_segments"] == 5 and d["samples_per_segment"] == 2000
    assert d["annotations"]["layout"] == "trials_x_samples"
    assert d["channels"][0]["units_ok"] is False
    assert any("not in microvolts" in w for w in d["warnings"])  # units are not in the file


def test_info_does_not_import_mne_or_matplotlib(tmp_path):
    import wfdb

    wfdb.wrsamp("w", fs=1000, units=["mV"], sig_name=["EMG"], p_signal=np.zeros((100, 1)),
                fmt=["16"], write_dir=str(tmp_path))
    write_brainvision(tmp_path / "b.vhdr", np.zeros((100, 1), np.float32), 1000, ["a"])
    code = (
        "import sys\n"
        "from motorsign.cli import main\n"
        f"assert main(['info', {str(tmp_path / 'w.hea')!r}]) == 0\n"
        f"assert main(['info', {str(tmp_path / 'b.vhdr')!r}]) == 0\n"
        "bad = [m for m in sys.modules if m.split('.')[0] in ('mne', 'matplotlib')]\n"
        "assert not bad, bad\n"
    )
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert res.returncode == 0, res.stderr


@pytest.mark.realdata
def test_info_text_names_the_single_wfdb_stream(capsys, realdata):
    assert main(["info", str(realdata / "physionet_emgdb" / "emg_healthy.hea")]) == 0
    assert "[shown: None]" not in capsys.readouterr().out
