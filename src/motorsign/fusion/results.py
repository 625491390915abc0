"""Findings read from result folders written by the analysis verbs.

A case's ``emg`` / ``tms`` entry may name result folders (``"from":
"results/rec01/detect"``) instead of, or besides, stating its findings. The
folders follow the output contract of DESIGN.md:

* ``detect``: ``summary.json`` -> ``channels.NAME.fib_psw_grade``,
  ``fasciculation_rate_per_min`` and ``counts``;
* ``mup``: ``summary.json`` -> ``channels.NAME.classification``
  (``neurogenic`` -> chronic neurogenic change);
* ``mep``: ``summary.json`` -> ``channels.NAME.n_trials`` / ``n_present``
  (no MEP in any trial -> absent MEP);
* ``nerve``: ``summary.json`` -> ``cmap_amplitude_mv`` (baseline-to-peak) and
  ``cmap_peak_to_peak_mv``; with an mep result of the same entry it gives the
  MEP/CMAP amplitude ratio, peak-to-peak over peak-to-peak
  (``peak_to_peak_uv_median / (1000 * cmap_peak_to_peak_mv)``, falling back to
  ``cmap_amplitude_mv`` when the nerve result has no peak-to-peak value);
* ``cmct``: a JSON file (or a folder holding ``cmct.json``) with ``cmct_ms``,
  ``uln_ms``, ``abnormal``, ``norm_source``.

Values stated in the case entry win over values read from folders; each value
records where it came from.
"""

from __future__ import annotations

import json
import logging
import math
from pathlib import Path
from typing import Any

from motorsign.errors import InputError
from motorsign.fusion.catalog import Catalog

__all__ = [
    "FASCICULATION_MIN_COUNT",
    "read_result",
    "emg_fields_from",
    "tms_fields_from",
]

log = logging.getLogger(__name__)

#: Fasciculation potentials are taken as present when the detector found at
#: least this many in the channel (one lone detection may be a misclassified
#: voluntary unit or an artefact).
FASCICULATION_MIN_COUNT: int = 2

#: mup summary classification -> chronic neurogenic change (None = unknown)
MUP_CLASS_TO_CHRONIC: dict[str, bool | None] = {
    "neurogenic": True,
    "normal": False,
    "myopathic": False,
    "indeterminate": None,
}

GRADES = ("0", "1+", "2+", "3+", "4+")


def _load_json(path: Path, where: str) -> dict:
    try:
        with open(path, encoding="utf-8") as fh:
            data = json.load(fh)
    except OSError as exc:
        raise InputError(f"{where}: cannot read result file ({exc.strerror})", path) from exc
    except json.JSONDecodeError as exc:
        raise InputError(f"{where}: result file is not valid JSON ({exc.msg})", path) from exc
    if not isinstance(data, dict):
        raise InputError(f"{where}: result file must hold a JSON object", path)
    return data


def read_result(path: Path, where: str) -> tuple[str, dict, Path]:
    """Read one result folder or file and tell what produced it.

    Parameters
    ----------
    path : Path
        A folder with ``summary.json`` (detect, mup, mep, nerve) or
        ``cmct.json``, or a JSON file.
    where : str
        Position in the case (``emg[2].from``) for error messages.

    Returns
    -------
    kind : str
        ``detect``, ``mup``, ``mep``, ``nerve`` or ``cmct``.
    data : dict
        The parsed JSON.
    file : Path
        The file read.
    """
    if path.is_dir():
        for name in ("summary.json", "cmct.json"):
            if (path / name).is_file():
                file = path / name
                break
        else:
            raise InputError(
                f"{where}: folder has neither summary.json nor cmct.json "
                "(expected a detect, mup, mep, nerve or cmct result)",
                path,
            )
    elif path.is_file():
        file = path
    else:
        raise InputError(f"{where}: result folder or file not found", path)
    data = _load_json(file, where)
    kind = _kind_of(data, file)
    if kind is None:
        raise InputError(
            f"{where}: cannot tell which analysis wrote this file (no fib_psw_grade, "
            "classification, n_present, cmap_amplitude_mv or cmct_ms found)",
            file,
        )
    return kind, data, file


