"""Fusion: clinical signs + EMG + TMS findings -> per-region UMN/LMN evidence
and the revised El Escorial, Awaji, Gold Coast and PLS 2020 criteria.

>>> from motorsign.fusion import fuse
>>> ev = fuse("case.json")                       # doctest: +SKIP
>>> ev.to_dict()["criteria"]["awaji"]["category"]  # doctest: +SKIP

Modules: :mod:`~motorsign.fusion.catalog` (muscle catalog),
:mod:`~motorsign.fusion.case` (case schema and checks),
:mod:`~motorsign.fusion.results` (findings from result folders),
:mod:`~motorsign.fusion.regions` (per-region evidence),
:mod:`~motorsign.fusion.criteria` (the criteria; the rule set is documented
there), :mod:`~motorsign.fusion.phenotype`, :mod:`~motorsign.fusion.evidence`
(``fuse``).
"""

from __future__ import annotations

from motorsign.fusion.case import Case, case_schema, load_case
from motorsign.fusion.catalog import REGIONS, Catalog, Muscle, load_catalog
from motorsign.fusion.evidence import Evidence, evidence_schema, fuse, validate_evidence
from motorsign.fusion.options import DEFAULT_OPTIONS, OPTIONS, resolve_options

__all__ = [
    "fuse",
    "Evidence",
    "Case",
    "load_case",
    "case_schema",
    "evidence_schema",
    "validate_evidence",
    "Catalog",
    "Muscle",
    "load_catalog",
    "REGIONS",
    "OPTIONS",
    "DEFAULT_OPTIONS",
    "resolve_options",
]
