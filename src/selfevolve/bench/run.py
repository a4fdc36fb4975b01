"""`bench run` and `bench score` without the command line: generate samples batch by batch (resumable),
then score a samples file into results.json.

A run writes `<out>/<suite>/run.json` (its settings), `samples.jsonl` (every sample, appended per
finished batch) and `results.json`. With `resume`, a run with the same settings continues: a torn last
line is cut off, samples already present are counted per task, and only the missing ones are generated,
so every (task, index) ends up in the file exactly once.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, asdict
from pathlib import Path

from selfevolve.bench import samples as samples_file
from selfevolve.bench.generation import BenchGenerator
from selfevolve.bench.results import results_dict, write_json
from selfevolve.bench.suite import ScoreOptions, Suite, Verdicts
from selfevolve.llm import SamplingParams


class RunError(ValueError):
    """A run that cannot start or continue; the message says why and what to do."""


@dataclass(frozen=True)
class RunSettings:
    """What must not change between a run and its resumption."""

    suite: str
    model: str
    generator: str
    style: str
    n: int
    temperature: float
    top_p: float
    max_new_tokens: int
    limit: int | None
    seed: int | None
    math_template: str | None = None  # the math suites' prompt (azr | qwen25-math-cot); None for the others


def score_records(suite: Suite, tasks: Sequence, records: list[dict], options: ScoreOptions) -> Verdicts:
    """Verdicts for the tasks that have samples; a sample of an unknown task is an error."""
    known = {t.task_id for t in tasks}
    grouped = samples_file.by_task(records)
    unknown = sorted(set(grouped) - known)
    if unknown:
        raise RunError(f"{len(unknown)} sample task_id(s) are not in {suite.name} (e.g. {unknown[:3]}); "
                       f"check the suite name and the file")
    ordered = {t.task_id: grouped[t.task_id] for t in tasks if t.task_id in grouped}
    return suite.score([t for t in tasks if t.task_id in grouped], ordered, options)


def score_file(suite: Suite, tasks: Sequence, path: Path, model: str | None, options: ScoreOptions) -> dict:
    records = samples_file.read(path)
    return results_dict(suite.name, model, score_records(suite, tasks, records, options))


def run_suite(suite: Suite, tasks: Sequence, generator: BenchGenerator, settings: RunSettings, out: Path,
              batch_size: int, resume: bool, options: ScoreOptions,
              progress: Callable[[int, int], None] | None = None) -> dict:
    """Generate what is missing, score everything, write results.json; returns the results."""
    folder = out / suite.name
    samples_path, settings_path = folder / "samples.jsonl", folder / "run.json"
    done = _prepare(folder, samples_path, settings_path, settings, resume)
    params = SamplingParams(n=1, max_new_tokens=settings.max_new_tokens, temperature=settings.temperature,
                            top_p=settings.top_p, seed=settings.seed)
    rows = [(task, index) for task in tasks for index in range(done.get(task.task_id, 0), settings.n)]
    total, finished = len(tasks) * settings.n, len(tasks) * settings.n - len(rows)
    if progress:
        progress(finished, total)
    for start in range(0, len(rows), batch_size):
        batch = rows[start : start + batch_size]
        completions = generator.generate([suite.prompt(task, generator.style) for task, _ in batch], params)
        samples_file.append(samples_path, [_record(suite, task, index, c, generator.style)
                                           for (task, index), c in zip(batch, completions)])
        finished += len(batch)
        if progress:
            progress(finished, total)
    results = score_records(suite, tasks, samples_file.read(samples_path), options)
    data = results_dict(suite.name, settings.model, results)
    write_json(folder / "results.json", data)
    return data


def _prepare(folder: Path, samples_path: Path, settings_path: Path, settings: RunSettings, resume: bool) -> dict:
    """Check the run folder against `resume`; returns the samples already present per task."""
    folder.mkdir(parents=True, exist_ok=True)
    if samples_path.exists() and not resume:
        raise RunError(f"{samples_path} already exists; pass --resume to continue that run, or choose another --out")
    if resume and settings_path.exists():
        before = json.loads(settings_path.read_text())
        if before != asdict(settings):
            changed = sorted(k for k in asdict(settings) if before.get(k) != asdict(settings)[k])
            raise RunError(f"cannot resume {folder}: settings differ from the first run ({', '.join(changed)}); "
                           f"rerun with the same settings, or choose another --out")
    write_json(settings_path, asdict(settings))
    samples_file.repair(samples_path)
    if not samples_path.exists():
        return {}
    counts = samples_file.done_counts(samples_file.read(samples_path))
    over = {tid: c for tid, c in counts.items() if c > settings.n}
    if over:
        raise RunError(f"{samples_path} holds more than n={settings.n} samples for {len(over)} task(s); "
                       f"resume with the same -n")
    return dict(counts)


def _record(suite: Suite, task, index: int, completion, style: str) -> dict:
    return {"task_id": task.task_id, "index": index, **suite.record(task, completion.text, style),
            "finish_reason": completion.finish_reason, "tokens": len(completion.token_ids)}
