"""Solver verification, hardened (docs/spec/azr.md §6; §11, defects 2-4).

* Abduction: the answer must be a pure literal argument list (`literals.literal_arguments`); the
  task's program runs on its canonical re-rendering in the sandbox and the repr is compared with the
  gold repr in this process.
* Deduction: no execution at all; `ast.literal_eval`-based parsing and type-strict comparison here.
* Induction: the candidate program runs on the hidden inputs in the sandbox (the task's imports
  prepended); reprs are compared here, so an always-equal `__eq__` never gets a say.

Nothing a model wrote is evaluated in this process. A whole batch costs at most two sandbox calls.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

from selfevolve.sandbox.compare import parse_literal, reprs_equal, values_equal
from selfevolve.sandbox.static import check_job
from selfevolve.sandbox.types import Status
from selfevolve.tasks.code_io.config import CodeIOConfig
from selfevolve.tasks.code_io.execution import Group, Outcome, Runner, require_run_time_bans, run_groups
from selfevolve.tasks.code_io.literals import literal_arguments
from selfevolve.tasks.code_io.parsing import ParseError, parse_solver_answer
from selfevolve.tasks.code_io.types import AnswerReason, AnswerVerdict, CodeTask, TaskType
from selfevolve.tasks.code_io.validation import status_reason


@dataclass
class _Pending:
    """An answer waiting for the sandbox: which group and which inputs of it are its own."""

    index: int
    group: int
    slots: list[int]


def verify_answers(
    tasks: Sequence[CodeTask], completions: Sequence[str], runner: Runner, config: CodeIOConfig = CodeIOConfig()
) -> list[AnswerVerdict]:
    """One AnswerVerdict per (task, completion) pair, in order."""
    if len(tasks) != len(completions):
        raise ValueError(f"verify_answers got {len(tasks)} tasks but {len(completions)} completions; pass one task per completion")
    require_run_time_bans(runner, config.banned_keywords)
    verdicts: list[AnswerVerdict | None] = [None] * len(tasks)
    planner = _Planner(config)
    for i, (task, text) in enumerate(zip(tasks, completions)):
        verdicts[i] = planner.add(i, task, text)
    for p, outcomes in planner.run(runner):
        verdicts[p.index] = _score(tasks[p.index], outcomes, config)
    return verdicts  # type: ignore[return-value]


class _Planner:
    """Turns answers into sandbox groups: abduction answers for one task share a group (dedup'd
    inputs); each induction candidate is its own group over the task's hidden inputs."""

    def __init__(self, config: CodeIOConfig) -> None:
        self.config = config
        self.groups: list[Group] = []
        self.pending: list[_Pending] = []
        self._abduction: dict[tuple, tuple[int, dict[str, int]]] = {}
        self._induction: dict[tuple, int] = {}

    def add(self, i: int, task: CodeTask, text: str) -> AnswerVerdict | None:
        if len(text) > self.config.max_answer_chars * 4:
            return AnswerVerdict(False, AnswerReason.FORMAT, detail="completion too long")
        try:
            answer = parse_solver_answer(text, task.type)
        except ParseError as e:
            reason = AnswerReason.SYNTAX_ERROR if e.reason == "syntax" else AnswerReason.FORMAT
            return AnswerVerdict(False, reason, detail=str(e))
        if task.type is TaskType.DEDUCTION:
            return _deduction(task, answer, self.config)
        if task.type is TaskType.ABDUCTION:
            return self._add_abduction(i, task, answer)
        return self._add_induction(i, task, answer)

    def _add_abduction(self, i: int, task: CodeTask, answer: str) -> AnswerVerdict | None:
        try:
            args = literal_arguments(answer, self.config.max_answer_chars)
        except ParseError as e:
            return AnswerVerdict(False, AnswerReason.INVALID_ANSWER, detail=str(e))
        key = (task.program, task.imports)
        if key not in self._abduction:
            self._abduction[key] = (len(self.groups), {})
            self.groups.append(Group(task.program, (), task.imports, timeout=self.config.timeout, probe=True))
        g, slots = self._abduction[key]
        if args not in slots:
            slots[args] = len(slots)
            grp = self.groups[g]
            self.groups[g] = Group(grp.program, grp.inputs + (args,), grp.imports, timeout=grp.timeout, probe=True)
        self.pending.append(_Pending(i, g, [slots[args]]))
        return None

    def _add_induction(self, i: int, task: CodeTask, program: str) -> AnswerVerdict | None:
        hidden = tuple(x for x, _ in task.hidden_pairs)
        problem = check_job(program, hidden, task.imports, banned_modules=self.config.banned_keywords)
        if problem is not None:
            return AnswerVerdict(False, _failure(problem.status), detail=problem.reason)
        key = (program, hidden, task.imports)
        if key not in self._induction:  # identical candidates for one task run once
            self._induction[key] = len(self.groups)
            # binary mode fails on any error, so only the other modes retry input by input
            split = self.config.induction_reward != "binary"
            self.groups.append(Group(program, hidden, task.imports, timeout=self.config.timeout, split=split))
        self.pending.append(_Pending(i, self._induction[key], list(range(len(hidden)))))
        return None

    def run(self, runner: Runner) -> list[tuple[_Pending, list[Outcome]]]:
        results = run_groups(runner, self.groups)
        return [(p, [results[p.group][k] for k in p.slots]) for p in self.pending]


def _deduction(task: CodeTask, answer: str, config: CodeIOConfig) -> AnswerVerdict:
    try:
        pred = parse_literal(answer, max_chars=config.max_answer_chars)
    except ValueError as e:
        return AnswerVerdict(False, AnswerReason.INVALID_ANSWER, detail=str(e))
    try:
        gold = parse_literal(task.output)
    except ValueError:  # a non-literal gold (allow_nonliteral_output) can only match as text
        ok = answer.strip() == task.output
        return _graded(ok, float(ok))
    ok = values_equal(gold, pred, mode=config.compare_mode)
    return _graded(ok, float(ok))


def _score(task: CodeTask, outcomes: list[Outcome], config: CodeIOConfig) -> AnswerVerdict:
    """Compare the sandbox reprs with gold, here in the parent."""
    golds = [task.output] if task.type is TaskType.ABDUCTION else [y for _, y in task.hidden_pairs]
    hits = []
    for gold, o in zip(golds, outcomes):
        if o.status is not Status.OK:
            if task.type is TaskType.ABDUCTION or config.induction_reward == "binary":
                return AnswerVerdict(False, _failure(o.status), detail=o.error)
            hits.append(False)
            continue
        hits.append(reprs_equal(gold, o.output, mode=config.compare_mode, allow_nonliteral=config.allow_nonliteral_output))
    return _combine(hits, task.type, config)


def _combine(hits: list[bool], task_type: TaskType, config: CodeIOConfig) -> AnswerVerdict:
    if task_type is TaskType.ABDUCTION or config.induction_reward == "binary":
        ok = all(hits)
        return _graded(ok, float(ok))
    frac = sum(hits) / len(hits)
    if config.induction_reward == "accuracy":
        ok = frac == 1.0
        return _graded(ok, frac)
    ok = any(hits)  # if_one_correct
    return _graded(ok, float(ok))


def _graded(ok: bool, score: float) -> AnswerVerdict:
    return AnswerVerdict(ok, AnswerReason.CORRECT if ok else AnswerReason.WRONG, score)


def _failure(status: Status) -> AnswerReason:
    """The reason for an answer whose program did not return normally (named as in validation)."""
    return AnswerReason(status_reason(status))
