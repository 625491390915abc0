"""``motorsign mup`` and ``motorsign simulate voluntary-emg`` end to end."""

from __future__ import annotations

import csv
import json

import numpy as np
import pytest

from motorsign.cli import main
from motorsign.mup import DISCHARGE_COLUMNS, UNIT_COLUMNS


@pytest.fixture(scope="module")
def sim_dir(tmp_path_factory):
    out = tmp_path_factory.mktemp("vol")
    assert main(["simulate", "voluntary-emg", "--out", str(out), "--seed", "4",
                 "--condition", "neurogenic", "--duration-s", "6"]) == 0
    return out


def test_simulate_writes_recording_and_truth(sim_dir):
    for name in ("voluntary_emg.vhdr", "voluntary_emg.eeg", "truth.csv", "truth_intervals.csv",
                 "truth_units.csv", "truth_meta.json"):
        assert (sim_dir / name).is_file(), name
    rows = list(csv.DictReader((sim_dir / "truth.csv").open()))
    assert rows and {"channel", "time_s", "unit_id", "amplitude_uv", "duration_ms", "phases"} <= set(rows[0])
    assert json.loads((sim_dir / "truth_meta.json").read_text())["condition"] == "neurogenic"


def test_mup_cli_writes_contract_files(sim_dir, tmp_path):
    out = tmp_path / "res"
    assert main(["mup", str(sim_dir / "voluntary_emg.vhdr"), "--out", str(out), "--muscle", "TA",
                 "--age", "55", "--side", "R"]) == 0
    with (out / "mups.csv").open() as fh:
        header = next(csv.reader(fh))
    assert header == list(UNIT_COLUMNS)
    with (out / "mup_discharges.csv").open() as fh:
        reader = csv.reader(fh)
        assert next(reader) == list(DISCHARGE_COLUMNS)
        assert sum(1 for _ in reader) > 50
    summary = json.loads((out / "summary.json").read_text())
    ch = summary["channels"]["EMG"]
    for key in ("mean_amplitude_uv", "mean_duration_ms", "polyphasic_fraction", "classification",
                "reference", "reasons", "recruitment", "interference"):
        assert key in ch
    assert ch["classification"] == "neurogenic"
    assert ch["age_years"] == 55 and ch["side"] == "R" and ch["muscle"] == "TA"
    npz = np.load(out / "templates.npz")
    assert npz["templates"].shape[0] == len(npz["unit_id"]) == len(npz["channel"])
    assert float(npz["fs"]) == 20000.0 and npz["templates"].dtype == np.float32


def test_execute_returns_the_summary(sim_dir, tmp_path):
    from motorsign.commands.mup import execute

    s = execute(sim_dir / "voluntary_emg.vhdr", tmp_path / "x", muscle="TA", age=60,
                params={"detect_k": 5.0})
    assert s["channels"]["EMG"]["age_years"] == 60
    assert s["params"]["detect_k"] == 5.0


def test_bad_param_and_missing_file_exit_1(sim_dir, tmp_path, capsys):
    assert main(["mup", str(sim_dir / "voluntary_emg.vhdr"), "--out", str(tmp_path / "y"),
                 "--param", "nope=1"]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "nope" in err[0]
    assert main(["mup", str(tmp_path / "missing.vhdr"), "--out", str(tmp_path / "z")]) == 1


def test_simulator_is_deterministic_and_validates():
    from motorsign.errors import ConfigError
    from motorsign.simulate.voluntary import generate

    a = generate(seed=7, condition="myopathic", duration_s=1.0)
    b = generate(seed=7, condition="myopathic", duration_s=1.0)
    assert np.array_equal(a.data_uv, b.data_uv)
    assert a.truth.equals(b.truth)
    assert {u["class"] for u in a.meta["units"]} <= {"myopathic", "normal"}
    with pytest.raises(ConfigError):
        generate(condition="sick")
    with pytest.raises(ConfigError):
        generate(effort=2.0)


def test_simulated_classes_differ_as_described():
    from motorsign.mup.features import quantify_mup
    from motorsign.simulate.voluntary import make_unit

    rng = np.random.default_rng(0)
    fs = 20000.0
    grid = np.arange(-25, 25, 1000 / fs)
    feats = {c: [quantify_mup(make_unit(rng, c).wave(grid), fs, 0.0) for _ in range(40)]
             for c in ("normal", "reinnervated", "myopathic")}
    dur = {c: np.mean([f["duration_ms"] for f in v]) for c, v in feats.items()}
    amp = {c: np.mean([f["amplitude_uv"] for f in v]) for c, v in feats.items()}
    poly = {c: np.mean([f["phases"] >= 5 for f in v]) for c, v in feats.items()}
    assert dur["myopathic"] < 7.5 < dur["normal"] < 11.2 < dur["reinnervated"]
    assert amp["myopathic"] < amp["normal"] < amp["reinnervated"]
    assert poly["normal"] < 0.35 < min(poly["myopathic"], poly["reinnervated"])


def test_param_types_parse():
    from functools import partial

    from motorsign.commands._common import parse_params
    from motorsign.errors import ConfigError
    from motorsign.mup.params import MupParams

    _parse_params = partial(parse_params, params_class=MupParams, what="MUP")

    got = _parse_params(["refit_all_rounds=yes", "refit_iter=2", "pair_gain=0.5"])
    assert got == {"refit_all_rounds": True, "refit_iter": 2, "pair_gain": 0.5}
    assert _parse_params(["refit_all_rounds=0"]) == {"refit_all_rounds": False}
    with pytest.raises(ConfigError):
        _parse_params(["refit_all_rounds=maybe"])
    with pytest.raises(ConfigError, match="did you mean 'pair_gain'"):
        _parse_params(["pair_gian=0.5"])


def test_rule_options_reach_the_classification_and_the_summary(sim_dir, tmp_path, capsys):
    from dataclasses import asdict

    from motorsign.mup.classify import ClassifyRules

    out = tmp_path / "strict"
    assert main(["mup", str(sim_dir / "voluntary_emg.vhdr"), "--out", str(out), "--muscle", "TA",
                 "--rule", "z_crit=40", "--rule", "min_outliers=1000", "--rule", "alpha=1e-9"]) == 0
    summary = json.loads((out / "summary.json").read_text())
    assert summary["classify_rules"]["z_crit"] == 40.0
    assert summary["classify_rules"]["min_outliers"] == 1000
    # the same recording reads neurogenic with the default rules (test above)
    assert summary["channels"]["EMG"]["classification"] != "neurogenic"
    from motorsign.commands.mup import execute

    s = execute(sim_dir / "voluntary_emg.vhdr", tmp_path / "default", muscle="TA")
    assert s["classify_rules"] == asdict(ClassifyRules())
    assert main(["mup", str(sim_dir / "voluntary_emg.vhdr"), "--out", str(tmp_path / "bad"),
                 "--rule", "alpha=2"]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "alpha" in err[-1]
