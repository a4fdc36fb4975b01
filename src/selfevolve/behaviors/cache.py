"""On-disk cache of judge replies, keyed by a hash of the exact messages sent (SQLite, one table)."""

from __future__ import annotations

import hashlib
import json
import sqlite3
import threading
from pathlib import Path


def message_key(messages: list[dict], namespace: str = "") -> str:
    """sha256 of the namespace (e.g. the judge model) and the messages, canonically serialised."""
    payload = json.dumps({"ns": namespace, "messages": messages}, sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


class ReplyCache:
    """Raw reply text per key; `path=None` keeps it in memory. Safe to share between threads."""

    def __init__(self, path: str | Path | None = None):
        self._db = sqlite3.connect(":memory:" if path is None else str(path), check_same_thread=False)
        self._lock = threading.Lock()
        with self._lock:
            self._db.execute("CREATE TABLE IF NOT EXISTS replies (key TEXT PRIMARY KEY, reply TEXT NOT NULL)")
            self._db.commit()

    def get(self, key: str) -> str | None:
        with self._lock:
            row = self._db.execute("SELECT reply FROM replies WHERE key = ?", (key,)).fetchone()
        return None if row is None else row[0]

    def put(self, key: str, reply: str) -> None:
        with self._lock:
            self._db.execute("INSERT OR REPLACE INTO replies (key, reply) VALUES (?, ?)", (key, reply))
            self._db.commit()

    def __len__(self) -> int:
        with self._lock:
            return self._db.execute("SELECT COUNT(*) FROM replies").fetchone()[0]
