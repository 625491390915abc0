"""Phenotype: ALS, PLS, PMA or indeterminate.

* ``ALS``: clinical UMN signs in some region and LMN evidence (clinical, or
  EMG under Awaji) in some region;
* ``PLS``: UMN signs only and the PLS 2020 criteria met (probable/definite);
* ``PMA``: no clinical UMN sign anywhere, progressive LMN evidence (clinical
  or EMG under Awaji) in >= ``PMA_MIN_LMN_REGIONS`` regions (Kim 2009; no
  consensus criteria exist, Gold Coast is reported alongside);
* ``indeterminate`` otherwise (e.g. UMN only but too early for PLS, or LMN in
  one region), with the reason.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from motorsign.fusion.criteria import RegionSets, _ordered
from motorsign.fusion.regions import RegionFacts

__all__ = ["PHENOTYPES", "PMA_MIN_LMN_REGIONS", "phenotype"]

PHENOTYPES: tuple[str, ...] = ("ALS", "PLS", "PMA", "indeterminate")
#: PMA: LMN evidence needed in at least this many regions.
PMA_MIN_LMN_REGIONS: int = 2


def _ids(facts: Mapping[str, RegionFacts], regions, kind: str) -> list[str]:
    out: list[str] = []
    for r in regions:
        f = facts[r]
        if kind == "umn":
            out += f.umn_clinical + f.umn_pls_only
        else:
            out += f.lmn_clinical + f.emg["awaji"].basis
    return sorted(set(out))


def phenotype(
    s: RegionSets, facts: Mapping[str, RegionFacts], pls: Mapping[str, Any], patient: Mapping[str, Any]
) -> tuple[str, list[dict]]:
    """The phenotype label and its reasons.

    Parameters
    ----------
    s : RegionSets
        Region sets of the case.
    facts : mapping
        region -> RegionFacts.
    pls : mapping
        The PLS 2020 result (``category``, ``active_lmn_degeneration``).
    patient : mapping
        Patient facts.

    Returns
    -------
    label : str
    reasons : list of dict
        ``rule``, ``text``, ``finding_ids``, ``regions``.
    """
    U = s.Upls
    L = s.L_awaji
    if U and L:
        return "ALS", [
            {
                "rule": "phenotype.als",
                "text": "clinical UMN signs and LMN evidence",
                "finding_ids": sorted(set(_ids(facts, U, "umn") + _ids(facts, L, "lmn"))),
                "regions": _ordered(U | L),
            }
        ]
    if U:
        if pls["category"] != "not_met":
            return "PLS", [
                {
                    "rule": f"phenotype.pls.{pls['category']}",
                    "text": "UMN signs only; PLS 2020 " + pls["category"],
                    "finding_ids": _ids(facts, U, "umn"),
                    "regions": _ordered(U),
                }
            ]
        why = [r["text"] for r in pls["reasons"] if ".not_met." in r["rule"] or ".prerequisite." in r["rule"]]
        lmn_ids = pls["active_lmn_degeneration"]["finding_ids"]
        return "indeterminate", [
            {
                "rule": "phenotype.indeterminate.umn_only_pls_not_met",
                "text": "UMN signs without LMN regions, but PLS 2020 not met: " + "; ".join(why),
                "finding_ids": sorted(set(_ids(facts, U, "umn") + lmn_ids)),
                "regions": _ordered(U),
            }
        ]
    if L:
        ids = _ids(facts, L, "lmn")
        if len(L) >= PMA_MIN_LMN_REGIONS and patient.get("progression_documented") is True:
            return "PMA", [
                {
                    "rule": "phenotype.pma",
                    "text": f"progressive LMN evidence in {len(L)} regions without clinical UMN signs",
                    "finding_ids": ids,
                    "regions": _ordered(L),
                }
            ]
        text = (
            "LMN evidence in one region only"
            if len(L) < PMA_MIN_LMN_REGIONS
            else "LMN evidence without documented progression"
        )
        return "indeterminate", [
            {"rule": "phenotype.indeterminate.lmn_only", "text": text, "finding_ids": ids, "regions": _ordered(L)}
        ]
    return "indeterminate", [
        {
            "rule": "phenotype.indeterminate.no_evidence",
            "text": "no region with counted UMN or LMN evidence",
            "finding_ids": [],
            "regions": [],
        }
    ]
