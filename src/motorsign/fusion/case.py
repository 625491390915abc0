"""The fusion case: loading, schema validation and semantic checks.

A case (DESIGN.md, "The fusion case") holds patient facts, clinical signs,
EMG findings and TMS findings. :func:`load_case` validates it against the
JSON Schema shipped in ``motorsign/data/case.schema.json`` and then checks
what a schema cannot: muscle names against the catalog, a sign's region
against its muscle, unique ids. Every problem is one
:class:`~motorsign.errors.ConfigError` line naming the place in the case, the
wrong value and what is accepted (with the nearest match).
"""

from __future__ import annotations

import copy
import difflib
import json
import math
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from os import PathLike
from pathlib import Path
from typing import Any

from motorsign.errors import ConfigError, InputError
from motorsign.fusion.catalog import Catalog, Muscle, load_catalog
from motorsign.fusion.results import emg_fields_from, tms_fields_from

__all__ = [
    "UMN_SIGNS",
    "LMN_COUNTED_SIGNS",
    "LMN_SUPPORTIVE_SIGNS",
    "SIGN_ALIASES",
    "SIGN_REGIONS",
    "FIB_PSW_POSITIVE_GRADES",
    "ClinicalFinding",
    "EmgFinding",
    "TmsFinding",
    "Case",
    "load_case",
    "case_schema",
]

#: UMN signs (criteria.md). ``pseudobulbar_affect`` counts for PLS only.
UMN_SIGNS: frozenset[str] = frozenset(
    {
        "reflex_increased", "reflex_spread", "reflex_preserved_in_weak_wasted", "clonus",
        "hoffmann", "babinski", "crossed_adductor", "jaw_jerk_increased", "snout", "spasticity",
        "slowed_incoordinated_movement", "absent_abdominal_reflexes", "pseudobulbar_affect",
    }
)
#: UMN signs that count for PLS 2020 only.
PLS_ONLY_SIGNS: frozenset[str] = frozenset({"pseudobulbar_affect"})
#: LMN signs that count (weakness only with wasting in the same muscle or region).
LMN_COUNTED_SIGNS: frozenset[str] = frozenset({"wasting", "weakness"})
#: LMN signs reported as supportive, never counted.
LMN_SUPPORTIVE_SIGNS: frozenset[str] = frozenset({"reflex_reduced_absent", "hypotonia"})
#: A clinical fasciculation asks for EMG and counts for no criterion.
LMN_NOT_COUNTED_SIGNS: frozenset[str] = frozenset({"fasciculation_clinical"})
#: accepted spelling -> canonical sign
SIGN_ALIASES: dict[str, str] = {"clasp_knife": "spasticity", "flaccidity": "hypotonia"}
#: Signs tied to one region by anatomy; a case giving another region is an error.
SIGN_REGIONS: dict[str, str] = {
    "jaw_jerk_increased": "bulbar",
    "snout": "bulbar",
    "pseudobulbar_affect": "bulbar",
    "hoffmann": "cervical",
    "absent_abdominal_reflexes": "thoracic",
    "babinski": "lumbosacral",
    "crossed_adductor": "lumbosacral",
}
#: fib/PSW grades that count as fibrillations/positive sharp waves present
FIB_PSW_POSITIVE_GRADES: frozenset[str] = frozenset({"1+", "2+", "3+", "4+"})


@dataclass(frozen=True)
class ClinicalFinding:
    """One clinical sign of the case."""

    id: str
    sign: str
    present: bool
    region: str
    side: str | None
    muscle: Muscle | None

    @property
    def is_umn(self) -> bool:
        return self.sign in UMN_SIGNS

    @property
    def muscle_key(self) -> tuple[str, str | None] | None:
        return None if self.muscle is None else (self.muscle.name, self.side)


@dataclass(frozen=True)
class EmgFinding:
    """EMG findings of one muscle (stated or read from result folders)."""

    id: str
    muscle: Muscle
    side: str | None
    fib_psw: str | bool | None
    fasciculations: bool | None
    chronic_neurogenic: bool | None
    extra: dict = field(default_factory=dict, compare=False)
    sources: dict = field(default_factory=dict, compare=False)

    @property
    def fib_psw_present(self) -> bool | None:
        """True/False, or None when not assessed."""
        if self.fib_psw is None:
            return None
        if isinstance(self.fib_psw, bool):
            return self.fib_psw
        return self.fib_psw in FIB_PSW_POSITIVE_GRADES

    @property
    def region(self) -> str:
        return self.muscle.region


