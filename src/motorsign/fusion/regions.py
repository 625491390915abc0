"""Per-region UMN and LMN evidence, with the finding ids behind each piece.

Rules (reference/criteria.md):

* clinical UMN: a UMN sign present in the region (``pseudobulbar_affect``
  counts for PLS only; a sign recorded ``present: false`` is reported as
  absent, never as evidence of anything);
* clinical LMN: ``wasting``; ``weakness`` only with wasting in the same muscle
  or region (weakness alone is never UMN or LMN evidence);
  ``fasciculation_clinical`` counts for nothing; ``reflex_reduced_absent`` and
  ``hypotonia`` are supportive only. For Gold Coast a limb region (cervical,
  lumbosacral) needs clinical LMN signs in two different muscles;
* EMG LMN, per criterion: a muscle is positive under rEEC with fibrillations/
  PSWs AND chronic neurogenic change, under Awaji and Gold Coast with chronic
  neurogenic change AND (fibrillations/PSWs OR fasciculation potentials). A
  region is positive with one positive muscle in bulbar, one thoracic
  paraspinal at/below T6 or abdominal muscle in thoracic, and two positive
  muscles with different nerves AND different root sets (``root_distinct_mode``)
  in cervical or lumbosacral. A muscle sampled on both sides keeps its nerve
  name and roots, so left + right biceps do not make a region;
* supportive TMS: absent MEP, prolonged CMCT (against the stated or the
  packaged norm), small MEP/CMAP ratio, abnormal threshold, reduced SICI or an
  abnormal triple stimulation in a muscle support UMN involvement of its region;
  never a criterion;
* mixed muscles: a muscle with a UMN sign and counted LMN evidence (clinical, or
  EMG positive under Awaji) at once.
"""

from __future__ import annotations

import itertools
import logging
import math
from dataclasses import dataclass, field
from typing import Any

from motorsign.fusion.case import (
    LMN_NOT_COUNTED_SIGNS,
    LMN_SUPPORTIVE_SIGNS,
    PLS_ONLY_SIGNS,
    Case,
    ClinicalFinding,
    EmgFinding,
    TmsFinding,
)
from motorsign.fusion.catalog import REGIONS, Muscle

__all__ = [
    "CRITERIA_EMG",
    "GCC_LIMB_MIN_MUSCLES",
    "LIMB_EMG_MIN_MUSCLES",
    "emg_muscle_positive",
    "roots_distinct",
    "RegionFacts",
    "region_facts",
    "tms_abnormalities",
]

log = logging.getLogger(__name__)

#: criteria with their own EMG rule
CRITERIA_EMG: tuple[str, ...] = ("revised_el_escorial", "awaji", "gold_coast")
#: Gold Coast: clinical LMN in a limb region needs signs in this many muscles.
GCC_LIMB_MIN_MUSCLES: int = 2
#: EMG: positive muscles (different nerves and roots) needed in a limb region.
LIMB_EMG_MIN_MUSCLES: int = 2
LIMB_REGIONS: frozenset[str] = frozenset({"cervical", "lumbosacral"})


def emg_muscle_positive(f: EmgFinding, criterion: str) -> bool:
    """Whether one muscle's EMG shows LMN involvement under ``criterion``.

    Unknown values (None) never make a muscle positive.
    """
    chronic = f.chronic_neurogenic is True
    fib = f.fib_psw_present is True
    if criterion == "revised_el_escorial":
        return chronic and fib
    if criterion in ("awaji", "gold_coast"):
        return chronic and (fib or f.fasciculations is True)
    raise ValueError(f"unknown criterion {criterion!r}")


def roots_distinct(a: Muscle, b: Muscle, mode: str) -> bool:
    """Whether two muscles count as supplied by different roots.

    ``not_identical``: the root sets differ; ``disjoint``: they share no root.
    A muscle whose roots are unknown (unlevelled paraspinal) never counts.
    """
    ra, rb = set(a.roots), set(b.roots)
    if not ra or not rb:
        return False
    if mode == "disjoint":
        return not (ra & rb)
    return ra != rb