def _channels(data: dict) -> dict[str, dict]:
    chans = data.get("channels")
    if isinstance(chans, dict):
        return {str(k): v for k, v in chans.items() if isinstance(v, dict)}
    known = {"fib_psw_grade", "fasciculation_rate_per_min", "classification", "n_present", "cmap_amplitude_mv"}
    return {str(k): v for k, v in data.items() if isinstance(v, dict) and known & set(v)}


def _kind_of(data: dict, file: Path) -> str | None:
    if "cmct_ms" in data:
        return "cmct"
    chans = _channels(data)
    keys: set[str] = set()
    for ch in chans.values():
        keys.update(ch)
    if "fib_psw_grade" in keys or "fasciculation_rate_per_min" in keys:
        return "detect"
    if "classification" in keys:
        return "mup"
    if "n_present" in keys:
        return "mep"
    if "cmap_amplitude_mv" in keys or "f_persistence" in keys:
        return "nerve"
    folder = file.parent.name.lower()
    return folder if folder in ("detect", "mup", "mep", "nerve", "cmct") else None


def _pick_channels(
    data: dict, file: Path, entry: dict, catalog: Catalog, where: str, prefer: list[str] | None = None
) -> list[tuple[str, dict]]:
    """The channels of a result that belong to an entry.

    The channel named by ``channel``; else the channels matched in another
    folder of the same entry (``prefer``); else every channel when they all
    are the same muscle (several needle sites in one muscle: their findings
    are pooled); else the channels whose muscle/side match the entry.
    """
    chans = _channels(data)
    if not chans:
        raise InputError(f"{where}: result file has no channels", file)
    wanted = entry.get("channel")
    if wanted is not None:
        if wanted not in chans:
            raise InputError(
                f"{where}: channel {wanted!r} not in the result; it has {', '.join(chans)}", file
            )
        return [(wanted, chans[wanted])]
    if prefer:
        # channels already matched in another folder of the same recording
        hits = [n for n in prefer if n in chans]
        if hits:
            return [(n, chans[n]) for n in hits]
    named = {n: catalog.find(ch["muscle"]) for n, ch in chans.items() if isinstance(ch.get("muscle"), str)}
    target = catalog.find(entry["muscle"]) if isinstance(entry.get("muscle"), str) else None
    side = entry.get("side")

    def side_ok(ch: dict) -> bool:
        return side is None or ch.get("side") in (None, side)

    if len(chans) == 1:
        (name, ch), = chans.items()
        m = named.get(name)
        if target is not None and m is not None and m.name != target.name:
            raise InputError(f"{where}: the result's only channel {name!r} is {m.name}, not {target.name}; "
                             "name it with \"channel\" to use it anyway", file)
        if side is not None and ch.get("side") not in (None, side):
            raise InputError(f"{where}: the result's only channel {name!r} is side {ch.get('side')}, not "
                             f"{side}; name it with \"channel\" to use it anyway", file)
        return list(chans.items())
    if (
        len(named) == len(chans)
        and len({m.name if m else None for m in named.values()}) == 1
        and None not in named.values()
        and (target is None or next(iter(named.values())).name == target.name)
        and all(side_ok(ch) for ch in chans.values())
        and len({ch.get("side") for ch in chans.values()}) == 1
    ):
        return list(chans.items())
    if target is not None:
        hits = [
            (n, chans[n]) for n, m in named.items() if m is not None and m.name == target.name and side_ok(chans[n])
        ]
        if hits:
            return hits
    raise InputError(
        f"{where}: the result holds channels of several muscles or sides ({', '.join(chans)}); name one "
        "with \"channel\" (or give the muscle and side)",
        file,
    )


def _finite(x: Any) -> float | None:
    try:
        f = float(x)
    except (TypeError, ValueError):
        return None
    return f if math.isfinite(f) else None


def _resolve(base_dir: Path, entry: dict) -> list[Path]:
    src = entry.get("from")
    if src is None:
        return []
    items = [src] if isinstance(src, str) else list(src)
    return [(base_dir / p) if not Path(p).is_absolute() else Path(p) for p in items]


