"""Pieces shared by the analysis verbs (``detect``, ``mup``)."""

from __future__ import annotations

import argparse
from dataclasses import fields
from typing import Any

from motorsign.errors import ConfigError

__all__ = ["parse_params", "read_options_from"]

_TRUE = ("true", "1", "yes")
_BOOLEAN = _TRUE + ("false", "0", "no")


def parse_params(items: list[str] | None, params_class: type, what: str) -> dict[str, Any]:
    """Parse ``--param NAME=VALUE`` items against a parameter dataclass.

    Each value is converted to the type of the field's default (bool, int,
    float, or a comma-separated tuple of floats); unknown names are refused.

    Parameters
    ----------
    items : list of str | None
        The raw ``NAME=VALUE`` strings.
    params_class : dataclass type
        The analysis's parameter class (its defaults give the types).
    what : str
        The analysis name for messages (``"detection"``, ``"MUP"``).

    Returns
    -------
    dict
        Parameter name -> converted value.
    """
    defaults = {f.name: f.default for f in fields(params_class)}
    out: dict[str, Any] = {}
    for item in items or []:
        if "=" not in item:
            raise ConfigError(f"--param {item!r}: expected NAME=VALUE")
        name, value = (s.strip() for s in item.split("=", 1))
        if name not in defaults:
            import difflib

            near = difflib.get_close_matches(name, list(defaults), n=3)
            hint = f"; did you mean {', '.join(repr(n) for n in near)}?" if near else ""
            raise ConfigError(
                f"--param {name}: unknown {what} parameter{hint} "
                f"(all {len(defaults)} are listed in {params_class.__module__}.{params_class.__name__})"
            )
        default = defaults[name]
        try:
            if isinstance(default, bool):
                if value.lower() not in _BOOLEAN:
                    raise ValueError(value)
                out[name] = value.lower() in _TRUE
            elif isinstance(default, (tuple, list)):
                out[name] = tuple(float(x) for x in value.split(","))
            elif isinstance(default, int):
                out[name] = int(value)
            else:
                out[name] = float(value)
        except ValueError as exc:
            raise ConfigError(f"--param {name}: {value!r} is not a valid value") from exc
    return out


def read_options_from(args: argparse.Namespace) -> dict[str, Any]:
    """The reader options (``--fs``, ``--stim-sample``, ...) given on the command line."""
    return {"fs": args.fs, "stim_sample": args.stim_sample, "variable": args.variable,
            "stream": args.stream, "units": args.units}
