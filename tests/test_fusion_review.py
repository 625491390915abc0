"""Review cases for fusion: MEP/CMAP ratio from result folders, contradictory findings for one
muscle, unreadable case files, error messages for plausible mistakes, unusual valid cases."""

from __future__ import annotations

import json

import pytest

from motorsign.cli import main
from motorsign.errors import ConfigError
from motorsign.fusion import fuse

PATIENT = {"id": "P1", "age_years": 61, "symptom_duration_months": 18, "progression_documented": True,
           "exclusion_workup_complete": True, "unexplained_sensory_symptoms": False}


def _write(path, obj):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(obj))


def _pos(i, muscle, side="R"):
    return {"id": i, "muscle": muscle, "side": side, "fib_psw": "2+", "fasciculations": True,
            "chronic_neurogenic": True}


def test_mep_cmap_ratio_uses_the_peak_to_peak_cmap_like_the_mep(tmp_path):
    # the nerve summary's cmap_amplitude_mv is baseline-to-peak; the MEP amplitude is
    # peak-to-peak, so the ratio must use cmap_peak_to_peak_mv: 400 µV / 8 mV = 0.05
    _write(tmp_path / "mep" / "summary.json", {"channels": {"APB": {
        "muscle": "APB", "side": "R", "n_trials": 8, "n_present": 8, "peak_to_peak_uv_median": 400.0}}})
    _write(tmp_path / "nerve" / "summary.json", {"channels": {"APB": {
        "m_onset_ms": 3.4, "cmap_amplitude_mv": 4.0, "cmap_peak_to_peak_mv": 8.0, "f_min_latency_ms": 26.0}}})
    case = {"tms": [{"id": "t1", "from": ["mep", "nerve"], "mep_cmap_ratio_lln": 0.06}]}
    t = fuse(case, base_dir=tmp_path).to_dict()["tms"][0]
    assert t["values"]["mep_cmap_ratio"] == pytest.approx(0.05)
    assert (t["values"]["cmap_amplitude_mv"], t["values"]["cmap_peak_to_peak_mv"]) == (4.0, 8.0)
    assert t["abnormalities"] == ["small_mep_cmap_ratio"]


def test_contradictory_emg_findings_for_one_muscle_are_warned_about():
    case = {"patient": PATIENT, "clinical": [{"id": "c1", "region": "cervical", "sign": "reflex_increased"}],
            "emg": [_pos("e1", "biceps"),
                    {"id": "e2", "muscle": "biceps_brachii", "side": "R", "fib_psw": "0",
                     "fasciculations": False, "chronic_neurogenic": False},
                    _pos("e3", "FDI")]}
    ev = fuse(case).to_dict()
    hits = [w for w in ev["warnings"] if "biceps R" in w and "contradicts" in w]
    assert sorted(w.split(":")[0] for w in hits) == ["e1", "e2"]
    assert all("fib/PSW, fasciculations, chronic neurogenic change" in w for w in hits)
    # the positive finding still counts (two samples of one muscle can differ): Awaji cervical
    assert ev["regions"]["cervical"]["lmn"]["emg"]["awaji"]["positive"]


def test_a_sign_recorded_present_and_absent_in_one_place_is_warned_about():
    case = {"patient": PATIENT, "clinical": [
        {"id": "c1", "sign": "babinski", "side": "R"},
        {"id": "c2", "sign": "babinski", "side": "R", "present": False}]}
    ev = fuse(case).to_dict()
    assert sorted(w.split(":")[0] for w in ev["warnings"] if "babinski" in w) == ["c1", "c2"]
    # both sides are distinct places: no warning
    case["clinical"][1]["side"] = "L"
    assert not any("babinski" in w for w in fuse(case).to_dict()["warnings"])


