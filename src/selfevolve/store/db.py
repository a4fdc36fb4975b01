"""The SQLite run store: tasks (the AZR buffers), rollouts and metrics of one run.

One connection guarded by a lock (safe to share between threads); WAL journal for file databases
so readers (reports, other processes) never block the writer. The schema carries a version number;
opening a store written by a newer schema fails with a clear message.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Iterator

SCHEMA_VERSION = 1

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
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
CREATE TABLE IF NOT EXISTS rollouts (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    step INTEGER NOT NULL,
    role TEXT NOT NULL,                 -- propose | solve
    task_type TEXT NOT NULL,
    prompt TEXT NOT NULL,
    completion TEXT NOT NULL,
    reward REAL NOT NULL,
    task_id INTEGER
);
CREATE INDEX IF NOT EXISTS rollouts_by_step ON rollouts (step);
CREATE TABLE IF NOT EXISTS metrics (step INTEGER NOT NULL, name TEXT NOT NULL, value REAL NOT NULL);
CREATE INDEX IF NOT EXISTS metrics_by_name ON metrics (name, step);
"""


@dataclass(frozen=True)
class Rollout:
    step: int
    role: str
    task_type: str
    prompt: str
    completion: str
    reward: float
    task_id: int | None = None


def canonical_json(obj) -> str:
    return json.dumps(obj, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


class RunStore:
    """`RunStore("runs/x/store.sqlite")` or `RunStore()` (in memory, for tests)."""

    def __init__(self, path: str | Path = ":memory:") -> None:
        self.path = str(path)
        if self.path != ":memory:":
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.RLock()
        self._conn = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        self._conn.row_factory = sqlite3.Row
        if self.path != ":memory:":
            self._conn.execute("PRAGMA journal_mode=WAL")
            self._conn.execute("PRAGMA synchronous=NORMAL")
        self._migrate()

    def _migrate(self) -> None:
        with self._lock:
            self._conn.executescript(_SCHEMA)
            row = self._conn.execute("SELECT value FROM meta WHERE key='schema_version'").fetchone()
            if row is None:
                self._conn.execute("INSERT INTO meta VALUES ('schema_version', ?)", (str(SCHEMA_VERSION),))
            elif int(row["value"]) > SCHEMA_VERSION:
                raise RuntimeError(
                    f"{self.path} has store schema v{row['value']}, newer than this selfevolve (v{SCHEMA_VERSION}); upgrade selfevolve"
                )

    @contextmanager
    def tx(self) -> Iterator[sqlite3.Connection]:
        """A write transaction under the store lock (rolled back on error)."""
        with self._lock:
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                yield self._conn
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
            self._conn.execute("COMMIT")

    def query(self, sql: str, params: tuple = ()) -> list[sqlite3.Row]:
        with self._lock:
            return self._conn.execute(sql, params).fetchall()

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    def __enter__(self) -> RunStore:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # ------------------------------------------------------------ rollouts and metrics

    def add_rollouts(self, rows: Iterable[Rollout]) -> None:
        with self.tx() as c:
            c.executemany(
                "INSERT INTO rollouts (step, role, task_type, prompt, completion, reward, task_id) VALUES (?,?,?,?,?,?,?)",
                [(r.step, r.role, r.task_type, r.prompt, r.completion, r.reward, r.task_id) for r in rows],
            )

    def add_metrics(self, step: int, values: dict[str, float]) -> None:
        with self.tx() as c:
            c.executemany("INSERT INTO metrics (step, name, value) VALUES (?,?,?)", [(step, k, float(v)) for k, v in values.items()])

    def metrics(self, name: str) -> list[tuple[int, float]]:
        return [(r["step"], r["value"]) for r in self.query("SELECT step, value FROM metrics WHERE name=? ORDER BY step", (name,))]

    def rollouts(self, step: int | None = None) -> list[Rollout]:
        sql, params = ("SELECT * FROM rollouts ORDER BY id", ()) if step is None else ("SELECT * FROM rollouts WHERE step=? ORDER BY id", (step,))
        return [Rollout(r["step"], r["role"], r["task_type"], r["prompt"], r["completion"], r["reward"], r["task_id"]) for r in self.query(sql, params)]

    def rollback_to(self, step: int) -> None:
        """Forget everything created after `step` (resuming from a checkpoint taken at `step`)."""
        with self.tx() as c:
            c.execute("DELETE FROM tasks WHERE step > ?", (step,))
            c.execute("DELETE FROM rollouts WHERE step > ?", (step,))
            c.execute("DELETE FROM metrics WHERE step > ?", (step,))

    @staticmethod
    def now() -> float:
        return time.time()

    # ------------------------------------------------------------ task rows (buffers build on these)

    def insert_tasks(self, buffer: str, rows: Iterable[dict], cap: int | None = None) -> list[int]:
        """Insert task rows into `buffer`, skipping duplicates (same canonical content); then, with
        `cap`, evict the oldest valid rows (lowest step, then id) beyond it. Returns the new ids.

        A row is a dict with program, inputs, outputs, message, imports, n_given, step, valid,
        reason, thought (lists as Python lists)."""
        ids: list[int] = []
        with self.tx() as c:
            for r in rows:
                key = canonical_json({k: r.get(k) for k in ("program", "inputs", "outputs", "message", "imports")})
                cur = c.execute(
                    "INSERT OR IGNORE INTO tasks (buffer, program, inputs, outputs, message, imports, n_given, step,"
                    " valid, reason, thought, key, created) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
                    (
                        buffer, r["program"], json.dumps(list(r["inputs"])), json.dumps(list(r["outputs"])),
                        r.get("message", ""), json.dumps(list(r.get("imports", []))), r.get("n_given"),
                        int(r.get("step", 0)), int(bool(r.get("valid", True))), r.get("reason", "ok"),
                        r.get("thought", ""), key, self.now(),
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

    def task_rows(self, buffer: str, *, step: int | None = None, valid: bool = True) -> list[dict]:
        """Rows of a buffer, oldest first; with `step`, only those created at that step."""
        sql = "SELECT * FROM tasks WHERE buffer=? AND valid=?"
        params: tuple = (buffer, int(valid))
        if step is not None:
            sql += " AND step=?"
            params += (step,)
        return [_row(r) for r in self.query(sql + " ORDER BY step, id", params)]

    def count_tasks(self, buffer: str, valid: bool = True) -> int:
        return int(self.query("SELECT COUNT(*) AS n FROM tasks WHERE buffer=? AND valid=?", (buffer, int(valid)))[0]["n"])

    def count_programs(self, buffer: str) -> int:
        """Distinct program texts among a buffer's valid tasks (its diversity, as opposed to its size)."""
        sql = "SELECT COUNT(DISTINCT program) AS n FROM tasks WHERE buffer=? AND valid=1"
        return int(self.query(sql, (buffer,))[0]["n"])

    def record_solves(self, task_id: int, attempts: int, solved: float) -> None:
        """Add `attempts` scored solver answers with total score `solved` to a task's statistics."""
        with self.tx() as c:
            c.execute("UPDATE tasks SET attempts = attempts + ?, solved = solved + ? WHERE id=?", (attempts, solved, task_id))


def _row(r: sqlite3.Row) -> dict:
    d = dict(r)
    for k in ("inputs", "outputs", "imports"):
        d[k] = json.loads(d[k])
    d["valid"] = bool(d["valid"])
    return d
