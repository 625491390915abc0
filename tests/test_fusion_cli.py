"""``motorsign fuse`` and the bundled sample cases."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from motorsign.cli import main
from motorsign.fusion import fuse, validate_evidence

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "sample_data"

CASE = {
    "patient": {"id": "CLI", "age_years": 50, "symptom_duration_months": 10, "progression_documented": True,
                "exclusion_workup_complete": True, "unexplained_sensory_symptoms": False},
    "clinical": [{"id": "c1", "region": "bulbar", "sign": "jaw_jerk_increased"}],
    "emg": [{"id": f"e{k}", "muscle": m, "side": "R", "fib_psw": "0", "fasciculations": True,
             "chronic_neurogenic": True} for k, m in enumerate(("biceps", "FDI", "TA", "gastrocnemius"))],
}


@pytest.fixture
def case_file(tmp_path):
    p = tmp_path / "case.json"
    p.write_text(json.dumps(CASE))
    return p


def test_cli_summary_and_out_file(case_file, tmp_path, capsys):
    out = tmp_path / "res" / "evidence.json"
    assert main(["fuse", str(case_file), "--out", str(out)]) == 0
    text = capsys.readouterr().out
    assert "revised El Escorial:  not_met" in text and "Awaji:                not_met" in text
    assert "Gold Coast:           met" in text and "phenotype: ALS" in text
    assert "with awaji_probable_umn_regions=1: probable" in text
    ev = json.loads(out.read_text())
    validate_evidence(ev)
    assert ev["criteria"]["gold_coast"]["met"] is True


def test_cli_out_folder_option_and_json(case_file, tmp_path, capsys):
    folder = tmp_path / "outdir"
    code = main(["fuse", str(case_file), "--out", str(folder) + "/", "--option", "awaji_probable_umn_regions=1",
                 "--json"])
    assert code == 0
    printed = json.loads(capsys.readouterr().out)
    saved = json.loads((folder / "evidence.json").read_text())
    assert printed == saved
    assert saved["criteria"]["awaji"]["category"] == "probable"
    assert saved["provenance"]["options"]["awaji_probable_umn_regions"] == 1


@pytest.mark.parametrize(
    "args,message",
    [
        (["--option", "rostral=x"], "unknown option 'rostral' (did you mean 'rostral_mode'?)"),
        (["--option", "gcc_split_regions=maybe"], "gcc_split_regions = 'maybe' is not accepted"),
        (["--option", "oops"], "expected NAME=VALUE"),
    ],
)
def test_cli_bad_options_exit_1(case_file, capsys, args, message):
    assert main(["fuse", str(case_file), *args]) == 1
    err = capsys.readouterr().err.strip()
    assert err.startswith("motorsign fuse: error:") and message in err and "\n" not in err


def test_cli_bad_case_exit_1(tmp_path, capsys):
    p = tmp_path / "bad.json"
    p.write_text(json.dumps({"clinical": [{"region": "cervical", "sign": "weaknes"}]}))
    assert main(["fuse", str(p)]) == 1
    err = capsys.readouterr().err.strip()
    assert f"{p}: clinical[0].sign: 'weaknes' is not accepted (did you mean 'weakness'?)" in err
    assert main(["fuse", str(tmp_path / "nope.json")]) == 1
    assert "cannot read case file" in capsys.readouterr().err


def test_cli_does_not_import_heavy_modules(case_file):
    code = (
        "import sys\nfrom motorsign.cli import main\n"
        f"assert main(['fuse', {str(case_file)!r}, '-q']) == 0\n"
        "heavy = [m for m in ('pandas', 'mne', 'matplotlib', 'numba', 'dask') if m in sys.modules]\n"
        "assert not heavy, heavy\n"
    )
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert res.returncode == 0, res.stderr


def test_sample_clinical_case():
    ev = fuse(SAMPLE / "case_clinical.json").to_dict()
    validate_evidence(ev)
    # UMN cervical + lumbosacral, split-hand wasting (FDI + APB: 2 limb muscles for GCC)
    assert ev["regions"]["cervical"]["umn"]["clinical"] == ["c1", "c2", "c3"]
    assert ev["regions"]["cervical"]["lmn"]["clinical"] == ["c7", "c8", "c9"]
    assert ev["regions"]["lumbosacral"]["umn"]["absent_signs"] == ["c5"]
    assert ev["criteria"]["revised_el_escorial"]["category"] == "possible"
    assert ev["criteria"]["gold_coast"]["met"] is True
    assert ev["phenotype"] == "ALS"
    assert ev["regions"]["cervical"]["mixed_muscles"] == []


def _write(path: Path, obj) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(obj))


def test_sample_full_case_with_contract_folders(tmp_path):
    """case_full.json against result folders laid out as the pipeline writes them (hand-made here,
    in the DESIGN.md contract format): FDI denervated, biceps fasciculating, TA healthy, APB TMS."""
    (tmp_path / "sample_data").mkdir()
    shutil.copy(SAMPLE / "case_full.json", tmp_path / "sample_data" / "case_full.json")
    res = tmp_path / "results"
    for rid, muscle, grade, nfasc, cls in (
        ("needle_fdi_r", "FDI", "3+", 0, "neurogenic"),
        ("needle_biceps_r", "biceps", "0", 9, "neurogenic"),
        ("needle_ta_r", "TA", "0", 0, "normal"),
    ):
        _write(res / rid / "detect" / "summary.json", {"recording": f"{rid}.vhdr", "channels": {"EMG": {
            "muscle": muscle, "side": "R", "duration_s": 30.0, "rest_s": 30.0,
            "counts": {"fibrillation": 0 if grade == "0" else 50, "fasciculation": nfasc},
            "rates_per_min": {}, "fib_psw_grade": grade, "fasciculation_rate_per_min": nfasc * 2.0, "trains": []}}})
        _write(res / rid / "mup" / "summary.json", {"channels": {"EMG": {"classification": cls}}})
    _write(res / "tms_apb_r" / "mep" / "summary.json", {"channels": {"APB": {
        "n_trials": 10, "n_present": 10, "onset_ms_min": 24.0, "onset_ms_median": 25.1, "peak_to_peak_uv_median": 800}}})
    _write(res / "cmct" / "tms_apb_r+nerve_apb_r" / "cmct.json", {
        "cmct_ms": 9.9, "peripheral_ms": 14.2, "method": "f_wave", "muscle": "APB", "uln_ms": 8.4,
        "abnormal": True, "norm_source": "BMC Neurol 2022"})
    ev = fuse(tmp_path / "sample_data" / "case_full.json").to_dict()
    validate_evidence(ev)
    m = {x["id"]: x for x in ev["muscles"]}
    assert m["e_fdi"]["positive"]["revised_el_escorial"] is True
    assert m["e_biceps"]["positive"] == {"revised_el_escorial": False, "awaji": True, "gold_coast": True}
    assert not any(m["e_ta"]["positive"].values())
    # FDI + biceps: different nerves and roots -> cervical EMG region for Awaji/GCC, not rEEC
    cerv = ev["regions"]["cervical"]
    assert cerv["lmn"]["emg"]["awaji"]["finding_ids"] == ["e_biceps", "e_fdi"]
    assert cerv["lmn"]["emg"]["revised_el_escorial"]["positive"] is False
    assert cerv["umn"]["supportive_tms"][0]["abnormalities"] == ["prolonged_cmct"]
    # the biceps has a brisk reflex and EMG LMN evidence: a mixed muscle
    assert cerv["mixed_muscles"] == [{"muscle": "biceps", "side": "R", "umn": ["c1"], "lmn": ["e_biceps"]}]
    assert (ev["criteria"]["revised_el_escorial"]["category"], ev["criteria"]["awaji"]["category"]) == (
        "possible", "possible")
    assert ev["criteria"]["gold_coast"]["met"] is True and ev["phenotype"] == "ALS"


@pytest.mark.slow
def test_sample_full_case_from_pipeline_results(tmp_path):
    """End to end on the bundled sample recordings when they and the analysis verbs are present."""
    needed = {rid: SAMPLE / f"{rid}.vhdr" for rid in ("needle_fdi_r", "needle_biceps_r", "needle_ta_r")}
    missing = [str(p.name) for p in needed.values() if not p.is_file()]
    if missing:
        pytest.skip(f"sample recordings not bundled yet: {', '.join(missing)}")
    try:
        from motorsign.commands import detect, mup
    except ImportError as exc:  # pragma: no cover
        pytest.skip(f"analysis verbs unavailable: {exc}")
    (tmp_path / "sample_data").mkdir()
    case_path = tmp_path / "sample_data" / "case_full.json"
    shutil.copy(SAMPLE / "case_full.json", case_path)
    muscles = {"needle_fdi_r": "FDI", "needle_biceps_r": "biceps", "needle_ta_r": "TA"}
    for rid, path in needed.items():
        detect.execute(path, tmp_path / "results" / rid / "detect", muscle=muscles[rid], side="R")
        mup.execute(path, tmp_path / "results" / rid / "mup", muscle=muscles[rid], side="R")
    case = json.loads(case_path.read_text())
    case["tms"] = []  # TMS results need the mep/nerve/cmct chain; covered by the contract test above
    case_path.write_text(json.dumps(case))
    ev = fuse(case_path).to_dict()
    validate_evidence(ev)
    m = {x["id"]: x for x in ev["muscles"]}
    assert m["e_fdi"]["fib_psw"] not in (None, "0"), "the denervated FDI should show fibrillations"
    assert m["e_biceps"]["fasciculations"] is True, "the biceps recording holds fasciculations"
    for fid in ("e_fdi", "e_biceps", "e_ta"):
        assert set(m[fid]["sources"]) == {"fib_psw", "fasciculations", "chronic_neurogenic"}
    assert ev["regions"]["cervical"]["lmn"]["emg_muscles_examined"] == ["e_biceps", "e_fdi"]
