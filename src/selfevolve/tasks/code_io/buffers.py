"""Per-type task buffers D_abd, D_ded, D_ind on the family's task table (docs/spec/azr.md §3-§4; §11, defects 9-10).

* References for the proposer: K entries without replacement, uniform or weighted ∝ step+1.
* Solver tasks: `max_new` (entries of the previous step first, the rest uniform), `uniform`, or
  `half_new`; then an optional filter (e.g. prompt length), then upsampling of kept items back to
  exactly B, so a batch is never short and never empty unless nothing survives.
* Dedup by canonical JSON of the content; a cap (paper: 16,384) that evicts the oldest entries.
"""

from __future__ import annotations

import random
import warnings
from typing import Callable, Iterable, Literal, Sequence

from selfevolve.store.db import RunStore
from selfevolve.tasks.code_io.store import TaskTable
from selfevolve.tasks.code_io.types import CodeTask, TaskType

Weighting = Literal["uniform", "recency"]
Selection = Literal["max_new", "uniform", "half_new"]
MAX_PROGRAMS = 16_384  # paper: cap per buffer


def task_to_row(task: CodeTask) -> dict:
    return {
        "program": task.program, "inputs": list(task.inputs), "outputs": list(task.outputs),
        "message": task.message, "imports": list(task.imports), "n_given": task.n_given,
        "step": task.step, "thought": task.thought,
    }


def row_to_task(row: dict, task_type: TaskType) -> CodeTask:
    return CodeTask(
        task_type, row["program"], tuple(row["inputs"]), tuple(row["outputs"]), row["message"],
        tuple(row["imports"]), row["step"], row["n_given"], row["id"], row.get("thought", ""),
    )


class TaskBuffer:
    """One task type's buffer in a RunStore. Entries are CodeTasks tagged with their creation step."""

    def __init__(self, store: RunStore, task_type: TaskType | str, max_size: int = MAX_PROGRAMS) -> None:
        self.table = TaskTable(store)
        self.type = TaskType.parse(task_type)
        self.max_size = max_size

    def __len__(self) -> int:
        return self.table.count(self.type.value)

    def distinct_programs(self) -> int:
        return self.table.count_programs(self.type.value)

    def add(self, tasks: Iterable[CodeTask], step: int | None = None) -> int:
        """Add tasks (re-typed to this buffer; `step` overrides their tags). Returns how many were new."""
        rows = []
        for t in tasks:
            row = task_to_row(t)
            if step is not None:
                row["step"] = step
            rows.append(row)
        return len(self.table.insert(self.type.value, rows, cap=self.max_size))

    def tasks(self, step: int | None = None) -> list[CodeTask]:
        """All entries, oldest first (only those created at `step` if given)."""
        return [row_to_task(r, self.type) for r in self.table.rows(self.type.value, step=step)]

    def sample_references(self, k: int, rng: random.Random, weighting: Weighting = "uniform") -> list[CodeTask]:
        """min(k, len) entries without replacement; `recency` weights each by step+1."""
        return sample_without_replacement(self.tasks(), k, rng, weighting)

    def select_for_solver(
        self,
        batch_size: int,
        step: int,
        rng: random.Random,
        strategy: Selection = "max_new",
        keep: Callable[[CodeTask], bool] | None = None,
    ) -> list[CodeTask]:
        """Exactly `batch_size` solver tasks drawn before this step's proposals are added.

        `max_new`: up to B entries created at `step - 1`, the rest uniform from the other entries;
        `half_new`: the same with at most B/2 new ones; `uniform`: B uniform entries. Then `keep`
        filters (e.g. prompts over the length limit) and kept items are duplicated at random back to
        B. Returns [] with a warning only when nothing survives (an empty buffer included)."""
        everything = self.tasks()
        new = [t for t in everything if t.step == step - 1]
        new_cap = {"max_new": batch_size, "half_new": batch_size // 2, "uniform": 0}.get(strategy)
        if new_cap is None:
            raise ValueError(f"unknown solver selection {strategy!r}; use max_new, uniform or half_new")
        chosen = rng.sample(new, min(new_cap, len(new)))
        taken = {id(t) for t in chosen}
        rest = [t for t in everything if id(t) not in taken]
        chosen += rng.sample(rest, min(batch_size - len(chosen), len(rest)))
        return fill_batch(chosen, batch_size, rng, keep, what=f"{self.type.long_name} solver batch")

    def record_solves(self, task: CodeTask, attempts: int, solved: float) -> None:
        if task.id is None:
            raise ValueError("record_solves needs a stored task (task.id is None); use tasks from this buffer")
        self.table.record_solves(task.id, attempts, solved)


def sample_without_replacement(items: Sequence[CodeTask], k: int, rng: random.Random, weighting: Weighting = "uniform") -> list[CodeTask]:
    k = min(k, len(items))
    if weighting == "uniform":
        return rng.sample(list(items), k)
    if weighting != "recency":
        raise ValueError(f"unknown reference weighting {weighting!r}; use 'uniform' or 'recency'")
    # Efraimidis-Spirakis: the k largest u^(1/w) are a weighted sample without replacement.
    keyed = sorted(items, key=lambda t: rng.random() ** (1.0 / (t.step + 1)), reverse=True)
    return keyed[:k]


def sample_programs(buffers: Sequence[TaskBuffer], rng: random.Random) -> CodeTask | None:
    """One entry uniform from the union of buffers (induction proposer: D_abd ∪ D_ded)."""
    pool = [t for b in buffers for t in b.tasks()]
    return rng.choice(pool) if pool else None


def fill_batch(
    items: list[CodeTask], batch_size: int, rng: random.Random,
    keep: Callable[[CodeTask], bool] | None = None, what: str = "batch",
) -> list[CodeTask]:
    """Filter, then upsample kept items to exactly `batch_size` (docs/spec/azr.md §11, defect 9)."""
    kept = [t for t in items if keep is None or keep(t)]
    if not kept:
        warnings.warn(f"{what}: nothing left after filtering {len(items)} candidates; skipping it", stacklevel=2)
        return []
    base = list(kept)
    while len(kept) < batch_size:
        kept.append(rng.choice(base))
    return kept[:batch_size]