def _pair_ok(a: EmgFinding, b: EmgFinding, mode: str) -> bool:
    return a.muscle.nerve != b.muscle.nerve and roots_distinct(a.muscle, b.muscle, mode)


@dataclass
class EmgRegion:
    """EMG LMN evidence of one region under one criterion."""

    positive: bool
    positive_muscles: list[str]  # finding ids of positive muscles in the region
    basis: list[str]  # finding ids that make the region positive
    rule: str

    def to_dict(self) -> dict:
        return {
            "positive": self.positive,
            "rule": self.rule,
            "finding_ids": sorted(self.basis),
            "positive_muscle_ids": sorted(self.positive_muscles),
        }


def _emg_region(region: str, findings: list[EmgFinding], criterion: str, mode: str) -> EmgRegion:
    pos = sorted((f for f in findings if emg_muscle_positive(f, criterion)), key=lambda f: f.id)
    ids = [f.id for f in pos]
    if region == "bulbar":
        return EmgRegion(bool(pos), ids, ids, "emg.region.bulbar_one_muscle")
    if region == "thoracic":
        ok = [f.id for f in pos if f.muscle.counts_for_thoracic_emg]
        return EmgRegion(bool(ok), ids, ok, "emg.region.thoracic_paraspinal_at_or_below_T6_or_abdominal")
    basis: set[str] = set()
    for a, b in itertools.combinations(pos, 2):
        if _pair_ok(a, b, mode):
            basis.update((a.id, b.id))
    rule = f"emg.region.limb_two_muscles_different_nerves_roots_{mode}"
    return EmgRegion(bool(basis), ids, sorted(basis), rule)


def tms_abnormalities(f: TmsFinding) -> tuple[list[str], dict[str, Any], list[str]]:
    """Abnormal TMS measures of one finding.

    Returns
    -------
    abnormalities : list of str
        Among ``absent_mep``, ``prolonged_cmct``, ``small_mep_cmap_ratio``,
        ``abnormal_threshold``, ``reduced_sici``, ``abnormal_triple_stimulation``.
    norms : dict
        The limits used (``cmct_uln_ms``, ``mep_cmap_ratio_lln``, source).
    flags : list of str
        Measures that could not be judged (``cmct_no_norm``, ...).
    """
    v = f.values
    out: list[str] = []
    norms: dict[str, Any] = {}
    flags: list[str] = []
    if v.get("mep_present") is False:
        out.append("absent_mep")
    cmct = v.get("cmct_ms")
    if v.get("cmct_abnormal") is True:
        out.append("prolonged_cmct")
        if v.get("cmct_uln_ms") is not None:
            norms["cmct_uln_ms"] = v["cmct_uln_ms"]
        norms["cmct_source"] = v.get("norm_source") or "stated in the case / cmct result"
    elif v.get("cmct_abnormal") is False:
        norms["cmct_source"] = v.get("norm_source") or "stated in the case / cmct result"
    elif cmct is not None:
        uln = v.get("cmct_uln_ms")
        source = v.get("norm_source") or ("stated in the case" if uln is not None else None)
        if uln is None:
            norm = _packaged_norm(f.muscle.name, "cmct_ms")
            if norm is not None:
                uln, source = norm
        if uln is None:
            flags.append("cmct_no_norm")
        else:
            norms["cmct_uln_ms"] = uln
            norms["cmct_source"] = source
            if cmct > uln:
                out.append("prolonged_cmct")
    ratio = v.get("mep_cmap_ratio")
    if ratio is not None:
        lln = v.get("mep_cmap_ratio_lln")
        source = "stated in the case" if lln is not None else None
        if lln is None:
            norm = _packaged_norm(f.muscle.name, "mep_cmap_ratio", lower=True)
            if norm is not None:
                lln, source = norm
        if lln is None:
            flags.append("mep_cmap_ratio_no_norm")
        else:
            norms["mep_cmap_ratio_lln"] = lln
            norms["mep_cmap_ratio_source"] = source
            if ratio < lln:
                out.append("small_mep_cmap_ratio")
    for key, name in (
        ("threshold_abnormal", "abnormal_threshold"),
        ("sici_abnormal", "reduced_sici"),
        ("triple_stimulation_abnormal", "abnormal_triple_stimulation"),
    ):
        if v.get(key) is True:
            out.append(name)
    return out, norms, flags


