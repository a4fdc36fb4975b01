"""Typed records of the three AZR code-reasoning task types (docs/spec/azr.md §1-§2)."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum, StrEnum


class TaskType(str, Enum):
    """Abduction asks for an input, deduction for an output, induction for the program."""

    ABDUCTION = "code_i"
    DEDUCTION = "code_o"
    INDUCTION = "code_f"

    @property
    def long_name(self) -> str:
        return {"code_i": "abduction", "code_o": "deduction", "code_f": "induction"}[self.value]

    @classmethod
    def parse(cls, name: str | TaskType) -> TaskType:
        """Accept a code name (`code_i`), a long name (`abduction`) or a TaskType."""
        if isinstance(name, TaskType):
            return name
        key = str(name).strip().lower()
        for t in cls:
            if key in (t.value, t.long_name):
                return t
        raise ValueError(
            f"unknown task type {name!r}; use one of abduction/deduction/induction (or code_i/code_o/code_f)"
        )


@dataclass(frozen=True)
class CodeTask:
    """One verified triplet family: a program `f`, its inputs and their gold output reprs.

    Abduction and deduction tasks hold exactly one input/output pair. Induction tasks hold all
    proposed pairs (normally 10); the first `n_given` are shown to the solver, the rest are hidden
    and used for verification.
    """

    type: TaskType
    program: str
    inputs: tuple[str, ...]
    outputs: tuple[str, ...]
    message: str = ""
    imports: tuple[str, ...] = ()
    step: int = 0
    n_given: int | None = None  # induction only; None = the first len(inputs) // 2
    id: int | None = None  # row id once stored
    thought: str = ""  # the proposer's reasoning, kept for inspection only

    def __post_init__(self) -> None:
        if len(self.inputs) != len(self.outputs):
            raise ValueError(f"task has {len(self.inputs)} inputs but {len(self.outputs)} outputs; they must pair up")
        if self.type is not TaskType.INDUCTION and len(self.inputs) != 1:
            raise ValueError(f"{self.type.long_name} tasks hold exactly one input/output pair, got {len(self.inputs)}")
        if self.type is TaskType.INDUCTION and len(self.inputs) < 2:
            raise ValueError("induction tasks need at least 2 input/output pairs (one given, one hidden)")

    @property
    def input(self) -> str:
        return self.inputs[0]

    @property
    def output(self) -> str:
        return self.outputs[0]

    @property
    def split(self) -> int:
        """How many pairs the induction solver sees (the rest are hidden)."""
        return self.n_given if self.n_given is not None else len(self.inputs) // 2

    @property
    def given_pairs(self) -> list[tuple[str, str]]:
        return list(zip(self.inputs[: self.split], self.outputs[: self.split]))

    @property
    def hidden_pairs(self) -> list[tuple[str, str]]:
        return list(zip(self.inputs[self.split :], self.outputs[self.split :]))

    def content_key(self) -> dict:
        """What identifies a task for deduplication (no step, id or thought)."""
        return {
            "type": self.type.value,
            "program": self.program,
            "inputs": list(self.inputs),
            "outputs": list(self.outputs),
            "message": self.message,
            "imports": list(self.imports),
        }


@dataclass(frozen=True)
class Proposal:
    """What a proposer completion parses into, before the sandbox computes outputs."""

    type: TaskType
    program: str  # entry function already renamed to `f`
    inputs: tuple[str, ...]
    message: str = ""
    imports: tuple[str, ...] = ()
    thought: str = ""


class AnswerReason(StrEnum):
    """Why a solver answer was judged as it was (the sandbox's statuses keep their validation names)."""

    CORRECT = "correct"
    WRONG = "wrong"
    FORMAT = "format"  # no parsable answer, or a completion far over the answer limit
    SYNTAX_ERROR = "syntax_error"  # the answer's code does not parse
    INVALID_ANSWER = "invalid_answer"  # parsed, but not an acceptable literal / argument list
    UNSAFE = "unsafe"  # the answer's code fails the static safety check
    TIMEOUT = "timeout"
    MEMORY_LIMIT = "memory_limit"
    RUNTIME_ERROR = "runtime_error"  # the program raised on the answer
    NONDETERMINISTIC = "nondeterministic"
    OVERSIZE_OUTPUT = "oversize_output"
    SANDBOX_ERROR = "sandbox_error"  # the executor itself failed: the answer was not judged


@dataclass(frozen=True)
class AnswerVerdict:
    """The outcome of checking one solver answer.

    `score` is 1/0 for binary checks or the fraction of hidden pairs for induction `accuracy` mode.
    """

    correct: bool
    reason: AnswerReason
    score: float = 0.0
    detail: str = ""

    @property
    def judged(self) -> bool:
        """False when the executor failed, so the answer says nothing about the solver (docs/spec/azr.md §7)."""
        return self.reason is not AnswerReason.SANDBOX_ERROR


@dataclass
class Validation:
    """The outcome of validating one proposal: the stored task when valid, else the reason."""

    valid: bool
    reason: str
    task: CodeTask | None = None
    detail: str = ""
    extras: dict = field(default_factory=dict)
