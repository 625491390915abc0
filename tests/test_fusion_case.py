"""Fusion case: schema, semantic checks, muscle catalog, result folders."""

from __future__ import annotations

import json

import pytest

from motorsign.errors import ConfigError, InputError
from motorsign.fusion import fuse, load_case, load_catalog, validate_evidence

PATIENT = {"id": "P1", "age_years": 61, "symptom_duration_months": 18, "progression_documented": True,
           "exclusion_workup_complete": True, "unexplained_sensory_symptoms": False}


# -------------------------------------------------------------------- catalog
def test_catalog_aliases_regions_roots():
    cat = load_catalog()
    assert cat.version
    fdi = cat.get("first dorsal interosseous")
    assert fdi is cat.get("FDI") is cat.get("fdi")
    assert (fdi.region, fdi.roots, fdi.nerve) == ("cervical", ("C8", "T1"), "ulnar")
    assert cat.get("diaphragm").region == "cervical" and cat.get("diaphragm").roots == ("C3", "C4", "C5")
    assert cat.get("Tibialis-Anterior").name == "TA"
    for name in ("tongue", "masseter", "facial", "sternocleidomastoid"):
        assert cat.get(name).region == "bulbar"
    for name in ("T10_paraspinal", "rectus_abdominis"):
        m = cat.get(name)
        assert m.region == "thoracic" and m.counts_for_thoracic_emg
    assert cat.get("T6_paraspinal").counts_for_thoracic_emg
    assert not cat.get("T5_paraspinal").counts_for_thoracic_emg
    assert not cat.get("thoracic_paraspinal").counts_for_thoracic_emg
    for name in ("vastus_lateralis", "gastrocnemius", "L5_paraspinal", "EDB"):
        assert cat.get(name).region == "lumbosacral"
    # every muscle of the DESIGN names exists
    for name in ("FDI", "APB", "ADM", "biceps", "triceps", "deltoid", "TA", "gastrocnemius",
                 "vastus_lateralis", "tongue", "masseter", "T10_paraspinal", "diaphragm"):
        assert cat.find(name) is not None, name


def test_catalog_unknown_muscle_suggests():
    with pytest.raises(ConfigError, match="did you mean biceps"):
        load_catalog().get("bicep")


# ------------------------------------------------------------------ schema
@pytest.mark.parametrize(
    "mutate,pattern",
    [
        (lambda c: c["clinical"].append({"region": "lumbosacral", "sign": "babinsky"}),
         r"clinical\[1\]\.sign: 'babinsky' is not accepted \(did you mean 'babinski'\?\); accepted: reflex_increased"),
        (lambda c: c["clinical"][0].update(musle="FDI"),
         r"clinical\[0\]: unknown field 'musle' \(did you mean 'muscle'\?\); accepted: id, muscle"),
        (lambda c: c.update(clinicals=[]), r"case: unknown field 'clinicals' \(did you mean 'clinical'\?\)"),
        (lambda c: c["emg"][0].update(muscle="first_dorsal_interoseous"),
         r"emg\[0\]\.muscle: unknown muscle 'first_dorsal_interoseous'; did you mean FDI"),
        (lambda c: c["emg"][0].update(fib_psw="5+"), r"emg\[0\]\.fib_psw: '5\+' is not accepted"),
        (lambda c: c.update(options={"rostral": "x"}), r"unknown field 'rostral' \(did you mean 'rostral_mode'\?\)"),
        (lambda c: c.update(options={"awaji_probable_umn_regions": 3}), r"3 is not accepted; accepted: 2, 1"),
        (lambda c: c["clinical"][0].update(region="lumbosacral"), r"muscle FDI is cervical, not lumbosacral"),
        (lambda c: c["clinical"].append({"region": "cervical", "sign": "babinski"}),
         r"sign babinski belongs to the lumbosacral region, not cervical"),
        (lambda c: c["clinical"].append({"sign": "wasting"}), r"clinical\[1\]: sign wasting needs a 'region' or a 'muscle'"),
        (lambda c: c["emg"].append({"id": "c1", "muscle": "TA"}), r"emg\[1\]\.id: id 'c1' is already used by clinical\[0\]"),
        (lambda c: c["emg"].append({"fib_psw": "2+"}), r"emg\[1\]: needs 'muscle' or 'from'"),
        (lambda c: c["patient"].update(age_years="old"), r"patient\.age_years: 'old' is not of type"),
    ],
)
def test_bad_cases_raise_one_clear_line(mutate, pattern):
    c = {"patient": dict(PATIENT), "clinical": [{"id": "c1", "muscle": "FDI", "side": "R", "sign": "wasting"}],
         "emg": [{"id": "e1", "muscle": "FDI", "side": "R", "fib_psw": "2+", "chronic_neurogenic": True}]}
    mutate(c)
    with pytest.raises(ConfigError, match=pattern) as info:
        load_case(c)
    assert "\n" not in str(info.value)


