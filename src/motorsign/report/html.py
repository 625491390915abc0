"""HTML building blocks: escaping, tables, sections and the page shell.

Every string that comes from a file (channel names, annotations, error
messages, options) goes through :func:`esc` before it reaches the page.
"""

from __future__ import annotations

import html
import math
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

__all__ = ["esc", "fmt", "table", "figure", "note", "details", "page"]

#: CSS of the report (inline: the page is self-contained)
CSS = """
body{font-family:system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;margin:0;color:#1d232a;background:#f6f7f9}
header{background:#23364d;color:#fff;padding:18px 28px}
header h1{margin:0;font-size:1.5em}
header p{margin:4px 0 0;opacity:.85}
main{padding:8px 28px 40px;max-width:1400px}
nav{background:#fff;border:1px solid #d9dde3;border-radius:6px;padding:8px 14px;margin:16px 0}
nav a{margin-right:14px;white-space:nowrap}
section{background:#fff;border:1px solid #d9dde3;border-radius:6px;padding:6px 18px 16px;margin:16px 0}
h2{font-size:1.25em;border-bottom:1px solid #e3e6ea;padding-bottom:6px}
h3{font-size:1.05em;margin:18px 0 6px}
table{border-collapse:collapse;font-size:.86em;margin:6px 0}
th,td{border:1px solid #d9dde3;padding:3px 7px;text-align:left;vertical-align:top}
th{background:#eef1f5}
td.num{text-align:right;font-variant-numeric:tabular-nums}
figure{margin:8px 0}
figure img{max-width:100%;height:auto;border:1px solid #eef0f3}
figcaption{font-size:.82em;color:#555}
.note{color:#6a5a00;background:#fff8d6;border-left:3px solid #e2c200;padding:4px 8px;font-size:.86em}
.bad{color:#a11}
.ok{color:#176b2c}
.tag{display:inline-block;border-radius:3px;padding:0 6px;font-size:.82em;background:#e7ebf0;margin:0 2px}
details{margin:8px 0}
pre{white-space:pre-wrap;font-size:.8em;background:#f3f4f6;padding:8px;border-radius:4px}
.crit{font-weight:600}
"""


def esc(value: Any) -> str:
    """Escape any value for HTML text and attributes."""
    return html.escape("" if value is None else str(value), quote=True)


def fmt(value: Any, digits: int = 3) -> str:
    """A number or string for a table cell (escaped); NaN and None show as ``NaN``/blank."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return esc(value)
    if isinstance(value, float) or hasattr(value, "dtype"):
        try:
            f = float(value)
        except (TypeError, ValueError):
            return esc(value)
        if math.isnan(f):
            return "NaN"
        if math.isinf(f):
            return esc(f)
        if f == int(f) and abs(f) < 1e12:
            return esc(int(f))
        if 1e3 <= abs(f) < 1e9:
            return esc(f"{f:.0f}")
        return esc(f"{f:.{digits}g}")
    if isinstance(value, (list, tuple)):
        return esc(", ".join(str(v) for v in value))
    if isinstance(value, Mapping):
        return esc(", ".join(f"{k}: {v}" for k, v in value.items()))
    return esc(value)


def table(rows: Iterable[Mapping[str, Any]], columns: Sequence[str] | None = None,
          *, max_rows: int = 200) -> str:
    """An HTML table of dict rows (cells escaped)."""
    rows = list(rows)
    if not rows:
        return "<p><em>none</em></p>"
    if columns is None:
        columns = []
        for r in rows:
            columns += [c for c in r if c not in columns]
    head = "".join(f"<th>{esc(c)}</th>" for c in columns)
    body = []
    for r in rows[:max_rows]:
        cells = []
        for c in columns:
            v = r.get(c)
            cls = ' class="num"' if isinstance(v, (int, float)) and not isinstance(v, bool) else ""
            cells.append(f"<td{cls}>{fmt(v)}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    more = (f"<p><em>{len(rows) - max_rows} more row(s) not shown</em></p>"
            if len(rows) > max_rows else "")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>{more}"


def figure(png_b64: str, caption: str, alt: str | None = None) -> str:
    """An embedded PNG figure (base64) with an escaped caption."""
    return (f'<figure><img src="data:image/png;base64,{png_b64}" alt="{esc(alt or caption)}">'
            f"<figcaption>{esc(caption)}</figcaption></figure>")


def note(text: str) -> str:
    """A highlighted note (escaped)."""
    return f'<p class="note">{esc(text)}</p>'


def details(summary: str, body_html: str) -> str:
    """A collapsible block; ``body_html`` must already be safe HTML."""
    return f"<details><summary>{esc(summary)}</summary>{body_html}</details>"


def page(title: str, subtitle: str, nav: Sequence[tuple[str, str]], body_html: str) -> str:
    """The whole page: no script, no external resource."""
    links = "".join(f'<a href="#{esc(anchor)}">{esc(label)}</a>' for anchor, label in nav)
    return (
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
        "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
        "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
        "img-src data:; style-src 'unsafe-inline'\">"
        f"<title>{esc(title)}</title><style>{CSS}</style></head><body>"
        f"<header><h1>{esc(title)}</h1><p>{esc(subtitle)}</p></header><main>"
        f"<nav>{links}</nav>{body_html}</main></body></html>\n"
    )
