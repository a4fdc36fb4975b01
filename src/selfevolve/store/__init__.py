"""SQLite run store (tasks, rollouts, metrics) and exports (JSONL, parquet)."""

from selfevolve.store.db import SCHEMA_VERSION, Rollout, RunStore
from selfevolve.store.export import export_jsonl, export_parquet

__all__ = ["RunStore", "Rollout", "SCHEMA_VERSION", "export_jsonl", "export_parquet"]
