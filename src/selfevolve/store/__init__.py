"""The run store: SQLite tables of one run (rollouts, metrics, and the tables task families add),
their exports (JSONL, parquet), and the per-step metrics files (`metrics.jsonl`, TensorBoard)."""

from selfevolve.store.db import SCHEMA_VERSION, RolloutRecord, RunStore
from selfevolve.store.export import export_jsonl, export_parquet
from selfevolve.store.metrics import MetricsLogger, read_metrics

__all__ = ["RunStore", "RolloutRecord", "SCHEMA_VERSION", "MetricsLogger", "export_jsonl", "export_parquet", "read_metrics"]
