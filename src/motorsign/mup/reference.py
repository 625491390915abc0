"""Reference values of MUP features by muscle and age (``data/mup_reference.csv``).

The table and its sources are described in ``data/mup_reference.md``. Rows
give limits for the **muscle mean** of duration and amplitude, the upper
limit of the polyphasic fraction, the number of MUPs per subject behind the
reference means, the within-muscle spread of single MUPs (coefficients of
variation, used to widen the limits for small samples) and upper limits of
single MUPs (outliers); see :mod:`motorsign.mup.classify`.
"""

from __future__ import annotations

import csv
import math
from functools import lru_cache
from importlib import resources

__all__ = ["load_reference", "lookup_reference", "REFERENCE_FILE"]

REFERENCE_FILE = "mup_reference.csv"

_FLOAT_COLUMNS = (
    "age_min", "age_max", "mean_duration_ms", "sd_duration_ms", "duration_lln_ms",
    "duration_uln_ms", "mean_amplitude_uv", "sd_amplitude_uv", "amplitude_lln_uv",
    "amplitude_uln_uv", "mean_area_uvms", "sd_area_uvms", "area_lln_uvms", "area_uln_uvms",
    "polyphasic_uln_pct", "n_units_per_subject", "unit_cv_duration", "unit_cv_amplitude",
    "unit_cv_area", "unit_duration_uln_ms", "unit_amplitude_uln_uv",
)


@lru_cache(maxsize=1)
def load_reference() -> tuple[dict, ...]:
    """All rows of the reference table (floats parsed; blanks are NaN).

    Returns
    -------
    tuple of dict
    """
    text = resources.files("motorsign").joinpath("data").joinpath(REFERENCE_FILE).read_text(encoding="utf-8")
    rows = []
    for row in csv.DictReader(text.splitlines()):
        out = dict(row)
        for c in _FLOAT_COLUMNS:
            v = (row.get(c) or "").strip()
            out[c] = float(v) if v else math.nan
        rows.append(out)
    return tuple(rows)


def lookup_reference(muscle: str | None, age_years: float | None = None) -> dict:
    """The reference row for a muscle and age.

    Parameters
    ----------
    muscle : str | None
        Catalog muscle name (case-insensitive); None or unknown gives the
        ``*`` fallback row.
    age_years : float | None
        Age; rows whose band contains it are preferred (any band when None).

    Returns
    -------
    dict
        The row, plus ``matched`` (``"muscle"`` or ``"fallback"``) and
        ``requested`` (the muscle asked for).
    """
    rows = load_reference()
    key = (muscle or "").strip().lower()
    cands = [r for r in rows if r["muscle"].lower() == key] if key else []
    matched = "muscle"
    if not cands:
        cands = [r for r in rows if r["muscle"] == "*"]
        matched = "fallback"
    if age_years is not None and math.isfinite(age_years):
        in_band = [r for r in cands if r["age_min"] <= age_years <= r["age_max"]]
        cands = in_band or cands
    row = dict(cands[0])
    row["matched"] = matched
    row["requested"] = muscle
    return row