def _packaged_norm(muscle: str, measure: str, lower: bool = False) -> tuple[float, str] | None:
    """(limit, source) from the evoked norms table, or None."""
    try:
        from motorsign.evoked.tables import find_norm
    except ImportError:  # pragma: no cover - evoked package absent
        return None
    try:
        norm = find_norm(muscle, measure)
    except Exception as exc:  # a broken table must not stop fusion
        log.warning("norms table unusable for %s %s: %s", muscle, measure, exc)
        return None
    if norm is None:
        return None
    limit = norm.lln if lower else norm.limit
    if limit is None or not math.isfinite(limit):
        return None
    return float(limit), f"motorsign evoked_norms.csv: {norm.source}"


@dataclass
class RegionFacts:
    """Everything fusion knows about one region."""

    region: str
    umn_clinical: list[str] = field(default_factory=list)
    umn_pls_only: list[str] = field(default_factory=list)
    umn_absent: list[str] = field(default_factory=list)
    tms_supportive: list[dict] = field(default_factory=list)
    tms_normal: list[dict] = field(default_factory=list)
    lmn_clinical: list[str] = field(default_factory=list)
    lmn_clinical_muscles: list[tuple[str, str | None]] = field(default_factory=list)
    lmn_supportive: list[str] = field(default_factory=list)
    lmn_not_counted: list[dict] = field(default_factory=list)
    emg: dict[str, EmgRegion] = field(default_factory=dict)
    emg_muscles: list[str] = field(default_factory=list)
    mixed_muscles: list[dict] = field(default_factory=list)

    @property
    def has_umn(self) -> bool:
        return bool(self.umn_clinical)

    @property
    def has_umn_pls(self) -> bool:
        return bool(self.umn_clinical or self.umn_pls_only)

    @property
    def has_lmn_clinical(self) -> bool:
        return bool(self.lmn_clinical)

    @property
    def has_lmn_clinical_gcc(self) -> bool:
        if not self.lmn_clinical:
            return False
        if self.region in LIMB_REGIONS:
            return len(set(self.lmn_clinical_muscles)) >= GCC_LIMB_MIN_MUSCLES
        return True

    def to_dict(self) -> dict:
        return {
            "umn": {
                "clinical": sorted(self.umn_clinical),
                "present": self.has_umn,
                "pls_only": sorted(self.umn_pls_only),
                "absent_signs": sorted(self.umn_absent),
                "supportive_tms": sorted(self.tms_supportive, key=lambda d: d["id"]),
                "tms_normal": sorted(self.tms_normal, key=lambda d: d["id"]),
            },
            "lmn": {
                "clinical": sorted(self.lmn_clinical),
                "clinical_present": self.has_lmn_clinical,
                "clinical_muscles": sorted(
                    {_muscle_label(m) for m in self.lmn_clinical_muscles}
                ),
                "clinical_gold_coast": self.has_lmn_clinical_gcc,
                "emg": {k: v.to_dict() for k, v in self.emg.items()},
                "emg_muscles_examined": sorted(self.emg_muscles),
                "supportive": sorted(self.lmn_supportive),
                "not_counted": sorted(self.lmn_not_counted, key=lambda d: d["id"]),
            },
            "mixed_muscles": sorted(self.mixed_muscles, key=lambda d: (d["muscle"], d["side"] or "")),
        }


def _muscle_label(key: tuple[str, str | None]) -> str:
    name, side = key
    return f"{name} {side}" if side else name


def _same_muscle(a: tuple[str, str | None], b: tuple[str, str | None]) -> bool:
    return a[0] == b[0] and (a[1] is None or b[1] is None or a[1] == b[1])


