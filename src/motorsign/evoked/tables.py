"""Data tables of the evoked-response analysis: MEP search windows and norms.

Both tables are CSV files shipped in :mod:`motorsign.data` (lines starting
with ``#`` are comments naming the sources). A lab can pass its own file with
the same columns; it replaces the packaged one.
"""

from __future__ import annotations

import csv
import io
import logging
import math
import os
from dataclasses import dataclass
from importlib import resources

from motorsign.errors import ConfigError, InputError

__all__ = ["MepWindow", "Norm", "mep_window", "window_row", "load_windows", "load_norms", "find_norm"]

log = logging.getLogger(__name__)

WINDOW_COLUMNS = ("muscle", "onset_min_ms", "onset_max_ms", "response_end_ms")
NORM_COLUMNS = ("muscle", "measure", "mean", "sd", "uln", "source")

#: Multiplier of the SD above the mean used as the upper limit when a norm
#: gives no explicit ULN (reference/evoked.md: abnormal above mean + 2.5 SD).
DEFAULT_ULN_SD = 2.5


@dataclass(frozen=True)
class MepWindow:
    """Where an MEP is searched, in ms after the pulse."""

    muscle: str
    onset_min_ms: float
    onset_max_ms: float
    response_end_ms: float
    source: str = ""
    region: str = ""
    typical_onset_min_ms: float = math.nan
    typical_onset_max_ms: float = math.nan


@dataclass(frozen=True)
class Norm:
    """One normative value.

    ``limit`` is the stated ULN, or ``mean + DEFAULT_ULN_SD * sd``.
    """

    muscle: str
    measure: str
    condition: str
    mean: float
    sd: float
    uln: float
    lln: float
    source: str

    @property
    def limit(self) -> float:
        """Upper limit of normal used to call a value abnormal (NaN if none)."""
        if math.isfinite(self.uln):
            return self.uln
        if math.isfinite(self.mean) and math.isfinite(self.sd):
            return self.mean + DEFAULT_ULN_SD * self.sd
        return math.nan


def _read_table(path: str | os.PathLike | None, packaged: str, required: tuple[str, ...]) -> list[dict]:
    if path is None:
        text = resources.files("motorsign.data").joinpath(packaged).read_text(encoding="utf-8")
        where = f"motorsign/data/{packaged}"
    else:
        try:
            with open(path, encoding="utf-8") as fh:
                text = fh.read()
        except OSError as exc:
            raise InputError(f"cannot read table: {exc.strerror}", path) from exc
        where = str(path)
    lines = [ln for ln in text.splitlines() if ln.strip() and not ln.lstrip().startswith("#")]
    rows = list(csv.DictReader(io.StringIO("\n".join(lines))))
    if not rows:
        raise InputError("table has no rows", where)
    missing = [c for c in required if c not in rows[0]]
    if missing:
        raise InputError(f"table lacks column(s) {', '.join(missing)}", where)
    return rows


def _num(value: str | None, column: str = "", where=None) -> float:
    """A table cell as a float; empty -> NaN; anything else that is not a number is an error."""
    if value is None or str(value).strip() == "":
        return math.nan
    try:
        return float(value)
    except ValueError:
        raise InputError(f"column {column or '?'}: {value!r} is not a number (use a decimal point)",
                         where) from None


def load_windows(path: str | os.PathLike | None = None) -> dict[str, MepWindow]:
    """Read the MEP window table.

    Parameters
    ----------
    path : path-like | None
        A lab's own table (same columns); None reads ``data/mep_windows.csv``.

    Returns
    -------
    dict of str to MepWindow
        Keyed by lower-cased muscle name (``"default"`` included).
    """
    out = {}
    where = path or "motorsign/data/mep_windows.csv"
    for r in _read_table(path, "mep_windows.csv", WINDOW_COLUMNS):
        def num(col, r=r):
            return _num(r.get(col), col, where)

        w = MepWindow(r["muscle"], num("onset_min_ms"), num("onset_max_ms"),
                      num("response_end_ms"), r.get("source", "") or "", r.get("region", "") or "",
                      num("typical_onset_min_ms"), num("typical_onset_max_ms"))
        if not (w.onset_min_ms < w.onset_max_ms <= w.response_end_ms):
            raise InputError(f"window of {w.muscle!r} is not ordered (min < max <= end)",
                             path or "motorsign/data/mep_windows.csv")
        out[w.muscle.lower()] = w
    return out


