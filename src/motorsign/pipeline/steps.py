"""Steps that run after the analyses: CMCT of ``[[cmct]]`` pairs and fusion.

Both run in the main process (they read small JSON summaries).
"""

from __future__ import annotations

import inspect
import json
import logging
import re
from pathlib import Path

from motorsign.errors import InputError
from motorsign.outputs import write_json

__all__ = ["cmct_from_folders", "build_case", "fuse_case"]

log = logging.getLogger(__name__)

_WS = re.compile(r"\s+")


def _summary_channels(folder: Path) -> dict[str, dict]:
    path = Path(folder) / "summary.json"
    try:
        with open(path, encoding="utf-8") as fh:
            data = json.load(fh)
    except (OSError, ValueError) as exc:
        raise InputError(f"cannot read the result summary ({exc})", path) from None
    chans = data.get("channels", data) if isinstance(data, dict) else {}
    return {str(k): v for k, v in chans.items() if isinstance(v, dict)}


def cmct_from_folders(mep_dir: Path, nerve_dir: Path, out_dir: Path, *, entry) -> dict:
    """CMCT of one ``[[cmct]]`` pair, written to ``out_dir/cmct.json``.

    The F-wave method of :func:`motorsign.evoked.cmct.cmct_from_results`: MEP
    onset (shortest, or ``mep_statistic = "median"`` in the entry's options),
    minimal F latency and M latency of the nerve result, judged against the
    norms. ``[[cmct]]`` options (``condition``, ``norms``, ``mep_statistic``)
    are passed through.

    Parameters
    ----------
    mep_dir, nerve_dir : Path
        Complete ``mep`` and ``nerve`` result folders.
    out_dir : Path
        Destination folder (created).
    entry : CmctEntry
        The pipeline's ``[[cmct]]`` entry.

    Returns
    -------
    dict
        The CMCT result (contract keys of ``motorsign cmct``).
    """
    from motorsign.evoked.cmct import cmct_from_results

    res = cmct_from_results(mep_dir, nerve_dir, channel=entry.mep_channel,
                            nerve_channel=entry.nerve_channel, muscle=entry.muscle,
                            **entry.options)
    res = dict(res)
    src = res.get("sources") or {}
    res.update(side=entry.side, mep_channel=src.get("mep_channel"),
               nerve_channel=src.get("nerve_channel"))
    write_json(Path(out_dir) / "cmct.json", res)
    return res


def _entry_id(*parts: str) -> str:
    return _WS.sub("_", ".".join(parts))


def build_case(pipeline, out_dir: Path, ok: set, cmct: dict) -> dict:
    """The fusion case: the clinical file plus ``emg``/``tms`` entries that name
    the result folders of this run (one entry per channel).

    Parameters
    ----------
    pipeline : Pipeline
    out_dir : Path
    ok : set of (recording id, analysis)
        Results that are complete.
    cmct : dict
        CMCT results by id (from the run).

    Returns
    -------
    dict
        A case for :func:`motorsign.fusion.fuse`.
    """
    clinical_path = pipeline.fusion.clinical
    try:
        with open(clinical_path, encoding="utf-8") as fh:
            case = json.load(fh)
    except (OSError, ValueError) as exc:
        raise InputError(f"cannot read the clinical file ({exc})", clinical_path) from None
    if not isinstance(case, dict):
        raise InputError("the clinical file must hold a JSON object", clinical_path)
    emg = list(case.get("emg", []))
    tms = list(case.get("tms", []))
    used = {str(e.get("id")) for e in emg + tms + list(case.get("clinical", [])) if e.get("id")}

    def add(target: list, rid: str, ch: str, folders: list[Path], muscle, side) -> None:
        fid = _entry_id(rid, ch)
        while fid in used:
            fid += "_"
        used.add(fid)
        item = {"id": fid, "channel": ch, "from": [str(f) for f in folders]}
        if muscle:
            item["muscle"] = muscle
        if side:
            item["side"] = side
        target.append(item)

    for rec in pipeline.recordings:
        emg_folders = [out_dir / rec.id / a for a in ("detect", "mup") if (rec.id, a) in ok]
        per_channel: dict[str, list[Path]] = {}
        muscles: dict[str, tuple] = {}
        for f in emg_folders:
            for ch, s in _summary_channels(f).items():
                if f.name == "mup" and "classification" not in s:
                    continue
                per_channel.setdefault(ch, []).append(f)
                muscles.setdefault(ch, (s.get("muscle"), s.get("side")))
        for ch, folders in per_channel.items():
            muscle = rec.muscle or muscles[ch][0]
            if not muscle:
                log.warning("fusion: %s channel %s has no muscle; not used", rec.id, ch)
                continue
            add(emg, rec.id, ch, folders, muscle, rec.side or muscles[ch][1])
        if (rec.id, "mep") in ok:
            mep_dir = out_dir / rec.id / "mep"
            for ch, s in _summary_channels(mep_dir).items():
                folders = [mep_dir]
                for cid, r in cmct.items():
                    res = r.get("result") or {}
                    if r.get("status") == "ok" and r.get("mep") == rec.id and res.get("mep_channel") == ch:
                        folders.append(out_dir / "cmct" / cid)
                        break
                muscle = rec.muscle or s.get("muscle")
                if not muscle:
                    log.warning("fusion: %s channel %s has no muscle; not used", rec.id, ch)
                    continue
                add(tms, rec.id, ch, folders, muscle, rec.side or s.get("side"))
    case["emg"], case["tms"] = emg, tms
    if pipeline.fusion.options:
        case["options"] = {**case.get("options", {}), **pipeline.fusion.options}
    return case


def fuse_case(pipeline, out_dir: Path, ok: set, cmct: dict, out_path: Path) -> dict:
    """Build the case (:func:`build_case`), fuse it, and write ``evidence.json``.

    The case actually fused is kept beside it as ``fusion_case.json``.

    Returns
    -------
    dict
        The evidence.
    """
    from motorsign.fusion import fuse

    case = build_case(pipeline, Path(out_dir), ok, cmct)
    write_json(Path(out_dir) / "fusion_case.json", case)
    kwargs = {}
    try:
        if "base_dir" in inspect.signature(fuse).parameters:
            kwargs["base_dir"] = pipeline.fusion.clinical.parent
    except (TypeError, ValueError):
        pass
    evidence = fuse(case, **kwargs)
    data = evidence.to_dict() if hasattr(evidence, "to_dict") else dict(evidence)
    write_json(out_path, data)
    return data
