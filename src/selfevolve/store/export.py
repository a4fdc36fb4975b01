"""Export run-store tables (the store's own and the families') to JSONL or parquet (pyarrow)."""

from __future__ import annotations

import json
from pathlib import Path

from selfevolve.store.db import RunStore

# Rows in insertion order, except metrics: by step, then name.
_ORDER = {"metrics": "step, name"}


def table_rows(store: RunStore, table: str) -> list[dict]:
    tables = store.tables()
    if table not in tables:
        raise ValueError(f"unknown table {table!r}; this store has {', '.join(tables)}")
    return [dict(r) for r in store.query(f'SELECT * FROM "{table}" ORDER BY {_ORDER.get(table, "rowid")}')]


def export_jsonl(store: RunStore, table: str, path: str | Path) -> int:
    rows = table_rows(store, table)
    Path(path).write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows))
    return len(rows)


def export_parquet(store: RunStore, table: str, path: str | Path) -> int:
    import pyarrow as pa
    import pyarrow.parquet as pq

    rows = table_rows(store, table)
    pq.write_table(pa.table({c: [r[c] for r in rows] for c in store.columns(table)}), str(path))
    return len(rows)
