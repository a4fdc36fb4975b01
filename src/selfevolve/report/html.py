"""A self-contained HTML run report: summary, metric plots (embedded PNG) and sample tables.

Recipes decide what to show; this module only draws and escapes. Everything lands in one file so a
report can be mailed or attached to an issue as it is.
"""

from __future__ import annotations

import base64
import html
import io
import json
from dataclasses import dataclass, field
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


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
    title: str
    summary: dict = field(default_factory=dict)
    figures: list[Figure] = field(default_factory=list)
    tables: list[Table] = field(default_factory=list)


def line_plot(records: list[dict], keys: list[str], title: str, x: str = "step", ylabel: str = "") -> Figure | None:
    """One PNG with a line per key present in the records; None when no key has data."""
    fig, ax = plt.subplots(figsize=(6.4, 3.6), dpi=100)
    drawn = 0
    for key in keys:
        pts = [(r[x], r[key]) for r in records if key in r and x in r and r[key] is not None]
        if pts:
            xs, ys = zip(*pts)
            ax.plot(xs, ys, marker="o" if len(pts) < 30 else None, markersize=3, label=key)
            drawn += 1
    if not drawn:
        plt.close(fig)
        return None
    ax.set_title(title)
    ax.set_xlabel(x)
    ax.set_ylabel(ylabel)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7, loc="best")
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    plt.close(fig)
    return Figure(title, buf.getvalue())


def _cell(value: object, limit: int) -> str:
    text = value if isinstance(value, str) else json.dumps(value, default=str)
    if len(text) > limit:
        text = text[:limit] + f"… ({len(text) - limit} more chars)"
    return f"<td><pre>{html.escape(text)}</pre></td>"


def _table_html(table: Table) -> str:
    if not table.rows:
        return f"<h2>{html.escape(table.title)}</h2><p>(none)</p>"
    cols = list(dict.fromkeys(k for row in table.rows for k in row))
    head = "".join(f"<th>{html.escape(c)}</th>" for c in cols)
    body = "".join(
        "<tr>" + "".join(_cell(row.get(c, ""), table.max_cell_chars) for c in cols) + "</tr>" for row in table.rows
    )
    return f"<h2>{html.escape(table.title)}</h2><table><tr>{head}</tr>{body}</table>"


_STYLE = """
body{font-family:system-ui,sans-serif;max-width:1100px;margin:2em auto;color:#222}
table{border-collapse:collapse;margin-bottom:2em;font-size:13px}
td,th{border:1px solid #ccc;padding:4px 6px;vertical-align:top;text-align:left}
pre{margin:0;white-space:pre-wrap;font-size:12px}
img{max-width:100%;border:1px solid #eee}
.figs{display:grid;grid-template-columns:1fr 1fr;gap:12px}
"""


def render(report: Report) -> str:
    summary = "".join(
        f"<tr><th>{html.escape(str(k))}</th>{_cell(v, 2000)}</tr>" for k, v in report.summary.items()
    )
    figs = "".join(
        f'<figure><img alt="{html.escape(f.title)}" src="data:image/png;base64,{base64.b64encode(f.png).decode()}">'
        f"<figcaption>{html.escape(f.title)}</figcaption></figure>"
        for f in report.figures
    )
    tables = "".join(_table_html(t) for t in report.tables)
    return (
        f"<!doctype html><html><head><meta charset='utf-8'><title>{html.escape(report.title)}</title>"
        f"<style>{_STYLE}</style></head><body><h1>{html.escape(report.title)}</h1>"
        f"<table>{summary}</table><div class='figs'>{figs}</div>{tables}</body></html>"
    )


def write_report(report: Report, path: Path) -> Path:
    path.write_text(render(report), encoding="utf-8")
    return path
