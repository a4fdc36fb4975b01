"""A self-contained HTML report: what ran, the headline figures, plots, tables, and the config folded away.

This module only lays out and escapes; `report.run` decides what a run's report says. Everything
lands in one file (plots are embedded PNGs) so a report can be mailed or attached to an issue as it is.
Numbers are shown to 3 decimals.
"""

from __future__ import annotations

import base64
import html
import json
from dataclasses import dataclass, field
from pathlib import Path


@dataclass
class Figure:
    title: str
    png: bytes


@dataclass
class Table:
    title: str
    rows: list[dict]
    max_cell_chars: int = 600


@dataclass
class Report:
    """The parts of a report, in the order a reader meets them."""

    title: str
    facts: dict[str, object] = field(default_factory=dict)  # what ran: model, preset, steps, seed, wall time
    notes: list[str] = field(default_factory=list)  # sentences under the facts, e.g. the headline result
    warnings: list[str] = field(default_factory=list)  # what the reader must not miss, e.g. "this run is a control"
    headline: Table | None = None  # the figures the reader came for, first and last value and the change
    figures: list[Figure] = field(default_factory=list)
    tables: list[Table] = field(default_factory=list)
    config: str = ""  # the run's config.yaml, folded away at the bottom


def fmt(value: object) -> str:
    """A value as a reader wants it: floats to 3 decimals, None as a dash, text as it is."""
    if value is None:
        return "–"
    if isinstance(value, float):
        return f"{value:.3f}"
    if isinstance(value, (str, int)):
        return str(value)
    return json.dumps(value, default=str)


def _cell(value: object, limit: int) -> str:
    text = fmt(value)
    if len(text) > limit:
        text = text[:limit] + f"… ({len(text) - limit} more chars)"
    numeric = isinstance(value, (int, float)) and not isinstance(value, bool)
    body = html.escape(text) if numeric or "\n" not in text else f"<pre>{html.escape(text)}</pre>"
    return f"<td{' class=num' if numeric else ''}>{body}</td>"


def _table_html(table: Table, level: str = "h2") -> str:
    title = f"<{level}>{html.escape(table.title)}</{level}>"
    if not table.rows:
        return f"{title}<p>(none)</p>"
    cols = list(dict.fromkeys(k for row in table.rows for k in row))
    head = "".join(f"<th>{html.escape(c)}</th>" for c in cols)
    body = "".join(
        "<tr>" + "".join(_cell(row.get(c), table.max_cell_chars) for c in cols) + "</tr>" for row in table.rows
    )
    return f"{title}<table><tr>{head}</tr>{body}</table>"


def _figure_html(figure: Figure) -> str:
    data = base64.b64encode(figure.png).decode()
    return f'<figure><img alt="{html.escape(figure.title)}" src="data:image/png;base64,{data}"></figure>'


_STYLE = """
body{font-family:system-ui,sans-serif;max-width:1000px;margin:2em auto;padding:0 1em;color:#222;line-height:1.4}
h1{margin-bottom:.3em} h2{margin-top:1.6em;border-bottom:1px solid #ddd}
table{border-collapse:collapse;margin-bottom:1.5em;font-size:14px}
td,th{border:1px solid #ccc;padding:4px 8px;vertical-align:top;text-align:left}
td.num{text-align:right;font-variant-numeric:tabular-nums}
table.facts th{background:#f6f6f6;font-weight:600}
table.headline{font-size:16px} table.headline td.num{min-width:5em}
p.note{font-size:17px;margin:.6em 0} p.warn{background:#fff4d6;border-left:4px solid #e0a800;padding:.4em .8em}
pre{margin:0;white-space:pre-wrap;font-size:12px}
figure{margin:1.2em 0} img{width:100%;max-width:960px;border:1px solid #eee}
details{margin-top:2em} summary{cursor:pointer;font-weight:600}
"""


def render(report: Report) -> str:
    facts = "".join(f"<tr><th>{html.escape(k)}</th><td>{html.escape(fmt(v))}</td></tr>" for k, v in report.facts.items())
    notes = "".join(f"<p class='note warn'>{html.escape(n)}</p>" for n in report.warnings)
    notes += "".join(f"<p class=note>{html.escape(n)}</p>" for n in report.notes)
    headline = _table_html(report.headline).replace("<table>", "<table class=headline>", 1) if report.headline else ""
    figures = "<h2>Plots</h2>" + "".join(_figure_html(f) for f in report.figures) if report.figures else ""
    tables = "".join(_table_html(t) for t in report.tables)
    config = (f"<details><summary>Config (config.yaml)</summary><pre>{html.escape(report.config)}</pre></details>"
              if report.config else "")
    return (
        f"<!doctype html><html><head><meta charset='utf-8'><title>{html.escape(report.title)}</title>"
        f"<style>{_STYLE}</style></head><body><h1>{html.escape(report.title)}</h1>"
        f"<table class=facts>{facts}</table>{notes}{headline}{figures}{tables}{config}</body></html>"
    )


def write_report(report: Report, path: Path) -> Path:
    path.write_text(render(report), encoding="utf-8")
    return path