def test_api_option_errors():
    c = {"patient": PATIENT, "clinical": []}
    with pytest.raises(ConfigError, match="unknown option 'rostral'.*rostral_mode"):
        fuse(c, options={"rostral": "exists_pair"})
    with pytest.raises(ConfigError, match="gcc_split_regions = 1 is not accepted"):
        fuse(c, options={"gcc_split_regions": 1})


def test_case_file_errors_name_the_file(tmp_path):
    bad = tmp_path / "case.json"
    bad.write_text("{not json")
    with pytest.raises(InputError, match="case.json: case file is not valid JSON"):
        fuse(bad)
    with pytest.raises(InputError, match="cannot read case file"):
        fuse(tmp_path / "missing.json")
    bad.write_text(json.dumps({"clinical": [{"sign": "babinsky", "region": "lumbosacral"}]}))
    with pytest.raises(ConfigError, match=r"case.json: clinical\[0\]\.sign"):
        fuse(bad)


def test_missing_ids_are_assigned_and_design_example_runs():
    design = {
        "patient": {"id": "P001", "age_years": 61, "symptom_duration_months": 18, "progression_documented": True,
                    "exclusion_workup_complete": True, "unexplained_sensory_symptoms": False},
        "clinical": [{"id": "c1", "region": "cervical", "side": "R", "muscle": "FDI", "sign": "wasting", "present": True}],
        "emg": [{"id": "e1", "muscle": "FDI", "side": "R", "fib_psw": "2+", "fasciculations": True,
                 "chronic_neurogenic": True}],
        "tms": [{"id": "t1", "muscle": "ADM", "side": "R", "mep_present": True, "cmct_ms": 9.6}],
        "options": {},
    }
    ev = fuse(design).to_dict()
    validate_evidence(ev)
    assert ev["provenance"]["catalog_version"] == load_catalog().version
    case = load_case({"clinical": [{"region": "bulbar", "sign": "snout"}], "emg": [{"muscle": "TA"}]})
    assert [c.id for c in case.clinical] == ["c1"] and [e.id for e in case.emg] == ["e1"]


# ------------------------------------------------------------ result folders
def _write(path, obj):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(obj))


def _results(root):
    """Hand-made result folders in the DESIGN.md contract format."""
    _write(root / "rec_fdi" / "detect" / "summary.json", {
        "recording": "needle_fdi.vhdr",
        "channels": {"EMG1": {"muscle": "FDI", "side": "R", "duration_s": 60.0, "rest_s": 55.0,
                              "counts": {"fibrillation": 40, "positive_sharp_wave": 12, "fasciculation": 0},
                              "rates_per_min": {"fibrillation": 43.6}, "fib_psw_grade": "2+",
                              "fasciculation_rate_per_min": 0.0, "trains": []}}})
    _write(root / "rec_fdi" / "mup" / "summary.json", {
        "channels": {"EMG1": {"mean_amplitude_uv": 2400.0, "mean_duration_ms": 16.0, "polyphasic_fraction": 0.4,
                              "classification": "neurogenic"}}})
    _write(root / "rec_biceps" / "detect" / "summary.json", {
        "recording": "needle_biceps.vhdr",
        "channels": {"EMG1": {"muscle": "biceps", "side": "R", "counts": {"fasciculation": 7},
                              "fib_psw_grade": "0", "fasciculation_rate_per_min": 6.5},
                     "EMG2": {"muscle": "TA", "side": "R", "counts": {"fasciculation": 0},
                              "fib_psw_grade": "0", "fasciculation_rate_per_min": 0.0}}})
    _write(root / "rec_biceps" / "mup" / "summary.json", {
        "channels": {"EMG1": {"classification": "neurogenic"}, "EMG2": {"classification": "normal"}}})
    _write(root / "tms_apb" / "mep" / "summary.json", {
        "channels": {"APB": {"muscle": "APB", "side": "R", "n_trials": 10, "n_present": 0,
                             "onset_ms_min": None, "onset_ms_median": None, "peak_to_peak_uv_median": None}}})
    _write(root / "tms_apb" / "cmct.json", {"cmct_ms": 11.2, "peripheral_ms": 14.0, "method": "f_wave",
                                            "muscle": "APB", "uln_ms": 8.4, "abnormal": True,
                                            "norm_source": "BMC Neurol 2022"})