@dataclass(frozen=True)
class TmsFinding:
    """TMS findings of one target muscle."""

    id: str
    muscle: Muscle
    side: str | None
    values: dict
    sources: dict = field(default_factory=dict, compare=False)

    @property
    def region(self) -> str:
        return self.muscle.region


@dataclass
class Case:
    """A validated case ready for fusion."""

    patient: dict
    clinical: list[ClinicalFinding]
    emg: list[EmgFinding]
    tms: list[TmsFinding]
    options: dict
    source: str | None
    catalog: Catalog
    warnings: list[str] = field(default_factory=list)


@lru_cache(maxsize=2)
def case_schema() -> dict:
    """The case JSON Schema shipped with the package."""
    text = resources.files("motorsign.data").joinpath("case.schema.json").read_text("utf-8")
    return json.loads(text)


def _path_str(parts) -> str:
    out = ""
    for p in parts:
        out += f"[{p}]" if isinstance(p, int) else (f".{p}" if out else str(p))
    return out or "case"


def _schema_error_message(err) -> str:
    """One line for a jsonschema ValidationError, with accepted values."""
    where = _path_str(err.absolute_path)
    v = err.validator
    if v == "additionalProperties":
        props = sorted(err.schema.get("properties", {}))
        extra = [k for k in err.instance if k not in err.schema.get("properties", {})]
        bad = extra[0] if extra else "?"
        near = difflib.get_close_matches(bad, props, n=1, cutoff=0.5)
        hint = f" (did you mean {near[0]!r}?)" if near else ""
        return f"{where}: unknown field {bad!r}{hint}; accepted: {', '.join(props)}"
    if v == "enum":
        values = err.validator_value
        near = []
        if isinstance(err.instance, str):
            near = difflib.get_close_matches(
                err.instance, [x for x in values if isinstance(x, str)], n=1, cutoff=0.5
            )
        hint = f" (did you mean {near[0]!r}?)" if near else ""
        return (
            f"{where}: {err.instance!r} is not accepted{hint}; accepted: "
            + ", ".join(str(x) if isinstance(x, str) else json.dumps(x) for x in values)
        )
    if v == "required":
        return f"{where}: {err.message}"
    if v in ("oneOf", "anyOf") and err.context:
        best = sorted(err.context, key=lambda e: -len(e.absolute_path))[0]
        if best.validator == "enum":
            return _schema_error_message(best)
        if err.validator_value and all("required" in s for s in err.validator_value):
            need = " or ".join(repr(s["required"][0]) for s in err.validator_value)
            return f"{where}: needs {need}"
        accepted = _accepted_values(err.validator_value)
        if accepted:
            near = []
            if isinstance(err.instance, (str, int, float)) and not isinstance(err.instance, bool):
                strs = [x for x in accepted if isinstance(x, str)]
                near = difflib.get_close_matches(str(err.instance), strs, n=1, cutoff=0.5)
                if not near and isinstance(err.instance, int) and f"{err.instance}+" in strs:
                    near = [f"{err.instance}+"]
            hint = f" (did you mean {near[0]!r}?)" if near else ""
            return (f"{where}: {err.instance!r} is not accepted{hint}; accepted: "
                    + ", ".join(x if isinstance(x, str) else json.dumps(x) for x in accepted))
        return f"{where}: {err.instance!r} is not valid ({best.message})"
    return f"{where}: {err.message}"


def _accepted_values(branches) -> list:
    """The values a oneOf/anyOf of enums and simple types accepts (empty when not that simple)."""
    out: list = []
    for b in branches or ():
        if not isinstance(b, dict):
            return []
        if "enum" in b:
            out.extend(b["enum"])
        elif b.get("type") == "boolean" or b.get("type") == ["boolean"]:
            out.extend([True, False])
        elif b.get("type") == "null":
            out.append(None)
        else:
            return []
    return out


def _validate_schema(data: Any, source: str | None) -> None:
    import jsonschema

    validator = jsonschema.Draft202012Validator(case_schema())
    errors = sorted(validator.iter_errors(data), key=lambda e: (list(map(str, e.absolute_path)), e.validator))
    if errors:
        msg = _schema_error_message(errors[0])
        more = f" (and {len(errors) - 1} more problem(s))" if len(errors) > 1 else ""
        raise ConfigError(msg + more, source)


def _read(case: dict | str | PathLike) -> tuple[dict, str | None, Path]:
    if isinstance(case, dict):
        return copy.deepcopy(case), None, Path.cwd()
    path = Path(case)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise InputError(f"cannot read case file ({exc.strerror})", path) from exc
    except UnicodeDecodeError as exc:
        raise InputError(f"case file is not UTF-8 text (byte {exc.start}): save it as UTF-8 JSON",
                         path) from exc
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError(f"case file is not valid JSON (line {exc.lineno}: {exc.msg})", path) from exc
    return data, str(path), path.resolve().parent


