"""Fusion criteria: the worked cases of reference/criteria.md and hand-derived cases.

Each hand case states its reasoning: U = regions with clinical UMN signs,
Lc = clinical LMN regions, Le = EMG LMN regions (per criterion),
L = Lc | Le (Awaji, Gold Coast). Rules: see motorsign.fusion.criteria.
"""

from __future__ import annotations

import pytest

from motorsign.fusion import fuse, validate_evidence

PATIENT = {
    "id": "T",
    "age_years": 60,
    "symptom_duration_months": 30,
    "progression_documented": True,
    "exclusion_workup_complete": True,
    "unexplained_sensory_symptoms": False,
}


def umn(region=None, sign="reflex_increased", muscle=None, present=True):
    d = {"sign": sign, "present": present}
    if region:
        d["region"] = region
    if muscle:
        d["muscle"] = muscle
        d["side"] = "R"
    return d


def lmn(muscle, side="R", signs=("wasting", "weakness")):
    return [{"muscle": muscle, "side": side, "sign": s} for s in signs]


def emg(muscle, side="R", fib="2+", fasc=False, chronic=True):
    return {"muscle": muscle, "side": side, "fib_psw": fib, "fasciculations": fasc, "chronic_neurogenic": chronic}


def case(clinical=(), emg_=(), tms=(), patient=None, options=None):
    flat = []
    for c in clinical:
        flat.extend(c if isinstance(c, list) else [c])
    out = {
        "patient": dict(PATIENT if patient is None else patient),
        "clinical": [{"id": f"c{k + 1}", **c} for k, c in enumerate(flat)],
        "emg": [{"id": f"e{k + 1}", **e} for k, e in enumerate(emg_)],
        "tms": [{"id": f"t{k + 1}", **t} for k, t in enumerate(tms)],
    }
    if options:
        out["options"] = options
    return out


def result(c, **options):
    ev = fuse(c, options=options or None).to_dict()
    validate_evidence(ev)
    cr = ev["criteria"]
    return (
        cr["revised_el_escorial"]["category"],
        cr["awaji"]["category"],
        cr["gold_coast"]["met"],
        cr["pls_2020"]["category"],
        ev["phenotype"],
    ), ev


FOUR_MUSCLES = ("biceps", "FDI", "TA", "gastrocnemius")


# ------------------------------------------------------------------ worked cases
def test_worked_1_umn_cervical_lumbosacral_emg_four_muscles():
    c = case([umn("cervical"), umn("lumbosacral", "babinski")], [emg(m) for m in FOUR_MUSCLES])
    (reec, awaji, gcc, _, pheno), ev = result(c)
    assert (reec, awaji, gcc) == ("probable_laboratory_supported", "probable", True)
    assert pheno == "ALS"
    # rEEC cites the UMN signs and the 4 EMG muscles
    assert ev["criteria"]["revised_el_escorial"]["reasons"][0]["finding_ids"] == ["c1", "c2", "e1", "e2", "e3", "e4"]
    # the next rEEC category (probable) needs clinical LMN signs
    nxt = ev["criteria"]["revised_el_escorial"]["next"]
    assert nxt["target"] == "probable"
    assert all(x["evidence"] == "lmn_clinical" for alt in nxt["add_one_of"] for x in alt)


def test_worked_2_umn_bulbar_fasciculations_without_fibs():
    c = case([umn("bulbar", "jaw_jerk_increased")], [emg(m, fib="0", fasc=True) for m in FOUR_MUSCLES])
    (reec, awaji, gcc, _, _), ev = result(c)
    assert (reec, awaji, gcc) == ("not_met", "not_met", True)
    (_, awaji1, _, _, _), _ = result(c, awaji_probable_umn_regions=1)
    assert awaji1 == "probable"
    aw = ev["criteria"]["awaji"]
    assert aw["interpretation_dependent"] is True
    assert {"option": "awaji_probable_umn_regions", "value": 1, "result": "probable"} in aw["alternatives"]


def test_worked_3_pure_lmn_clinical():
    c = case([lmn("FDI"), lmn("biceps"), lmn("TA"), lmn("gastrocnemius")])
    (reec, awaji, gcc, _, pheno), ev = result(c)
    assert (reec, awaji, gcc) == ("not_met", "not_met", True)
    assert ev["criteria"]["revised_el_escorial"]["rule"] == "reec.not_met.pure_lmn"
    assert pheno == "PMA"


