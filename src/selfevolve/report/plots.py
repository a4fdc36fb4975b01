"""Report plots: matplotlib figures drawn at a readable size and embedded as PNG."""

from __future__ import annotations

import io

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from matplotlib.ticker import MaxNLocator  # noqa: E402

from selfevolve.report.html import Figure  # noqa: E402

SIZE = (9.0, 4.6)  # inches; at DPI this is the report's full width
DPI = 110


def new_axes():
    """A figure and its axes at the report's size."""
    return plt.subplots(figsize=SIZE, dpi=DPI)


def finish(fig, ax, title: str, xlabel: str, ylabel: str = "") -> Figure:
    """Title, labels, grid and a legend beside the plot (long metric names do not cover the lines); as PNG."""
    ax.set_title(title, fontsize=13)
    ax.set_xlabel(xlabel, fontsize=11)
    ax.set_ylabel(ylabel, fontsize=11)
    ax.tick_params(labelsize=10)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))  # steps
    ax.grid(alpha=0.3)
    ax.legend(fontsize=9, loc="upper left", bbox_to_anchor=(1.01, 1.0), borderaxespad=0)
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    plt.close(fig)
    return Figure(title, buf.getvalue())


def line_plot(records: list[dict], keys: list[str], title: str, x: str = "step", ylabel: str = "") -> Figure | None:
    """One line per key present in the records; None when no key has data."""
    fig, ax = new_axes()
    drawn = 0
    for key in keys:
        pts = [(r[x], r[key]) for r in records if key in r and x in r and r[key] is not None]
        if pts:
            xs, ys = zip(*pts)
            ax.plot(xs, ys, marker="o" if len(pts) < 30 else None, markersize=4, label=key)
            drawn += 1
    if not drawn:
        plt.close(fig)
        return None
    return finish(fig, ax, title, x, ylabel)
