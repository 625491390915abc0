"""What a run used: package and dependency versions, platform, command line."""

from __future__ import annotations

import platform
import sys
from importlib import metadata

__all__ = ["DEPENDENCIES", "environment"]

#: distributions whose versions are recorded (read from metadata, not imported)
DEPENDENCIES = (
    "numpy", "scipy", "numba", "llvmlite", "neo", "mne", "wfdb", "pandas", "matplotlib",
    "jsonschema", "dask", "distributed",
)


def _version(dist: str) -> str | None:
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return None


def environment() -> dict:
    """Versions of motorsign, Python and the dependencies, and the platform.

    Returns
    -------
    dict
        ``motorsign``, ``python``, ``platform``, ``dependencies``
        (name -> version, ``None`` when not installed), ``argv``.
    """
    from motorsign import __version__

    return {
        "motorsign": __version__,
        "python": sys.version.split()[0],
        "implementation": platform.python_implementation(),
        "platform": platform.platform(),
        "machine": platform.machine(),
        "dependencies": {d: _version(d) for d in DEPENDENCIES},
        "argv": list(sys.argv),
    }
