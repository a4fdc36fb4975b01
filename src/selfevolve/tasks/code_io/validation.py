"""Proposal validation through the sandbox (docs/spec/azr.md §5.5-§5.9; §11, defects 1, 6, 7).

A proposal is valid only if every input runs to a normal return in two separate processes with
different hash seeds and identical reprs, twice in a row in the same process (so stateful programs,
whose later calls differ, are caught too), within the size limit, and as a parsable literal unless
`allow_nonliteral_output`. The gold output is always the sandbox's repr, never the model's text.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Sequence

from selfevolve.sandbox.compare import parse_literal
from selfevolve.sandbox.static import check_job
from selfevolve.sandbox.types import Status
from selfevolve.tasks.code_io.config import CodeIOConfig
from selfevolve.tasks.code_io.execution import Group, Outcome, Runner, require_run_time_bans, run_groups
from selfevolve.tasks.code_io.types import CodeTask, Proposal, TaskType, Validation

_STATUS_REASON = {
    Status.SYNTAX_ERROR: "syntax_error",
    Status.UNSAFE: "unsafe",
    Status.TIMEOUT: "timeout",
    Status.MEMORY_LIMIT: "memory_limit",
    Status.RUNTIME_ERROR: "runtime_error",
    Status.NONDETERMINISTIC: "nondeterministic",
    Status.OUTPUT_LIMIT: "oversize_output",
    Status.SANDBOX_ERROR: "sandbox_error",
}


def status_reason(status: Status) -> str:
    return "ok" if status is Status.OK else _STATUS_REASON[status]


def validate_proposals(
    proposals: Sequence[Proposal], runner: Runner, config: CodeIOConfig = CodeIOConfig(), step: int = 0
) -> list[Validation]:
    """One Validation per proposal (in order); valid ones carry the CodeTask with gold outputs."""
    return validate_tasks([_as_task(p, step) for p in proposals], runner, config)


def _as_task(p: Proposal, step: int) -> CodeTask:
    # Outputs are placeholders until the sandbox computes them; CodeTask needs equal lengths.
    return CodeTask(p.type, p.program, p.inputs, ("",) * len(p.inputs), p.message, p.imports, step, thought=p.thought)


def validate_tasks(tasks: Sequence[CodeTask], runner: Runner, config: CodeIOConfig = CodeIOConfig()) -> list[Validation]:
    """Execute every task's inputs (one sandbox call for the whole batch) and recompute its outputs."""
    require_run_time_bans(runner, config.banned_keywords)
    verdicts: list[Validation | None] = [_static(t, config) for t in tasks]
    todo = [i for i, v in enumerate(verdicts) if v is None]
    groups = [_group(tasks[i], config) for i in todo]
    for i, outcomes in zip(todo, run_groups(runner, groups)):
        verdicts[i] = _judge(tasks[i], outcomes, config)
    return verdicts  # type: ignore[return-value]


def _static(task: CodeTask, config: CodeIOConfig) -> Validation | None:
    problem = check_job(
        task.program, task.inputs, task.imports,
        banned_modules=config.banned_keywords,
        reject_multiple_functions=config.reject_multiple_functions,
    )
    if problem is None:
        return None
    return Validation(False, status_reason(problem.status), detail=problem.reason)


def _group(task: CodeTask, config: CodeIOConfig) -> Group:
    # Every input twice in one process: a second call that differs means hidden state (threat 27).
    return Group(task.program, task.inputs + task.inputs, task.imports, check_determinism=True, timeout=config.timeout, split=False)


def _judge(task: CodeTask, outcomes: list[Outcome], config: CodeIOConfig) -> Validation:
    bad = next((o for o in outcomes if o.status is not Status.OK), None)
    if bad is not None:
        return Validation(False, status_reason(bad.status), detail=bad.error)
    n = len(task.inputs)
    first, second = [o.output for o in outcomes[:n]], [o.output for o in outcomes[n:]]
    if first != second:
        return Validation(False, "stateful", detail="a second call with the same input returned a different repr")
    outputs = []
    for out in first:
        out, problem = _gold(out, config)
        if problem:
            return Validation(False, problem, detail=out[:120])
        outputs.append(out)
    if task.type is TaskType.INDUCTION and config.require_distinct_outputs and len(set(outputs)) == 1:
        return Validation(False, "constant_outputs", detail="all outputs are equal")
    return Validation(True, "ok", task=replace(task, outputs=tuple(outputs)))


def _gold(out: str, config: CodeIOConfig) -> tuple[str, str]:
    """(gold repr, problem): applies the size policy and the literal rule."""
    if len(out) > config.max_output_chars:
        if config.oversize_output == "reject":
            return out, "oversize_output"
        half = config.max_output_chars // 2
        out = out[:half] + "..." + out[-half:]
    if not config.allow_nonliteral_output:
        try:
            parse_literal(out)
        except ValueError:
            return out, "nonliteral_output"
    return out, ""
