"""Interpretation options of the criteria (reference/criteria.md, "Options").

Where a criteria paper can be read two ways the reading is an option. The
first value of each is the default. :func:`resolve_options` merges the case
file's ``options`` with the caller's and rejects unknown names or values with
the accepted ones.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from typing import Any

from motorsign.errors import ConfigError

__all__ = ["OPTIONS", "DEFAULT_OPTIONS", "resolve_options", "option_flips"]

#: name -> (accepted values, default first; meaning)
OPTIONS: dict[str, tuple[tuple[Any, ...], str]] = {
    "rostral_mode": (
        ("exists_pair", "most_rostral_is_umn"),
        "probable (rEEC, Awaji): 'exists_pair' = some UMN region is rostral to some LMN region; "
        "'most_rostral_is_umn' = additionally the most rostral involved region carries UMN signs",
    ),
    "awaji_probable_umn_regions": (
        (2, 1),
        "Awaji probable: number of regions with clinical UMN signs required (LMN always in >= 2)",
    ),
    "gcc_split_regions": (
        (False, True),
        "Gold Coast: true accepts UMN signs in one region plus LMN signs only in a different "
        "single region",
    ),
    "root_distinct_mode": (
        ("not_identical", "disjoint"),
        "limb EMG region: two positive muscles must have different nerves and root sets that are "
        "'not_identical' (biceps C5-C6 + triceps C6-C8 count) or 'disjoint' (they do not)",
    ),
    "pls_lmn_tolerance": (
        ("none", "minor"),
        "PLS 2020: 'minor' tolerates sparse fibrillations (grade 1+) in a single muscle without "
        "chronic neurogenic change",
    ),
}

DEFAULT_OPTIONS: dict[str, Any] = {k: v[0][0] for k, v in OPTIONS.items()}


def _check(name: str, value: Any, where: str) -> Any:
    if name not in OPTIONS:
        near = difflib.get_close_matches(name, list(OPTIONS), n=1, cutoff=0.5)
        hint = f" (did you mean {near[0]!r}?)" if near else ""
        raise ConfigError(
            f"{where}: unknown option {name!r}{hint}; accepted: {', '.join(OPTIONS)}"
        )
    values = OPTIONS[name][0]
    for v in values:
        # bool and int are distinct here: True must not pass for 1
        if type(v) is type(value) and v == value:
            return v
    raise ConfigError(
        f"{where}: option {name} = {value!r} is not accepted; choose one of "
        + ", ".join(repr(v) for v in values)
    )


def resolve_options(
    case_options: Mapping[str, Any] | None = None,
    override: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """Defaults, then the case's ``options``, then ``override``.

    Parameters
    ----------
    case_options : mapping | None
        ``options`` of the case file.
    override : mapping | None
        Options given by the caller (API or CLI); they win.

    Returns
    -------
    dict
        Every option with its value.
    """
    out = dict(DEFAULT_OPTIONS)
    for where, source in (("case options", case_options), ("options", override)):
        for name, value in (source or {}).items():
            out[name] = _check(name, value, where)
    return out


def option_flips(options: Mapping[str, Any]) -> list[tuple[str, Any]]:
    """Every (option, other value) pair reachable by changing one option."""
    flips = []
    for name, (values, _) in OPTIONS.items():
        for v in values:
            if v != options[name] or type(v) is not type(options[name]):
                flips.append((name, v))
    return flips