def test_worked_4_umn_bulbar_lmn_lumbosacral_only():
    c = case([umn("bulbar", "snout"), lmn("TA"), lmn("gastrocnemius")])
    (reec, awaji, gcc, _, _), ev = result(c)
    assert (reec, awaji, gcc) == ("not_met", "not_met", False)
    (_, _, gcc_split, _, _), _ = result(c, gcc_split_regions=True)
    assert gcc_split is True
    assert ev["criteria"]["gold_coast"]["interpretation_dependent"] is True


def test_worked_5_fdi_apb_same_roots():
    c = case([umn("cervical")], [emg("FDI"), emg("APB")])
    (reec, awaji, gcc, _, _), ev = result(c)
    assert (reec, awaji, gcc) == ("not_met", "not_met", False)
    cerv = ev["regions"]["cervical"]["lmn"]["emg"]["awaji"]
    assert cerv["positive"] is False and cerv["positive_muscle_ids"] == ["e1", "e2"]


# ------------------------------------------------------------------- hand cases
# (id, case, options, expected (rEEC, Awaji, GCC, PLS, phenotype), reasoning)
HAND = [
    (
        "definite_bulbar_plus_2_spinal",
        case([umn("bulbar", "jaw_jerk_increased"), umn("cervical", "hoffmann"), umn("lumbosacral", "babinski"),
              lmn("tongue", side=None, signs=("wasting",)), lmn("FDI"), lmn("biceps"), lmn("TA"), lmn("gastrocnemius")]),
        {},
        ("definite", "definite", True, "not_met", "ALS"),
        "U = Lc = {bulbar, cervical, lumbosacral}: UMN+LMN in bulbar and 2 spinal regions -> definite "
        "(both); GCC same region; PLS excluded by clinical LMN signs.",
    ),
    (
        "definite_three_spinal",
        case([umn("cervical"), umn("thoracic", "absent_abdominal_reflexes"), umn("lumbosacral", "clonus"),
              lmn("FDI"), lmn("rectus_abdominis", side="L", signs=("wasting",)), lmn("TA")]),
        {},
        ("definite", "definite", True, "not_met", "ALS"),
        "U = Lc = all three spinal regions -> definite.",
    ),
    (
        "reec_probable_clinical",
        case([umn("bulbar", "jaw_jerk_increased"), umn("cervical"), lmn("FDI"), lmn("biceps"), lmn("TA"),
              lmn("gastrocnemius")]),
        {},
        ("probable", "probable", True, "not_met", "ALS"),
        "U = {bulbar, cervical} (2), Lc = {cervical, lumbosacral} (2), bulbar rostral to lumbosacral; "
        "U & Lc = {cervical} only -> not definite -> probable.",
    ),
    (
        "no_rostral_pair_is_possible",
        case([umn("cervical"), umn("lumbosacral", "babinski"), lmn("tongue", side=None, signs=("wasting",)),
              lmn("FDI"), lmn("biceps")]),
        {},
        ("possible", "possible", True, "not_met", "ALS"),
        "U = {cervical, lumbosacral}, Lc = {bulbar, cervical}: no UMN region above an LMN region -> not "
        "probable; UMN and LMN together in cervical -> possible. GCC: same region (2 cervical muscles).",
    ),
    (
        "rostral_mode_exists_pair",
        case([umn("cervical"), umn("lumbosacral", "babinski"), lmn("tongue", side=None, signs=("wasting",)),
              lmn("TA"), lmn("gastrocnemius")]),
        {},
        ("probable", "probable", True, "not_met", "ALS"),
        "U = {cervical, lumbosacral}, Lc = {bulbar, lumbosacral}; cervical UMN is rostral to lumbosacral "
        "LMN -> probable under exists_pair.",
    ),
    (
        "rostral_mode_most_rostral_is_umn",
        case([umn("cervical"), umn("lumbosacral", "babinski"), lmn("tongue", side=None, signs=("wasting",)),
              lmn("TA"), lmn("gastrocnemius")]),
        {"rostral_mode": "most_rostral_is_umn"},
        ("possible", "possible", True, "not_met", "ALS"),
        "Same case: the most rostral involved region (bulbar) has LMN but no UMN signs -> not probable; "
        "UMN+LMN together in lumbosacral -> possible.",
    ),
    (
        "gcc_one_limb_muscle_is_not_clinical_lmn",
        case([umn("cervical"), lmn("FDI")]),
        {},
        ("possible", "possible", False, "not_met", "ALS"),
        "U = Lc = {cervical} -> possible (rEEC, Awaji). GCC needs clinical LMN in 2 limb muscles: FDI alone "
        "gives no GCC LMN region -> not met.",
    ),
    (
        "gcc_two_limb_muscles",
        case([umn("cervical"), lmn("FDI"), lmn("biceps")]),
        {},
        ("possible", "possible", True, "not_met", "ALS"),
        "FDI and biceps wasted: 2 limb muscles -> cervical GCC LMN region with UMN in the same region -> met.",
    ),
    (
        "umn_two_regions_pls_probable",
        case([umn("bulbar", "jaw_jerk_increased"), umn("cervical", "spasticity")]),
        {},
        ("possible", "possible", False, "probable", "PLS"),
        "U = {bulbar, cervical} without LMN: possible (UMN alone in 2 regions); GCC never met by pure UMN; "
        "PLS: 2 of 3 regions, 30 months (24-48) -> probable.",
    ),
    (
        "pls_definite",
        case([umn("bulbar", "jaw_jerk_increased"), umn("cervical"), umn("lumbosacral", "babinski")],
             patient={**PATIENT, "symptom_duration_months": 60}),
        {},
        ("possible", "possible", False, "definite", "PLS"),
        "PLS with 60 months >= 48 -> definite.",
    ),
    (
        "pls_too_young",
        case([umn("bulbar", "jaw_jerk_increased"), umn("cervical")], patient={**PATIENT, "age_years": 20}),
        {},
        ("possible", "possible", False, "not_met", "indeterminate"),
        "Age 20 < 25 -> PLS not met; UMN only and PLS not met -> indeterminate phenotype.",
    ),
    (
        "pls_too_early",
        case([umn("bulbar", "jaw_jerk_increased"), umn("cervical")],
             patient={**PATIENT, "symptom_duration_months": 12}),
        {},
        ("possible", "possible", False, "not_met", "indeterminate"),
        "12 months < 24 -> PLS not met.",
    ),
    (
        "pseudobulbar_affect_counts_for_pls_only",
        case([umn("bulbar", "pseudobulbar_affect"), umn("cervical")]),
        {},
        ("not_met", "not_met", False, "probable", "PLS"),
        "For rEEC/Awaji U = {cervical} only (pseudobulbar affect is a PLS sign) -> not met; PLS regions "
        "bulbar + upper limb -> probable.",
    ),
    (
        "lmn_rostral_to_umn_is_possible",
        case([umn("lumbosacral", "babinski"), lmn("tongue", side=None, signs=("wasting",))]),
        {},
        ("possible", "possible", False, "not_met", "ALS"),
        "U = {lumbosacral}, Lc = {bulbar}: LMN rostral to UMN -> possible; GCC: UMN and LMN only in "
        "different single regions -> not met by default.",
    ),
    (
        "lmn_rostral_to_umn_gcc_split",
        case([umn("lumbosacral", "babinski"), lmn("tongue", side=None, signs=("wasting",))]),
        {"gcc_split_regions": True},
        ("possible", "possible", True, "not_met", "ALS"),
        "Same case with gcc_split_regions: UMN in one region plus LMN in a different single region -> met.",
    ),
    (
        "trap_weakness_alone_is_nothing",
        case([lmn("FDI", signs=("weakness",)), lmn("TA", signs=("weakness",)),
              {"region": "bulbar", "sign": "weakness"}]),
        {},
        ("not_met", "not_met", False, "not_met", "indeterminate"),
        "Weakness without wasting counts neither as LMN nor as UMN evidence: no region at all.",
    ),
    (
        "trap_weakness_with_umn_is_not_umn",
        case([umn("cervical"), lmn("TA", signs=("weakness",)), lmn("gastrocnemius", signs=("weakness",))]),
        {},
        ("not_met", "not_met", False, "not_met", "indeterminate"),
        "U = {cervical} only (leg weakness is not UMN evidence, nor LMN without wasting) -> not met; PLS "
        "needs 2 UMN regions -> indeterminate.",
    ),
    (
        "trap_babinski_absent_is_not_lmn",
        case([umn("cervical"), umn("lumbosacral", "babinski", present=False), lmn("FDI"), lmn("biceps")]),
        {},
        ("possible", "possible", True, "not_met", "ALS"),
        "An absent Babinski is neither UMN nor LMN evidence: U = {cervical}, Lc = {cervical} -> possible.",
    ),
    (
        "trap_clinical_fasciculations_count_for_nothing",
        case([umn("cervical"), lmn("biceps", signs=("fasciculation_clinical",)),
              lmn("TA", signs=("fasciculation_clinical", "reflex_reduced_absent", "hypotonia"))]),
        {},
        ("not_met", "not_met", False, "not_met", "indeterminate"),
        "Clinical fasciculations ask for EMG; reduced reflexes/hypotonia are supportive only: Lc = {} -> "
        "UMN in one region -> not met.",
    ),
    (
        "trap_fasciculation_potentials_awaji_not_reec",
        case([umn("cervical"), umn("lumbosacral", "babinski")],
             [emg(m, fib="0", fasc=True) for m in FOUR_MUSCLES]),
        {},
        ("possible", "probable", True, "not_met", "ALS"),
        "Fasciculations + chronic change: Awaji/GCC positive in cervical and lumbosacral (L = 2 regions, "
        "U = 2, cervical rostral to lumbosacral -> Awaji probable); rEEC ignores fasciculations: Le = {} -> "
        "only UMN in 2 regions -> possible. PLS: fasciculations with chronic change = active LMN degeneration.",
    ),
    (
        "trap_same_roots_no_region_but_different_roots_do",
        case([umn("bulbar", "jaw_jerk_increased")], [emg("FDI"), emg("APB"), emg("TA"), emg("gastrocnemius")]),
        {},
        ("not_met", "not_met", False, "not_met", "ALS"),
        "FDI + APB share C8-T1: no cervical region; TA (L4-L5, deep peroneal) + gastrocnemius (S1-S2, tibial): "
        "lumbosacral region. U = {bulbar}, L = {lumbosacral}: not met anywhere (GCC: different single regions).",
    ),
    (
        "same_muscle_both_sides_is_not_a_region",
        case([umn("cervical")], [emg("biceps", side="L"), emg("biceps", side="R")]),
        {},
        ("not_met", "not_met", False, "not_met", "indeterminate"),
        "Left and right biceps: same nerve and roots -> no cervical EMG region. U = {cervical} only; PLS "
        "fails on the fibrillations -> indeterminate.",
    ),
    (
        "root_distinct_not_identical",
        case([umn("cervical")], [emg("biceps"), emg("triceps")]),
        {},
        ("not_met", "possible", True, "not_met", "ALS"),
        "Biceps (C5-C6, musculocutaneous) + triceps (C6-C8, radial): root sets differ -> cervical EMG region "
        "(Awaji/GCC, and rEEC). rEEC keeps EMG apart and needs 2 EMG regions for lab support -> not met; "
        "Awaji U & L = {cervical} -> possible; GCC met.",
    ),
    (
        "root_distinct_disjoint",
        case([umn("cervical")], [emg("biceps"), emg("triceps")]),
        {"root_distinct_mode": "disjoint"},
        ("not_met", "not_met", False, "not_met", "indeterminate"),
        "With disjoint roots C6 is shared -> no region -> nothing; PLS fails (fibrillations) -> indeterminate.",
    ),
    (
        "thoracic_and_bulbar_need_one_muscle",
        case([umn("bulbar", "jaw_jerk_increased"), umn("cervical")], [emg("tongue", side=None), emg("T10_paraspinal")]),
        {},
        ("probable_laboratory_supported", "probable", True, "not_met", "ALS"),
        "One positive muscle each makes bulbar (tongue) and thoracic (T10 paraspinal) EMG regions. Awaji: "
        "U = {bulbar, cervical}, L = {bulbar, thoracic}, cervical rostral to thoracic -> probable. rEEC: "
        "Lc = {} but EMG in 2 regions with UMN -> laboratory supported.",
    ),
    (
        "thoracic_paraspinal_above_t6_does_not_count",
        case([umn("bulbar", "jaw_jerk_increased"), umn("cervical")], [emg("tongue", side=None), emg("T4_paraspinal")]),
        {},
        ("possible", "possible", True, "not_met", "ALS"),
        "T4 is above T6: L = {bulbar} only. rEEC: Le = 1 region, UMN in 2 regions -> possible; Awaji: UMN "
        "and LMN in bulbar -> possible; GCC same region.",
    ),
    (
        "abdominal_muscle_counts_for_thoracic",
        case([umn("cervical"), umn("thoracic", "absent_abdominal_reflexes")],
             [emg("rectus_abdominis", side="L"), emg("external_oblique", side="R", fib="0", fasc=True)]),
        {},
        ("possible", "possible", True, "not_met", "ALS"),
        "One abdominal muscle makes the thoracic EMG region: U = {cervical, thoracic}, L = {thoracic}; "
        "Awaji possible (same region), not probable (L = 1 region); rEEC Le = 1 region -> possible (UMN 2).",
    ),
    (
        "bulbar_one_muscle_umn_same_region",
        case([umn("bulbar", "jaw_jerk_increased")], [emg("tongue", side=None)]),
        {},
        ("not_met", "possible", True, "not_met", "ALS"),
        "EMG tongue positive -> bulbar LMN (Awaji/GCC). Awaji: UMN+LMN in bulbar -> possible; GCC met. "
        "rEEC: clinical LMN none, EMG in one region only -> not met.",
    ),
    (
        "awaji_definite_by_emg",
        case([umn("bulbar", "jaw_jerk_increased"), umn("cervical"), umn("lumbosacral", "babinski")],
             [emg("tongue", side=None), *[emg(m) for m in FOUR_MUSCLES]]),
        {},
        ("probable_laboratory_supported", "definite", True, "not_met", "ALS"),
        "Awaji pools EMG: U & L = {bulbar, cervical, lumbosacral} -> definite; rEEC: no clinical LMN, EMG "
        "in 3 regions with UMN -> laboratory supported.",
    ),
    (
        "reec_keeps_emg_apart",
        case([umn("bulbar", "jaw_jerk_increased"), umn("cervical"), lmn("FDI")], [emg("TA"), emg("gastrocnemius")]),
        {},
        ("possible", "probable", False, "not_met", "ALS"),
        "rEEC: Lc = {cervical} (1), Le = {lumbosacral} (1) -> not probable, not lab supported; UMN+LMN "
        "together in cervical -> possible. Awaji: L = {cervical, lumbosacral}, U = 2, bulbar rostral -> "
        "probable. GCC: FDI alone is not a GCC cervical LMN region; L = {lumbosacral}, no UMN there -> not met.",
    ),
    (
        "awaji_one_umn_region_option",
        case([umn("cervical")], [emg(m) for m in FOUR_MUSCLES]),
        {"awaji_probable_umn_regions": 1},
        ("probable_laboratory_supported", "probable", True, "not_met", "ALS"),
        "U = {cervical}, L = {cervical, lumbosacral}, cervical rostral to lumbosacral: Awaji probable with 1 "
        "UMN region accepted. rEEC: UMN in 1 region and rEEC EMG LMN in 2 regions -> laboratory supported.",
    ),
    (
        "one_umn_region_is_not_probable",
        case([umn("cervical"), lmn("FDI"), lmn("biceps"), lmn("TA"), lmn("gastrocnemius")]),
        {},
        ("possible", "possible", True, "not_met", "ALS"),
        "U = {cervical} (1 region), Lc = {cervical, lumbosacral}: probable needs UMN in >= 2 regions (the "
        "reading the worked cases pin) -> UMN+LMN together in cervical -> possible; GCC same region.",
    ),
    (
        "one_umn_region_awaji_option",
        case([umn("cervical"), lmn("FDI"), lmn("biceps"), lmn("TA"), lmn("gastrocnemius")]),
        {"awaji_probable_umn_regions": 1},
        ("possible", "probable", True, "not_met", "ALS"),
        "Same case with awaji_probable_umn_regions=1: Awaji accepts 1 UMN region, cervical UMN is rostral "
        "to lumbosacral LMN -> probable; rEEC keeps k = 2 -> possible.",
    ),
    (
        "prerequisite_progression_false",
        case([umn("bulbar", "jaw_jerk_increased"), umn("cervical", "hoffmann"), umn("lumbosacral", "babinski"),
              lmn("tongue", side=None, signs=("wasting",)), lmn("FDI"), lmn("biceps"), lmn("TA"), lmn("gastrocnemius")],
             patient={**PATIENT, "progression_documented": False}),
        {},
        ("not_met", "not_met", False, "not_met", "ALS"),
        "Definite by the signs, but progression is not documented: every criterion needs it -> not met.",
    ),
    (
        "prerequisite_not_stated",
        case([umn("cervical"), lmn("FDI"), lmn("biceps")], patient={"id": "nofacts"}),
        {},
        ("not_met", "not_met", False, "not_met", "ALS"),
        "No patient facts: progression/exclusion not stated -> not met (the signs alone give possible).",
    ),
    (
        "gcc_prior_abnormal_motor_function",
        case([umn("cervical"), lmn("FDI"), lmn("biceps")], patient={**PATIENT, "prior_normal_motor_function": False}),
        {},
        ("possible", "possible", False, "not_met", "ALS"),
        "GCC needs impairment after normal motor function; rEEC/Awaji unaffected.",
    ),
    (
        "pls_sparse_fibs_not_tolerated_by_default",
        case([umn("bulbar", "jaw_jerk_increased"), umn("cervical")], [emg("FDI", fib="1+", chronic=False)]),
        {},
        ("possible", "possible", False, "not_met", "indeterminate"),
        "One muscle with 1+ fibrillations, no chronic change: not EMG-positive for any ALS criterion, but "
        "active denervation for PLS (tolerance none) -> PLS not met, phenotype indeterminate.",
    ),
    (
        "pls_sparse_fibs_tolerated_minor",
        case([umn("bulbar", "jaw_jerk_increased"), umn("cervical")], [emg("FDI", fib="1+", chronic=False)]),
        {"pls_lmn_tolerance": "minor"},
        ("possible", "possible", False, "probable", "PLS"),
        "Same with pls_lmn_tolerance=minor: sparse fibrillations in one muscle tolerated -> PLS probable.",
    ),
    (
        "pls_minor_does_not_tolerate_2plus",
        case([umn("bulbar", "jaw_jerk_increased"), umn("cervical")], [emg("FDI", fib="2+", chronic=False)]),
        {"pls_lmn_tolerance": "minor"},
        ("possible", "possible", False, "not_met", "indeterminate"),
        "Grade 2+ is not sparse -> not tolerated.",
    ),
    (
        "pls_minor_does_not_tolerate_two_muscles",
        case([umn("bulbar", "jaw_jerk_increased"), umn("cervical")],
             [emg("FDI", fib="1+", chronic=False), emg("TA", fib="1+", chronic=False)]),
        {"pls_lmn_tolerance": "minor"},
        ("possible", "possible", False, "not_met", "indeterminate"),
        "Fibrillations in two muscles -> not tolerated.",
    ),
    (
        "pls_sensory_symptoms",
        case([umn("bulbar", "jaw_jerk_increased"), umn("cervical")],
             patient={**PATIENT, "unexplained_sensory_symptoms": True}),
        {},
        ("possible", "possible", False, "not_met", "indeterminate"),
        "Unexplained sensory symptoms exclude PLS.",
    ),
    (
        "pls_fasciculations_with_chronic_change_exclude",
        case([umn("bulbar", "jaw_jerk_increased"), umn("cervical")], [emg("TA", fib="0", fasc=True)]),
        {"pls_lmn_tolerance": "minor"},
        ("possible", "possible", False, "not_met", "indeterminate"),
        "Fasciculations with chronic neurogenic change = ongoing LMN degeneration, not the tolerated "
        "sparse fibrillations; one muscle makes no lumbosacral region, so no ALS either.",
    ),
    (
        "pma_bulbar_clinical_plus_cervical_emg",
        case([lmn("tongue", side=None, signs=("wasting",))], [emg("biceps"), emg("FDI")]),
        {},
        ("not_met", "not_met", True, "not_met", "PMA"),
        "No UMN signs, L = {bulbar (clinical), cervical (EMG)}: PMA with GCC met (LMN in 2 regions); rEEC "
        "and Awaji not classifiable.",
    ),
    (
        "lmn_one_region_indeterminate",
        case([lmn("FDI"), lmn("biceps")]),
        {},
        ("not_met", "not_met", False, "not_met", "indeterminate"),
        "LMN in cervical only, no UMN: GCC not met, not PMA (needs 2 regions) -> indeterminate.",
    ),
    (
        "unknown_chronic_change_is_not_positive",
        case([umn("cervical")], [emg("biceps", chronic=None), emg("FDI", chronic=None), emg("TA"), emg("gastrocnemius")]),
        {},
        ("not_met", "not_met", False, "not_met", "ALS"),
        "chronic_neurogenic not assessed (null) never makes a muscle positive: Le = {lumbosacral}; U = "
        "{cervical}; no category (1 UMN, 1 LMN region, LMN caudal); GCC different single regions.",
    ),
    (
        "aliases_and_clasp_knife",
        case([umn("cervical", "clasp_knife"), umn("lumbosacral", "crossed_adductor"),
              [{"muscle": "first_dorsal_interosseous", "side": "R", "sign": "wasting"}],
              [{"muscle": "biceps_brachii", "side": "R", "sign": "wasting"}],
              [{"muscle": "tibialis_anterior", "side": "L", "sign": "wasting"}]]),
        {},
        ("probable", "probable", True, "not_met", "ALS"),
        "clasp_knife = spasticity and muscle aliases resolve. U = Lc = {cervical, lumbosacral}; cervical UMN "
        "rostral to lumbosacral LMN -> probable; only 2 spinal regions with both -> not definite. GCC: "
        "FDI + biceps = 2 cervical muscles with UMN there -> met.",
    ),
]


