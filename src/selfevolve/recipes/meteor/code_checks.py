"""Feedback you can verify: an answer's code (its last fenced python block) run against the question's tests.

The code-with-tests family (`tasks.code_tests`) does the work: each test runs after the program in
the sandbox, one job per test, and the asserts' values are judged in this process, type-strictly, so
a program cannot pass by tampering with `assert` or `==` inside the sandbox. This module turns its
verdicts into a retry prompt's feedback.
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass

from selfevolve.sandbox import Sandbox
from selfevolve.tasks.code_tests import CodeTestsConfig, extract_code, verify
from selfevolve.tasks.code_tests.verification import Runner

CODE_TESTS = CodeTestsConfig()


@dataclass(frozen=True)
class CodeCheck:
    """An answer's code against its question's tests: each failed test with the reason (`wrong`,
    `no_code`, or the sandbox's status such as `runtime_error`, `timeout`)."""

    n_tests: int
    failures: tuple[tuple[str, str], ...]  # (test source, why it failed)

    @property
    def passed(self) -> bool:
        return self.n_tests > 0 and not self.failures

    def report(self, shown: int = 3) -> str:
        """The feedback a retry prompt gets: how many tests passed, and the first failures."""
        lines = [f"{self.n_tests - len(self.failures)} of {self.n_tests} tests passed."]
        lines += [f"Failed: {test.splitlines()[-1]} ({why})" for test, why in self.failures[:shown]]
        return "\n".join(lines)


def open_sandbox(workers: int) -> Sandbox:
    """A sandbox with the code-with-tests family's rules (its banned modules refused at run time too)."""
    return Sandbox(CODE_TESTS.sandbox_config(workers=workers))


def sandbox_or_own(sandbox: Runner | None, needed: bool, workers: int) -> AbstractContextManager:
    """`sandbox` itself, or, when one is needed and none was given, a new one that is closed after use."""
    return nullcontext(sandbox) if sandbox is not None or not needed else open_sandbox(workers)


def check_answers(answers: Sequence[str], tests: Sequence[Sequence[str]], runner: Runner) -> list[CodeCheck]:
    """One CodeCheck per (answer, its tests), in order; one sandbox call for all of them."""
    verifications = verify([(extract_code(a), t) for a, t in zip(answers, tests, strict=True)], runner, CODE_TESTS)
    return [CodeCheck(len(t), tuple((test, r.reason) for test, r in zip(t, v.results) if not r.passed))
            for t, v in zip(tests, verifications)]