def _assign_ids(items: list[dict], prefix: str) -> None:
    for k, item in enumerate(items):
        if "id" not in item:
            item["id"] = f"{prefix}{k + 1}"


def load_case(
    case: dict | str | PathLike,
    *,
    base_dir: str | PathLike | None = None,
    catalog: Catalog | None = None,
) -> Case:
    """Read, validate and normalise a case.

    Parameters
    ----------
    case : dict | path
        The case, or a JSON file holding it.
    base_dir : path | None
        Folder that relative ``from`` paths start from; default: the case
        file's folder (or the current folder for a dict).
    catalog : Catalog | None
        Muscle catalog; the packaged one by default.

    Returns
    -------
    Case

    Raises
    ------
    ConfigError
        Unknown field, sign, muscle or option; region/muscle conflict;
        duplicate id.
    InputError
        The case file or a result folder cannot be read.
    """
    data, source, default_base = _read(case)
    if not isinstance(data, dict):
        raise ConfigError("a case must be a JSON object", source)
    _validate_schema(data, source)
    base = Path(base_dir) if base_dir is not None else default_base
    catalog = catalog or load_catalog()
    clinical_raw = data.get("clinical", [])
    emg_raw = data.get("emg", [])
    tms_raw = data.get("tms", [])
    # ids: given, or positional (c1, e1, t1) when absent
    _assign_ids(clinical_raw, "c")
    _assign_ids(emg_raw, "e")
    _assign_ids(tms_raw, "t")
    seen: dict[str, str] = {}
    for sect, items in (("clinical", clinical_raw), ("emg", emg_raw), ("tms", tms_raw)):
        for k, item in enumerate(items):
            fid = item["id"]
            if fid in seen:
                raise ConfigError(f"{sect}[{k}].id: id {fid!r} is already used by {seen[fid]}", source)
            seen[fid] = f"{sect}[{k}]"
    warnings: list[str] = []
    try:
        clinical = [_clinical(item, f"clinical[{k}]", catalog) for k, item in enumerate(clinical_raw)]
        emg = [_emg(item, f"emg[{k}]", catalog, base, warnings) for k, item in enumerate(emg_raw)]
        tms = [_tms(item, f"tms[{k}]", catalog, base) for k, item in enumerate(tms_raw)]
    except ConfigError as exc:
        if source and exc.path is None:
            raise ConfigError(exc.message, source) from None
        raise
    warnings.extend(_contradictions(clinical, emg))
    for f in emg:
        if f.muscle.region == "thoracic" and not f.muscle.counts_for_thoracic_emg:
            warnings.append(
                f"{f.id}: {f.muscle.name} does not count for the thoracic EMG region "
                "(only paraspinals at or below T6 and abdominal muscles do)"
            )
    return Case(
        patient=dict(data.get("patient", {})),
        clinical=clinical,
        emg=emg,
        tms=tms,
        options=dict(data.get("options", {})),
        source=source,
        catalog=catalog,
        warnings=warnings,
    )


def _contradictions(clinical: list[ClinicalFinding], emg: list[EmgFinding]) -> list[str]:
    """Warnings for findings of one place that contradict each other.

    Two EMG entries of the same muscle and side where one says yes and the
    other no to fibrillations/PSWs, fasciculations or chronic neurogenic
    change; a clinical sign recorded present and absent in the same muscle (or
    region, without a muscle) and side. Nothing is dropped: each finding
    counts as stated (two samples of one muscle can differ), but the reader
    is told.
    """
    out: list[str] = []
    by_muscle: dict[tuple[str, str | None], list[EmgFinding]] = {}
    for f in emg:
        by_muscle.setdefault((f.muscle.name, f.side), []).append(f)
    for (name, side), group in by_muscle.items():
        if len(group) < 2:
            continue
        clash = []
        for label, get in (("fib/PSW", lambda f: f.fib_psw_present), ("fasciculations", lambda f: f.fasciculations),
                           ("chronic neurogenic change", lambda f: f.chronic_neurogenic)):
            vals = {get(f) for f in group} - {None}
            if vals == {True, False}:
                clash.append(label)
        if clash:
            # one warning per finding, naming only its own id (ids may be renamed freely)
            for f in group:
                out.append(f"{f.id}: contradicts another EMG entry of {name}{' ' + side if side else ''} "
                           f"({', '.join(clash)} present in one, absent in another); each is counted as stated")
    by_sign: dict[tuple, list[ClinicalFinding]] = {}
    for c in clinical:
        place = c.muscle.name if c.muscle is not None else c.region
        by_sign.setdefault((c.sign, place, c.side), []).append(c)
    for (sign, place, side), group in by_sign.items():
        if len({c.present for c in group}) == 2:
            for c in group:
                out.append(f"{c.id}: {sign} recorded both present and absent in {place}"
                           f"{' ' + side if side else ''}; the present one counts")
    return out


