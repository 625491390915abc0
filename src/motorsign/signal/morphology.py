"""Waveform morphology shared by the analyses: turns.

A *turn* is a change of direction after an excursion of at least ``turn_min``
from the last turning point (hysteresis, so noise smaller than that never
makes a turn). Spontaneous discharges and voluntary MUPs are counted with the
same rule; each analysis chooses its own ``turn_min``.
"""

from __future__ import annotations

import numba
import numpy as np

__all__ = ["count_turns"]


@numba.njit(nogil=True, cache=True)
def count_turns(x: np.ndarray, turn_min: float) -> int:  # pragma: no cover - compiled
    """Number of direction changes of at least ``turn_min`` (signal units).

    Parameters
    ----------
    x : ndarray, 1-D
        Signal segment (any stride).
    turn_min : float
        Minimum excursion from the previous turning point.

    Returns
    -------
    int
    """
    if x.size < 3:
        return 0
    turns = 0
    direction = 0  # +1 rising, -1 falling, 0 not yet known
    ext = float(x[0])  # running extreme since the last turn
    start = ext
    for i in range(1, x.size):
        v = float(x[i])
        if direction == 0:
            if v - start >= turn_min:
                direction = 1
                ext = v
            elif start - v >= turn_min:
                direction = -1
                ext = v
        elif direction == 1:
            if v > ext:
                ext = v
            elif ext - v >= turn_min:
                turns += 1
                direction = -1
                ext = v
        else:
            if v < ext:
                ext = v
            elif v - ext >= turn_min:
                turns += 1
                direction = 1
                ext = v
    return turns
