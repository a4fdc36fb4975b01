"""The SQLite run store of one run: rollouts and metrics (any recipe), plus the tables a task family
adds for itself (the code-io family's task buffers: `selfevolve.tasks.code_io.store`).

One connection guarded by a lock (safe to share between threads); WAL journal for file databases
so readers (reports, other processes) never block the writer. The schema carries a version number;
opening a store written by a newer schema fails with a clear message. Every table with a `step`
column holds per-step rows: `rollback_to(step)` forgets those created after `step`, in every such
table, so a resumed run redoes exactly the steps after its checkpoint.
"""

from __future__ import annotations

import sqlite3
import threading
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Iterator

SCHEMA_VERSION = 1

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
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
class RolloutRecord:
    """One stored rollout row (a trained sequence and its reward), as opposed to `selfevolve.rl.Rollout`,
    the in-memory result of sampling."""

    step: int
    role: str
    task_type: str
    prompt: str
    completion: str
    reward: float
    task_id: int | None = None


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

    # ------------------------------------------------------------ tables and resume

    def rollback_to(self, step: int) -> None:
        """Forget everything created after `step` (resuming from a checkpoint taken at `step`): the rows
        with a larger `step` in every table that has that column, the families' tables included."""
        with self.tx() as c:
            for table in self.tables():
                if "step" in self.columns(table):
                    c.execute(f'DELETE FROM "{table}" WHERE step > ?', (step,))

    def add_tables(self, schema: str) -> None:
        """Create a family's own tables in this store (`CREATE TABLE IF NOT EXISTS ...` statements)."""
        with self._lock:
            self._conn.executescript(schema)

    def tables(self) -> list[str]:
        """Names of the data tables, in creation order (`meta` and SQLite's own tables left out)."""
        rows = self.query("SELECT name FROM sqlite_master WHERE type='table' AND name NOT LIKE 'sqlite_%' ORDER BY rowid")
        return [r["name"] for r in rows if r["name"] != "meta"]

    def columns(self, table: str) -> list[str]:
        return [r["name"] for r in self.query(f'PRAGMA table_info("{table}")')]

    # ------------------------------------------------------------ rollouts and metrics

    def add_rollouts(self, rows: Iterable[RolloutRecord]) -> None:
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

    def rollouts(self, step: int | None = None) -> list[RolloutRecord]:
        sql, params = ("SELECT * FROM rollouts ORDER BY id", ()) if step is None else ("SELECT * FROM rollouts WHERE step=? ORDER BY id", (step,))
        return [RolloutRecord(r["step"], r["role"], r["task_type"], r["prompt"], r["completion"], r["reward"], r["task_id"]) for r in self.query(sql, params)]
