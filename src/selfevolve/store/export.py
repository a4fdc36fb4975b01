"""Export run-store tables to JSONL or parquet (pyarrow)."""

from __future__ import annotations

import json
from pathlib import Path

from selfevolve.store.db import RunStore

TABLES = ("tasks", "rollouts", "metrics")


def table_rows(store: RunStore, table: str) -> list[dict]:
    if table not in TABLES:
        raise ValueError(f"unknown table {table!r}; use one of {', '.join(TABLES)}")
    order = "id" if table != "metrics" else "step, name"
    return [dict(r) for r in store.query(f"SELECT * FROM {table} ORDER BY {order}")]


def export_jsonl(store: RunStore, table: str, path: str | Path) -> int:
    rows = table_rows(store, table)
    Path(path).write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows))
    return len(rows)


def export_parquet(store: RunStore, table: str, path: str | Path) -> int:
    import pyarrow as pa
    import pyarrow.parquet as pq

    rows = table_rows(store, table)
    columns = [d[1] for d in store.query(f"PRAGMA table_info({table})")]
    pq.write_table(pa.table({c: [r[c] for r in rows] for c in columns}), str(path))
    return len(rows)
