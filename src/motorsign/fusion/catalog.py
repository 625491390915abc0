"""The muscle catalog: muscle -> region, roots, nerve, aliases.

The catalog is a versioned data file (``motorsign/data/muscle_catalog.json``)
with its sources. Names are matched case-insensitively, with spaces and
hyphens read as underscores, against each muscle's name and aliases; an
unknown name raises :class:`~motorsign.errors.ConfigError` with the nearest
accepted names.
"""

from __future__ import annotations

import difflib
import json
import re
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

from motorsign.errors import ConfigError

__all__ = [
    "REGIONS",
    "SPINAL_REGIONS",
    "Muscle",
    "Catalog",
    "load_catalog",
    "normalize_name",
    "THORACIC_EMG_LOWEST_LEVEL",
]

#: Regions, rostral to caudal (index = rostro-caudal rank).
REGIONS: tuple[str, ...] = ("bulbar", "cervical", "thoracic", "lumbosacral")
SPINAL_REGIONS: tuple[str, ...] = ("cervical", "thoracic", "lumbosacral")

#: Thoracic paraspinals count for the thoracic EMG region only at or below this
#: level (Awaji, de Carvalho 2008: "at or below T6"), i.e. T6..T12.
THORACIC_EMG_LOWEST_LEVEL: int = 6


def normalize_name(name: str) -> str:
    """Key used to match muscle names: lower case, runs of space/hyphen/dot -> ``_``."""
    return re.sub(r"[\s\-.]+", "_", str(name).strip()).strip("_").lower()


@dataclass(frozen=True)
class Muscle:
    """One catalog muscle.

    Attributes
    ----------
    name : str
        Canonical name (``FDI``, ``biceps``, ``T10_paraspinal``).
    region : str
        ``bulbar``, ``cervical``, ``thoracic`` or ``lumbosacral``.
    roots : tuple of str
        Root set (``("C8", "T1")``); cranial nerve nuclei for bulbar muscles.
        Empty when unknown (an unlevelled paraspinal).
    nerve : str
        Peripheral nerve (or nerve division).
    aliases : tuple of str
    group : str | None
        ``paraspinal``, ``abdominal``, ``intercostal`` or None.
    level : str | None
        Segment of a paraspinal (``T10``).
    """

    name: str
    region: str
    roots: tuple[str, ...]
    nerve: str
    aliases: tuple[str, ...] = ()
    group: str | None = None
    level: str | None = None
    note: str | None = None

    @property
    def counts_for_thoracic_emg(self) -> bool:
        """True when one EMG-positive muscle makes the thoracic region positive.

        Abdominal muscles and thoracic paraspinals at or below T6 do; higher or
        unlevelled thoracic paraspinals and intercostals do not.
        """
        if self.region != "thoracic":
            return False
        if self.group == "abdominal":
            return True
        if self.group == "paraspinal" and self.level and self.level.startswith("T"):
            return int(self.level[1:]) >= THORACIC_EMG_LOWEST_LEVEL
        return False

    def to_dict(self) -> dict:
        """JSON-ready description."""
        return {
            "name": self.name,
            "region": self.region,
            "roots": list(self.roots),
            "nerve": self.nerve,
        }


class Catalog:
    """Lookup of muscles by name or alias.

    Parameters
    ----------
    data : dict
        The parsed catalog file (``version``, ``muscles``).
    """

    def __init__(self, data: dict):
        self.version: str = str(data["version"])
        self.sources: list[str] = list(data.get("sources", []))
        self.muscles: dict[str, Muscle] = {}
        self._index: dict[str, str] = {}
        for entry in data["muscles"]:
            mus = Muscle(
                name=entry["name"],
                region=entry["region"],
                roots=tuple(entry.get("roots", ())),
                nerve=entry["nerve"],
                aliases=tuple(entry.get("aliases", ())),
                group=entry.get("group"),
                level=entry.get("level"),
                note=entry.get("note"),
            )
            if mus.region not in REGIONS:
                raise ConfigError(f"muscle catalog: {mus.name}: unknown region {mus.region!r}")
            self.muscles[mus.name] = mus
            for key in (mus.name, *mus.aliases):
                k = normalize_name(key)
                other = self._index.get(k)
                if other is not None and other != mus.name:
                    raise ConfigError(
                        f"muscle catalog: name {key!r} is used by both {other} and {mus.name}"
                    )
                self._index[k] = mus.name

    def find(self, name: str) -> Muscle | None:
        """The muscle called ``name`` (name or alias), or None."""
        key = self._index.get(normalize_name(name))
        return None if key is None else self.muscles[key]

    def suggest(self, name: str, n: int = 3) -> list[str]:
        """Nearest accepted names to ``name`` (canonical names)."""
        hits = difflib.get_close_matches(normalize_name(name), list(self._index), n=n * 2, cutoff=0.5)
        out: list[str] = []
        for h in hits:
            canon = self.muscles[self._index[h]].name
            if canon not in out:
                out.append(canon)
        return out[:n]

    def get(self, name: str, *, where: str = "muscle") -> Muscle:
        """The muscle called ``name``; raises ConfigError naming close matches."""
        mus = self.find(name)
        if mus is None:
            near = self.suggest(name)
            hint = f"did you mean {', '.join(near)}? " if near else ""
            raise ConfigError(
                f"{where}: unknown muscle {name!r}; {hint}accepted names are listed by "
                "motorsign.fusion.load_catalog().names() "
                f"(e.g. {', '.join(sorted(self.muscles)[:8])}, ...)"
            )
        return mus

    def names(self) -> list[str]:
        """Canonical names, sorted."""
        return sorted(self.muscles)


@lru_cache(maxsize=4)
def _load(path: str | None) -> Catalog:
    if path is None:
        text = resources.files("motorsign.data").joinpath("muscle_catalog.json").read_text("utf-8")
    else:
        with open(path, encoding="utf-8") as fh:
            text = fh.read()
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ConfigError(f"muscle catalog {path or 'muscle_catalog.json'}: invalid JSON ({exc})") from exc
    return Catalog(data)


def load_catalog(path: str | None = None) -> Catalog:
    """Load the packaged muscle catalog (or a lab's file with the same layout).

    Parameters
    ----------
    path : str | None
        A catalog file; None for the packaged one.

    Returns
    -------
    Catalog
    """
    return _load(None if path is None else str(path))