def _read_all(entry: dict, base_dir: Path, catalog: Catalog, where: str, kinds: tuple[str, ...], what: str):
    """[(kind, data, file, [(channel name, channel dict)], where)] for every ``from``.

    Folders whose channels cannot be told apart by muscle (a mup summary
    names no muscle) take the channels matched in another folder of the entry.
    """
    single = isinstance(entry.get("from"), str)
    read = []
    for k, path in enumerate(_resolve(base_dir, entry)):
        w = f"{where}.from" if single else f"{where}.from[{k}]"
        kind, data, file = read_result(path, w)
        if kind not in kinds:
            raise InputError(f"{w}: {what} takes {' or '.join(kinds)} results, this is {kind}", file)
        read.append((kind, data, file, w))
    picked: dict[int, list[tuple[str, dict]]] = {}
    prefer: list[str] | None = None
    # folders whose channels name their muscle first: they tell which channels belong to the entry
    order = sorted(
        (i for i, r in enumerate(read) if r[0] != "cmct"),
        key=lambda i: not any("muscle" in ch for ch in _channels(read[i][1]).values()),
    )
    for i in order:
        kind, data, file, w = read[i]
        picked[i] = _pick_channels(data, file, entry, catalog, w, prefer)
        prefer = prefer or [n for n, _ in picked[i]]
    return [(r[0], r[1], r[2], picked.get(i, []), r[3]) for i, r in enumerate(read)]


def _grade_max(grades: list[str]) -> str:
    return max(grades, key=GRADES.index)


def emg_fields_from(entry: dict, base_dir: Path, catalog: Catalog, where: str) -> dict[str, Any]:
    """EMG values read from an entry's ``from`` folders.

    Returns
    -------
    dict
        Possibly ``fib_psw``, ``fasciculations``, ``chronic_neurogenic``,
        ``muscle``, ``side`` and ``_sources`` (field -> ``file#channel``).
    """
    out: dict[str, Any] = {"_sources": {}}
    for kind, _data, file, picked, w in _read_all(
        entry, base_dir, catalog, where, ("detect", "mup"), "an emg entry"
    ):
        tag = f"{file}#{'+'.join(n for n, _ in picked)}"
        _muscle_side(out, picked)
        if len(picked) > 1:
            out.setdefault("sites", {})[kind] = [n for n, _ in picked]
        if kind == "detect":
            grades = []
            for _, ch in picked:
                grade = ch.get("fib_psw_grade")
                if grade is None:
                    continue
                g = str(grade)
                if g not in GRADES:
                    raise InputError(f"{w}: fib_psw_grade {g!r} is not one of {', '.join(GRADES)}", file)
                grades.append(g)
            if grades:
                out["fib_psw"] = _grade_max(grades)
                out["_sources"]["fib_psw"] = tag
            counts = [_finite((ch.get("counts") or {}).get("fasciculation")) for _, ch in picked]
            rates = [_finite(ch.get("fasciculation_rate_per_min")) for _, ch in picked]
            if all(c is not None for c in counts):
                out["fasciculations"] = sum(counts) >= FASCICULATION_MIN_COUNT
            elif any(r is not None for r in rates):
                out["fasciculations"] = any(r is not None and r > 0 for r in rates)
            if "fasciculations" in out:
                out["_sources"]["fasciculations"] = tag
                known = [r for r in rates if r is not None]
                out["fasciculation_rate_per_min"] = max(known) if known else None
        else:
            classes = []
            for _, ch in picked:
                cls = ch.get("classification")
                if cls not in MUP_CLASS_TO_CHRONIC:
                    raise InputError(
                        f"{w}: classification {cls!r} is not one of {', '.join(MUP_CLASS_TO_CHRONIC)}",
                        file,
                    )
                classes.append(cls)
            out["chronic_neurogenic"] = _pool_chronic(classes)
            out["mup_classification"] = classes[0] if len(set(classes)) == 1 else "+".join(classes)
            out["_sources"]["chronic_neurogenic"] = tag
    return out


def _muscle_side(out: dict, picked: list[tuple[str, dict]]) -> None:
    for key in ("muscle", "side"):
        for _, ch in picked:
            if ch.get(key) is not None and key not in out:
                out[key] = ch[key]


