"""Code-reasoning evaluation: score solver completions against task records (JSONL).

Task record: `id`, `type` (abduction | deduction | induction), `program`, `imports` (optional),
and `input` + `output` (abduction, deduction) or `inputs` + `outputs` + `message` + `n_given`
(induction: the first `n_given` pairs are shown, the rest are hidden and verified).
Answer record: `id`, `completion` (raw model text; several per id allowed, for pass@k).
Verdict record: `id`, `type`, `correct`, `reason`, `score`.
"""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable, Sequence

from selfevolve.llm.types import Generator, SamplingParams
from selfevolve.tasks.code_io.config import CodeIOConfig
from selfevolve.tasks.code_io.execution import Runner
from selfevolve.tasks.code_io.prompts import Style, solver_prompt
from selfevolve.tasks.code_io.types import CodeTask, TaskType
from selfevolve.tasks.code_io.verification import verify_answers

HELDOUT_TINY = Path(__file__).resolve().parent.parent / "data" / "code_io" / "heldout_tiny.jsonl"
HELDOUT_SEED = 1_000_003  # reserved for the shipped held-out set; training corpora use other seeds

# generate(prompts, n, temperature) -> n completions per prompt (the model backend plugs in here).
GenerateFn = Callable[[list[str], int, float], list[list[str]]]


def task_to_eval_record(task_id: str, task: CodeTask) -> dict:
    """A CodeTask as an evaluation task record (schema above; `seeds.task_to_seed_record` is the AZR seed schema)."""
    rec = {"id": task_id, "type": task.type.long_name, "program": task.program, "imports": list(task.imports)}
    if task.type is TaskType.INDUCTION:
        return rec | {"inputs": list(task.inputs), "outputs": list(task.outputs), "message": task.message, "n_given": task.split}
    return rec | {"input": task.input, "output": task.output}


def eval_record_to_task(rec: dict) -> tuple[str, CodeTask]:
    """(id, CodeTask) of an evaluation task record (what `task_to_eval_record` writes)."""
    missing = [k for k in ("id", "type", "program") if k not in rec]
    if missing:
        raise ValueError(f"task record lacks {missing}; each needs id, type, program and its input/output fields")
    kind = TaskType.parse(rec["type"])
    imports = tuple(rec.get("imports") or ())
    if kind is TaskType.INDUCTION:
        task = CodeTask(kind, rec["program"], tuple(rec["inputs"]), tuple(rec["outputs"]), rec.get("message", ""),
                        imports, n_given=rec.get("n_given"))
    else:
        task = CodeTask(kind, rec["program"], (rec["input"],), (rec["output"],), imports=imports)
    return str(rec["id"]), task


def _read_jsonl(path: str | Path) -> list[dict]:
    out = []
    for n, line in enumerate(Path(path).read_text().splitlines(), 1):
        if line.strip():
            try:
                out.append(json.loads(line))
            except json.JSONDecodeError as e:
                raise ValueError(f"{path}:{n}: not JSON ({e})") from None
    return out


def load_tasks(path: str | Path) -> dict[str, CodeTask]:
    tasks: dict[str, CodeTask] = {}
    for n, rec in enumerate(_read_jsonl(path), 1):
        try:
            tid, task = eval_record_to_task(rec)
        except (KeyError, ValueError) as e:
            raise ValueError(f"{path}: record {n}: {e}") from None
        if tid in tasks:
            raise ValueError(f"{path}: duplicate task id {tid!r}; ids must be unique")
        tasks[tid] = task
    return tasks


def write_tasks(path: str | Path, tasks: Iterable[tuple[str, CodeTask]]) -> int:
    lines = [json.dumps(task_to_eval_record(tid, t), ensure_ascii=False) for tid, t in tasks]
    Path(path).write_text("".join(line + "\n" for line in lines))
    return len(lines)