@pytest.mark.parametrize("name,c,options,expected,why", HAND, ids=[h[0] for h in HAND])
def test_hand_case(name, c, options, expected, why):
    got, _ = result(c, **options)
    assert got == expected, why


def test_enough_hand_cases_cover_every_category():
    assert len(HAND) >= 30
    seen = {k: set() for k in range(5)}
    for _, _, _, exp, _ in HAND:
        for k, v in enumerate(exp):
            seen[k].add(v)
    assert seen[0] == {"definite", "probable", "probable_laboratory_supported", "possible", "not_met"}
    assert seen[1] == {"definite", "probable", "possible", "not_met"}
    assert seen[2] == {True, False}
    assert seen[3] == {"definite", "probable", "not_met"}
    assert seen[4] == {"ALS", "PLS", "PMA", "indeterminate"}
    used = {k for _, _, opts, _, _ in HAND for k in opts}
    from motorsign.fusion import OPTIONS

    assert used == set(OPTIONS)


def test_tms_never_changes_a_criterion():
    """Absent MEPs and prolonged CMCT everywhere: supportive only, categories unchanged."""
    base = case([umn("bulbar", "jaw_jerk_increased"), lmn("TA"), lmn("gastrocnemius")])
    tms = [
        {"muscle": "ADM", "side": "R", "mep_present": False},
        {"muscle": "TA", "side": "R", "cmct_ms": 25.0, "cmct_uln_ms": 16.0},
        {"muscle": "APB", "side": "L", "cmct_ms": 12.0, "cmct_abnormal": True, "sici_abnormal": True},
        {"muscle": "tongue", "mep_present": False, "threshold_abnormal": True},
    ]
    with_tms = case([umn("bulbar", "jaw_jerk_increased"), lmn("TA"), lmn("gastrocnemius")], tms=tms)
    got0, _ = result(base)
    got1, ev = result(with_tms)
    assert got0 == got1
    # TMS support is reported, with its region and the norm used
    cerv = ev["regions"]["cervical"]["umn"]
    assert cerv["clinical"] == [] and [t["id"] for t in cerv["supportive_tms"]] == ["t1", "t3"]
    ls = ev["regions"]["lumbosacral"]["umn"]["supportive_tms"]
    assert ls[0]["abnormalities"] == ["prolonged_cmct"] and ls[0]["norms"]["cmct_uln_ms"] == 16.0
    assert ev["regions"]["bulbar"]["umn"]["supportive_tms"][0]["abnormalities"] == ["absent_mep", "abnormal_threshold"]
    # and it changes nothing under any option either
    for name in ("revised_el_escorial", "awaji", "gold_coast", "pls_2020"):
        _, ev0 = result(base)
        assert ev["criteria"][name]["results_over_all_options"] == ev0["criteria"][name]["results_over_all_options"]