def mep_window(muscle: str | None, window: tuple[float, float] | None = None, *,
               table: str | os.PathLike | None = None) -> MepWindow:
    """The MEP search window for a muscle, or the one given.

    Parameters
    ----------
    muscle : str | None
        Catalog muscle name; unknown or None -> the ``default`` row.
    window : (float, float) | None
        Explicit onset search window in ms (``--window 10,60``): overrides
        the table; the response window then ends at its upper bound + 20 ms.
    table : path-like | None
        A lab's window table.

    Returns
    -------
    MepWindow
    """
    if window is not None:
        lo, hi = float(window[0]), float(window[1])
        if not (math.isfinite(lo) and math.isfinite(hi) and 0 <= lo < hi):
            raise ConfigError(f"--window must be two increasing non-negative ms values, got {window}")
        return MepWindow(muscle or "custom", lo, hi, hi + 20.0, "--window")
    rows = load_windows(table)
    row = window_row(muscle, rows)
    if row is None:
        if muscle:
            log.warning("no MEP window for muscle %r (table %s): the default window %g-%g ms is used",
                        muscle, table or "mep_windows.csv", rows["default"].onset_min_ms,
                        rows["default"].onset_max_ms)
        return rows["default"]
    return row


def window_row(muscle: str | None, rows: dict[str, MepWindow]) -> MepWindow | None:
    """The window-table row of a muscle, by its name or any catalog name/alias of it.

    ``tibialis_anterior`` finds the ``TA`` row, ``flexor_carpi_radialis`` the
    ``FCR`` row (the muscle catalog of :mod:`motorsign.fusion.catalog` gives
    the aliases). None when the muscle has no row.
    """
    key = table_key(muscle, [k for k in rows if k != "default"])
    return None if key is None else rows[key]


def table_key(muscle: str | None, keys) -> str | None:
    """Which of a table's lower-cased muscle ``keys`` names ``muscle``.

    The muscle itself (case-insensitive), else its catalog canonical name or
    one of its aliases; None when none is in the table.
    """
    if not muscle:
        return None
    keys = set(keys)
    key = str(muscle).strip().lower()
    if key in keys:
        return key
    try:
        from motorsign.fusion.catalog import load_catalog

        m = load_catalog().find(muscle)
    except Exception as exc:  # the catalog is a convenience here, never a failure
        log.debug("muscle catalog unavailable: %s", exc)
        return None
    if m is None:
        return None
    for name in (m.name, *m.aliases):
        if name.lower() in keys:
            return name.lower()
    return None


def load_norms(path: str | os.PathLike | None = None) -> list[Norm]:
    """Read the evoked-response norms table.

    Parameters
    ----------
    path : path-like | None
        A lab's own table (columns ``muscle, measure, mean, sd, uln, source``;
        optional ``condition, lln, n``); None reads ``data/evoked_norms.csv``.

    Returns
    -------
    list of Norm
    """
    out = []
    where = path or "motorsign/data/evoked_norms.csv"
    for r in _read_table(path, "evoked_norms.csv", NORM_COLUMNS):
        def num(col, r=r):
            return _num(r.get(col), col, where)

        out.append(Norm(r["muscle"], r["measure"], r.get("condition", "") or "", num("mean"),
                        num("sd"), num("uln"), num("lln"), r.get("source", "") or ""))
    return out


def find_norm(muscle: str | None, measure: str, *, condition: str | None = None,
              path: str | os.PathLike | None = None) -> Norm | None:
    """The norm for a muscle and measure (first match; a condition narrows it).

    Parameters
    ----------
    muscle : str | None
        Muscle name (case-insensitive).
    measure : str
        ``cmct_ms``, ``mep_latency_ms``, ``f_minus_m_ms``, ...
    condition : str | None
        Substring of the condition column (``"120% MT"``); when no row
        matches it, the first row of the muscle and measure is used.
    path : path-like | None
        A lab's norms table.

    Returns
    -------
    Norm | None
        None when the table has no such norm.
    """
    if muscle is None:
        return None
    norms = [n for n in load_norms(path) if n.measure == measure]
    rows = [n for n in norms if n.muscle.lower() == muscle.lower()]
    if not rows:  # a catalog alias (abductor_pollicis_brevis for APB)
        key = table_key(muscle, {n.muscle.lower() for n in norms})
        if key is not None:
            rows = [n for n in norms if n.muscle.lower() == key]
    if condition:
        narrowed = [n for n in rows if condition.lower() in n.condition.lower()]
        rows = narrowed or rows
    return rows[0] if rows else None