def load_answers(path: str | Path) -> list[tuple[str, str]]:
    out = []
    for n, rec in enumerate(_read_jsonl(path), 1):
        if "id" not in rec or "completion" not in rec:
            raise ValueError(f"{path}: answer record {n} needs 'id' and 'completion' keys, got {sorted(rec)}")
        out.append((str(rec["id"]), str(rec["completion"])))
    return out


def score_answers(
    tasks: dict[str, CodeTask], answers: Sequence[tuple[str, str]], runner: Runner, config: CodeIOConfig = CodeIOConfig()
) -> list[dict]:
    """One verdict record per answer, in order (one batched verification for all of them)."""
    unknown = sorted({tid for tid, _ in answers if tid not in tasks})
    if unknown:
        raise ValueError(f"answers refer to unknown task ids {unknown[:5]}{'...' if len(unknown) > 5 else ''}; check --tasks")
    verdicts = verify_answers([tasks[tid] for tid, _ in answers], [c for _, c in answers], runner, config)
    return [
        {"id": tid, "type": tasks[tid].type.long_name, "correct": v.correct, "reason": v.reason, "score": v.score}
        for (tid, _), v in zip(answers, verdicts)
    ]


def sample_answers(
    tasks: dict[str, CodeTask], generate: GenerateFn, *, n: int = 1, temperature: float = 0.0, style: Style = "compact"
) -> list[tuple[str, str]]:
    """Ask a model for `n` completions per task (greedy with temperature 0) via `generate`."""
    ids = list(tasks)
    outs = generate([solver_prompt(tasks[i], style=style) for i in ids], n, temperature)
    if len(outs) != len(ids):
        raise ValueError(f"generate returned {len(outs)} lists for {len(ids)} prompts")
    return [(tid, c) for tid, cs in zip(ids, outs) for c in cs]


def text_sampler(generator: Generator, max_new_tokens: int, top_p: float = 1.0, seed: int | None = None) -> GenerateFn:
    """A `GenerateFn` over any `selfevolve.llm` Generator (temperature 0 = greedy; `seed` fixes sampling)."""

    def generate(prompts: list[str], n: int, temperature: float) -> list[list[str]]:
        params = SamplingParams(n=n, max_new_tokens=max_new_tokens, temperature=temperature, top_p=top_p, seed=seed)
        return [[c.text for c in cs] for cs in generator.generate(prompts, params)]

    return generate


@dataclass(frozen=True)
class TypeSummary:
    answers: int
    correct: int
    tasks: int
    tasks_solved: int  # pass@n: at least one correct answer

    @property
    def accuracy(self) -> float:
        return self.correct / self.answers if self.answers else 0.0

    @property
    def pass_at_n(self) -> float:
        return self.tasks_solved / self.tasks if self.tasks else 0.0


def summarize(verdicts: Sequence[dict]) -> dict[str, TypeSummary]:
    """Per task type (and 'all'): answer accuracy and the fraction of tasks with a correct answer."""
    by_task: dict[tuple[str, str], list[bool]] = defaultdict(list)
    for v in verdicts:
        by_task[(v["type"], v["id"])].append(bool(v["correct"]))
    out: dict[str, TypeSummary] = {}
    for kind in ("abduction", "deduction", "induction", "all"):
        rows = [hits for (t, _), hits in by_task.items() if kind in ("all", t)]
        if rows:
            out[kind] = TypeSummary(sum(map(len, rows)), sum(map(sum, rows)), len(rows), sum(any(h) for h in rows))
    return out


def reason_counts(verdicts: Sequence[dict]) -> dict[str, int]:
    counts: dict[str, int] = defaultdict(int)
    for v in verdicts:
        counts[v["reason"]] += 1
    return dict(sorted(counts.items(), key=lambda kv: -kv[1]))


def heldout_programs(path: str | Path = HELDOUT_TINY) -> set[str]:
    """Programs of the shipped held-out set, to keep out of training corpora (`synth_programs(exclude=...)`)."""
    return {t.program for t in load_tasks(path).values()}