def test_tms_cmct_uses_packaged_norm_and_flags_missing_norm():
    c = case([umn("cervical")], tms=[{"muscle": "FDI", "side": "R", "cmct_ms": 9.6},
                                     {"muscle": "biceps", "side": "R", "cmct_ms": 30.0}])
    _, ev = result(c)
    tms = {t["id"]: t for t in ev["tms"]}
    assert tms["t1"]["abnormalities"] == ["prolonged_cmct"]
    assert "evoked_norms" in tms["t1"]["norms"]["cmct_source"]
    # no norm for biceps: not called abnormal, flagged
    assert tms["t2"]["abnormalities"] == [] and tms["t2"]["flags"] == ["cmct_no_norm"]


def test_mixed_muscle_reported():
    c = case([umn(sign="reflex_preserved_in_weak_wasted", muscle="biceps"), lmn("biceps"),
              lmn("FDI", signs=("wasting",))], [emg("FDI")])
    _, ev = result(c)
    mixed = ev["regions"]["cervical"]["mixed_muscles"]
    assert mixed == [{"muscle": "biceps", "side": "R", "umn": ["c1"], "lmn": ["c2", "c3"]}]


def test_weakness_with_wasting_elsewhere_in_region_counts():
    c = case([lmn("FDI", signs=("wasting",)), lmn("biceps", signs=("weakness",)), lmn("TA", signs=("weakness",))])
    _, ev = result(c)
    cerv = ev["regions"]["cervical"]["lmn"]
    assert cerv["clinical"] == ["c1", "c2"] and cerv["clinical_gold_coast"] is True
    ls = ev["regions"]["lumbosacral"]["lmn"]
    assert ls["clinical"] == [] and [x["id"] for x in ls["not_counted"]] == ["c3"]


