"""Event-level scores of a discharge detector against simulated truth.

Truth and detections are tables with at least ``channel, time_s, kind``
(``discharges.csv`` and ``truth.csv``). Events are paired one-to-one within a
tolerance, per channel (:func:`~motorsign.scoring.matching.match_events`):

* per kind: truth events of kind K against detections of kind K;
* ``any``: every truth event against every detection, whatever the kinds
  (detection regardless of classification);
* a confusion table, truth kind x detected kind, over the ``any`` pairs, with
  a ``(missed)`` column for unpaired truth and a ``(spurious)`` row for
  unpaired detections.

Events inside truth intervals of the excluded kinds (voluntary activity and
movement artifacts by default) are removed from both sides before pairing:
the simulator does not claim what a detector should say there.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

from motorsign.scoring.matching import match_events

__all__ = [
    "score_discharges",
    "compare_discharges",
    "DischargeComparison",
    "exclude_intervals",
    "prf",
    "ANY_KIND",
    "DEFAULT_EXCLUDED_INTERVAL_KINDS",
]

log = logging.getLogger(__name__)

#: Name of the kind-blind detection row.
ANY_KIND = "any"

#: Interval kinds whose events are left out of the scoring.
DEFAULT_EXCLUDED_INTERVAL_KINDS = ("voluntary", "artifact")

MISSED = "(missed)"
SPURIOUS = "(spurious)"
SCORE_COLUMNS = ("kind", "tp", "fp", "fn", "precision", "recall", "f1", "n_truth", "n_detected")


def prf(tp: int, fp: int, fn: int) -> tuple[float, float, float]:
    """Precision, recall and F1 from counts (NaN when undefined).

    Parameters
    ----------
    tp, fp, fn : int
        True positives, false positives, false negatives.

    Returns
    -------
    precision, recall, f1 : float
        ``tp/(tp+fp)``, ``tp/(tp+fn)``, ``2tp/(2tp+fp+fn)``; NaN when the
        denominator is 0 (nothing to score).
    """
    precision = tp / (tp + fp) if tp + fp else float("nan")
    recall = tp / (tp + fn) if tp + fn else float("nan")
    f1 = 2 * tp / (2 * tp + fp + fn) if 2 * tp + fp + fn else float("nan")
    return precision, recall, f1


def _check_table(df, name: str):
    import pandas as pd

    from motorsign.errors import InputError

    if not isinstance(df, pd.DataFrame):
        df = pd.DataFrame(df)
    missing = [c for c in ("channel", "time_s") if c not in df.columns]
    if missing:
        raise InputError(f"{name} table lacks column(s) {', '.join(missing)}")
    df = df.reset_index(drop=True).copy()
    if "kind" not in df.columns:
        df["kind"] = "unclassified"
    df["channel"] = df["channel"].astype(str)
    df["kind"] = df["kind"].astype(str)
    df["time_s"] = pd.to_numeric(df["time_s"], errors="coerce").astype(float)
    return df


def exclude_intervals(
    events,
    intervals,
    kinds: Iterable[str] | None = DEFAULT_EXCLUDED_INTERVAL_KINDS,
    margin_s: float = 0.0,
):
    """Split events into those outside and inside the given intervals.

    Parameters
    ----------
    events : pandas.DataFrame
        Has ``channel`` and ``time_s``.
    intervals : pandas.DataFrame | None
        ``channel, start_s, stop_s, kind``; ``channel`` ``"*"`` (or empty)
        applies to every channel.
    kinds : iterable of str | None
        Interval kinds that exclude events; None means every kind.
    margin_s : float
        Widen each interval by this much on both sides (s).

    Returns
    -------
    kept, excluded : pandas.DataFrame
        Rows of ``events`` outside and inside the intervals.
    """
    if intervals is None or len(intervals) == 0 or len(events) == 0:
        return events, events.iloc[0:0]
    iv = intervals
    if kinds is not None and "kind" in iv.columns:
        iv = iv[iv["kind"].astype(str).isin(list(kinds))]
    inside = np.zeros(len(events), dtype=bool)
    times = events["time_s"].to_numpy(float)
    chans = events["channel"].astype(str).to_numpy()
    for row in iv.itertuples(index=False):
        ch = getattr(row, "channel", "*")
        ch = "*" if ch is None or (isinstance(ch, float) and np.isnan(ch)) or str(ch) in ("", "*") else str(ch)
        m = (times >= float(row.start_s) - margin_s) & (times <= float(row.stop_s) + margin_s)
        if ch != "*":
            m &= chans == ch
        inside |= m
    return events[~inside], events[inside]


def _match_by_channel(truth, detected, tol_s: float):
    """Pairs (positional indices into truth/detected) matched per channel."""
    pairs = []
    for ch in sorted(set(truth["channel"]) | set(detected["channel"])):
        ti = np.flatnonzero(truth["channel"].to_numpy() == ch)
        di = np.flatnonzero(detected["channel"].to_numpy() == ch)
        if ti.size == 0 or di.size == 0:
            continue
        p, _, _ = match_events(truth["time_s"].to_numpy()[ti], detected["time_s"].to_numpy()[di], tol_s)
        if p.size:
            pairs.append(np.column_stack((ti[p[:, 0]], di[p[:, 1]])))
    if pairs:
        return np.concatenate(pairs).astype(np.int64)
    return np.empty((0, 2), dtype=np.int64)


@dataclass
class DischargeComparison:
    """Everything :func:`compare_discharges` found.

    Attributes
    ----------
    scores : pandas.DataFrame
        One row per kind and an ``any`` row: ``kind, tp, fp, fn, precision,
        recall, f1, n_truth, n_detected``.
    confusion : pandas.DataFrame
        Truth kind (rows, plus ``(spurious)``) x detected kind (columns, plus
        ``(missed)``), counts over the kind-blind pairs.
    pairs : pandas.DataFrame
        The kind-blind pairs: ``channel, truth_time_s, detected_time_s,
        error_ms, truth_kind, detected_kind``.
    truth, detected : pandas.DataFrame
        The scored events (after interval exclusion).
    n_excluded_truth, n_excluded_detected : int
        Events left out because they fell in excluded intervals.
    tolerance_ms : float
        Matching tolerance used.
    ignore_channels : bool
        Whether events were paired across channels.
    """

    scores: object
    confusion: object
    pairs: object
    truth: object
    detected: object
    n_excluded_truth: int
    n_excluded_detected: int
    tolerance_ms: float
    ignore_channels: bool = False

    def to_dict(self) -> dict:
        """JSON-ready summary (the ``motorsign score discharges`` output)."""
        per_kind = {}
        any_row = {}
        for row in self.scores.to_dict("records"):
            entry = {k: row[k] for k in SCORE_COLUMNS if k != "kind"}
            if row["kind"] == ANY_KIND:
                any_row = entry
            else:
                per_kind[row["kind"]] = entry
        errors = self.pairs["error_ms"].to_numpy(float) if len(self.pairs) else np.empty(0)
        return {
            "score": "discharges",
            "tolerance_ms": self.tolerance_ms,
            "ignore_channels": self.ignore_channels,
            "per_kind": per_kind,
            ANY_KIND: any_row,
            "confusion": {
                str(r): {str(c): int(v) for c, v in self.confusion.loc[r].items()}
                for r in self.confusion.index
            },
            "time_error_ms": {
                "mean": float(np.mean(errors)) if errors.size else float("nan"),
                "mae": float(np.mean(np.abs(errors))) if errors.size else float("nan"),
                "p95_abs": float(np.percentile(np.abs(errors), 95)) if errors.size else float("nan"),
            },
            "n_truth": int(len(self.truth)),
            "n_detected": int(len(self.detected)),
            "n_excluded_truth": self.n_excluded_truth,
            "n_excluded_detected": self.n_excluded_detected,
        }


def compare_discharges(
    truth_df,
    detected_df,
    tolerance_ms: float = 1.0,
    intervals=None,
    *,
    exclude_kinds: Iterable[str] | None = DEFAULT_EXCLUDED_INTERVAL_KINDS,
    interval_margin_s: float = 0.0,
    kinds: Iterable[str] | None = None,
    ignore_channels: bool = False,
) -> DischargeComparison:
    """Pair detections with truth and count per kind.

    Parameters
    ----------
    truth_df, detected_df : pandas.DataFrame
        ``channel, time_s, kind`` at least (``kind`` missing: all
        ``unclassified``).
    tolerance_ms : float
        Largest time difference of a pair (ms).
    intervals : pandas.DataFrame | None
        ``truth_intervals.csv``: events inside intervals whose kind is in
        ``exclude_kinds`` are left out of both tables.
    exclude_kinds : iterable of str | None
        Interval kinds that exclude events (None: all kinds).
    interval_margin_s : float
        Widen the excluded intervals by this much on each side (s).
    kinds : iterable of str | None
        Kinds to report (default: every kind in either table).
    ignore_channels : bool
        Pair events whatever their channels (a detector that reports one
        event per discharge of a multi-channel grid). Truth tables with a
        ``peak_channel`` column (hdsemg) keep one row per discharge, on its
        peak channel.

    Returns
    -------
    DischargeComparison
    """
    import pandas as pd

    if not np.isfinite(tolerance_ms) or tolerance_ms < 0:
        from motorsign.errors import ConfigError

        raise ConfigError(f"--tolerance-ms must be a non-negative number, got {tolerance_ms}")
    truth = _check_table(truth_df, "truth")
    det = _check_table(detected_df, "detected")
    if ignore_channels:
        if "peak_channel" in truth.columns:
            truth = truth[truth["peak_channel"].astype(str).str.lower().isin(["true", "1"])]
            truth = truth.reset_index(drop=True)
        truth["channel"] = "*"
        det["channel"] = "*"
    if intervals is not None and len(intervals):
        intervals = pd.DataFrame(intervals)
        truth, t_ex = exclude_intervals(truth, intervals, exclude_kinds, interval_margin_s)
        det, d_ex = exclude_intervals(det, intervals, exclude_kinds, interval_margin_s)
        n_ex_t, n_ex_d = len(t_ex), len(d_ex)
        truth = truth.reset_index(drop=True)
        det = det.reset_index(drop=True)
    else:
        n_ex_t = n_ex_d = 0
    tol_s = tolerance_ms / 1000.0

    if kinds is None:
        kinds = sorted(set(truth["kind"]) | set(det["kind"]))
    rows = []
    for kind in kinds:
        t_k = truth[truth["kind"] == kind].reset_index(drop=True)
        d_k = det[det["kind"] == kind].reset_index(drop=True)
        tp = len(_match_by_channel(t_k, d_k, tol_s))
        fp, fn = len(d_k) - tp, len(t_k) - tp
        rows.append((kind, tp, fp, fn, *prf(tp, fp, fn), len(t_k), len(d_k)))

    pairs = _match_by_channel(truth, det, tol_s)
    tp = len(pairs)
    fp, fn = len(det) - tp, len(truth) - tp
    rows.append((ANY_KIND, tp, fp, fn, *prf(tp, fp, fn), len(truth), len(det)))
    scores = pd.DataFrame(rows, columns=list(SCORE_COLUMNS))
    for c in ("tp", "fp", "fn", "n_truth", "n_detected"):
        scores[c] = scores[c].astype(int)

    t_kind = truth["kind"].to_numpy()
    d_kind = det["kind"].to_numpy()
    row_labels = sorted(set(t_kind)) + [SPURIOUS]
    col_labels = sorted(set(d_kind)) + [MISSED]
    r_index = {k: i for i, k in enumerate(row_labels)}
    c_index = {k: i for i, k in enumerate(col_labels)}
    counts = np.zeros((len(row_labels), len(col_labels)), dtype=np.int64)
    t_code = np.array([r_index[k] for k in t_kind], dtype=np.int64)
    d_code = np.array([c_index[k] for k in d_kind], dtype=np.int64)
    np.add.at(counts, (t_code[pairs[:, 0]], d_code[pairs[:, 1]]), 1)
    matched_t = np.zeros(len(truth), bool)
    matched_d = np.zeros(len(det), bool)
    matched_t[pairs[:, 0]] = True
    matched_d[pairs[:, 1]] = True
    np.add.at(counts[:, -1], t_code[~matched_t], 1)
    np.add.at(counts[-1, :], d_code[~matched_d], 1)
    conf = pd.DataFrame(counts, index=row_labels, columns=col_labels)
    conf.index.name = "truth_kind"
    conf.columns.name = "detected_kind"

    pair_df = pd.DataFrame(
        {
            "channel": truth["channel"].to_numpy()[pairs[:, 0]],
            "truth_time_s": truth["time_s"].to_numpy()[pairs[:, 0]],
            "detected_time_s": det["time_s"].to_numpy()[pairs[:, 1]],
            "error_ms": (det["time_s"].to_numpy()[pairs[:, 1]] - truth["time_s"].to_numpy()[pairs[:, 0]]) * 1000.0,
            "truth_kind": t_kind[pairs[:, 0]],
            "detected_kind": d_kind[pairs[:, 1]],
        }
    )
    return DischargeComparison(
        scores=scores,
        confusion=conf,
        pairs=pair_df,
        truth=truth,
        detected=det,
        n_excluded_truth=n_ex_t,
        n_excluded_detected=n_ex_d,
        tolerance_ms=float(tolerance_ms),
        ignore_channels=bool(ignore_channels),
    )


def score_discharges(truth_df, detected_df, tolerance_ms: float = 1.0, intervals=None, **kwargs):
    """Per-kind tp/fp/fn, precision, recall and F1 of a discharge detector.

    Parameters
    ----------
    truth_df, detected_df : pandas.DataFrame
        ``truth.csv`` and ``discharges.csv`` tables (``channel, time_s, kind``).
    tolerance_ms : float
        Matching tolerance (ms), default 1.
    intervals : pandas.DataFrame | None
        ``truth_intervals.csv``; events in voluntary/artifact intervals are
        excluded from both sides.
    **kwargs
        Passed to :func:`compare_discharges` (``exclude_kinds``,
        ``interval_margin_s``, ``kinds``, ``ignore_channels``).

    Returns
    -------
    pandas.DataFrame
        Columns ``kind, tp, fp, fn, precision, recall, f1, n_truth,
        n_detected``; one row per kind and a last ``any`` row (kind-blind
        detection). The confusion table is in ``.attrs["confusion"]`` (as a
        nested dict) and the full result is :func:`compare_discharges`.
    """
    comp = compare_discharges(truth_df, detected_df, tolerance_ms, intervals, **kwargs)
    scores = comp.scores
    scores.attrs["confusion"] = comp.to_dict()["confusion"]
    scores.attrs["n_excluded_truth"] = comp.n_excluded_truth
    scores.attrs["n_excluded_detected"] = comp.n_excluded_detected
    return scores
