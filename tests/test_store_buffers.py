"""Run store and task buffers: dedup, FIFO cap, sampling, solver selection, never-empty batches."""

import random
import threading

import pytest

from selfevolve.store import RolloutRecord, RunStore, export_jsonl, export_parquet
from selfevolve.tasks.code_io.buffers import TaskBuffer, fill_batch, sample_programs
from selfevolve.tasks.code_io.store import TaskTable
from selfevolve.tasks.code_io.types import CodeTask, TaskType


def triplet(i: int, step: int = 0) -> CodeTask:
    return CodeTask(TaskType.DEDUCTION, f"def f(x):\n    return x + {i}", ("1",), (str(1 + i),), step=step)


def test_dedup_and_cap_keep_the_newest(tmp_path):
    store = RunStore(tmp_path / "s.sqlite")
    buf = TaskBuffer(store, "deduction", max_size=5)
    assert buf.add([triplet(i, step=i) for i in range(8)]) == 8
    assert [t.step for t in buf.tasks()] == [3, 4, 5, 6, 7]
    assert buf.add([triplet(7, step=9)]) == 0  # same content: a duplicate
    assert store.query("PRAGMA journal_mode")[0][0] == "wal"


def test_reference_sampling_without_replacement():
    buf = TaskBuffer(RunStore(), TaskType.ABDUCTION)
    buf.add([triplet(i, step=i) for i in range(10)])
    rng = random.Random(0)
    refs = buf.sample_references(6, rng)
    assert len({t.program for t in refs}) == 6
    assert len(buf.sample_references(50, rng)) == 10
    recent = [t.step for _ in range(200) for t in buf.sample_references(1, rng, weighting="recency")]
    assert sum(s >= 5 for s in recent) > sum(s < 5 for s in recent)


@pytest.mark.parametrize("strategy, new_at_least", [("max_new", 3), ("half_new", 2), ("uniform", 0)])
def test_solver_selection_prefers_previous_step(strategy, new_at_least):
    buf = TaskBuffer(RunStore(), TaskType.DEDUCTION)
    buf.add([triplet(i, step=0) for i in range(20)] + [triplet(100 + i, step=4) for i in range(3)])
    batch = buf.select_for_solver(4, step=5, rng=random.Random(1), strategy=strategy)
    assert len(batch) == 4 and sum(t.step == 4 for t in batch) >= min(new_at_least, 2 if strategy == "half_new" else 3)


def test_batches_are_filled_to_exactly_b_and_empty_only_with_a_warning():
    buf = TaskBuffer(RunStore(), TaskType.DEDUCTION)
    buf.add([triplet(i) for i in range(3)])
    batch = buf.select_for_solver(8, step=1, rng=random.Random(0), keep=lambda t: t.output != "2")
    assert len(batch) == 8 and {t.output for t in batch} == {"1", "3"}
    with pytest.warns(UserWarning, match="nothing left"):
        assert fill_batch(buf.tasks(), 8, random.Random(0), keep=lambda t: False) == []


def test_solve_stats_rollouts_metrics_and_rollback(tmp_path):
    store = RunStore()
    buf = TaskBuffer(store, TaskType.INDUCTION)
    ind = CodeTask(TaskType.INDUCTION, "def f(x):\n    return x", ("1", "2"), ("1", "2"), "id", step=2)
    buf.add([ind])
    [stored] = buf.tasks()
    buf.record_solves(stored, attempts=8, solved=3.0)
    row = TaskTable(store).rows("code_f")[0]
    assert (row["attempts"], row["solved"]) == (8, 3.0)
    assert sample_programs([buf], random.Random(0)).program == ind.program
    store.add_rollouts([RolloutRecord(2, "solve", "code_f", "p", "c", -0.5, stored.id)])
    store.add_metrics(2, {"reward": 0.25})
    assert store.metrics("reward") == [(2, 0.25)]
    assert export_jsonl(store, "rollouts", tmp_path / "r.jsonl") == 1
    assert export_parquet(store, "tasks", tmp_path / "t.parquet") == 1
    store.rollback_to(1)
    assert len(buf) == 0 and store.rollouts() == []


def test_store_is_thread_safe():
    buf = TaskBuffer(RunStore(), TaskType.DEDUCTION)
    threads = [threading.Thread(target=buf.add, args=([triplet(k * 100 + i) for i in range(50)],)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(buf) == 200


def test_rollback_reaches_the_family_table_of_a_reopened_store(tmp_path):
    """Resume opens the store before any buffer exists: rollback_to must still forget the family's rows."""
    path = tmp_path / "s.sqlite"
    with RunStore(path) as store:
        buf = TaskBuffer(store, TaskType.DEDUCTION)
        buf.add([triplet(i, step=i) for i in range(4)])
        store.add_rollouts([RolloutRecord(s, "solve", "code_o", "p", "c", 1.0) for s in range(4)])
        store.add_metrics(3, {"reward": 1.0})
    with RunStore(path) as reopened:
        assert reopened.tables() == ["rollouts", "metrics", "tasks"]
        reopened.rollback_to(1)
        assert [t.step for t in TaskBuffer(reopened, TaskType.DEDUCTION).tasks()] == [0, 1]
        assert [r.step for r in reopened.rollouts()] == [0, 1] and reopened.metrics("reward") == []


def test_task_table_keeps_the_v1_schema():
    """Existing run directories resume with this code: the task table's columns are those of store schema v1."""
    store = RunStore()
    TaskTable(store)
    assert store.columns("tasks") == [
        "id", "buffer", "program", "inputs", "outputs", "message", "imports", "n_given", "step", "valid",
        "reason", "attempts", "solved", "thought", "key", "created",
    ]
    assert store.columns("rollouts") == ["id", "step", "role", "task_type", "prompt", "completion", "reward", "task_id"]
    assert store.columns("metrics") == ["step", "name", "value"]


def test_export_of_an_unknown_table_names_the_tables(tmp_path):
    with pytest.raises(ValueError, match="unknown table 'tasks'; this store has rollouts, metrics"):
        export_jsonl(RunStore(), "tasks", tmp_path / "t.jsonl")
