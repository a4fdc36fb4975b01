"""A seeded generator of small deterministic Python functions with random valid inputs.

Programs are compositions of 1-4 typed steps from `synth_ops` (string/list/dict/int manipulations,
loops, conditionals, comprehensions, nested helpers, occasional recursion), so difficulty ranges
from one comprehension to a multi-step pipeline. Uses: the shipped held-out evaluation set for the
tiny models and the tiny-coder pretraining corpus. Every returned task passed `validate_tasks`.

    >>> from selfevolve.sandbox import Sandbox
    >>> with Sandbox(CodeIOConfig().sandbox_config()) as sb:
    ...     tasks = synth_programs(30, seed=1, runner=sb)
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Collection, Sequence

from selfevolve.tasks.code_io.config import CodeIOConfig
from selfevolve.tasks.code_io.execution import Runner
from selfevolve.tasks.code_io.synth_ops import DICT, INT, LIST, STR, Ctx, ops_from
from selfevolve.tasks.code_io.types import CodeTask, TaskType
from selfevolve.tasks.code_io.validation import validate_tasks

_PARAM = {INT: "n", STR: "s", LIST: "xs", DICT: "d"}
_VARS = ("a", "b", "c", "p", "q", "r")
_WORDS = ("cat", "dog", "sun", "moon", "tree", "bird", "fish", "book", "star", "rain", "code", "zero", "apple", "river")
_TYPE_NAMES = {INT: "an integer", STR: "a string", LIST: "a list of integers", DICT: "a dict of str to int"}


@dataclass(frozen=True)
class SynthProgram:
    """A generated program before validation: source, 10 inputs, and a plain-English message."""

    program: str
    inputs: tuple[str, ...]
    message: str
    steps: tuple[str, ...]  # op names, for difficulty statistics


def synth_program(rng: random.Random, num_inputs: int = 10, max_steps: int = 4) -> SynthProgram:
    """One random program `f` with `num_inputs` random inputs (pure: nothing runs here)."""
    kind = rng.choice([INT, STR, STR, LIST, LIST, LIST, DICT])
    has_k = kind in (LIST, STR, INT) and rng.random() < 0.25
    n_steps = rng.choices([1, 2, 3, 4][:max_steps], weights=[3, 4, 3, 2][:max_steps])[0]
    lines, descs, names = [], [], []
    cur_var, cur_type = _PARAM[kind], kind
    for i in range(n_steps):
        choices = ops_from(cur_type)
        op = rng.choices(choices, weights=[o.weight for o in choices])[0]
        dst = _VARS[i]
        body, desc = op.write(Ctx(rng, cur_var, dst, has_k))
        lines += body
        descs.append(desc)
        names.append(op.name)
        cur_var, cur_type = dst, op.dst
    params = _PARAM[kind] + (", k" if has_k else "")
    src = f"def f({params}):\n" + "".join(f"    {ln}\n" for ln in lines) + f"    return {cur_var}"
    inputs = tuple(_input(rng, kind, has_k) for _ in range(num_inputs))
    message = f"f takes {_TYPE_NAMES[kind]}{' and an integer k' if has_k else ''}; it " + ", then ".join(descs) + "."
    return SynthProgram(src, inputs, message, tuple(names))


def _input(rng: random.Random, kind: str, has_k: bool) -> str:
    value = _value(rng, kind)
    return f"{value!r}, {rng.randint(1, 4)}" if has_k else repr(value)


def _value(rng: random.Random, kind: str):
    if kind == INT:
        return rng.randint(-30, 150)
    if kind == STR:
        if rng.random() < 0.5:
            return " ".join(rng.choice(_WORDS) for _ in range(rng.randint(1, 3)))
        return "".join(rng.choice("abcdeilnorst") for _ in range(rng.randint(2, 8)))
    if kind == LIST:
        return [rng.randint(0, 20) for _ in range(rng.randint(2, 7))]
    keys = rng.sample("abcdefgh", rng.randint(2, 4))
    return {key: rng.randint(0, 9) for key in keys}


def _task(sp: SynthProgram, task_type: TaskType, rng: random.Random) -> CodeTask:
    if task_type is TaskType.INDUCTION:
        return CodeTask(task_type, sp.program, sp.inputs, ("",) * len(sp.inputs), message=sp.message)
    x = rng.choice(sp.inputs)
    return CodeTask(task_type, sp.program, (x,), ("",))


def synth_programs(
    n: int,
    seed: int,
    *,
    runner: Runner | None = None,
    task_types: Sequence[TaskType | str] = (TaskType.ABDUCTION, TaskType.DEDUCTION, TaskType.INDUCTION),
    config: CodeIOConfig = CodeIOConfig(),
    min_distinct_outputs: int = 3,
    max_rounds: int = 20,
    exclude: Collection[str] = (),
) -> list[CodeTask]:
    """`n` validated tasks, cycling through `task_types` (task i has type task_types[i % len]).

    Deterministic for a given `seed` and code version. Induction tasks need at least
    `min_distinct_outputs` distinct outputs among their 10 pairs. Programs in `exclude` are skipped
    (pass `selfevolve.eval.code_io.heldout_programs()` when building a training corpus). `runner` is a started
    `selfevolve.sandbox.Sandbox`; without one, a default sandbox is opened for the call.
    """
    if runner is None:
        from selfevolve.sandbox import Sandbox

        with Sandbox(config.sandbox_config()) as sb:
            return synth_programs(n, seed, runner=sb, task_types=task_types, config=config,
                                  min_distinct_outputs=min_distinct_outputs, max_rounds=max_rounds, exclude=exclude)
    types = [TaskType.parse(t) for t in task_types]
    if not types:
        raise ValueError("task_types is empty; pass at least one of abduction/deduction/induction")
    rng = random.Random(seed)
    wanted = [types[i % len(types)] for i in range(n)]
    found: dict[TaskType, list[CodeTask]] = {t: [] for t in types}
    seen: set[tuple[str, tuple[str, ...]]] = set()
    excluded = set(exclude)
    for _ in range(max_rounds):
        missing = [t for t in types for _ in range(wanted.count(t) - len(found[t]))]
        if not missing:
            break
        batch = [_task(synth_program(rng, config.num_inputs), t, rng) for t in missing for _ in range(2)]
        for v in validate_tasks(batch, runner, config):
            t = v.task
            if not v.valid or t is None or (t.program, t.inputs) in seen or t.program in excluded or len(found[t.type]) >= wanted.count(t.type):
                continue
            if t.type is TaskType.INDUCTION and len(set(t.outputs)) < min_distinct_outputs:
                continue
            seen.add((t.program, t.inputs))
            found[t.type].append(t)
    if any(len(found[t]) < wanted.count(t) for t in types):
        got = sum(len(v) for v in found.values())
        raise RuntimeError(f"synth_programs made only {got} of {n} valid tasks in {max_rounds} rounds; raise max_rounds")
    return [found[t][i // len(types)] for i, t in enumerate(wanted)]
