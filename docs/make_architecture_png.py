"""Draw docs/architecture.png: selfevolve's top-level packages and the imports between them, read from
the code by the same functions that tests/test_layers.py checks the layers with.

    python docs/make_architecture_png.py            # rewrites docs/architecture.png

Rows are levels of the import graph (a package sits one row above the highest package it imports),
so every arrow points down; each arrow is one package importing another (at least one statement),
coloured by the importing package. Arrows that skip rows pass behind the boxes between.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

HERE = Path(__file__).resolve().parent


def _layers_module():
    spec = importlib.util.spec_from_file_location("test_layers", HERE.parent / "tests" / "test_layers.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look the module up while the class is created
    spec.loader.exec_module(module)
    return module


def levels(graph: dict[str, set[str]]) -> dict[str, int]:
    """0 for a package that imports none of the others, else one more than the highest it imports."""
    memo: dict[str, int] = {}

    def level(p: str) -> int:
        if p not in memo:
            memo[p] = 1 + max((level(q) for q in graph.get(p, ())), default=-1)
        return memo[p]

    return {p: level(p) for p in graph}


def row_order(graph: dict[str, set[str]], level: dict[str, int]) -> dict[str, float]:
    """x position of each package: rows sorted by the mean position of their neighbours (a few
    barycentre sweeps, which keeps arrows short and crossings few)."""
    rows: dict[int, list[str]] = {}
    for p in sorted(graph):
        rows.setdefault(level[p], []).append(p)
    width = max(len(r) for r in rows.values())
    x = {p: i + (width - len(r)) / 2 for r in rows.values() for i, p in enumerate(r)}
    neighbours = {p: set(graph[p]) | {q for q in graph if p in graph[q]} for p in graph}
    for _ in range(6):
        for r in rows.values():
            r.sort(key=lambda p: sum(x[q] for q in neighbours[p]) / len(neighbours[p]) if neighbours[p] else x[p])
            x.update({p: i + (width - len(r)) / 2 for i, p in enumerate(r)})
    return x


def _ports(edges, extent, key, end: int, bottom: bool) -> dict:
    """Where each edge meets a box: a box's edges spread evenly along its bottom (outgoing) or top
    (incoming) side, ordered by the position of the package at the other end."""
    ports = {}
    for p in {e[end] for e in edges}:
        mine = sorted((e for e in edges if e[end] == p), key=key)
        (x0, y0), (x1, y1) = extent[p]
        for k, e in enumerate(mine):
            ports[e] = (x0 + (x1 - x0) * (k + 1) / (len(mine) + 1), y0 if bottom else y1)
    return ports


def draw(out: Path) -> Path:
    lm = _layers_module()
    graph = lm.package_graph()
    count = {p: 0 for p in graph}
    for path in lm.modules(lm.SRC):
        top = lm.top_level(lm.module_name(lm.SRC, path))
        if top in count:
            count[top] += 1
    level = levels(graph)
    x = row_order(graph, level)
    pos = {p: ((x[p] + 0.45 * (level[p] % 2)) * 2.0, level[p] * 1.6) for p in graph}  # odd rows staggered
    colours = plt.get_cmap("tab10")
    fig, ax = plt.subplots(figsize=(13, 9), dpi=110)
    boxes = {}
    for p, (px, py) in pos.items():
        label = f"{p}\n{count[p]} module{'s' if count[p] != 1 else ''}"
        boxes[p] = ax.text(px, py, label, ha="center", va="center", fontsize=11, zorder=4,
                           bbox=dict(boxstyle="round,pad=0.45", fc="#f4f4f4", ec="#444", lw=1.2))
    xs, ys = zip(*pos.values())
    ax.set_xlim(min(xs) - 1.2, max(xs) + 1.2)
    ax.set_ylim(min(ys) - 0.8, max(ys) + 0.8)
    fig.canvas.draw()  # lays out the boxes: the arrows start and end on their edges
    to_data = ax.transData.inverted()
    extent = {p: to_data.transform(b.get_bbox_patch().get_window_extent()) for p, b in boxes.items()}
    edges = [(src, dst) for src in graph for dst in graph[src]]
    out_port = _ports(edges, extent, key=lambda e: (pos[e[1]][0], -pos[e[1]][1]), end=0, bottom=True)
    in_port = _ports(edges, extent, key=lambda e: (pos[e[0]][0], pos[e[0]][1]), end=1, bottom=False)
    importers = [p for p in sorted(graph, key=lambda p: (-level[p], x[p])) if graph[p]]
    for i, src in enumerate(importers):
        for dst in sorted(graph[src]):
            span = level[src] - level[dst]
            rad = 0.0 if span == 1 else 0.08 * (1 if pos[dst][0] >= pos[src][0] else -1)
            ax.annotate("", xy=in_port[src, dst], xytext=out_port[src, dst], zorder=3,
                        arrowprops=dict(arrowstyle="-|>", color=colours(i % 10), lw=1.4, alpha=0.85, shrinkA=0, shrinkB=0,
                                        mutation_scale=15, connectionstyle=f"arc3,rad={rad}"))
    handles = [plt.Line2D([], [], color=colours(i % 10), lw=2, label=p) for i, p in enumerate(importers)]
    ax.legend(handles=handles, title="imports made by", loc="upper left", fontsize=10, frameon=False)
    ax.axis("off")
    ax.set_title("selfevolve: top-level packages and their imports (arrow = imports; drawn from the code)", fontsize=13)
    fig.tight_layout()
    fig.savefig(out)
    plt.close(fig)
    return out


if __name__ == "__main__":
    print(f"wrote {draw(HERE / 'architecture.png')}")
