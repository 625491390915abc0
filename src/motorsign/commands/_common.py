"""Pieces shared by the analysis verbs (``detect``, ``mup``)."""

from __future__ import annotations

import argparse
from dataclasses import fields
from typing import Any

from motorsign.errors import ConfigError

__all__ = ["add_reader_arguments", "parse_params", "read_options_from"]

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


def add_reader_arguments(parser: argparse.ArgumentParser) -> None:
    """The reader options every verb that opens a recording takes (a "reading" group)."""
    g = parser.add_argument_group("reading")
    g.add_argument("--fs", type=float, default=None, metavar="HZ",
                   help="sampling rate of an epoched array")
    g.add_argument("--stim-sample", type=int, default=None, metavar="N", dest="stim_sample",
                   help="0-based stimulus sample in each trial of an epoched array")
    g.add_argument("--variable", default=None, metavar="NAME", help=".mat variable to read")
    g.add_argument("--stream", default=None, metavar="S",
                   help="signal stream (name or index) of files with several")
    g.add_argument("--units", default=None, metavar="U",
                   help="units of the values when the file has none (V, mV, uV)")
    g.add_argument("--layout", default=None, choices=["auto", "samples_x_trials", "trials_x_samples"],
                   help="orientation of an epoched array (default: auto)")


def read_options_from(args: argparse.Namespace) -> dict[str, Any]:
    """The :func:`motorsign.io.read` keyword arguments given on the command line."""
    return {k: getattr(args, k) for k in ("stream", "fs", "stim_sample", "variable", "units", "layout")
            if getattr(args, k, None) is not None}
