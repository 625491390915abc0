"""``fuse``: a case in, an :class:`Evidence` out.

The evidence dict follows the contract of DESIGN.md ("The fusion case",
output ``evidence.json``) and validates against the JSON Schema shipped in
``motorsign/data/evidence.schema.json``.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import logging
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from os import PathLike
from typing import Any

from motorsign.fusion.case import Case, load_case
from motorsign.fusion.catalog import REGIONS, Catalog
from motorsign.fusion.criteria import evaluate_criteria, region_sets
from motorsign.fusion.options import OPTIONS, option_flips, resolve_options
from motorsign.fusion.phenotype import phenotype
from motorsign.fusion.regions import (
    CRITERIA_EMG,
    emg_muscle_positive,
    region_facts,
    tms_abnormalities,
)

__all__ = ["EVIDENCE_SCHEMA_VERSION", "Evidence", "fuse", "evidence_schema", "validate_evidence"]

log = logging.getLogger(__name__)

#: version of the evidence JSON layout
EVIDENCE_SCHEMA_VERSION = "1"

CRITERIA = ("revised_el_escorial", "awaji", "gold_coast", "pls_2020")


@dataclass
class Evidence:
    """The result of :func:`fuse`.

    Attributes
    ----------
    data : dict
        The evidence, laid out as ``evidence.json`` (see :meth:`to_dict`).
    """

    data: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        """The evidence as a JSON-ready dict (a deep copy)."""
        return json.loads(json.dumps(self.data))

    @property
    def phenotype(self) -> str:
        return self.data["phenotype"]

    @property
    def criteria(self) -> dict:
        return self.data["criteria"]

    def category(self, criterion: str) -> str | bool:
        """Category of a criterion (``met`` for Gold Coast)."""
        return _outcome(self.data["criteria"], criterion)

    def summary_text(self) -> str:
        """A readable multi-line summary for the terminal."""
        from motorsign.fusion.text import summary_text

        return summary_text(self.data)


def _outcome(criteria: dict, name: str) -> str | bool:
    c = criteria[name]
    return c["met"] if name == "gold_coast" else c["category"]


@lru_cache(maxsize=2)
def evidence_schema() -> dict:
    """The evidence JSON Schema shipped with the package."""
    text = resources.files("motorsign.data").joinpath("evidence.schema.json").read_text("utf-8")
    return json.loads(text)


def validate_evidence(data: dict) -> None:
    """Raise ``jsonschema.ValidationError`` when ``data`` breaks the evidence schema."""
    import jsonschema

    jsonschema.validate(data, evidence_schema(), cls=jsonschema.Draft202012Validator)


def _evaluate(case: Case, options: dict, *, with_next: bool, facts=None) -> tuple[dict, dict, str, list]:
    facts = facts if facts is not None else region_facts(case, options)
    crit = evaluate_criteria(facts, case.emg, options, case.patient, with_next=with_next)
    label, reasons = phenotype(region_sets(facts), facts, crit["pls_2020"], case.patient)
    return facts, crit, label, reasons


def _interpretation(case: Case, options: dict, crit: dict, label: str) -> tuple[list[dict], dict]:
    """Single option flips that change a result, and results over all option combinations."""
    base = {name: _outcome(crit, name) for name in CRITERIA}
    base["phenotype"] = label
    facts_by_mode: dict[str, Any] = {}
    names = list(OPTIONS)
    done: dict[tuple, dict] = {}

    def run(opts: dict):
        key = tuple((n, type(opts[n]).__name__, opts[n]) for n in names)
        if key in done:
            return done[key]
        mode = opts["root_distinct_mode"]
        if mode not in facts_by_mode:
            facts_by_mode[mode] = region_facts(case, opts)
        _, c, lab, _ = _evaluate(case, opts, with_next=False, facts=facts_by_mode[mode])
        out = {name: _outcome(c, name) for name in CRITERIA}
        out["phenotype"] = lab
        done[key] = out
        return out

    flips = []
    for name, value in option_flips(options):
        alt = run({**options, name: value})
        for key, v in alt.items():
            if v != base[key]:
                flips.append(
                    {"option": name, "value": value, "criterion": key, "result": base[key], "alternative": v}
                )
    over: dict[str, set] = {k: set() for k in base}
    for values in itertools.product(*(OPTIONS[n][0] for n in names)):
        res = run(dict(zip(names, values)))
        for k, v in res.items():
            over[k].add(v)
    over_sorted = {k: sorted(v, key=str) for k, v in over.items()}
    return flips, over_sorted


def _clinical_role(c, facts) -> str:
    f = facts[c.region]
    if c.id in f.umn_clinical:
        return "umn"
    if c.id in f.umn_pls_only:
        return "umn_pls_only"
    if c.id in f.umn_absent:
        return "umn_sign_absent"
    if c.id in f.lmn_clinical:
        return "lmn"
    if c.id in f.lmn_supportive:
        return "lmn_supportive"
    return "not_counted"


def _provenance(case: Case, options: dict, catalog: Catalog, raw_hash: str) -> dict:
    from motorsign import __version__

    return {
        "package": "motorsign",
        "version": __version__,
        "options": dict(options),
        "catalog_version": catalog.version,
        "evidence_schema_version": EVIDENCE_SCHEMA_VERSION,
        "case_source": case.source,
        "case_sha256": raw_hash,
    }


def _case_hash(case: dict | str | PathLike) -> str:
    if isinstance(case, dict):
        text = json.dumps(case, sort_keys=True, default=str)
        return hashlib.sha256(text.encode("utf-8")).hexdigest()
    with open(case, "rb") as fh:
        return hashlib.sha256(fh.read()).hexdigest()


def fuse(
    case: dict | str | PathLike,
    *,
    options: dict | None = None,
    base_dir: str | PathLike | None = None,
    catalog: Catalog | None = None,
) -> Evidence:
    """Per-region UMN/LMN evidence and the ALS/PLS criteria of a case.

    Parameters
    ----------
    case : dict | path
        The case (DESIGN.md, "The fusion case") or a JSON file holding it.
        ``emg``/``tms`` entries may name result folders with ``from``
        (relative to the case file, or to ``base_dir``).
    options : dict | None
        Interpretation options (reference/criteria.md); they override the
        case's ``options``.
    base_dir : path | None
        Folder that relative ``from`` paths start from.
    catalog : Catalog | None
        Muscle catalog (default: the packaged one).

    Returns
    -------
    Evidence
        ``Evidence.to_dict()`` is the ``evidence.json`` content.

    Raises
    ------
    ConfigError
        Invalid case or options (one line naming the place and the accepted values).
    InputError
        Unreadable case file or result folder.
    """
    loaded = load_case(case, base_dir=base_dir, catalog=catalog)
    opts = resolve_options(loaded.options, options)
    facts, crit, label, pheno_reasons = _evaluate(loaded, opts, with_next=True)
    flips, over = _interpretation(loaded, opts, crit, label)
    for name in CRITERIA:
        mine = [f for f in flips if f["criterion"] == name]
        crit[name]["interpretation_dependent"] = bool(mine)
        crit[name]["alternatives"] = [
            {"option": f["option"], "value": f["value"], "result": f["alternative"]} for f in mine
        ]
        crit[name]["results_over_all_options"] = over[name]

    muscles = []
    for e in sorted(loaded.emg, key=lambda e: e.id):
        muscles.append(
            {
                "id": e.id,
                "muscle": e.muscle.name,
                "side": e.side,
                "region": e.region,
                "roots": list(e.muscle.roots),
                "nerve": e.muscle.nerve,
                "fib_psw": e.fib_psw,
                "fasciculations": e.fasciculations,
                "chronic_neurogenic": e.chronic_neurogenic,
                "positive": {c: emg_muscle_positive(e, c) for c in CRITERIA_EMG},
                "counts_for_thoracic_region": e.muscle.counts_for_thoracic_emg if e.region == "thoracic" else None,
                "extra": dict(sorted(e.extra.items())),
                "sources": dict(sorted(e.sources.items())),
            }
        )
    tms = []
    for t in sorted(loaded.tms, key=lambda t: t.id):
        abn, norms, flags = tms_abnormalities(t)
        tms.append(
            {
                "id": t.id,
                "muscle": t.muscle.name,
                "side": t.side,
                "region": t.region,
                "values": dict(sorted(t.values.items())),
                "abnormalities": abn,
                "supports_umn": bool(abn),
                "norms": norms,
                "flags": flags,
                "sources": dict(sorted(t.sources.items())),
            }
        )
    clinical = [
        {
            "id": c.id,
            "sign": c.sign,
            "present": c.present,
            "region": c.region,
            "side": c.side,
            "muscle": None if c.muscle is None else c.muscle.name,
            "role": _clinical_role(c, facts),
        }
        for c in sorted(loaded.clinical, key=lambda c: c.id)
    ]
    cat = loaded.catalog
    data = {
        "schema_version": EVIDENCE_SCHEMA_VERSION,
        "patient": dict(loaded.patient),
        "options": dict(opts),
        "regions": {r: facts[r].to_dict() for r in REGIONS},
        "clinical": clinical,
        "muscles": muscles,
        "tms": tms,
        "criteria": crit,
        "phenotype": label,
        "phenotype_reasons": pheno_reasons,
        "interpretation_dependent": flips,
        "warnings": sorted(loaded.warnings),
        "provenance": _provenance(loaded, opts, cat, _case_hash(case)),
    }
    for w in loaded.warnings:
        log.warning("%s", w)
    return Evidence(json.loads(json.dumps(data)))
