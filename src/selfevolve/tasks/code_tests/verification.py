"""Run candidate programs against their tests in the sandbox; one sandbox call for a whole batch.

Each (program, test) pair is one sandbox job: the program (its `__main__` demo block removed), then
the test's function (`checks.plan_test`), called once. The job's timeout is the per-test timeout.
The values the test returns are judged here (`checks.judge`), never inside the sandbox.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol, Sequence

from selfevolve.sandbox import SandboxConfig
from selfevolve.sandbox.static import is_banned
from selfevolve.sandbox.types import Job, Result
from selfevolve.tasks.code_tests.checks import ENTRY, TestPlan, judge, plan_test
from selfevolve.tasks.code_tests.config import CodeTestsConfig
from selfevolve.tasks.code_tests.parsing import strip_main_guard


class Runner(Protocol):
    """What we need of `selfevolve.sandbox.Sandbox`: jobs in, results out, order kept."""

    def run(self, jobs: Sequence[Job]) -> list[Result]: ...


@dataclass(frozen=True)
class TestResult:
    """One test: passed or not, and why (`passed`, `wrong`, `nonliteral`, `no_code`, or a sandbox status
    such as `runtime_error`, `timeout`, `unsafe`, `syntax_error`); `detail` holds the error text."""

    passed: bool
    reason: str
    detail: str = ""


@dataclass(frozen=True)
class Verification:
    """All tests of one candidate program."""

    results: tuple[TestResult, ...]

    @property
    def n_tests(self) -> int:
        return len(self.results)

    @property
    def n_passed(self) -> int:
        return sum(r.passed for r in self.results)

    @property
    def pass_rate(self) -> float:
        return self.n_passed / self.n_tests if self.results else 0.0

    @property
    def verified(self) -> bool:
        """Every test passed (and there was at least one)."""
        return bool(self.results) and self.n_passed == self.n_tests


def verify(candidates: Sequence[tuple[str | None, Sequence[str]]], runner: Runner,
           config: CodeTestsConfig = CodeTestsConfig()) -> list[Verification]:
    """One Verification per (program, tests) pair, in order. A None program fails all its tests
    (`no_code`). Identical (program, test) pairs run once."""
    require_run_time_bans(runner, config)
    plans: dict[str, TestPlan] = {}
    jobs: dict[tuple[str, str], int] = {}  # (program, test) -> job index
    job_list: list[Job] = []
    for code, tests in candidates:
        if code is None:
            continue
        program = strip_main_guard(code)
        for test in tests:
            if test not in plans:
                plans[test] = plan_test(test)
            if (program, test) not in jobs:
                jobs[(program, test)] = len(job_list)
                job_list.append(Job(id=str(len(job_list)), program=program + "\n\n\n" + plans[test].function, inputs=[""],
                                    entry=ENTRY, timeout=config.timeout, check_determinism=config.check_determinism))
    results = runner.run(job_list) if job_list else []
    out = []
    for code, tests in candidates:
        if code is None:
            out.append(Verification(tuple(TestResult(False, "no_code") for _ in tests)))
            continue
        program = strip_main_guard(code)
        out.append(Verification(tuple(_result(results[jobs[(program, t)]], plans[t], config) for t in tests)))
    return out


def _result(result: Result, plan: TestPlan, config: CodeTestsConfig) -> TestResult:
    if not result.ok:
        return TestResult(False, result.status.value, result.error[:500])
    passed, reason = judge(plan, result.outputs[0], config.equality)
    return TestResult(passed, reason)


def require_run_time_bans(runner: Runner, config: CodeTestsConfig) -> None:
    """Refuse a sandbox that would let one of the family's banned modules be imported at run time
    (inside `exec`'d text, say, which the static check cannot see). Runners without a SandboxConfig
    (test doubles) are not checked."""
    sandbox_config = getattr(runner, "config", None)
    if not isinstance(sandbox_config, SandboxConfig):
        return
    missing = [m for m in config.banned_modules if not is_banned(m, sandbox_config.banned_modules)]
    if missing:
        raise ValueError(
            f"the sandbox does not refuse the code-tests banned modules {missing[:4]} at run time; open it "
            "with the family's settings: Sandbox(CodeTestsConfig().sandbox_config(workers=...))"
        )
