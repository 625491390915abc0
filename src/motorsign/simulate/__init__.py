"""Simulated recordings with known ground truth.

Each kind is a module with ``add_arguments(parser)``, ``generate(*, seed=0,
**options) -> SimResult`` and ``simulate(out_dir, *, seed=0, **options) ->
dict[str, Path]``. Modules are imported only when their kind is asked for
(:func:`load_kind`).
"""

from __future__ import annotations

import importlib
from types import ModuleType

from motorsign.errors import ConfigError

__all__ = ["KINDS", "load_kind", "available_kinds"]

#: simulation kind -> module implementing it
KINDS: dict[str, str] = {
    "needle-emg": "motorsign.simulate.needle_emg",
    "hdsemg": "motorsign.simulate.hdsemg",
    "tms": "motorsign.simulate.tms",
    "nerve": "motorsign.simulate.nerve",
    "voluntary-emg": "motorsign.simulate.voluntary",
}


def load_kind(kind: str) -> ModuleType:
    """Import the module of a simulation kind.

    Parameters
    ----------
    kind : str
        One of :data:`KINDS`.

    Returns
    -------
    module
        The simulator module.

    Raises
    ------
    ConfigError
        When the kind is unknown or its module is not installed.
    """
    if kind not in KINDS:
        raise ConfigError(f"unknown simulation kind {kind!r}; choose one of: {', '.join(KINDS)}")
    name = KINDS[kind]
    try:
        return importlib.import_module(name)
    except ModuleNotFoundError as exc:
        if exc.name == name:
            raise ConfigError(
                f"simulation kind {kind!r} is not available in this version ({name} is missing)"
            ) from exc
        raise


def available_kinds() -> list[str]:
    """The kinds whose module can be found (without importing them).

    Returns
    -------
    list of str
    """
    import importlib.util

    return [k for k, m in KINDS.items() if importlib.util.find_spec(m) is not None]