def _pool_chronic(classes: list[str]) -> bool | None:
    """Chronic neurogenic change of a muscle sampled at several sites: present when any site
    is neurogenic, absent when every site is classified and none is, unknown otherwise."""
    values = [MUP_CLASS_TO_CHRONIC[c] for c in classes]
    if any(v is True for v in values):
        return True
    if values and all(v is False for v in values):
        return False
    return None


def tms_fields_from(entry: dict, base_dir: Path, catalog: Catalog, where: str) -> dict[str, Any]:
    """TMS values read from an entry's ``from`` folders (mep, nerve, cmct).

    Returns
    -------
    dict
        Possibly ``mep_present``, ``cmct_ms``, ``cmct_uln_ms``, ``cmct_abnormal``,
        ``norm_source``, ``muscle``, ``side`` and ``_sources``.
    """
    out: dict[str, Any] = {"_sources": {}}
    for kind, data, file, picked, _w in _read_all(
        entry, base_dir, catalog, where, ("mep", "nerve", "cmct"), "a tms entry"
    ):
        if kind == "cmct":
            tag = str(file)
            cm = _finite(data.get("cmct_ms"))
            out["cmct_ms"] = cm
            out["_sources"]["cmct_ms"] = tag
            uln = _finite(data.get("uln_ms"))
            if uln is not None:
                out["cmct_uln_ms"] = uln
            if isinstance(data.get("abnormal"), bool):
                out["cmct_abnormal"] = data["abnormal"]
            if data.get("norm_source"):
                out["norm_source"] = str(data["norm_source"])
            if data.get("muscle") and "muscle" not in out:
                out["muscle"] = data["muscle"]
            continue
        tag = f"{file}#{'+'.join(n for n, _ in picked)}"
        _muscle_side(out, picked)
        if kind == "mep":
            trials = [(_finite(ch.get("n_trials")), _finite(ch.get("n_present"))) for _, ch in picked]
            trials = [(t, p) for t, p in trials if t is not None and t > 0 and p is not None]
            if trials:
                out["mep_present"] = sum(p for _, p in trials) > 0
                out["_sources"]["mep_present"] = tag
            onsets = [_finite(ch.get("onset_ms_min")) for _, ch in picked]
            onsets = [o for o in onsets if o is not None]
            if onsets:
                out["mep_onset_ms_min"] = min(onsets)
            amps = [_finite(ch.get("peak_to_peak_uv_median")) for _, ch in picked]
            amps = [a for a in amps if a is not None]
            if amps:
                out["mep_peak_to_peak_uv_median"] = max(amps)
                out["_sources"]["mep_peak_to_peak_uv_median"] = tag
        else:
            # nerve summaries give the CMAP baseline-to-peak (cmap_amplitude_mv) and
            # peak-to-peak (cmap_peak_to_peak_mv); both are kept
            for key in ("cmap_amplitude_mv", "cmap_peak_to_peak_mv"):
                cmaps = [_finite(ch.get(key)) for _, ch in picked]
                cmaps = [c for c in cmaps if c is not None]
                if cmaps:
                    out[key] = max(cmaps)
                    out["_sources"][key] = tag
    # MEP/CMAP amplitude ratio of the same muscle, µV / (mV * 1000): peak-to-peak over
    # peak-to-peak (the MEP amplitude is peak-to-peak); a nerve result without the CMAP
    # peak-to-peak falls back to its baseline-to-peak amplitude
    cmap_key = "cmap_peak_to_peak_mv" if "cmap_peak_to_peak_mv" in out else "cmap_amplitude_mv"
    mep_uv, cmap_mv = out.get("mep_peak_to_peak_uv_median"), out.get(cmap_key)
    if mep_uv is not None and cmap_mv is not None and cmap_mv > 0:
        out["mep_cmap_ratio"] = mep_uv / (cmap_mv * 1000.0)
        out["_sources"]["mep_cmap_ratio"] = (
            f"{out['_sources']['mep_peak_to_peak_uv_median']} / {out['_sources'][cmap_key]}"
        )
    return out
