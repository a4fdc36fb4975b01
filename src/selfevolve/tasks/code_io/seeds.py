"""The public AZR seed files, the identity zero triplet, and seeding by a model (docs/spec/azr.md §2-§3).

Import accepts both schemas (abduction/deduction `snippet/input/output`, induction
`snippet/inputs/outputs/message`), ignores unknown keys, re-executes every entry and keeps it only
if it runs, is deterministic and reproduces its recorded outputs (the shipped files hold empty and
400-char-truncated outputs, which are dropped). Induction entries keep the pairs that reproduce and
need at least 2 of them.
"""

from __future__ import annotations

import json
import random
from collections import Counter
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Callable, Iterable, Sequence

from selfevolve.sandbox.compare import parse_literal, values_equal
from selfevolve.tasks.code_io.config import CodeIOConfig
from selfevolve.tasks.code_io.execution import Runner
from selfevolve.tasks.code_io.parsing import ParseError, parse_proposal, strip_after_entry, strip_comments
from selfevolve.tasks.code_io.prompts import Style, proposer_prompt
from selfevolve.tasks.code_io.types import CodeTask, Proposal, TaskType
from selfevolve.tasks.code_io.validation import validate_proposals, validate_tasks

ZERO_PROGRAM = "def f(a):\n    return a"
ZERO_INDUCTION_INPUTS = ('"Hello world"', "1", "dict(a=1, b=2)", "(1.1, 1.2, 1.3)", '"[[1, 0, 0], [0, 0, 0], [0, 0, 0]]"', "1001101100010001")
ZERO_MESSAGE = "Write a function that returns whatever you input"


def zero_triplet(task_type: TaskType | str = TaskType.DEDUCTION) -> CodeTask:
    """The identity seed `f(a) = a` on "Hello world" (output normalised to its repr)."""
    task_type = TaskType.parse(task_type)
    if task_type is TaskType.INDUCTION:
        return zero_induction()
    return CodeTask(task_type, ZERO_PROGRAM, ('"Hello world"',), (repr("Hello world"),))


def zero_induction() -> CodeTask:
    """The identity induction seed; outputs are the reprs the program returns."""
    outputs = ("'Hello world'", "1", "{'a': 1, 'b': 2}", "(1.1, 1.2, 1.3)", "'[[1, 0, 0], [0, 0, 0], [0, 0, 0]]'", "1001101100010001")
    return CodeTask(TaskType.INDUCTION, ZERO_PROGRAM, ZERO_INDUCTION_INPUTS, outputs, ZERO_MESSAGE)


# ---------------------------------------------------------------- reading and writing seed files


def seed_record_to_task(rec: dict, task_type: TaskType | str | None = None) -> CodeTask:
    """One seed-file record as a CodeTask (outputs as recorded, not yet re-executed).

    The schema decides the type: `inputs` lists make an induction task; otherwise `task_type`
    (default deduction; abduction and deduction share entries)."""
    if "snippet" not in rec:
        raise ValueError(f"seed record has no 'snippet' key (keys: {sorted(rec)}); is this an AZR seed file?")
    imports = tuple(rec.get("imports") or ())
    step = int(rec.get("step", 0) or 0)
    if "inputs" in rec:
        ins, outs = list(rec["inputs"]), list(rec.get("outputs") or [])
        if len(ins) != len(outs):
            raise ValueError(f"induction seed has {len(ins)} inputs but {len(outs)} outputs")
        return CodeTask(TaskType.INDUCTION, rec["snippet"], tuple(ins), tuple(outs), rec.get("message", ""), imports, step, thought=rec.get("thought", ""))
    kind = TaskType.parse(task_type) if task_type else TaskType.DEDUCTION
    if kind is TaskType.INDUCTION:
        raise ValueError("an abduction/deduction seed record (single 'input') cannot be read as induction")
    return CodeTask(kind, rec["snippet"], (str(rec["input"]),), (str(rec.get("output", "")),), imports=imports, step=step, thought=rec.get("thought", ""))


def task_to_seed_record(task: CodeTask) -> dict:
    """A CodeTask in the public seed schema (what `seed_record_to_task` reads back)."""
    base = {"snippet": task.program, "imports": list(task.imports)}
    if task.type is TaskType.INDUCTION:
        return {**base, "inputs": list(task.inputs), "outputs": list(task.outputs), "message": task.message, "step": task.step}
    return {**base, "input": task.input, "output": task.output, "original_snippet": task.program,
            "composite_functions": [], "step": task.step}


def read_seed_file(path: str | Path, task_type: TaskType | str | None = None) -> list[CodeTask]:
    out = []
    for n, line in enumerate(Path(path).read_text().splitlines(), 1):
        if line.strip():
            try:
                out.append(seed_record_to_task(json.loads(line), task_type))
            except (json.JSONDecodeError, ValueError) as e:
                raise ValueError(f"{path}:{n}: {e}") from None
    return out


def write_seed_file(path: str | Path, tasks: Iterable[CodeTask]) -> int:
    lines = [json.dumps(task_to_seed_record(t), ensure_ascii=False) for t in tasks]
    Path(path).write_text("".join(line + "\n" for line in lines))
    return len(lines)