def test_findings_from_result_folders(tmp_path):
    _results(tmp_path / "results")
    case = {
        "patient": PATIENT,
        "clinical": [{"id": "c1", "region": "cervical", "sign": "hoffmann"}],
        "emg": [
            {"id": "e1", "from": ["results/rec_fdi/detect", "results/rec_fdi/mup"]},
            {"id": "e2", "muscle": "biceps", "side": "R", "from": ["results/rec_biceps/detect", "results/rec_biceps/mup"]},
            {"id": "e3", "channel": "EMG2", "from": ["results/rec_biceps/detect", "results/rec_biceps/mup"]},
        ],
        "tms": [{"id": "t1", "from": ["results/tms_apb/mep", "results/tms_apb/cmct.json"]}],
    }
    path = tmp_path / "case.json"
    path.write_text(json.dumps(case))
    ev = fuse(path).to_dict()
    validate_evidence(ev)
    m = {x["id"]: x for x in ev["muscles"]}
    assert (m["e1"]["muscle"], m["e1"]["fib_psw"], m["e1"]["chronic_neurogenic"]) == ("FDI", "2+", True)
    assert m["e1"]["fasciculations"] is False
    assert m["e1"]["sources"]["fib_psw"].endswith("detect/summary.json#EMG1")
    assert (m["e2"]["fib_psw"], m["e2"]["fasciculations"], m["e2"]["chronic_neurogenic"]) == ("0", True, True)
    assert m["e2"]["positive"] == {"revised_el_escorial": False, "awaji": True, "gold_coast": True}
    assert (m["e3"]["muscle"], m["e3"]["chronic_neurogenic"], m["e3"]["positive"]["awaji"]) == ("TA", False, False)
    # FDI (C8-T1 ulnar) + biceps (C5-C6 musculocutaneous) positive under Awaji -> cervical region
    assert ev["regions"]["cervical"]["lmn"]["emg"]["awaji"]["finding_ids"] == ["e1", "e2"]
    assert ev["regions"]["cervical"]["lmn"]["emg"]["revised_el_escorial"]["positive"] is False
    t = ev["tms"][0]
    assert t["muscle"] == "APB" and t["abnormalities"] == ["absent_mep", "prolonged_cmct"]
    assert t["norms"]["cmct_uln_ms"] == 8.4 and t["norms"]["cmct_source"] == "BMC Neurol 2022"
    assert ev["criteria"]["awaji"]["category"] == "possible"


def test_stated_values_win_over_folders_with_a_warning(tmp_path):
    _results(tmp_path)
    case = {"emg": [{"id": "e1", "from": "rec_fdi/detect", "fib_psw": "0"}]}
    ev = fuse(case, base_dir=tmp_path).to_dict()
    assert ev["muscles"][0]["fib_psw"] == "0" and ev["muscles"][0]["sources"]["fib_psw"] == "case"
    assert any("overrides '2+'" in w for w in ev["warnings"])


@pytest.mark.parametrize(
    "entry,pattern",
    [
        ({"from": "nowhere/detect"}, r"emg\[0\]\.from: result folder or file not found"),
        ({"from": "rec_biceps/detect"}, r"channels of several muscles or sides \(EMG1, EMG2\)"),
        ({"from": "rec_fdi/detect", "channel": "EMG9"}, r"channel 'EMG9' not in the result; it has EMG1"),
        ({"from": "tms_apb/mep"}, r"an emg entry takes detect or mup results, this is mep"),
        ({"from": "empty"}, r"neither summary.json nor cmct.json"),
    ],
)
def test_result_folder_errors(tmp_path, entry, pattern):
    _results(tmp_path)
    (tmp_path / "empty").mkdir()
    with pytest.raises(InputError, match=pattern):
        fuse({"emg": [entry]}, base_dir=tmp_path)


