"""Fibrillation/PSW grade (0 to 4+) from rates at rest.

Clinical grading (AANEM; Preston & Shapiro): 0 none; 1+ persistent single
trains in at least 2 areas; 2+ moderate numbers in 3 or more areas; 3+ many
in all areas; 4+ a full interference pattern of fibrillations. One needle
recording is one area, so the automatic grade uses the rate at rest:

``rate = (fibrillations + PSWs) / rest minutes``; grade ``n+`` when
``rate >= grade_rates_per_min[n-1]`` (defaults 6, 60, 300, 1200 per minute:
about one discharge every 10 s, one train at 1 Hz, several trains, a dense
pattern at 20 Hz or more), and grades above 0 also need at least one
regular fibrillation/PSW train (``train_min_n`` discharges, regular
intervals); without one the grade is 0.
"""

from __future__ import annotations

import math

__all__ = ["GRADES", "grade_rule_text", "fib_psw_grade"]

GRADES = ("0", "1+", "2+", "3+", "4+")


def grade_rule_text(rates_per_min) -> str:
    """The grading rule in words (written into summary.json)."""
    r = list(rates_per_min)
    return (
        "fib_psw rate = (fibrillations + positive sharp waves) per minute of rest; "
        f"1+ >= {r[0]:g}/min, 2+ >= {r[1]:g}/min, 3+ >= {r[2]:g}/min, 4+ >= {r[3]:g}/min; "
        "grades above 0 need at least one regular fibrillation/PSW train"
    )


def fib_psw_grade(n_fib_psw: int, rest_s: float, n_regular_trains: int, rates_per_min) -> str | None:
    """Grade from counts at rest.

    Parameters
    ----------
    n_fib_psw : int
        Fibrillations plus PSWs detected at rest.
    rest_s : float
        Rest duration in seconds.
    n_regular_trains : int
        Regular fibrillation/PSW trains found.
    rates_per_min : sequence of 4 float
        Thresholds for 1+ .. 4+.

    Returns
    -------
    str | None
        ``"0"`` .. ``"4+"``; None when there is no rest to grade.
    """
    if not rest_s or rest_s <= 0 or not math.isfinite(rest_s):
        return None
    rate = n_fib_psw / (rest_s / 60.0)
    if n_regular_trains <= 0:
        return "0"
    g = 0
    for i, thr in enumerate(rates_per_min):
        if rate >= thr:
            g = i + 1
    return GRADES[g]