# ---------------------------------------------------------------- import with re-execution


@dataclass
class ImportReport:
    """Kept tasks and the verdict of every record, counted by reason."""

    tasks: list[CodeTask] = field(default_factory=list)
    reasons: Counter = field(default_factory=Counter)


def import_seeds(tasks: Sequence[CodeTask], runner: Runner, config: CodeIOConfig = CodeIOConfig()) -> ImportReport:
    """Re-execute seed tasks (one sandbox call) and keep those that reproduce; dedupe by content."""
    report = ImportReport()
    seen: set[str] = set()
    for task, v in zip(tasks, validate_tasks(tasks, runner, config)):
        kept, reason = (_reconcile(task, v.task) if v.valid else (None, v.reason))
        if kept is not None:
            key = json.dumps(kept.content_key(), sort_keys=True)
            if key in seen:
                kept, reason = None, "duplicate"
            seen.add(key)
        report.reasons[reason] += 1
        if kept is not None:
            report.tasks.append(kept)
    return report


def _reconcile(recorded: CodeTask, fresh: CodeTask) -> tuple[CodeTask | None, str]:
    """Keep the pairs whose recorded output equals the recomputed value (as literals, type-strict)."""
    pairs = [(x, new) for x, old, new in zip(recorded.inputs, recorded.outputs, fresh.outputs) if _same(old, new)]
    if recorded.type is not TaskType.INDUCTION:
        if pairs:
            return fresh, "ok"
        return None, "empty_recorded_output" if not recorded.output.strip() else "output_mismatch"
    if len(pairs) < 2:
        return None, "too_few_pairs"
    return replace(fresh, inputs=tuple(x for x, _ in pairs), outputs=tuple(y for _, y in pairs)), "ok"


def _same(recorded: str, fresh: str) -> bool:
    if recorded == fresh:
        return True
    try:
        return values_equal(parse_literal(recorded), parse_literal(fresh), mode="strict")
    except ValueError:
        return False


# ---------------------------------------------------------------- seeding mode


Generate = Callable[[list[str]], list[str]]


def grow_seeds(
    generate: Generate,
    runner: Runner,
    *,
    config: CodeIOConfig = CodeIOConfig(),
    target: int = 256,
    batch_size: int = 64,
    style: Style = "full",
    rng: random.Random | None = None,
    max_rounds: int = 50,
) -> tuple[list[CodeTask], list[CodeTask]]:
    """Seeding mode (docs/spec/azr.md §3): a frozen model grows the seed buffer from the zero triplet.

    `generate(prompts) -> completions` (one completion per prompt) is the only model contact.
    Rounds of `batch_size` proposer prompts (K = min(num_references, |seeds|) references) are
    validated and deduped until `target` triplets; then one induction prompt per seed program
    until `target` induction entries. Comments and code after the entry function are stripped.
    Returns (triplets, induction entries); stops after `max_rounds` rounds per phase.
    """
    rng = rng or random.Random(0)
    triplets = [zero_triplet()]
    for _ in range(max_rounds):
        if len(triplets) >= target:
            break
        kinds = [rng.choice((TaskType.ABDUCTION, TaskType.DEDUCTION)) for _ in range(batch_size)]
        prompts = [proposer_prompt(k, rng.sample(triplets, min(config.num_references, len(triplets))), style=style,
                                   banned_keywords=config.banned_keywords) for k in kinds]
        proposals = _parse_all(generate(prompts), kinds, [None] * len(kinds), config)
        triplets = _merge(triplets, validate_proposals(proposals, runner, config), TaskType.DEDUCTION)
    triplets = triplets[:target]
    induction: list[CodeTask] = []
    for r in range(max_rounds):
        if len(induction) >= target:
            break
        refs = [triplets[(r * batch_size + i) % len(triplets)] for i in range(batch_size)]
        prompts = [proposer_prompt(TaskType.INDUCTION, [t], style=style, num_inputs=config.num_inputs) for t in refs]
        proposals = _parse_all(generate(prompts), [TaskType.INDUCTION] * len(refs), refs, config)
        induction = _merge(induction, validate_proposals(proposals, runner, config), TaskType.INDUCTION)
    return triplets, induction[:target]


def _parse_all(completions: list[str], kinds: list[TaskType], refs: list, config: CodeIOConfig) -> list[Proposal]:
    out = []
    for text, kind, ref in zip(completions, kinds, refs):
        try:
            if ref is None:
                p = parse_proposal(text, kind, num_inputs=config.num_inputs)
                p = replace(p, program=strip_after_entry(strip_comments(p.program)))
            else:
                p = parse_proposal(text, kind, program=ref.program, imports=ref.imports, num_inputs=config.num_inputs)
        except ParseError:
            continue
        out.append(p)
    return out


def _merge(have: list[CodeTask], validations, kind: TaskType) -> list[CodeTask]:
    seen = {json.dumps(t.content_key() | {"type": kind.value}, sort_keys=True) for t in have}
    for v in validations:
        if v.valid and v.task is not None:
            t = replace(v.task, type=kind)
            key = json.dumps(t.content_key(), sort_keys=True)
            if key not in seen:
                seen.add(key)
                have.append(t)
    return have
