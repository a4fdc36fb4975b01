"""results.json: {"suite", "model", "n_samples", "metrics", "tasks"}, the same for `bench run` and
`bench score`. `tasks[id]["correct"]` holds one bool per sample in file order; the EvalPlus+ suites
add "base" and "plus" per task and `base_pass@k` beside `pass@k` (which is plus) in the metrics."""

from __future__ import annotations

import json
import os
from pathlib import Path

from selfevolve.bench.passk import mean_pass_at_k
from selfevolve.bench.suite import Verdicts


def results_dict(suite: str, model: str | None, verdicts: Verdicts) -> dict:
    tasks: dict[str, dict[str, list[bool]]] = {}
    for tid, correct in verdicts.correct.items():
        tasks[tid] = {"correct": list(correct)}
        if verdicts.base is not None and verdicts.plus is not None:
            tasks[tid]["base"] = list(verdicts.base[tid])
            tasks[tid]["plus"] = list(verdicts.plus[tid])
    metrics = mean_pass_at_k(verdicts.correct)
    if verdicts.base is not None:
        metrics.update(mean_pass_at_k(verdicts.base, prefix="base_"))
    n_samples = min((len(v) for v in verdicts.correct.values()), default=0)
    return {"suite": suite, "model": model, "n_samples": n_samples, "metrics": metrics, "tasks": tasks}


def write_json(path: Path, data: dict) -> None:
    """Write atomically: a reader never sees half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + f".tmp{os.getpid()}")
    tmp.write_text(json.dumps(data, indent=1) + "\n")
    os.replace(tmp, path)
