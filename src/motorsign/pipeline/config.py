"""The pipeline file: parsing and validation.

A pipeline is a TOML file (see ``pipelines/README.md``). It is validated
completely before any work starts: unknown keys (with the nearest valid key
suggested), wrong types, unknown analyses, missing files and dangling CMCT
references all raise :class:`~motorsign.errors.ConfigError` naming the file
and the entry.
"""

from __future__ import annotations

import difflib
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from motorsign.errors import ConfigError

__all__ = ["RecordingEntry", "CmctEntry", "FusionEntry", "Pipeline", "load_pipeline", "parse_pipeline"]

#: keys of the top level of a pipeline file
TOP_KEYS = ("name", "description", "defaults", "recordings", "cmct", "fusion")
#: keys allowed in ``[defaults]`` (everything a recording has but its path and id)
DEFAULT_KEYS = (
    "analyses", "muscle", "side", "trigger", "fs", "stim_sample", "variable", "units",
    "stream", "channels", "options",
)
#: keys allowed in each ``[[recordings]]`` entry
RECORDING_KEYS = ("path", "id", *DEFAULT_KEYS)
#: keys allowed in each ``[[cmct]]`` entry
CMCT_KEYS = ("id", "mep", "nerve", "muscle", "side", "mep_channel", "nerve_channel", "options")
#: keys allowed in ``[fusion]``
FUSION_KEYS = ("clinical", "options")
#: the sides a muscle may have
SIDES = ("L", "R")
#: options passed to :func:`motorsign.io.read` rather than to the analysis
READ_OPTION_KEYS = ("stream", "fs", "stim_sample", "variable", "units")
#: closeness (difflib ratio) above which an unknown key gets a suggestion
SUGGEST_CUTOFF = 0.6
#: names used by the run's own outputs, so not allowed as recording ids
RESERVED_IDS = ("cmct", "errors.csv", "provenance.json", "evidence.json", "report.html")

_ID_RE = re.compile(r"[^A-Za-z0-9._-]+")
_CMCT_ID_RE = re.compile(r"[^A-Za-z0-9._+-]+")


@dataclass(frozen=True)
class RecordingEntry:
    """One ``[[recordings]]`` entry, with defaults applied and path resolved.

    Attributes
    ----------
    id : str
        Folder name of its results (``OUT/<id>/<analysis>/``).
    path : Path
        Absolute path of the recording.
    analyses : tuple of str
        Analyses to run on it, in order.
    muscle, side : str | None
        Muscle and side (``L``/``R``).
    channels : tuple of str | None
        Channels to analyse (``None``: all).
    trigger : str | None
        Trigger specification for evoked analyses.
    read_options : dict
        Options for :func:`motorsign.io.read` (``fs``, ``stim_sample``, ...).
    options : dict
        Analysis name -> keyword options for its ``execute``.
    """

    id: str
    path: Path
    analyses: tuple[str, ...]
    muscle: str | None = None
    side: str | None = None
    channels: tuple[str, ...] | None = None
    trigger: str | None = None
    read_options: dict = field(default_factory=dict)
    options: dict = field(default_factory=dict)


@dataclass(frozen=True)
class CmctEntry:
    """A ``[[cmct]]`` entry: a CMCT from the ``mep`` result of one recording and
    the ``nerve`` result of another (or the same) recording."""

    id: str
    mep: str
    nerve: str
    muscle: str | None = None
    side: str | None = None
    mep_channel: str | None = None
    nerve_channel: str | None = None
    options: dict = field(default_factory=dict)


@dataclass(frozen=True)
class FusionEntry:
    """The ``[fusion]`` table: the clinical case file and fusion options."""

    clinical: Path
    options: dict = field(default_factory=dict)


@dataclass(frozen=True)
class Pipeline:
    """A validated pipeline file."""

    path: Path
    name: str
    description: str
    recordings: tuple[RecordingEntry, ...]
    cmct: tuple[CmctEntry, ...] = ()
    fusion: FusionEntry | None = None
    raw: dict = field(default_factory=dict)

    @property
    def n_tasks(self) -> int:
        """Number of (recording, analysis) tasks."""
        return sum(len(r.analyses) for r in self.recordings)

    def recording(self, rec_id: str) -> RecordingEntry:
        """The entry with id ``rec_id``."""
        for r in self.recordings:
            if r.id == rec_id:
                return r
        raise KeyError(rec_id)


