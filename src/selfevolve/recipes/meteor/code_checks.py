"""Feedback you can verify: an answer's code (its last fenced python block) run against the question's tests.

`check_answers` is the one place METEOR runs code; the tests run in the sandbox, one job per test.
A test passes when its statements finish without an exception (its assert holds).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from textwrap import indent
from typing import Protocol

from selfevolve.sandbox import Job, Result, Sandbox, SandboxConfig

_FENCE = re.compile(r"```[ \t]*(?:python3?|py)?[ \t]*\n(.*?)```", re.DOTALL | re.IGNORECASE)
_ENTRY = "_meteor_test"


class Runner(Protocol):
    def run(self, jobs: Sequence[Job]) -> list[Result]: ...


@dataclass(frozen=True)
class CodeCheck:
    """An answer's code against its question's tests: each failed test with the reason."""

    n_tests: int
    failures: tuple[tuple[str, str], ...]  # (test source, why it failed)

    @property
    def passed(self) -> bool:
        return self.n_tests > 0 and not self.failures

    @property
    def pass_rate(self) -> float:
        return (self.n_tests - len(self.failures)) / self.n_tests if self.n_tests else 0.0

    def report(self, shown: int = 3) -> str:
        """The feedback a retry prompt gets: how many tests passed, and the first failures."""
        lines = [f"{self.n_tests - len(self.failures)} of {self.n_tests} tests passed."]
        lines += [f"Failed: {test.splitlines()[-1]} ({why})" for test, why in self.failures[:shown]]
        return "\n".join(lines)


def extract_code(answer: str) -> str | None:
    """The last complete fenced python block of an answer (untagged blocks count), or None."""
    blocks = [m.group(1) for m in _FENCE.finditer(answer)]
    return blocks[-1] if blocks and blocks[-1].strip() else None


def open_sandbox(workers: int) -> Sandbox:
    return Sandbox(SandboxConfig(workers=workers))


def sandbox_or_own(sandbox: Runner | None, needed: bool, workers: int) -> AbstractContextManager:
    """`sandbox` itself, or, when one is needed and none was given, a new one that is closed after use."""
    return nullcontext(sandbox) if sandbox is not None or not needed else open_sandbox(workers)


def check_answers(answers: Sequence[str], tests: Sequence[Sequence[str]], runner: Runner) -> list[CodeCheck]:
    """One CodeCheck per (answer, its tests), in order; one sandbox call for all of them. An answer
    without a fenced code block fails every test (`no_code`)."""
    codes = [extract_code(a) for a in answers]
    failures: list[list[tuple[str, str]]] = [[(t, "no_code") for t in ts] if code is None else []
                                             for code, ts in zip(codes, tests, strict=True)]
    jobs, owners = [], []
    for i, (code, answer_tests) in enumerate(zip(codes, tests)):
        for test in answer_tests if code is not None else ():
            body = indent(f"{test}\nreturn True", "    ")
            jobs.append(Job(id=str(len(jobs)), program=f"{code}\n\n\ndef {_ENTRY}():\n{body}\n", inputs=[""],
                            entry=_ENTRY, check_determinism=False))
            owners.append((i, test))
    for (i, test), result in zip(owners, runner.run(jobs) if jobs else []):
        if not (result.ok and result.outputs == ["True"]):
            failures[i].append((test, _why(result)))
    return [CodeCheck(len(ts), tuple(f)) for ts, f in zip(tests, failures)]


def _why(result: Result) -> str:
    if result.ok or "AssertionError" in result.error:
        return "wrong"
    return result.status.value
