"""motorsign: EMG and TMS recordings to upper and lower motor neuron evidence.

The top-level names are imported lazily, so ``import motorsign`` is cheap::

    import motorsign
    rec = motorsign.read("needle.vhdr")
    table = motorsign.detect_spontaneous(rec)
"""

from __future__ import annotations

import importlib

__version__ = "0.1.0"

_LAZY = {
    "read": "motorsign.io",
    "Recording": "motorsign.recording",
    "Channel": "motorsign.recording",
    "Event": "motorsign.recording",
    "detect_spontaneous": "motorsign.spontaneous",
    "analyze_mups": "motorsign.mup",
    "analyze_meps": "motorsign.evoked",
    "analyze_nerve": "motorsign.evoked",
    "compute_cmct": "motorsign.evoked",
    "fuse": "motorsign.fusion",
    "MotorsignError": "motorsign.errors",
    "InputError": "motorsign.errors",
    "ConfigError": "motorsign.errors",
}

__all__ = ["__version__", *_LAZY]


def __getattr__(name: str):
    if name in _LAZY:
        value = getattr(importlib.import_module(_LAZY[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'motorsign' has no attribute {name!r}")


def __dir__():
    return sorted(__all__)