def region_facts(case: Case, options: dict) -> dict[str, RegionFacts]:
    """Per-region evidence of a case under the given options.

    Parameters
    ----------
    case : Case
        A validated case (:func:`motorsign.fusion.case.load_case`).
    options : dict
        Resolved options (:func:`motorsign.fusion.options.resolve_options`).

    Returns
    -------
    dict
        region -> :class:`RegionFacts`, for all four regions.
    """
    facts = {r: RegionFacts(r) for r in REGIONS}
    wasting_regions = {c.region for c in case.clinical if c.present and c.sign == "wasting"}
    umn_by_muscle: dict[tuple[str, str | None], list[str]] = {}
    lmn_by_muscle: dict[tuple[str, str | None], list[str]] = {}

    for c in sorted(case.clinical, key=lambda c: c.id):
        rf = facts[c.region]
        _clinical_into(c, rf, wasting_regions, umn_by_muscle, lmn_by_muscle)

    mode = options["root_distinct_mode"]
    by_region: dict[str, list[EmgFinding]] = {r: [] for r in REGIONS}
    for f in case.emg:
        by_region[f.region].append(f)
        facts[f.region].emg_muscles.append(f.id)
        if emg_muscle_positive(f, "awaji"):
            lmn_by_muscle.setdefault((f.muscle.name, f.side), []).append(f.id)
    for r in REGIONS:
        for crit in CRITERIA_EMG:
            facts[r].emg[crit] = _emg_region(r, by_region[r], crit, mode)

    for t in case.tms:
        abn, norms, flags = tms_abnormalities(t)
        item = {
            "id": t.id,
            "muscle": t.muscle.name,
            "side": t.side,
            "abnormalities": abn,
            "norms": norms,
            "flags": flags,
        }
        (facts[t.region].tms_supportive if abn else facts[t.region].tms_normal).append(item)

    for ukey, uids in umn_by_muscle.items():
        for lkey, lids in lmn_by_muscle.items():
            if _same_muscle(ukey, lkey):
                region = case.catalog.muscles[ukey[0]].region
                side = ukey[1] or lkey[1]
                existing = [
                    m for m in facts[region].mixed_muscles if m["muscle"] == ukey[0] and m["side"] == side
                ]
                if existing:
                    m = existing[0]
                    m["umn"] = sorted(set(m["umn"]) | set(uids))
                    m["lmn"] = sorted(set(m["lmn"]) | set(lids))
                else:
                    facts[region].mixed_muscles.append(
                        {"muscle": ukey[0], "side": side, "umn": sorted(uids), "lmn": sorted(lids)}
                    )
    return facts


def _clinical_into(
    c: ClinicalFinding,
    rf: RegionFacts,
    wasting_regions: set[str],
    umn_by_muscle: dict,
    lmn_by_muscle: dict,
) -> None:
    if c.is_umn:
        if not c.present:
            rf.umn_absent.append(c.id)
            return
        if c.sign in PLS_ONLY_SIGNS:
            rf.umn_pls_only.append(c.id)
            return
        rf.umn_clinical.append(c.id)
        if c.muscle_key is not None:
            umn_by_muscle.setdefault(c.muscle_key, []).append(c.id)
        return
    if not c.present:
        rf.lmn_not_counted.append({"id": c.id, "reason": f"{c.sign} recorded as absent"})
        return
    if c.sign == "wasting" or (c.sign == "weakness" and c.region in wasting_regions):
        rf.lmn_clinical.append(c.id)
        # signs without a muscle count as one unnamed muscle of the region, whatever the side
        key = c.muscle_key if c.muscle_key is not None else (f"<{c.region}, muscle not named>", None)
        rf.lmn_clinical_muscles.append(key)
        if c.muscle_key is not None:
            lmn_by_muscle.setdefault(c.muscle_key, []).append(c.id)
    elif c.sign == "weakness":
        rf.lmn_not_counted.append(
            {"id": c.id, "reason": "weakness without wasting in the same muscle or region counts for nothing"}
        )
    elif c.sign in LMN_SUPPORTIVE_SIGNS:
        rf.lmn_supportive.append(c.id)
    elif c.sign in LMN_NOT_COUNTED_SIGNS:
        rf.lmn_not_counted.append(
            {"id": c.id, "reason": "clinical fasciculations ask for EMG; they count for no criterion"}
        )