def test_reasons_name_finding_ids_and_next_steps():
    c = case([umn("cervical")], [emg("FDI"), emg("APB")])
    _, ev = result(c)
    reec = ev["criteria"]["revised_el_escorial"]
    assert reec["rule"] == "reec.not_met.insufficient" and reec["reasons"][0]["finding_ids"] == ["c1"]
    # possible is one step away: LMN signs in cervical or UMN signs elsewhere
    alts = [[(x["evidence"], x["region"]) for x in alt] for alt in reec["next"]["add_one_of"]]
    assert [("lmn_clinical", "cervical")] in alts and [("umn", "bulbar")] in alts
    assert all(len(a) == 1 for a in alts)


def test_interpretation_dependent_lists_every_flip():
    c = case([umn("cervical")], [emg("biceps"), emg("triceps")])
    _, ev = result(c)
    flips = {(f["option"], f["criterion"]) for f in ev["interpretation_dependent"]}
    assert ("root_distinct_mode", "awaji") in flips and ("root_distinct_mode", "gold_coast") in flips
    assert ev["criteria"]["revised_el_escorial"]["interpretation_dependent"] is False
    assert ev["criteria"]["awaji"]["results_over_all_options"] == ["not_met", "possible"]


def test_most_rostral_is_umn_is_not_monotone():
    """Why the monotonicity property is tested under exists_pair only: with most_rostral_is_umn,
    finding LMN signs higher up (tongue) removes 'the most rostral region is UMN'.
    U = {cervical, lumbosacral}, Lc = {thoracic, lumbosacral}: probable (cervical above thoracic, and
    cervical is the most rostral region involved). Add tongue wasting: bulbar LMN is now the most
    rostral -> not probable; UMN+LMN in lumbosacral -> possible."""
    base = [umn("cervical"), umn("lumbosacral", "babinski"), lmn("rectus_abdominis", signs=("wasting",)), lmn("TA")]
    more = base + [lmn("tongue", side=None, signs=("wasting",))]
    assert result(case(base), rostral_mode="most_rostral_is_umn")[0][:2] == ("probable", "probable")
    assert result(case(more), rostral_mode="most_rostral_is_umn")[0][:2] == ("possible", "possible")
    assert result(case(more))[0][:2] == ("probable", "probable")
