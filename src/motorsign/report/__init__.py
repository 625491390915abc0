"""The HTML report of a pipeline run: one self-contained page.

Figures are PNGs embedded as base64 ``data:`` URLs, the CSS is inline, and
the page carries a Content-Security-Policy that forbids scripts; every
string taken from a file is escaped. matplotlib is imported only here.

>>> from motorsign.report import write_report
>>> write_report("results")          # doctest: +SKIP  (re-draws from OUT/provenance.json)
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
from pathlib import Path

from motorsign.outputs import atomic_write_text

__all__ = ["build_report", "write_report", "render_recording", "render_task", "fragment_key"]

log = logging.getLogger(__name__)

#: analyses drawn, in page order
SECTION_ORDER = ("detect", "mup", "mep", "nerve")
#: bump when the drawing changes, so cached fragments are redrawn
REPORT_VERSION = "1"
#: cached HTML of one recording's section, in OUT/<recording id>/
FRAGMENT = ".report-fragment.html"


def fragment_key(out_dir: str | os.PathLike, rec_id: str, info: dict) -> str:
    """Key of a recording's report section: what it is drawn from.

    The recording (path, options), each analysis' state, and the completion
    key and output file hashes of its result; a section whose key is
    unchanged is not redrawn.
    """
    from motorsign.pipeline.cache import read_manifest

    analyses = {}
    for a, st in (info.get("analyses") or {}).items():
        st = st or {}
        if st.get("status") in ("ok", "cached"):
            m = read_manifest(Path(out_dir) / rec_id / a) or {}
            # the content of the result files: a forced rerun with equal results keeps the
            # drawing, any changed output redraws it
            analyses[a] = [m.get("key"), m.get("files")]
        else:
            analyses[a] = ["failed", st.get("error")]
    blob = {"v": REPORT_VERSION, "id": rec_id, "analyses": analyses,
            **{k: info.get(k) for k in ("path", "read_options", "trigger", "muscle", "side")}}
    return hashlib.sha256(json.dumps(blob, sort_keys=True, default=str).encode()).hexdigest()


def _cached_fragment(out: Path, rec_id: str, key: str) -> str | None:
    try:
        text = (out / rec_id / FRAGMENT).read_text(encoding="utf-8")
    except OSError:
        return None
    head, _, body = text.partition("\n")
    return body if head == f"<!-- {key} -->" else None


def render_task(item: dict) -> dict:
    """Draw one recording's section and cache it (a top-level function for workers).

    Parameters
    ----------
    item : dict
        ``out_dir``, ``rec_id``, ``info`` (its provenance entry), ``key``.

    Returns
    -------
    dict
        ``rec_id`` and ``html``.
    """
    out = Path(item["out_dir"])
    html = render_recording(out, item["rec_id"], item["info"])
    if (out / item["rec_id"]).is_dir():
        atomic_write_text(out / item["rec_id"] / FRAGMENT, f"<!-- {item['key']} -->\n{html}")
    return {"rec_id": item["rec_id"], "html": html}


def render_recording(out_dir: str | os.PathLike, rec_id: str, info: dict) -> str:
    """The report section of one recording (safe HTML); never raises.

    Parameters
    ----------
    out_dir : path-like
        The ``run`` output folder.
    rec_id : str
        Recording id.
    info : dict
        Its entry of ``provenance.json`` (path, read options, analyses).
    """
    from motorsign.report.html import esc, note

    try:
        return _rec_section(Path(out_dir), rec_id, info)
    except Exception as exc:  # noqa: BLE001 - one recording never stops the report
        log.warning("report: recording %s not drawn: %s", rec_id, exc)
        return (f'<section id="rec-{esc(rec_id)}"><h2>{esc(rec_id)}</h2>'
                + note(f"not drawn: {type(exc).__name__}: {exc}") + "</section>")


def _rec_section(out: Path, rec_id: str, info: dict) -> str:
    from motorsign.report import sections
    from motorsign.report.html import esc, note

    src = sections.RecordingSource(info.get("path"), info.get("read_options") or {})
    title = rec_id
    meta = " ".join(x for x in (info.get("muscle"), info.get("side")) if x)
    parts = [f'<section id="rec-{esc(rec_id)}"><h2>{esc(title)}'
             f'{" <small>(" + esc(meta) + ")</small>" if meta else ""}</h2>',
             f"<p><code>{esc(info.get('path', ''))}</code></p>", sections.recording_info(src)]
    analyses = info.get("analyses") or {}
    extra = [a for a in analyses if a not in SECTION_ORDER]
    for a in (*SECTION_ORDER, *extra):
        if a not in analyses:
            continue
        folder = out / rec_id / a
        status = (analyses[a] or {}).get("status")
        if not folder.is_dir():
            err = (analyses[a] or {}).get("error")
            parts.append(f"<h3>{esc(a)}</h3>" + note(f"no result ({status or 'missing'}): {err or ''}"))
            continue
        if a == "detect":
            parts.append(sections.detect_section(folder, src))
        elif a == "mup":
            parts.append(sections.mup_section(folder, src))
        elif a == "mep":
            parts.append(sections.mep_section(folder, src))
        elif a == "nerve":
            trig = info.get("trigger") or (analyses[a].get("options") or {}).get("trigger")
            parts.append(sections.nerve_section(folder, src, trig))
        else:
            summary = sections.read_json(folder / "summary.json")
            parts.append(f"<h3>{esc(a)}</h3><pre>{esc(summary)}</pre>")
    parts.append("</section>")
    return "".join(parts)


def build_report(out_dir: str | os.PathLike, *, provenance: dict | None = None,
                 errors: list[dict] | None = None, title: str | None = None,
                 fragments: dict[str, str] | None = None) -> str:
    """The report page of a result folder, as HTML text.

    Parameters
    ----------
    out_dir : path-like
        The ``run`` output folder.
    provenance : dict | None
        The run's provenance (default: read ``OUT/provenance.json``).
    errors : list of dict | None
        Rows of ``errors.csv`` (default: read the file).
    title : str | None
        Page title (default: the pipeline's name).
    fragments : dict | None
        Recording id -> its section, already drawn (:func:`render_recording`);
        the others are drawn here.

    Returns
    -------
    str
    """
    from motorsign.report import sections
    from motorsign.report.html import details, fmt, page, table

    out = Path(out_dir)
    prov = provenance if provenance is not None else (sections.read_json(out / "provenance.json") or {})
    if errors is None:
        df = sections.read_table(out / "errors.csv")
        errors = [] if df is None else df.to_dict("records")
    pipe = prov.get("pipeline") or {}
    name = title or pipe.get("name") or out.name
    env = prov.get("environment") or {}
    execu = prov.get("executor") or {}
    counts = prov.get("counts") or {}
    subtitle = (f"motorsign {env.get('motorsign', '?')} · pipeline {pipe.get('path', '?')} · "
                f"started {prov.get('started', '?')} · executor {execu.get('kind', '?')}")

    nav = [("summary", "Summary")]
    body = []
    recs = prov.get("recordings") or {}
    rows = []
    for rid, info in recs.items():
        an = info.get("analyses") or {}
        rows.append({"recording": rid, "muscle": info.get("muscle"), "side": info.get("side"),
                     **{a: (v or {}).get("status", "") for a, v in an.items()}})
    body.append('<section id="summary"><h2>Summary</h2>'
                f"<p>{fmt(counts.get('ran', 0))} ran, {fmt(counts.get('cached', 0))} reused, "
                f"{fmt(counts.get('failed', len(errors)))} failed.</p>" + table(rows))
    if errors:
        body.append('<h3 class="bad">Errors</h3>' + table(errors, ["recording", "analysis", "error"]))
    body.append("</section>")

    evidence = sections.read_json(out / "evidence.json")
    if isinstance(evidence, dict):
        nav.append(("case", "Case"))
        body.append('<section id="case"><h2>Case: UMN/LMN evidence and criteria</h2>'
                    + sections._guard("case", sections.case_section, evidence) + "</section>")

    cm = prov.get("cmct") or {}
    cm_rows = {cid: {**(r.get("result") or {}), "mep": r.get("mep"), "nerve": r.get("nerve")}
               for cid, r in cm.items() if isinstance(r, dict) and r.get("status") == "ok"}
    if cm_rows:
        nav.append(("cmct", "CMCT"))
        body.append('<section id="cmct"><h2>CMCT</h2>' + sections.cmct_section(cm_rows) + "</section>")

    fragments = fragments or {}
    for rid, info in recs.items():
        nav.append((f"rec-{rid}", rid))
        html = fragments.get(rid)
        body.append(html if html is not None else render_recording(out, rid, info))

    nav.append(("provenance", "Provenance"))
    deps = env.get("dependencies") or {}
    timings = prov.get("timings") or {}
    prov_rows = [{"item": k, "value": v} for k, v in (
        ("motorsign", env.get("motorsign")), ("python", env.get("python")),
        ("platform", env.get("platform")), ("executor", execu), ("pipeline sha256", pipe.get("sha256")),
        *timings.items())]
    body.append('<section id="provenance"><h2>Provenance</h2>' + table(prov_rows)
                + details("dependency versions", table([{"package": k, "version": v} for k, v in deps.items()]))
                + details("input sha256", table([{"recording": r, "sha256": i.get("input_sha256")}
                                                  for r, i in recs.items()]))
                + "</section>")
    return page(f"motorsign report: {name}", subtitle, nav, "".join(body))


def write_report(out_dir: str | os.PathLike, *, provenance: dict | None = None,
                 errors: list[dict] | None = None, pipeline=None, executor=None) -> Path:
    """Write ``OUT/report.html`` (atomically).

    Each recording's section is cached in ``OUT/<id>/.report-fragment.html``
    with the key of what it shows (:func:`fragment_key`): a re-run redraws
    only recordings whose results changed. Sections to draw are spread over
    ``executor``'s workers when one is given.

    Parameters
    ----------
    out_dir : path-like
        The ``run`` output folder.
    provenance, errors
        As for :func:`build_report`.
    pipeline : Pipeline | None
        The pipeline (its name titles the page).
    executor : motorsign.pipeline.executors.Executor | None
        Workers to draw on (default: draw here).

    Returns
    -------
    Path
        The report.
    """
    from motorsign.report import sections

    out = Path(out_dir)
    prov = provenance if provenance is not None else (sections.read_json(out / "provenance.json") or {})
    fragments: dict[str, str] = {}
    todo = []
    for rid, info in (prov.get("recordings") or {}).items():
        key = fragment_key(out, rid, info)
        cached = _cached_fragment(out, rid, key)
        if cached is not None:
            fragments[rid] = cached
        else:
            todo.append({"out_dir": str(out), "rec_id": rid, "info": info, "key": key})
    if executor is not None and len(todo) > 1:
        for item, res, exc in executor.map_unordered(render_task, todo):
            if exc is None:
                fragments[item["rec_id"]] = res["html"]
            else:  # a worker problem: drawn here below
                log.warning("report: %s drawn in the main process (%s)", item["rec_id"], exc)
    for item in todo:
        if item["rec_id"] not in fragments:
            fragments[item["rec_id"]] = render_task(item)["html"]
    title = getattr(pipeline, "name", None)
    text = build_report(out, provenance=prov, errors=errors, title=title, fragments=fragments)
    return atomic_write_text(out / "report.html", text)
