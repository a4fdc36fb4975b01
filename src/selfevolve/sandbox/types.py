"""The sandbox contract: jobs in, results out. Values cross the boundary only as repr text."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from enum import Enum


class Status(str, Enum):
    OK = "ok"
    SYNTAX_ERROR = "syntax_error"
    UNSAFE = "unsafe"
    TIMEOUT = "timeout"
    MEMORY_LIMIT = "memory_limit"
    RUNTIME_ERROR = "runtime_error"
    NONDETERMINISTIC = "nondeterministic"
    OUTPUT_LIMIT = "output_limit"
    SANDBOX_ERROR = "sandbox_error"


@dataclass(frozen=True)
class Job:
    """One program and the calls to make on it.

    `inputs` are argument lists as Python source, e.g. ``"[1, 2], k=3"``; the sandbox calls
    ``entry(<input>)`` once per input, in order, in one worker process.
    """

    id: str
    program: str
    inputs: list[str]
    imports: list[str] = field(default_factory=list)
    entry: str = "f"
    timeout: float | None = None  # seconds for the whole job; None = the sandbox default
    check_determinism: bool = True  # run in two processes with different hash seeds


@dataclass(frozen=True)
class Result:
    """What came back for one job. `outputs` holds repr text per input, in order, when ok."""

    id: str
    status: Status
    outputs: list[str] = field(default_factory=list)
    error: str = ""
    seconds: float = 0.0
    stdout: str = ""  # what the program printed (capped; not part of the determinism check)
    stderr: str = ""

    @property
    def ok(self) -> bool:
        return self.status is Status.OK

    def to_json(self) -> dict:
        d = asdict(self)
        d["status"] = self.status.value
        return d
