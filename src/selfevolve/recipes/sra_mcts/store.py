"""The recipe's table in the run store: one row per finished problem, written as it finishes, so a
killed run resumes with the problems not yet in the table (each problem is stored exactly once)."""

from __future__ import annotations

import json

from selfevolve.store.db import RunStore

SCHEMA = """
CREATE TABLE IF NOT EXISTS sra_mcts_problems (
    problem_id TEXT PRIMARY KEY,
    position INTEGER NOT NULL,          -- line of the problem in the problem file
    method TEXT NOT NULL,               -- mcts | tot | cot
    status TEXT NOT NULL,               -- kept | dropped | skipped
    reason TEXT NOT NULL,               -- why not kept: short_plan, judged_unsolved, tests_failed, prompt_too_long: ...
    plan TEXT NOT NULL,                 -- the cleaned plan ('' for cot)
    answer TEXT NOT NULL,               -- the translator's answer (cot: the whole answer)
    accurate INTEGER,                   -- completion judge: 1 solved, 0 unsolved, NULL not judged
    finish INTEGER,                     -- mcts: round that reached the end gate; tot: its depth; NULL: none did
    verified INTEGER,                   -- all tests passed; NULL: the problem has no tests (or was not translated)
    pass_rate REAL,
    n_tests INTEGER,
    record TEXT,                        -- the SFT record (JSON) when kept
    tree TEXT,                          -- the search tree (JSON; NULL for cot)
    model_calls INTEGER NOT NULL,       -- prompts completed for this problem
    generated_tokens INTEGER NOT NULL,
    critic_replies INTEGER,             -- partial plans the critic scored (NULL: stored before this count)
    critic_unscored INTEGER             -- of those, replies without a score, valued 5
);
CREATE INDEX IF NOT EXISTS sra_mcts_by_position ON sra_mcts_problems (position);
"""

COLUMNS = ("problem_id", "position", "method", "status", "reason", "plan", "answer", "accurate", "finish", "verified",
           "pass_rate", "n_tests", "record", "tree", "model_calls", "generated_tokens", "critic_replies", "critic_unscored")
ADDED = ("critic_replies INTEGER", "critic_unscored INTEGER")  # columns a store made before them lacks
_JSON = ("record", "tree")


class ProblemTable:
    """`sra_mcts_problems` in a RunStore."""

    def __init__(self, store: RunStore):
        self.store = store
        store.add_tables(SCHEMA)
        present = {r["name"] for r in store.query("PRAGMA table_info(sra_mcts_problems)")}
        missing = [column for column in ADDED if column.split()[0] not in present]
        if missing:
            with store.tx() as c:
                for column in missing:
                    c.execute(f"ALTER TABLE sra_mcts_problems ADD COLUMN {column}")

    def add(self, row: dict) -> None:
        """Insert one finished problem (an id already stored is an error: each problem runs once)."""
        values = [json.dumps(row[c]) if c in _JSON and row[c] is not None else row[c] for c in COLUMNS]
        with self.store.tx() as c:
            c.execute(f"INSERT INTO sra_mcts_problems ({', '.join(COLUMNS)}) VALUES ({', '.join('?' * len(COLUMNS))})", values)

    def done_ids(self) -> set[str]:
        return {r["problem_id"] for r in self.store.query("SELECT problem_id FROM sra_mcts_problems")}

    def rows(self) -> list[dict]:
        """Every stored problem in problem-file order, JSON columns decoded."""
        out = []
        for r in self.store.query("SELECT * FROM sra_mcts_problems ORDER BY position"):
            row = dict(r)
            for c in _JSON:
                row[c] = json.loads(row[c]) if row[c] is not None else None
            out.append(row)
        return out
