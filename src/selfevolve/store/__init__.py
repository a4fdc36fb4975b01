"""SQLite run store (tasks, rollouts, metrics) and exports (JSONL, parquet)."""
