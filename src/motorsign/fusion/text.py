"""Readable terminal summary of an evidence dict."""

from __future__ import annotations

__all__ = ["summary_text"]

_NAMES = {
    "revised_el_escorial": "revised El Escorial",
    "awaji": "Awaji",
    "gold_coast": "Gold Coast",
    "pls_2020": "PLS 2020",
}


def _ids(ids: list[str]) -> str:
    return ",".join(ids) if ids else "-"


def summary_text(ev: dict) -> str:
    """Several lines: the region table, each criterion with its reasons and next step,
    the phenotype, option-dependent results and warnings.

    Parameters
    ----------
    ev : dict
        An evidence dict (``Evidence.to_dict()``).

    Returns
    -------
    str
    """
    lines: list[str] = []
    pid = ev.get("patient", {}).get("id")
    src = ev.get("provenance", {}).get("case_source")
    lines.append(f"case {pid or '(no id)'}" + (f"  [{src}]" if src else ""))
    head = f"{'region':<12} {'UMN clinical':<18} {'TMS support':<14} {'LMN clinical':<18} EMG LMN rEEC / Awaji / GCC"
    lines.append(head)
    lines.append("-" * len(head))
    for region, r in ev["regions"].items():
        emg = r["lmn"]["emg"]
        emg_txt = " / ".join(
            _ids(emg[c]["finding_ids"]) if emg[c]["positive"] else "-"
            for c in ("revised_el_escorial", "awaji", "gold_coast")
        )
        tms = _ids([t["id"] for t in r["umn"]["supportive_tms"]])
        lines.append(
            f"{region:<12} {_ids(r['umn']['clinical']):<18} {tms:<14} {_ids(r['lmn']['clinical']):<18} {emg_txt}"
        )
        for m in r["mixed_muscles"]:
            side = f" {m['side']}" if m["side"] else ""
            lines.append(f"{'':<12} mixed muscle {m['muscle']}{side}: UMN {_ids(m['umn'])}, LMN {_ids(m['lmn'])}")
    lines.append("")
    for key, name in _NAMES.items():
        c = ev["criteria"][key]
        if key == "gold_coast":
            result = "met" if c["met"] else "not met"
            if c["met"] != c["anatomical_met"]:
                result += " (signs alone: met)"
        else:
            result = c["category"]
            if c.get("anatomical_category", result) != result:
                result += f" (signs alone: {c['anatomical_category']})"
        flag = "  [interpretation dependent]" if c.get("interpretation_dependent") else ""
        lines.append(f"{name + ':':<21} {result}{flag}")
        for reason in c["reasons"]:
            lines.append(f"    {reason['rule']}: {reason['text']} [{_ids(reason['finding_ids'])}]")
        for alt in c.get("alternatives", []):
            lines.append(f"    with {alt['option']}={alt['value']!r}: {alt['result']}")
        nxt = c.get("next")
        if nxt and nxt.get("text"):
            target = "met" if nxt["target"] is True else nxt["target"]
            lines.append(f"    next ({target}): {nxt['text']}")
        for note in c.get("notes", []):
            lines.append(f"    note: {note}")
    lines.append("")
    lines.append(f"phenotype: {ev['phenotype']}")
    for reason in ev["phenotype_reasons"]:
        lines.append(f"    {reason['rule']}: {reason['text']} [{_ids(reason['finding_ids'])}]")
    for w in ev.get("warnings", []):
        lines.append(f"warning: {w}")
    return "\n".join(lines)