def _suggest(key: str, valid) -> str:
    close = difflib.get_close_matches(key, list(valid), n=1, cutoff=SUGGEST_CUTOFF)
    return f"; did you mean {close[0]!r}?" if close else f"; valid keys: {', '.join(valid)}"


class _Checker:
    def __init__(self, path: Path):
        self.path = path

    def fail(self, where: str, message: str):
        raise ConfigError(f"{where}: {message}", self.path)

    def keys(self, table: dict, valid, where: str) -> None:
        for k in table:
            if k not in valid:
                self.fail(where, f"unknown key {k!r}{_suggest(k, valid)}")

    def table(self, value, where: str) -> dict:
        if not isinstance(value, dict):
            self.fail(where, f"must be a table, got {type(value).__name__}")
        return value

    def string(self, value, where: str, *, allow_none: bool = True) -> str | None:
        if value is None and allow_none:
            return None
        if not isinstance(value, str) or not value.strip():
            self.fail(where, f"must be a non-empty string, got {value!r}")
        return value

    def number(self, value, where: str, *, positive: bool = False) -> float | None:
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            self.fail(where, f"must be a number, got {value!r}")
        if positive and not value > 0:
            self.fail(where, f"must be positive, got {value!r}")
        return value

    def integer(self, value, where: str) -> int | None:
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            self.fail(where, f"must be a non-negative integer, got {value!r}")
        return value

    def side(self, value, where: str) -> str | None:
        if value is None:
            return None
        if value not in SIDES:
            self.fail(where, f"must be one of {', '.join(SIDES)}, got {value!r}")
        return value

    def str_list(self, value, where: str) -> tuple[str, ...] | None:
        if value is None:
            return None
        if isinstance(value, str):
            value = [v.strip() for v in value.split(",") if v.strip()]
        if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
            self.fail(where, f"must be a list of strings, got {value!r}")
        return tuple(value)

    def analyses(self, value, where: str, registry) -> tuple[str, ...]:
        names = self.str_list(value, where) or ()
        for a in names:
            if a not in registry:
                close = difflib.get_close_matches(a, list(registry), n=1, cutoff=SUGGEST_CUTOFF)
                hint = f"; did you mean {close[0]!r}?" if close else ""
                self.fail(where, f"unknown analysis {a!r} (known: {', '.join(registry)}){hint}")
        if len(set(names)) != len(names):
            self.fail(where, f"analysis listed twice in {list(names)}")
        return names

    def options(self, value, where: str, registry) -> dict:
        if value is None:
            return {}
        opts = self.table(value, where)
        for name, sub in opts.items():
            if name not in registry:
                self.fail(where, f"options for unknown analysis {name!r}{_suggest(name, list(registry))}")
            self.table(sub, f"{where}.{name}")
        return {k: dict(v) for k, v in opts.items()}


def _merge_options(base: dict, over: dict) -> dict:
    out = {k: dict(v) for k, v in base.items()}
    for k, v in over.items():
        out.setdefault(k, {}).update(v)
    return out


def _make_id(path: Path, root: Path) -> str:
    try:
        rel = path.relative_to(root)
    except ValueError:
        rel = Path(path.name)
    return _ID_RE.sub("_", str(rel.with_suffix("")).replace("/", "_").replace("\\", "_")).strip("_")


def _check_installed(analyses: set[str], c: _Checker) -> None:
    """Every analysis used has its module installed (found, not imported)."""
    import importlib.util

    from motorsign.pipeline.analyses import ANALYSES

    for a in sorted(analyses):
        module = ANALYSES[a].partition(":")[0]
        try:
            found = importlib.util.find_spec(module) is not None
        except (ImportError, ValueError):
            found = False
        if not found:
            c.fail("analyses", f"analysis {a!r} is not available in this installation "
                               f"(module {module} not found)")


