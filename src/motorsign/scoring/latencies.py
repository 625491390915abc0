"""Latency errors of evoked-response measurements (MEP onset, M-wave, F-wave).

Truth and results are per-trial tables (``meps.csv``/``responses.csv`` and
their ``truth.csv``); rows are paired by ``trial`` and ``channel``. A trial is
"present" in a table when its presence column is true (``present`` for MEPs,
``f_present`` for F-waves) or, without such a column, when the latency is a
number.
"""

from __future__ import annotations

import logging

import numpy as np

__all__ = ["score_latencies", "latency_pairs", "presence_column_for"]

log = logging.getLogger(__name__)

#: latency column -> presence column, where the contract has one.
PRESENCE_COLUMNS = {"onset_ms": "present", "f_latency_ms": "f_present"}


def presence_column_for(column: str, df) -> str | None:
    """The presence column that goes with a latency column, if ``df`` has it."""
    pc = PRESENCE_COLUMNS.get(column)
    return pc if pc is not None and pc in df.columns else None


def _as_bool(series) -> np.ndarray:
    import pandas as pd

    s = series
    if s.dtype == bool:
        return s.to_numpy()
    text = s.astype(str).str.strip().str.lower()
    num = pd.to_numeric(s, errors="coerce")
    return (text.isin(["true", "yes", "1", "1.0"]) | (num.fillna(0) != 0)).to_numpy()


def _presence(df, column: str, present_column: str | None) -> np.ndarray:
    import pandas as pd

    values = pd.to_numeric(df[column], errors="coerce").to_numpy(float)
    pc = present_column if present_column is not None else presence_column_for(column, df)
    if pc is not None:
        if pc not in df.columns:
            from motorsign.errors import InputError

            raise InputError(f"table lacks the presence column {pc!r}")
        return _as_bool(df[pc]) & np.isfinite(values)
    return np.isfinite(values)


def latency_pairs(truth_df, detected_df, column: str = "onset_ms", present_column: str | None = None):
    """Pair truth and result rows by trial and channel.

    Parameters
    ----------
    truth_df, detected_df : pandas.DataFrame
        Per-trial tables with ``trial``, ``channel`` and ``column``.
    column : str
        Latency column (ms).
    present_column : str | None
        Presence column; default: ``present`` for ``onset_ms``,
        ``f_present`` for ``f_latency_ms``, else "latency is a number".

    Returns
    -------
    pandas.DataFrame
        One row per truth trial: ``trial, channel, truth_present,
        detected_present, truth_ms, detected_ms, error_ms`` (error NaN unless
        both present). Truth trials missing from the results count as not
        detected.
    """
    import pandas as pd

    from motorsign.errors import InputError

    for name, df in (("truth", truth_df), ("detected", detected_df)):
        missing = [c for c in ("trial", "channel", column) if c not in df.columns]
        if missing:
            raise InputError(f"{name} table lacks column(s) {', '.join(missing)}")
    t = pd.DataFrame(
        {
            "trial": pd.to_numeric(truth_df["trial"], errors="coerce").astype("Int64"),
            "channel": truth_df["channel"].astype(str),
            "truth_present": _presence(truth_df, column, present_column),
            "truth_ms": pd.to_numeric(truth_df[column], errors="coerce").astype(float),
        }
    )
    d = pd.DataFrame(
        {
            "trial": pd.to_numeric(detected_df["trial"], errors="coerce").astype("Int64"),
            "channel": detected_df["channel"].astype(str),
            "detected_present": _presence(detected_df, column, present_column),
            "detected_ms": pd.to_numeric(detected_df[column], errors="coerce").astype(float),
        }
    )
    if d.duplicated(["trial", "channel"]).any():
        raise InputError("detected table has more than one row for a (trial, channel)")
    common = set(t["channel"]) & set(d["channel"])
    if len(t) and len(d) and not common:
        raise InputError(
            "no channel in common between truth "
            f"({', '.join(sorted(set(t['channel'])))}) and results ({', '.join(sorted(set(d['channel'])))})"
        )
    m = t.merge(d, on=["trial", "channel"], how="left")
    m["detected_present"] = m["detected_present"].astype("boolean").fillna(False).astype(bool)
    both = m["truth_present"] & m["detected_present"]
    m["error_ms"] = np.where(both, m["detected_ms"] - m["truth_ms"], np.nan)
    n_extra = len(d) - int(d.merge(t[["trial", "channel"]], on=["trial", "channel"]).shape[0])
    if n_extra:
        log.info("%d result rows have no truth trial and are ignored", n_extra)
    return m


def score_latencies(
    truth_df,
    detected_df,
    column: str = "onset_ms",
    *,
    present_column: str | None = None,
    tolerance_ms: float | None = None,
) -> dict:
    """Latency error statistics and presence rates.

    Parameters
    ----------
    truth_df, detected_df : pandas.DataFrame
        Per-trial truth and result tables (``trial, channel, column`` and
        optionally the presence column).
    column : str
        Latency column (``onset_ms``, ``m_onset_ms``, ``f_latency_ms``).
    present_column : str | None
        See :func:`latency_pairs`.
    tolerance_ms : float | None
        When given, also report ``within_tolerance_rate``: the fraction of
        truth-present trials detected with ``|error| <= tolerance_ms``.

    Returns
    -------
    dict
        ``column``, ``n`` (trials present in both), ``mean_error_ms``
        (detected − truth), ``mae_ms``, ``p95_abs_error_ms``,
        ``max_abs_error_ms``, ``detection_rate`` (detected present among truth
        present), ``false_present_rate`` (detected present among truth
        absent), ``n_truth_present``, ``n_truth_absent``; NaN where there is
        nothing to compute.
    """
    pairs = latency_pairs(truth_df, detected_df, column, present_column)
    err = pairs["error_ms"].to_numpy(float)
    err = err[np.isfinite(err)]
    tp_mask = pairs["truth_present"].to_numpy(bool)
    dp_mask = pairs["detected_present"].to_numpy(bool)
    n_tp, n_ta = int(tp_mask.sum()), int((~tp_mask).sum())
    nan = float("nan")
    out = {
        "column": column,
        "n": int(err.size),
        "mean_error_ms": float(np.mean(err)) if err.size else nan,
        "mae_ms": float(np.mean(np.abs(err))) if err.size else nan,
        "p95_abs_error_ms": float(np.percentile(np.abs(err), 95)) if err.size else nan,
        "max_abs_error_ms": float(np.max(np.abs(err))) if err.size else nan,
        "detection_rate": float(dp_mask[tp_mask].mean()) if n_tp else nan,
        "false_present_rate": float(dp_mask[~tp_mask].mean()) if n_ta else nan,
        "n_truth_present": n_tp,
        "n_truth_absent": n_ta,
    }
    if tolerance_ms is not None:
        ok = np.abs(pairs["error_ms"].to_numpy(float)[tp_mask]) <= float(tolerance_ms)
        out["tolerance_ms"] = float(tolerance_ms)
        out["within_tolerance_rate"] = float(ok.mean()) if n_tp else nan
    return out