def test_case_file_that_is_not_utf8_is_a_one_line_error_naming_it(tmp_path, capsys):
    p = tmp_path / "case.json"
    p.write_bytes(b"\xff\xfe{\x00")
    assert main(["fuse", str(p)]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and str(p) in err[0] and "UTF-8" in err[0]


def test_fib_psw_given_as_a_number_lists_the_accepted_grades():
    case = {"emg": [{"id": "e1", "muscle": "FDI", "fib_psw": 2, "chronic_neurogenic": True}]}
    with pytest.raises(ConfigError, match=r"emg\[0\]\.fib_psw: 2 is not accepted.*'2\+'.*1\+, 2\+"):
        fuse(case)


def test_thoracic_paraspinal_above_t6_is_not_a_thoracic_region_but_t6_is():
    base = {"patient": PATIENT, "clinical": [{"id": "c1", "region": "thoracic", "sign": "absent_abdominal_reflexes"}]}
    ev = fuse({**base, "emg": [_pos("e1", "T5_paraspinal")]}).to_dict()
    assert not ev["regions"]["thoracic"]["lmn"]["emg"]["awaji"]["positive"]
    assert ev["criteria"]["awaji"]["category"] == "not_met"
    ev = fuse({**base, "emg": [_pos("e1", "paraspinal_T6")]}).to_dict()
    assert ev["regions"]["thoracic"]["lmn"]["emg"]["awaji"]["positive"]
    # UMN and LMN in the same single region: Awaji possible, GCC met; rEEC keeps EMG apart
    assert ev["criteria"]["awaji"]["category"] == "possible"
    assert ev["criteria"]["gold_coast"]["met"] is True
    assert ev["criteria"]["revised_el_escorial"]["category"] == "not_met"


def test_bilateral_findings_pool_within_a_region():
    # left biceps (C5-6, musculocutaneous) + right FDI (C8-T1, ulnar): different nerves and roots
    # make the cervical region whatever the sides; left TA + right gastrocnemius the lumbosacral one
    case = {"patient": PATIENT,
            "clinical": [{"id": "c1", "region": "cervical", "sign": "hoffmann", "side": "L"},
                         {"id": "c2", "sign": "babinski", "side": "R"}],
            "emg": [_pos("e1", "biceps", "L"), _pos("e2", "FDI", "R"), _pos("e3", "TA", "L"),
                    _pos("e4", "gastrocnemius", "R")]}
    ev = fuse(case).to_dict()
    c = ev["criteria"]
    # UMN in 2 regions, EMG LMN in 2 regions, no clinical LMN
    assert c["revised_el_escorial"]["category"] == "probable_laboratory_supported"
    assert c["awaji"]["category"] == "probable"  # UMN and LMN in >= 2 regions, cervical above lumbosacral
    assert c["gold_coast"]["met"] is True


@pytest.mark.parametrize("entry, what", [({"muscle": "FDI"}, "APB"), ({"muscle": "APB", "side": "L"}, "side R")])
def test_a_result_folder_of_another_muscle_or_side_is_not_silently_used(tmp_path, entry, what):
    # the folder's only channel is the right APB: an entry for FDI, or for the left APB, must not
    # inherit its absent MEP
    from motorsign.errors import InputError

    _write(tmp_path / "mep" / "summary.json", {"channels": {"APB": {
        "muscle": "APB", "side": "R", "n_trials": 5, "n_present": 0}}})
    with pytest.raises(InputError, match=what):
        fuse({"tms": [{"from": "mep", **entry}]}, base_dir=tmp_path)
    # naming the channel uses it anyway (the user says the folder is the right one)
    t = fuse({"tms": [{"from": "mep", "channel": "APB", **entry}]}, base_dir=tmp_path).to_dict()["tms"][0]
    assert t["abnormalities"] == ["absent_mep"]
    # same muscle through an alias, side not stated: fine
    t = fuse({"tms": [{"from": "mep", "muscle": "abductor pollicis brevis"}]}, base_dir=tmp_path).to_dict()
    assert t["tms"][0]["side"] == "R"
