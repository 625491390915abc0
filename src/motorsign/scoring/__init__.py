"""Scoring of detectors against simulated ground truth.

* :func:`match_events` — optimal one-to-one pairing of event times within a
  tolerance;
* :func:`score_discharges` / :func:`compare_discharges` — per-kind
  tp/fp/fn/precision/recall/F1, a kind-blind ``any`` row and a confusion table;
* :func:`score_latencies` — MEP/M-wave/F-wave latency errors and presence
  rates, trials paired by ``trial`` and ``channel``.
"""

from motorsign.scoring.discharges import (
    DischargeComparison,
    compare_discharges,
    exclude_intervals,
    prf,
    score_discharges,
)
from motorsign.scoring.latencies import latency_pairs, score_latencies
from motorsign.scoring.matching import match_events

__all__ = [
    "match_events",
    "score_discharges",
    "compare_discharges",
    "DischargeComparison",
    "exclude_intervals",
    "prf",
    "score_latencies",
    "latency_pairs",
]
