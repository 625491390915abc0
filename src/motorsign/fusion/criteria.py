"""The ALS / PLS criteria on per-region evidence.

Notation (reference/criteria.md): ``U`` = regions with clinical UMN signs,
``Lc`` = clinical LMN regions, ``Le`` = EMG LMN regions for the criterion,
``L = Lc | Le`` (Awaji, Gold Coast). Regions rank rostral to caudal:
bulbar < cervical < thoracic < lumbosacral.

The rule set, chosen so that every worked case of criteria.md comes out as
its table says, and applied identically to every criterion that shares it:

* **definite** (rEEC with ``Lc``, Awaji with ``L``): UMN *and* LMN evidence in
  the same region for bulbar plus >= 2 spinal regions, or for all 3 spinal
  regions.
* **probable** (rEEC with ``Lc``, Awaji with ``L``): UMN signs in >= k regions
  AND LMN evidence in >= 2 regions, AND the rostral condition. ``k`` = 2 for
  rEEC and ``awaji_probable_umn_regions`` (default 2) for Awaji. "UMN and LMN
  in >= 2 regions" is read as each kind of evidence in >= 2 regions: the
  worked cases pin it (UMN bulbar only + LMN lumbosacral only is not
  probable; UMN bulbar only + EMG LMN cervical and lumbosacral is Awaji
  not_met unless ``awaji_probable_umn_regions=1``). Rostral condition,
  ``rostral_mode``: ``exists_pair`` = some UMN region is rostral to some LMN
  region; ``most_rostral_is_umn`` = that, and the most rostral region with any
  evidence carries UMN signs (this reading is not monotone: LMN found higher
  up can lower the category).
* **probable_laboratory_supported** (rEEC only): UMN in >= 1 region and rEEC
  EMG LMN in >= 2 regions, when not probable or definite. rEEC keeps clinical
  and EMG LMN evidence apart: EMG counts here only.
* **possible**: UMN and LMN together in one region; or UMN in >= 2 regions;
  or LMN in a region rostral to a UMN region.
* **not_met** otherwise; a pure LMN picture is "not classifiable" under rEEC
  and Awaji (rule ``*.not_met.pure_lmn``).
* **Gold Coast** (met / not met): UMN and LMN in the same region, or LMN in
  >= 2 regions (``L`` with the 2-limb-muscle rule for clinical LMN); with
  ``gcc_split_regions`` also UMN in one region plus LMN in another.
* **PLS 2020**: age >= 25, progressive UMN dysfunction for >= 24 months, UMN
  signs in >= 2 of bulbar / upper limb / lower limb (``pseudobulbar_affect``
  counts here), no unexplained sensory symptoms, no active LMN degeneration
  (clinical LMN signs, a muscle with fibrillations/PSWs, or a muscle with
  chronic neurogenic change plus fasciculations; ``pls_lmn_tolerance='minor'``
  tolerates fibrillations graded 1+ in a single muscle without chronic
  change); probable at 24-48 months, definite from 48 months.

Prerequisites (progression, exclusion work-up, ...) that are false or not
stated make the category ``not_met`` (Gold Coast ``met: false``); the category
the signs alone give is kept as ``anatomical_category``.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from typing import Any

from motorsign.fusion.catalog import REGIONS, SPINAL_REGIONS
from motorsign.fusion.regions import RegionFacts

__all__ = [
    "REEC_ORDER",
    "AWAJI_ORDER",
    "PLS_ORDER",
    "PLS_MIN_AGE_YEARS",
    "PLS_MIN_DURATION_MONTHS",
    "PLS_DEFINITE_DURATION_MONTHS",
    "PLS_REGIONS",
    "RegionSets",
    "region_sets",
    "reec_category",
    "awaji_category",
    "gcc_met",
    "evaluate_criteria",
]

REEC_ORDER: tuple[str, ...] = ("not_met", "possible", "probable_laboratory_supported", "probable", "definite")
AWAJI_ORDER: tuple[str, ...] = ("not_met", "possible", "probable", "definite")
PLS_ORDER: tuple[str, ...] = ("not_met", "probable", "definite")

#: PLS 2020 (Turner 2020): minimum age at onset work-up, years.
PLS_MIN_AGE_YEARS: float = 25.0
#: PLS 2020: progressive UMN dysfunction for at least this long (probable), months.
PLS_MIN_DURATION_MONTHS: float = 24.0
#: PLS 2020: definite from this duration, months.
PLS_DEFINITE_DURATION_MONTHS: float = 48.0
#: PLS 2020 regions: name -> region of this package.
PLS_REGIONS: dict[str, str] = {"bulbar": "bulbar", "upper_limb": "cervical", "lower_limb": "lumbosacral"}
#: PLS 2020: UMN signs needed in this many of the three PLS regions.
PLS_MIN_UMN_REGIONS: int = 2
#: Largest number of added pieces of evidence searched for the next category.
NEXT_SEARCH_MAX_ADDITIONS: int = 6

RANK = {r: i for i, r in enumerate(REGIONS)}

LABELS = {
    "umn": "clinical UMN signs",
    "lmn_clinical": "clinical LMN signs",
    "lmn_clinical_gold_coast": "clinical LMN signs (2 muscles in a limb region)",
    "lmn_emg:revised_el_escorial": "EMG LMN evidence (rEEC)",
    "lmn_emg:awaji": "EMG LMN evidence (Awaji)",
    "lmn_emg:gold_coast": "EMG LMN evidence (Gold Coast)",
    "lmn": "LMN evidence (clinical or EMG)",
    "lmn_gcc": "LMN evidence (EMG, or clinical signs in 2 muscles of a limb region)",
}


@dataclass(frozen=True)
class RegionSets:
    """Which regions hold which kind of evidence."""

    U: frozenset[str]
    Upls: frozenset[str]
    Lc: frozenset[str]
    Lc_gcc: frozenset[str]
    Le_reec: frozenset[str]
    Le_awaji: frozenset[str]
    Le_gcc: frozenset[str]

    @property
    def L_awaji(self) -> frozenset[str]:
        return self.Lc | self.Le_awaji

    @property
    def L_gcc(self) -> frozenset[str]:
        return self.Lc_gcc | self.Le_gcc

    def add(self, kind: str, region: str) -> RegionSets:
        """A copy with one more region of evidence of ``kind``."""
        one = frozenset({region})
        if kind == "umn":
            return replace(self, U=self.U | one, Upls=self.Upls | one)
        if kind == "lmn_clinical":
            return replace(self, Lc=self.Lc | one, Lc_gcc=self.Lc_gcc | one)
        if kind == "lmn_emg:revised_el_escorial":
            return replace(self, Le_reec=self.Le_reec | one)
        if kind in ("lmn", "lmn_gcc"):
            return replace(self, Lc=self.Lc | one, Lc_gcc=self.Lc_gcc | one)
        raise ValueError(kind)

    def has(self, kind: str, region: str) -> bool:
        return region in {
            "umn": self.U,
            "lmn_clinical": self.Lc,
            "lmn_emg:revised_el_escorial": self.Le_reec,
            "lmn": self.L_awaji,
            "lmn_gcc": self.L_gcc,
        }[kind]


def region_sets(facts: Mapping[str, RegionFacts]) -> RegionSets:
    """Region sets of per-region facts."""

    def pick(pred: Callable[[RegionFacts], bool]) -> frozenset[str]:
        return frozenset(r for r, f in facts.items() if pred(f))

    return RegionSets(
        U=pick(lambda f: f.has_umn),
        Upls=pick(lambda f: f.has_umn_pls),
        Lc=pick(lambda f: f.has_lmn_clinical),
        Lc_gcc=pick(lambda f: f.has_lmn_clinical_gcc),
        Le_reec=pick(lambda f: f.emg["revised_el_escorial"].positive),
        Le_awaji=pick(lambda f: f.emg["awaji"].positive),
        Le_gcc=pick(lambda f: f.emg["gold_coast"].positive),
    )


# ----------------------------------------------------------------- region rules
def _ordered(regions) -> list[str]:
    return sorted(regions, key=RANK.__getitem__)


def _rostral_pair(U: frozenset[str], L: frozenset[str]) -> tuple[str, str] | None:
    """The first (UMN region, LMN region) with the UMN region rostral, or None."""
    for u in _ordered(U):
        for ll in _ordered(L):
            if RANK[u] < RANK[ll]:
                return u, ll
    return None


def _rostral_ok(U: frozenset[str], L: frozenset[str], mode: str) -> bool:
    if _rostral_pair(U, L) is None:
        return False
    if mode == "most_rostral_is_umn":
        return min(RANK[u] for u in U) <= min(RANK[ll] for ll in L)
    return True


def _lmn_rostral_to_umn(U: frozenset[str], L: frozenset[str]) -> tuple[str, str] | None:
    for ll in _ordered(L):
        for u in _ordered(U):
            if RANK[ll] < RANK[u]:
                return ll, u
    return None


def _definite(U: frozenset[str], L: frozenset[str]) -> tuple[str, list[str]] | None:
    both = U & L
    spinal = [r for r in SPINAL_REGIONS if r in both]
    if "bulbar" in both and len(spinal) >= 2:
        return "bulbar_plus_2_spinal", ["bulbar", *spinal]
    if len(spinal) == 3:
        return "3_spinal", spinal
    return None


def _graded(
    prefix: str, U: frozenset[str], L: frozenset[str], k_umn: int, mode: str,
    Le_lab: frozenset[str] | None,
) -> tuple[str, str, list[tuple[str, str]]]:
    """(category, rule id, [(evidence, region)]) of rEEC/Awaji-style grading.

    ``evidence`` is ``umn`` or ``lmn`` (L) or ``lab`` (Le_lab).
    """
    d = _definite(U, L)
    if d is not None:
        rule, regs = d
        return "definite", f"{prefix}.definite.{rule}", [(e, r) for r in regs for e in ("umn", "lmn")]
    if len(U) >= k_umn and len(L) >= 2 and _rostral_ok(U, L, mode):
        items = [("umn", r) for r in _ordered(U)] + [("lmn", r) for r in _ordered(L)]
        return "probable", f"{prefix}.probable.{mode}", items
    if Le_lab is not None and len(U) >= 1 and len(Le_lab) >= 2:
        items = [("umn", r) for r in _ordered(U)] + [("lab", r) for r in _ordered(Le_lab)]
        return "probable_laboratory_supported", f"{prefix}.probable_laboratory_supported", items
    both = U & L
    if both:
        r = _ordered(both)[0]
        return "possible", f"{prefix}.possible.umn_lmn_same_region", [("umn", r), ("lmn", r)]
    if len(U) >= 2:
        return "possible", f"{prefix}.possible.umn_2_regions", [("umn", r) for r in _ordered(U)]
    pair = _lmn_rostral_to_umn(U, L)
    if pair is not None:
        return "possible", f"{prefix}.possible.lmn_rostral_to_umn", [("lmn", pair[0]), ("umn", pair[1])]
    if not U and (L or (Le_lab or frozenset())):
        lmn = [("lmn", r) for r in _ordered(L)] + [("lab", r) for r in _ordered(Le_lab or frozenset())]
        return "not_met", f"{prefix}.not_met.pure_lmn", lmn
    if U:
        items = [("umn", r) for r in _ordered(U)] + [("lmn", r) for r in _ordered(L)]
        return "not_met", f"{prefix}.not_met.insufficient", items
    return "not_met", f"{prefix}.not_met.no_evidence", []


def reec_category(s: RegionSets, options: Mapping[str, Any]) -> tuple[str, str, list[tuple[str, str]]]:
    """Revised El Escorial category from the signs alone (clinical LMN kept apart from EMG)."""
    return _graded("reec", s.U, s.Lc, 2, options["rostral_mode"], s.Le_reec)


def awaji_category(s: RegionSets, options: Mapping[str, Any]) -> tuple[str, str, list[tuple[str, str]]]:
    """Awaji category from the signs alone (clinical and EMG LMN pooled)."""
    return _graded(
        "awaji", s.U, s.L_awaji, int(options["awaji_probable_umn_regions"]), options["rostral_mode"], None
    )


def gcc_met(s: RegionSets, options: Mapping[str, Any]) -> tuple[bool, str, list[tuple[str, str]]]:
    """Gold Coast anatomical condition: (met, rule id, [(evidence, region)])."""
    U, L = s.U, s.L_gcc
    both = U & L
    if both:
        return True, "gcc.umn_lmn_same_region", [(e, r) for r in _ordered(both) for e in ("umn", "lmn")]
    if len(L) >= 2:
        return True, "gcc.lmn_2_regions", [("lmn", r) for r in _ordered(L)]
    if options["gcc_split_regions"] and U and L:
        return True, "gcc.split_regions", [("umn", _ordered(U)[0]), ("lmn", _ordered(L)[0])]
    if U and L:
        return False, "gcc.not_met.umn_lmn_different_single_regions", (
            [("umn", r) for r in _ordered(U)] + [("lmn", r) for r in _ordered(L)]
        )
    if U:
        return False, "gcc.not_met.pure_umn", [("umn", r) for r in _ordered(U)]
    if L:
        return False, "gcc.not_met.lmn_one_region", [("lmn", r) for r in _ordered(L)]
    return False, "gcc.not_met.no_evidence", []


# --------------------------------------------------------------- prerequisites
def _fact(patient: Mapping[str, Any], key: str, want: Any, text: str) -> dict | None:
    """None when satisfied, else {fact, status, text}."""
    value = patient.get(key)
    if value is None:
        return {"fact": key, "status": "not_stated", "text": f"{text}: not stated (patient.{key})"}
    if value != want:
        return {"fact": key, "status": "failed", "text": f"{text}: patient.{key} is {value!r}"}
    return None


def _als_prerequisites(patient: Mapping[str, Any], gcc: bool = False) -> list[dict]:
    out = [
        _fact(patient, "progression_documented", True, "progression must be documented"),
        _fact(patient, "exclusion_workup_complete", True, "other causes must be excluded"),
    ]
    if gcc and patient.get("prior_normal_motor_function") is False:
        out.append(
            {
                "fact": "prior_normal_motor_function",
                "status": "failed",
                "text": "Gold Coast needs progressive impairment after previously normal motor function",
            }
        )
    return [x for x in out if x]


# -------------------------------------------------------------------- reasons
class _Ids:
    """Maps (evidence kind, region) to finding ids."""

    def __init__(self, facts: Mapping[str, RegionFacts]):
        self.facts = facts

    def __call__(self, kind: str, region: str) -> list[str]:
        f = self.facts[region]
        if kind == "umn":
            return list(f.umn_clinical)
        if kind == "umn_pls":
            return list(f.umn_clinical) + list(f.umn_pls_only)
        if kind == "lmn_clinical":
            return list(f.lmn_clinical)
        if kind.startswith("lmn_emg:"):
            return list(f.emg[kind.split(":", 1)[1]].basis)
        raise ValueError(kind)


def _reason(rule: str, text: str, ids: list[str], regions: list[str] | None = None) -> dict:
    out = {"rule": rule, "text": text, "finding_ids": sorted(set(ids))}
    if regions is not None:
        out["regions"] = _ordered(set(regions))
    return out


def _items_ids(items, ids: _Ids, s: RegionSets, crit: str) -> list[str]:
    out: list[str] = []
    for ev, r in items:
        if ev == "umn":
            out += ids("umn", r)
        elif ev == "lab":
            out += ids("lmn_emg:revised_el_escorial", r)
        elif ev == "lmn":
            if crit == "revised_el_escorial":
                out += ids("lmn_clinical", r)
            elif crit == "awaji":
                if r in s.Lc:
                    out += ids("lmn_clinical", r)
                if r in s.Le_awaji:
                    out += ids("lmn_emg:awaji", r)
            else:
                if r in s.Lc_gcc:
                    out += ids("lmn_clinical", r)
                if r in s.Le_gcc:
                    out += ids("lmn_emg:gold_coast", r)
    return out


_RULE_TEXT = {
    "definite.bulbar_plus_2_spinal": "UMN and LMN evidence in bulbar and >= 2 spinal regions",
    "definite.3_spinal": "UMN and LMN evidence in all 3 spinal regions",
    "probable.exists_pair": "UMN signs in >= {k} regions and LMN evidence in >= 2 regions, "
    "some UMN region rostral to some LMN region",
    "probable.most_rostral_is_umn": "UMN signs in >= {k} regions and LMN evidence in >= 2 regions, "
    "the most rostral region involved carrying UMN signs",
    "probable_laboratory_supported": "UMN signs in >= 1 region and EMG LMN evidence (rEEC) in >= 2 regions",
    "possible.umn_lmn_same_region": "UMN and LMN evidence together in one region",
    "possible.umn_2_regions": "UMN signs in >= 2 regions",
    "possible.lmn_rostral_to_umn": "LMN evidence in a region rostral to a UMN region",
    "not_met.pure_lmn": "LMN evidence without clinical UMN signs: not classifiable under this criterion",
    "not_met.insufficient": "UMN signs in a single region without the LMN evidence a category needs",
    "not_met.no_evidence": "no counted UMN or LMN evidence",
}


def _rule_text(rule: str, k: int = 2) -> str:
    tail = rule.split(".", 1)[1]
    return _RULE_TEXT[tail].format(k=k)


# ------------------------------------------------------------------- next step
def _search_next(
    s: RegionSets, kinds: tuple[str, ...], reached: Callable[[RegionSets], bool]
) -> list[list[tuple[str, str]]]:
    """Smallest sets of added (kind, region) evidence that reach a target."""
    cands = [(k, r) for k in kinds for r in REGIONS if not s.has(k, r)]
    for size in range(1, NEXT_SEARCH_MAX_ADDITIONS + 1):
        found = []
        for combo in itertools.combinations(cands, size):
            t = s
            for k, r in combo:
                t = t.add(k, r)
            if reached(t):
                found.append(list(combo))
        if found:
            return found
    return []


def _next_block(
    target: str | bool,
    alts: list[list[tuple[str, str]]],
    prereq: list[dict],
    s: RegionSets | None = None,
    grade: Callable[[RegionSets], str] | None = None,
) -> dict:
    options = [[{"evidence": k, "region": r, "text": f"{LABELS[k]} in {r}"} for k, r in alt] for alt in alts]
    texts = [" and ".join(x["text"] for x in alt) for alt in options]
    if grade is not None and s is not None:
        reached = []
        for alt in alts:
            t = s
            for k, r in alt:
                t = t.add(k, r)
            reached.append(grade(t))
        for opt, cat in zip(options, reached):
            for x in opt:
                x["reaches"] = cat
        texts = [t if cat == target else f"{t} (-> {cat})" for t, cat in zip(texts, reached)]
    needs_text = " OR ".join(texts[:6]) + (f" (or {len(texts) - 6} more ways)" if len(texts) > 6 else "")
    pre = [p["text"] for p in prereq]
    text = "; ".join([t for t in [needs_text] if t] + pre)
    return {"target": target, "add_one_of": options[:12], "prerequisites": pre, "text": text}


# ----------------------------------------------------------------- evaluation
def _reec(
    s: RegionSets, ids: _Ids, options: Mapping[str, Any], patient: Mapping[str, Any], with_next: bool = True
) -> dict:
    cat, rule, items = reec_category(s, options)
    reasons = [_reason(rule, _rule_text(rule), _items_ids(items, ids, s, "revised_el_escorial"),
                       [r for _, r in items])]
    extra = s.Le_awaji - s.Le_reec
    notes = []
    if extra:
        notes.append(
            "EMG regions positive under Awaji but not rEEC (fasciculation potentials do not count "
            f"for rEEC): {', '.join(_ordered(extra))}"
        )
    if s.Le_reec and cat in ("possible", "not_met") and s.U and len(s.Le_reec) < 2:
        notes.append("rEEC uses EMG only for probable_laboratory_supported (EMG LMN in >= 2 regions)")
    prereq = _als_prerequisites(patient)
    final = cat
    for p in prereq:
        reasons.append(_reason(f"reec.prerequisite.{p['fact']}", p["text"], []))
    if prereq:
        final = "not_met"
    nxt = None
    rank = REEC_ORDER.index(cat)
    if not with_next:
        pass
    elif rank + 1 < len(REEC_ORDER):
        target = REEC_ORDER[rank + 1]
        alts = _search_next(
            s, ("umn", "lmn_clinical", "lmn_emg:revised_el_escorial"),
            lambda t: REEC_ORDER.index(reec_category(t, options)[0]) >= rank + 1,
        )
        nxt = _next_block(target, alts, prereq, s, lambda t: reec_category(t, options)[0])
    elif prereq:
        nxt = _next_block(cat, [], prereq)
    return {
        "category": final,
        "anatomical_category": cat,
        "rule": rule,
        "reasons": reasons,
        "prerequisites_unmet": prereq,
        "next": nxt,
        "notes": notes,
    }


def _awaji(
    s: RegionSets, ids: _Ids, options: Mapping[str, Any], patient: Mapping[str, Any], with_next: bool = True
) -> dict:
    cat, rule, items = awaji_category(s, options)
    k = int(options["awaji_probable_umn_regions"])
    reasons = [_reason(rule, _rule_text(rule, k), _items_ids(items, ids, s, "awaji"), [r for _, r in items])]
    prereq = _als_prerequisites(patient)
    for p in prereq:
        reasons.append(_reason(f"awaji.prerequisite.{p['fact']}", p["text"], []))
    final = "not_met" if prereq else cat
    nxt = None
    rank = AWAJI_ORDER.index(cat)
    if not with_next:
        pass
    elif rank + 1 < len(AWAJI_ORDER):
        alts = _search_next(
            s, ("umn", "lmn"), lambda t: AWAJI_ORDER.index(awaji_category(t, options)[0]) >= rank + 1
        )
        nxt = _next_block(AWAJI_ORDER[rank + 1], alts, prereq, s, lambda t: awaji_category(t, options)[0])
    elif prereq:
        nxt = _next_block(cat, [], prereq)
    return {
        "category": final,
        "anatomical_category": cat,
        "rule": rule,
        "reasons": reasons,
        "prerequisites_unmet": prereq,
        "next": nxt,
        "notes": [],
    }


_GCC_TEXT = {
    "gcc.umn_lmn_same_region": "UMN and LMN dysfunction in the same region",
    "gcc.lmn_2_regions": "LMN dysfunction in >= 2 regions",
    "gcc.split_regions": "UMN signs in one region and LMN dysfunction in another (gcc_split_regions)",
    "gcc.not_met.umn_lmn_different_single_regions": "UMN and LMN dysfunction only in different single "
    "regions (met with gcc_split_regions=true)",
    "gcc.not_met.pure_umn": "UMN signs without LMN dysfunction never meet Gold Coast",
    "gcc.not_met.lmn_one_region": "LMN dysfunction in one region only, without UMN signs there",
    "gcc.not_met.no_evidence": "no counted UMN or LMN evidence",
}


def _gcc(
    s: RegionSets, ids: _Ids, options: Mapping[str, Any], patient: Mapping[str, Any], with_next: bool = True
) -> dict:
    met, rule, items = gcc_met(s, options)
    reasons = [_reason(rule, _GCC_TEXT[rule], _items_ids(items, ids, s, "gold_coast"), [r for _, r in items])]
    lost = s.Lc - s.Lc_gcc
    notes = []
    if lost:
        notes.append(
            "clinical LMN signs in a single limb muscle do not count for Gold Coast (2 limb muscles "
            f"needed): {', '.join(_ordered(lost))}"
        )
    prereq = _als_prerequisites(patient, gcc=True)
    for p in prereq:
        reasons.append(_reason(f"gcc.prerequisite.{p['fact']}", p["text"], []))
    nxt = None
    if not with_next:
        pass
    elif not met:
        alts = _search_next(s, ("umn", "lmn_gcc"), lambda t: gcc_met(t, options)[0])
        nxt = _next_block(True, alts, prereq)
    elif prereq:
        nxt = _next_block(True, [], prereq)
    return {
        "met": bool(met and not prereq),
        "anatomical_met": bool(met),
        "rule": rule,
        "reasons": reasons,
        "prerequisites_unmet": prereq,
        "next": nxt,
        "notes": notes,
    }


def active_lmn_degeneration(facts: Mapping[str, RegionFacts], emg, options: Mapping[str, Any]) -> dict:
    """Evidence of active LMN degeneration for PLS 2020.

    Parameters
    ----------
    facts : mapping
        Region facts.
    emg : list of EmgFinding
        The case's EMG findings.
    options : mapping
        Resolved options (``pls_lmn_tolerance``).

    Returns
    -------
    dict
        ``active`` (bool), ``finding_ids`` and ``tolerated`` (ids).
    """
    ids: list[str] = []
    for f in facts.values():
        ids += f.lmn_clinical
    fib = [e for e in emg if e.fib_psw_present is True]
    fasc_chronic = [
        e for e in emg if e.fasciculations is True and e.chronic_neurogenic is True and e.fib_psw_present is not True
    ]
    tolerated: list[str] = []
    if (
        options["pls_lmn_tolerance"] == "minor"
        and len(fib) == 1
        and fib[0].fib_psw == "1+"
        and fib[0].chronic_neurogenic is not True
    ):
        tolerated = [fib[0].id]
        fib = []
    ids += [e.id for e in fib] + [e.id for e in fasc_chronic]
    return {"active": bool(ids), "finding_ids": sorted(set(ids)), "tolerated": tolerated}


def _pls(
    s: RegionSets, facts: Mapping[str, RegionFacts], emg, options: Mapping[str, Any], patient: Mapping[str, Any]
) -> dict:
    reasons: list[dict] = []
    needs: list[str] = []
    pls_regions = [p for p, r in PLS_REGIONS.items() if r in s.Upls]
    ids = _Ids(facts)
    umn_ids = [i for p in pls_regions for i in ids("umn_pls", PLS_REGIONS[p])]
    umn_ok = len(pls_regions) >= PLS_MIN_UMN_REGIONS
    reasons.append(
        _reason(
            "pls.umn_regions" if umn_ok else "pls.not_met.umn_regions",
            f"UMN signs in {len(pls_regions)} of 3 PLS regions ({', '.join(pls_regions) or 'none'}); "
            f">= {PLS_MIN_UMN_REGIONS} needed",
            umn_ids,
            [PLS_REGIONS[p] for p in pls_regions],
        )
    )
    if not umn_ok:
        missing = [p for p in PLS_REGIONS if p not in pls_regions]
        needs.append(
            f"UMN signs in {PLS_MIN_UMN_REGIONS - len(pls_regions)} more of: {', '.join(missing)}"
        )
    act = active_lmn_degeneration(facts, emg, options)
    if act["active"]:
        reasons.append(
            _reason("pls.not_met.active_lmn_degeneration", "active LMN degeneration (clinical LMN signs, "
                    "fibrillations/PSWs, or fasciculations with chronic neurogenic change)", act["finding_ids"])
        )
        n = len(act["finding_ids"])
        needs.append(f"no active LMN degeneration ({n} finding{'s' if n > 1 else ''}: see the reasons)")
    if act["tolerated"]:
        reasons.append(
            _reason("pls.minor_lmn_tolerated", "sparse fibrillations in a single muscle tolerated "
                    "(pls_lmn_tolerance=minor)", act["tolerated"])
        )
    age = patient.get("age_years")
    dur = patient.get("symptom_duration_months")
    checks = [
        ("age_years", age is not None and age >= PLS_MIN_AGE_YEARS, age,
         f"age >= {PLS_MIN_AGE_YEARS:g} years"),
        ("symptom_duration_months", dur is not None and dur >= PLS_MIN_DURATION_MONTHS, dur,
         f"progressive UMN dysfunction for >= {PLS_MIN_DURATION_MONTHS:g} months"),
        ("progression_documented", patient.get("progression_documented") is True,
         patient.get("progression_documented"), "progression documented"),
        ("unexplained_sensory_symptoms", patient.get("unexplained_sensory_symptoms") is False,
         patient.get("unexplained_sensory_symptoms"), "no unexplained sensory symptoms"),
    ]
    facts_ok = True
    for key, ok, value, text in checks:
        if not ok:
            facts_ok = False
            state = "not stated" if value is None else f"patient.{key} is {value!r}"
            reasons.append(_reason(f"pls.prerequisite.{key}", f"{text}: {state}", []))
            needs.append(f"{text} ({state})")
    if umn_ok and not act["active"] and facts_ok:
        cat = "definite" if dur >= PLS_DEFINITE_DURATION_MONTHS else "probable"
        reasons.append(
            _reason(
                f"pls.{cat}",
                f"symptom duration {dur:g} months "
                + (f">= {PLS_DEFINITE_DURATION_MONTHS:g}" if cat == "definite"
                   else f"in [{PLS_MIN_DURATION_MONTHS:g}, {PLS_DEFINITE_DURATION_MONTHS:g})"),
                [],
            )
        )
    else:
        cat = "not_met"
    nxt = None
    if cat == "probable":
        nxt = {"target": "definite", "add_one_of": [], "prerequisites": [],
               "text": f"symptom duration >= {PLS_DEFINITE_DURATION_MONTHS:g} months (now {dur:g})"}
    elif cat == "not_met":
        nxt = {"target": "probable", "add_one_of": [], "prerequisites": needs, "text": "; ".join(needs)}
    return {
        "category": cat,
        "regions": pls_regions,
        "active_lmn_degeneration": act,
        "reasons": reasons,
        "next": nxt,
        "notes": [],
    }


def evaluate_criteria(
    facts: Mapping[str, RegionFacts],
    emg,
    options: Mapping[str, Any],
    patient: Mapping[str, Any],
    *,
    with_next: bool = True,
) -> dict[str, dict]:
    """All four criteria for one set of options.

    Parameters
    ----------
    facts : mapping
        region -> RegionFacts (:func:`motorsign.fusion.regions.region_facts`).
    emg : list of EmgFinding
        The case's EMG findings (PLS looks for active denervation muscle by muscle).
    options : mapping
        Resolved options.
    patient : mapping
        Patient facts of the case.
    with_next : bool
        Also search what is missing for the next category (slower).

    Returns
    -------
    dict
        ``revised_el_escorial``, ``awaji``, ``gold_coast``, ``pls_2020``.
    """
    s = region_sets(facts)
    ids = _Ids(facts)
    return {
        "revised_el_escorial": _reec(s, ids, options, patient, with_next),
        "awaji": _awaji(s, ids, options, patient, with_next),
        "gold_coast": _gcc(s, ids, options, patient, with_next),
        "pls_2020": _pls(s, facts, emg, options, patient),
    }