def _muscle(name: str, where: str, catalog: Catalog) -> Muscle:
    return catalog.get(name, where=f"{where}.muscle")


def _clinical(item: dict, where: str, catalog: Catalog) -> ClinicalFinding:
    sign = SIGN_ALIASES.get(item["sign"], item["sign"])
    muscle = _muscle(item["muscle"], where, catalog) if item.get("muscle") else None
    region = item.get("region")
    if muscle is not None:
        if region is not None and region != muscle.region:
            raise ConfigError(
                f"{where}: muscle {muscle.name} is {muscle.region}, not {region} "
                "(drop 'region' or fix it)"
            )
        region = muscle.region
    fixed = SIGN_REGIONS.get(sign)
    if fixed is not None:
        if region is not None and region != fixed:
            raise ConfigError(f"{where}: sign {sign} belongs to the {fixed} region, not {region}")
        region = fixed
    if region is None:
        raise ConfigError(f"{where}: sign {sign} needs a 'region' or a 'muscle'")
    return ClinicalFinding(
        id=item["id"],
        sign=sign,
        present=bool(item.get("present", True)),
        region=region,
        side=item.get("side"),
        muscle=muscle,
    )


def _emg(item: dict, where: str, catalog: Catalog, base: Path, warnings: list[str]) -> EmgFinding:
    read = emg_fields_from(item, base, catalog, where) if item.get("from") is not None else {"_sources": {}}
    sources = dict(read.pop("_sources"))
    name = item.get("muscle") or read.get("muscle")
    if not name:
        raise ConfigError(f"{where}: no muscle given and the result folder names none")
    muscle = _muscle(name, where, catalog)
    side = item.get("side", read.get("side"))
    if side not in (None, "L", "R"):
        side = None
    values = {}
    for key in ("fib_psw", "fasciculations", "chronic_neurogenic"):
        if key in item:
            values[key] = item[key]
            if key in read and read[key] != item[key]:
                warnings.append(
                    f"{item['id']}: {key} stated as {item[key]!r} overrides {read[key]!r} "
                    f"read from {sources.get(key)}"
                )
            sources[key] = "case"
        else:
            values[key] = read.get(key)
    extra = {
        k: item[k] if k in item else read.get(k)
        for k in ("reduced_recruitment", "mup_instability", "fasciculation_rate_per_min", "mup_classification",
                  "sites")
        if k in item or read.get(k) is not None
    }
    return EmgFinding(
        id=item["id"],
        muscle=muscle,
        side=side,
        fib_psw=values["fib_psw"],
        fasciculations=values["fasciculations"],
        chronic_neurogenic=values["chronic_neurogenic"],
        extra=extra,
        sources=sources,
    )


_TMS_KEYS = (
    "mep_present", "cmct_ms", "cmct_uln_ms", "cmct_abnormal", "mep_cmap_ratio",
    "mep_cmap_ratio_lln", "threshold_abnormal", "sici_abnormal", "triple_stimulation_abnormal",
    "norm_source", "mep_onset_ms_min", "mep_peak_to_peak_uv_median", "cmap_amplitude_mv",
    "cmap_peak_to_peak_mv",
)


def _tms(item: dict, where: str, catalog: Catalog, base: Path) -> TmsFinding:
    read = tms_fields_from(item, base, catalog, where) if item.get("from") is not None else {"_sources": {}}
    sources = dict(read.pop("_sources"))
    name = item.get("muscle") or read.get("muscle")
    if not name:
        raise ConfigError(f"{where}: no muscle given and the result folder names none")
    muscle = _muscle(name, where, catalog)
    side = item.get("side", read.get("side"))
    if side not in (None, "L", "R"):
        side = None
    values: dict[str, Any] = {}
    for key in _TMS_KEYS:
        if key in item:
            values[key] = item[key]
            sources[key] = "case"
        elif key in read:
            values[key] = read[key]
    for key in ("cmct_ms", "cmct_uln_ms", "mep_cmap_ratio", "mep_cmap_ratio_lln"):
        v = values.get(key)
        if v is not None and not math.isfinite(float(v)):
            values[key] = None
    return TmsFinding(id=item["id"], muscle=muscle, side=side, values=values, sources=sources)