def parse_pipeline(data: dict, path: str | Path, *, check_files: bool = True) -> Pipeline:
    """Validate a parsed pipeline file.

    Parameters
    ----------
    data : dict
        The TOML content.
    path : path-like
        The pipeline file (relative paths are resolved from its folder).
    check_files : bool
        Check that every recording and the clinical file exist.

    Returns
    -------
    Pipeline

    Raises
    ------
    ConfigError
        On the first problem found, naming the entry and the key.
    """
    from motorsign.pipeline.analyses import ANALYSES

    path = Path(path).resolve()
    root = path.parent
    c = _Checker(path)
    c.keys(data, TOP_KEYS, "top level")
    name = c.string(data.get("name"), "name") or path.stem
    description = c.string(data.get("description"), "description") or ""

    defaults = c.table(data.get("defaults", {}), "[defaults]")
    c.keys(defaults, DEFAULT_KEYS, "[defaults]")
    recs = data.get("recordings")
    if not isinstance(recs, list) or not recs:
        c.fail("[[recordings]]", "the pipeline lists no recordings")

    entries: list[dict] = []
    for i, raw in enumerate(recs, start=1):
        where = f"[[recordings]] #{i}"
        raw = c.table(raw, where)
        c.keys(raw, RECORDING_KEYS, where)
        if "path" not in raw:
            c.fail(where, "missing key 'path'")
        merged = {**defaults, **raw}
        own_options = c.options(raw.get("options"), f"{where}.options", ANALYSES)
        merged["options"] = _merge_options(
            c.options(defaults.get("options"), "[defaults].options", ANALYSES), own_options
        )
        rel = c.string(raw["path"], f"{where}.path", allow_none=False)
        p = Path(rel).expanduser()
        p = (p if p.is_absolute() else root / p).resolve()
        analyses = c.analyses(merged.get("analyses"), f"{where}.analyses", ANALYSES)
        if not analyses:
            c.fail(where, "no analyses: give 'analyses' here or in [defaults]")
        unused = sorted(set(own_options) - set(analyses))
        if unused:
            c.fail(f"{where}.options", f"options for {', '.join(unused)} which this recording does not run")
        merged["options"] = {k: v for k, v in merged["options"].items() if k in analyses}
        read_options = {}
        for k in READ_OPTION_KEYS:
            v = merged.get(k)
            if k == "fs":
                v = c.number(v, f"{where}.fs", positive=True)
            elif k == "stim_sample":
                v = c.integer(v, f"{where}.stim_sample")
            else:
                v = c.string(v, f"{where}.{k}")
            if v is not None:
                read_options[k] = v
        entries.append(
            dict(
                id=c.string(raw.get("id"), f"{where}.id"),
                path=p,
                rel=rel,
                where=where,
                analyses=analyses,
                muscle=c.string(merged.get("muscle"), f"{where}.muscle"),
                side=c.side(merged.get("side"), f"{where}.side"),
                channels=c.str_list(merged.get("channels"), f"{where}.channels"),
                trigger=c.string(merged.get("trigger"), f"{where}.trigger"),
                read_options=read_options,
                options=merged["options"],
            )
        )

    # ids: given, else the file stem, else the relative path when stems collide
    stems = [e["path"].stem for e in entries]
    seen: dict[str, str] = {}
    for e in entries:
        rid = e["id"]
        if rid is not None:
            if _ID_RE.search(rid) or rid.startswith("."):
                c.fail(f"{e['where']}.id", f"{rid!r} may only hold letters, digits, '.', '_', '-'")
        else:
            rid = e["path"].stem if stems.count(e["path"].stem) == 1 else _make_id(e["path"], root)
            rid = _ID_RE.sub("_", rid).lstrip(".") or "recording"
        if rid in RESERVED_IDS:
            c.fail(f"{e['where']}.id", f"id {rid!r} is reserved for the run's outputs; give an 'id'")
        if rid in seen:
            c.fail(f"{e['where']}.id", f"id {rid!r} is already used by {seen[rid]}; give each an 'id'")
        seen[rid] = e["where"]
        e["id"] = rid

    _check_installed({a for e in entries for a in e["analyses"]}, c)

    if check_files:
        missing = [f"{e['where']} {e['rel']!r} ({e['path']})" for e in entries if not e["path"].is_file()]
        if missing:
            c.fail("missing recording(s)", "; ".join(missing))

    recordings = tuple(
        RecordingEntry(
            id=e["id"], path=e["path"], analyses=e["analyses"], muscle=e["muscle"],
            side=e["side"], channels=e["channels"], trigger=e["trigger"],
            read_options=e["read_options"], options=e["options"],
        )
        for e in entries
    )
    by_id = {r.id: r for r in recordings}

    cmcts: list[CmctEntry] = []
    raw_cmct = data.get("cmct", [])
    if not isinstance(raw_cmct, list):
        c.fail("[[cmct]]", "must be an array of tables ([[cmct]])")
    cmct_ids: set[str] = set()
    for i, raw in enumerate(raw_cmct, start=1):
        where = f"[[cmct]] #{i}"
        raw = c.table(raw, where)
        c.keys(raw, CMCT_KEYS, where)
        refs = {}
        for role in ("mep", "nerve"):
            rid = c.string(raw.get(role), f"{where}.{role}", allow_none=False)
            if rid not in by_id:
                close = difflib.get_close_matches(rid, list(by_id), n=1, cutoff=SUGGEST_CUTOFF)
                hint = f"; did you mean {close[0]!r}?" if close else f"; ids: {', '.join(by_id)}"
                c.fail(f"{where}.{role}", f"no recording with id {rid!r}{hint}")
            if role not in by_id[rid].analyses:
                c.fail(f"{where}.{role}", f"recording {rid!r} does not run the {role!r} analysis")
            refs[role] = rid
        muscle = c.string(raw.get("muscle"), f"{where}.muscle") or by_id[refs["mep"]].muscle
        side = c.side(raw.get("side"), f"{where}.side") or by_id[refs["mep"]].side
        cid = c.string(raw.get("id"), f"{where}.id") or f"{refs['mep']}+{refs['nerve']}"
        cid = _CMCT_ID_RE.sub("_", cid).lstrip(".")
        if cid in cmct_ids:
            c.fail(f"{where}.id", f"cmct id {cid!r} used twice")
        cmct_ids.add(cid)
        opts = c.table(raw.get("options", {}), f"{where}.options")
        cmcts.append(
            CmctEntry(
                id=cid, mep=refs["mep"], nerve=refs["nerve"], muscle=muscle, side=side,
                mep_channel=c.string(raw.get("mep_channel"), f"{where}.mep_channel"),
                nerve_channel=c.string(raw.get("nerve_channel"), f"{where}.nerve_channel"),
                options=dict(opts),
            )
        )

    fusion = None
    if "fusion" in data:
        ft = c.table(data["fusion"], "[fusion]")
        c.keys(ft, FUSION_KEYS, "[fusion]")
        rel = c.string(ft.get("clinical"), "[fusion].clinical", allow_none=False)
        cp = Path(rel).expanduser()
        cp = (cp if cp.is_absolute() else root / cp).resolve()
        if check_files and not cp.is_file():
            c.fail("[fusion].clinical", f"file {rel!r} not found ({cp})")
        fusion = FusionEntry(clinical=cp, options=dict(c.table(ft.get("options", {}), "[fusion].options")))

    return Pipeline(
        path=path, name=name, description=description, recordings=recordings,
        cmct=tuple(cmcts), fusion=fusion, raw=data,
    )


def load_pipeline(path: str | Path, *, check_files: bool = True) -> Pipeline:
    """Read and validate a pipeline file.

    Parameters
    ----------
    path : path-like
        The ``.toml`` file.
    check_files : bool
        Check that the files it names exist.

    Returns
    -------
    Pipeline

    Raises
    ------
    ConfigError
        When the file is missing, is not valid TOML or does not validate.
    """
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover
        import tomli as tomllib

    path = Path(path)
    try:
        text = path.read_bytes()
    except FileNotFoundError:
        raise ConfigError("pipeline file not found", path) from None
    except OSError as exc:
        raise ConfigError(f"cannot read the pipeline file ({exc.strerror})", path) from None
    try:
        data: dict[str, Any] = tomllib.loads(text.decode("utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"not a valid TOML file: {exc}", path) from None
    return parse_pipeline(data, path, check_files=check_files)
