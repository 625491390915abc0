"""Registry of the analyses a pipeline can run.

Each analysis is named by a ``"module:function"`` string; the function has the
signature shared by every analysis verb::

    execute(path, out_dir, *, muscle=None, side=None, channels=None,
            read_options=None, **options) -> dict

It reads the recording, writes the contract files into ``out_dir`` atomically
and returns the summary. The registry holds strings, not functions, so a
worker process imports only the analysis it runs, and tests can register a
fake analysis with ``monkeypatch.setitem(ANALYSES, "fake", "pkg.mod:func")``.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable

from motorsign.errors import ConfigError

__all__ = ["ANALYSES", "resolve_analysis", "CMCT_FUNCTION", "FUSION_FUNCTION"]

#: analysis name -> "module:function" of its ``execute``.
ANALYSES: dict[str, str] = {
    "detect": "motorsign.commands.detect:execute",
    "mup": "motorsign.commands.mup:execute",
    "mep": "motorsign.commands.mep:execute",
    "nerve": "motorsign.commands.nerve:execute",
}

#: the step that computes a CMCT from a finished ``mep`` and ``nerve`` folder.
CMCT_FUNCTION = "motorsign.pipeline.steps:cmct_from_folders"

#: the step that fuses the clinical file with the results.
FUSION_FUNCTION = "motorsign.pipeline.steps:fuse_case"


def resolve_analysis(spec: str) -> Callable:
    """Import the function named by a ``"module:function"`` string.

    Parameters
    ----------
    spec : str
        ``"package.module:function"``; an analysis name from :data:`ANALYSES`
        is accepted too.

    Returns
    -------
    callable

    Raises
    ------
    ConfigError
        When the string is malformed or the module/function cannot be imported.
    """
    spec = ANALYSES.get(spec, spec)
    module_name, sep, func_name = spec.partition(":")
    if not sep or not module_name or not func_name:
        raise ConfigError(f"analysis {spec!r} is not of the form 'module:function'")
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        if exc.name and module_name.startswith(exc.name):
            raise ConfigError(
                f"analysis module {module_name!r} is not available in this installation"
            ) from exc
        raise
    try:
        return getattr(module, func_name)
    except AttributeError as exc:
        raise ConfigError(f"{module_name!r} has no function {func_name!r}") from exc