def test_several_sites_of_one_muscle_are_pooled(tmp_path):
    """Two needle sites in the FDI: the worst fib/PSW grade, fasciculations counted over both sites
    (1 + 1 >= FASCICULATION_MIN_COUNT), chronic change when any site is neurogenic."""
    _write(tmp_path / "r" / "detect" / "summary.json", {"channels": {
        "EMG1": {"muscle": "FDI", "side": "R", "counts": {"fasciculation": 1}, "fib_psw_grade": "1+",
                 "fasciculation_rate_per_min": 2.0},
        "EMG2": {"muscle": "FDI", "side": "R", "counts": {"fasciculation": 1}, "fib_psw_grade": "3+",
                 "fasciculation_rate_per_min": 2.0}}})
    _write(tmp_path / "r" / "mup" / "summary.json", {"channels": {
        "EMG1": {"classification": "normal"}, "EMG2": {"classification": "neurogenic"}}})
    ev = fuse({"emg": [{"id": "e1", "from": ["r/mup", "r/detect"]}]}, base_dir=tmp_path).to_dict()
    m = ev["muscles"][0]
    assert (m["muscle"], m["side"], m["fib_psw"], m["fasciculations"], m["chronic_neurogenic"]) == (
        "FDI", "R", "3+", True, True)
    assert m["extra"]["sites"] == {"detect": ["EMG1", "EMG2"], "mup": ["EMG1", "EMG2"]}
    # one site named: only its values
    ev = fuse({"emg": [{"id": "e1", "channel": "EMG1", "from": ["r/mup", "r/detect"]}]}, base_dir=tmp_path).to_dict()
    m = ev["muscles"][0]
    assert (m["fib_psw"], m["fasciculations"], m["chronic_neurogenic"]) == ("1+", False, False)


def test_evidence_schema_rejects_broken_output():
    import jsonschema

    ev = fuse({"patient": PATIENT, "clinical": [{"id": "c1", "region": "bulbar", "sign": "snout"}]}).to_dict()
    validate_evidence(ev)
    for breaks in (
        lambda e: e["criteria"]["awaji"].update(category="probable_laboratory_supported"),
        lambda e: e.update(phenotype="MND"),
        lambda e: e["regions"].pop("thoracic"),
        lambda e: e["criteria"]["gold_coast"].pop("met"),
        lambda e: e["provenance"].pop("catalog_version"),
        lambda e: e["criteria"]["revised_el_escorial"]["reasons"][0].pop("finding_ids"),
    ):
        broken = json.loads(json.dumps(ev))
        breaks(broken)
        with pytest.raises(jsonschema.ValidationError):
            validate_evidence(broken)


def test_mep_cmap_ratio_from_mep_and_nerve_folders(tmp_path):
    _write(tmp_path / "mep" / "summary.json", {"channels": {"APB": {
        "muscle": "APB", "side": "R", "n_trials": 8, "n_present": 8, "peak_to_peak_uv_median": 400.0}}})
    _write(tmp_path / "nerve" / "summary.json", {"channels": {"APB": {
        "m_onset_ms": 3.4, "cmap_amplitude_mv": 8.0, "f_min_latency_ms": 26.0}}})
    case = {"tms": [{"id": "t1", "from": ["mep", "nerve"], "mep_cmap_ratio_lln": 0.1}]}
    t = fuse(case, base_dir=tmp_path).to_dict()["tms"][0]
    assert t["values"]["mep_cmap_ratio"] == pytest.approx(0.05)  # 400 uV / 8000 uV
    assert t["abnormalities"] == ["small_mep_cmap_ratio"] and t["norms"]["mep_cmap_ratio_lln"] == 0.1
    # without a lower limit it is reported, not judged
    t = fuse({"tms": [{"id": "t1", "from": ["mep", "nerve"]}]}, base_dir=tmp_path).to_dict()["tms"][0]
    assert t["abnormalities"] == [] and t["flags"] == ["mep_cmap_ratio_no_norm"]
