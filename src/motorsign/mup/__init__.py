"""Voluntary motor unit potential (MUP) analysis.

:func:`analyze_mups` detects MUP discharges in needle EMG at low to moderate
effort, sorts them into motor units, measures each unit (amplitude,
duration, phases, turns, area, size index) and its firing, and classifies
the muscle as ``neurogenic``, ``myopathic``, ``normal`` or ``indeterminate``
against reference values by muscle and age (``data/mup_reference.csv``).
Definitions: ``docs/mup.md``.

Modules: :mod:`.params` (every threshold), :mod:`.preprocess` (filters),
:mod:`.kernels` (numba) and :mod:`.numpy_impl` (the same steps in numpy),
:mod:`.sorting`, :mod:`.features`, :mod:`.interference`, :mod:`.reference`,
:mod:`.classify`, :mod:`.analysis`.
"""

from __future__ import annotations

from motorsign.mup.analysis import DISCHARGE_COLUMNS, UNIT_COLUMNS, MupResult, analyze_mups
from motorsign.mup.params import MupParams

__all__ = ["analyze_mups", "MupResult", "MupParams", "UNIT_COLUMNS", "DISCHARGE_COLUMNS"]
