"""The code-io family's task table in a run store: the rows behind the AZR buffers (`buffers.py`).

One table for the three buffers (`buffer` = code_i | code_o | code_f). Its `step` column makes
`RunStore.rollback_to` forget the tasks a resumed run will propose again. The schema is the one the
run store has always held (store schema v1), so existing run directories open and resume unchanged.
"""

from __future__ import annotations

import json
import sqlite3
import time
from typing import Iterable

from selfevolve.store.db import RunStore

_SCHEMA = """
CREATE TABLE IF NOT EXISTS tasks (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    buffer TEXT NOT NULL,               -- task type code holding it: code_i | code_o | code_f
    program TEXT NOT NULL,
    inputs TEXT NOT NULL,               -- JSON list of argument-list sources
    outputs TEXT NOT NULL,              -- JSON list of gold repr strings
    message TEXT NOT NULL DEFAULT '',
    imports TEXT NOT NULL DEFAULT '[]', -- JSON list of import lines
    n_given INTEGER,                    -- induction: pairs shown to the solver (NULL = half)
    step INTEGER NOT NULL,              -- training step that created it (seeds: 0)
    valid INTEGER NOT NULL DEFAULT 1,
    reason TEXT NOT NULL DEFAULT 'ok',  -- validation verdict
    attempts INTEGER NOT NULL DEFAULT 0,-- solver answers scored on it
    solved REAL NOT NULL DEFAULT 0,     -- sum of their scores
    thought TEXT NOT NULL DEFAULT '',
    key TEXT NOT NULL,                  -- canonical JSON of the content, for dedup
    created REAL NOT NULL,
    UNIQUE (buffer, key)
);
CREATE INDEX IF NOT EXISTS tasks_by_step ON tasks (buffer, valid, step);
"""

TABLE = "tasks"


def canonical_json(obj) -> str:
    return json.dumps(obj, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


class TaskTable:
    """Task rows of a RunStore (creates the table on first use). Rows are dicts with program, inputs,
    outputs, message, imports, n_given, step, valid, reason, thought (lists as Python lists)."""

    def __init__(self, store: RunStore) -> None:
        self.store = store
        store.add_tables(_SCHEMA)

    def insert(self, buffer: str, rows: Iterable[dict], cap: int | None = None) -> list[int]:
        """Insert rows into `buffer`, skipping duplicates (same canonical content); then, with `cap`,
        evict the oldest valid rows (lowest step, then id) beyond it. Returns the new ids."""
        ids: list[int] = []
        with self.store.tx() as c:
            for r in rows:
                key = canonical_json({k: r.get(k) for k in ("program", "inputs", "outputs", "message", "imports")})
                cur = c.execute(
                    "INSERT OR IGNORE INTO tasks (buffer, program, inputs, outputs, message, imports, n_given, step,"
                    " valid, reason, thought, key, created) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
                    (
                        buffer, r["program"], json.dumps(list(r["inputs"])), json.dumps(list(r["outputs"])),
                        r.get("message", ""), json.dumps(list(r.get("imports", []))), r.get("n_given"),
                        int(r.get("step", 0)), int(bool(r.get("valid", True))), r.get("reason", "ok"),
                        r.get("thought", ""), key, time.time(),
                    ),
                )
                if cur.rowcount:
                    ids.append(int(cur.lastrowid))
            if cap is not None:
                c.execute(
                    "DELETE FROM tasks WHERE id IN (SELECT id FROM tasks WHERE buffer=? AND valid=1"
                    " ORDER BY step DESC, id DESC LIMIT -1 OFFSET ?)",
                    (buffer, cap),
                )
        return ids

    def rows(self, buffer: str, *, step: int | None = None, valid: bool = True) -> list[dict]:
        """Rows of a buffer, oldest first; with `step`, only those created at that step."""
        sql = "SELECT * FROM tasks WHERE buffer=? AND valid=?"
        params: tuple = (buffer, int(valid))
        if step is not None:
            sql += " AND step=?"
            params += (step,)
        return [_row(r) for r in self.store.query(sql + " ORDER BY step, id", params)]

    def newest(self, limit: int) -> list[dict]:
        """The `limit` newest rows the run itself created (step > 0: seeds left out), across buffers."""
        sql = "SELECT * FROM tasks WHERE step > 0 ORDER BY step DESC, id DESC LIMIT ?"
        return [_row(r) for r in self.store.query(sql, (limit,))]

    def count(self, buffer: str, valid: bool = True) -> int:
        return int(self.store.query("SELECT COUNT(*) AS n FROM tasks WHERE buffer=? AND valid=?", (buffer, int(valid)))[0]["n"])

    def count_programs(self, buffer: str) -> int:
        """Distinct program texts among a buffer's valid tasks (its diversity, as opposed to its size)."""
        sql = "SELECT COUNT(DISTINCT program) AS n FROM tasks WHERE buffer=? AND valid=1"
        return int(self.store.query(sql, (buffer,))[0]["n"])

    def record_solves(self, task_id: int, attempts: int, solved: float) -> None:
        """Add `attempts` scored solver answers with total score `solved` to a task's statistics."""
        with self.store.tx() as c:
            c.execute("UPDATE tasks SET attempts = attempts + ?, solved = solved + ? WHERE id=?", (attempts, solved, task_id))


def _row(r: sqlite3.Row) -> dict:
    d = dict(r)
    for k in ("inputs", "outputs", "imports"):
        d[k] = json.loads(d[k])
    d["valid"] = bool(d["valid"])
    return d
