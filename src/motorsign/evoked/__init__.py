"""Evoked responses: MEPs after TMS, M-waves and F-waves, CMCT.

Modules: :mod:`~motorsign.evoked.epochs` (epochs around triggers),
:mod:`~motorsign.evoked.onset` (numba kernels of the MEP measures),
:mod:`~motorsign.evoked.mep` (per-trial MEP table and summary),
:mod:`~motorsign.evoked.nerve` (M-/F-waves), :mod:`~motorsign.evoked.cmct`
and :mod:`~motorsign.evoked.tables` (windows and norms with sources).
"""
