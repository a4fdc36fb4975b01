"""Runs function-call test suites in the sandbox: many inputs per job, chunked to fit the sandbox's
result record.

The sandbox bounds a job's result record by (inputs x the largest output allowed); that bound must fit
in 32 bits. Most expected outputs are short, some are not (a HumanEval+ output reaches 12 MB), so jobs
run in one of two sandboxes: outputs up to 1 MB (up to 700 inputs per job), or up to 64 MB (11 inputs
per job). A suite whose output sizes are unknown (the canonical solution's first run) starts in the
small one and moves to the large one where an output did not fit (so does any suite whose output
turned out longer than its bound).

Each chunk's job may run for min(the suite's budget, the sum of its tests' limits) plus a slack for
start-up and for encoding results (EvalPlus's budget is min(60 s, sum of the limits) for a whole run;
per chunk it is applied to the chunk, which is never stricter than EvalPlus and rarely more lenient:
only when a suite's tests together run for more than the budget).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace

from selfevolve.bench import harness
from selfevolve.sandbox import Job, Sandbox, Status

SMALL_OUTPUT_CHARS = 1_000_000
LARGE_OUTPUT_CHARS = 64_000_000
_RECORD_LIMIT = 2**32 - 1
_RECORD_FIXED = 6 * 2 * 65_536 + 4096  # the sandbox's stdout/stderr allowance and record overhead
UNTIMED_BUDGET = 900.0  # seconds for a suite without per-test limits (the canonical solution's run)


@dataclass(frozen=True)
class CallSuite:
    """One program and its tests: test i calls `call` on `values[i]` (an argument list of builtin values)
    or on `sources[i]` (argument-list source text; exactly one of the two), under `limits[i]` seconds
    (None: none). `budget` caps the summed time of all tests (None: the sum of the limits); `slack` seconds are
    added per job for start-up. `output_chars` is a bound on any output's repr length, when known.
    `max_tests_per_job` bounds a job's size below what the output size allows: a test that never
    returns is only stopped by its job's wall-clock limit, so smaller jobs waste less time on it."""

    id: str
    code: str
    call: harness.Call
    limits: Sequence[float | None]
    values: Sequence | None = None
    sources: Sequence[str] | None = None
    budget: float | None = None
    slack: float = 2.0
    output_chars: int | None = None
    max_tests_per_job: int | None = None


@dataclass
class SuiteResult:
    """`ok` when every chunk ran to completion; then `outputs` holds one repr text per test."""

    ok: bool
    outputs: list[str] = field(default_factory=list)
    status: Status = Status.OK
    error: str = ""


def chunk_size(max_output_chars: int) -> int:
    return max(1, (_RECORD_LIMIT - _RECORD_FIXED) // ((max_output_chars + 16) * 6))


class SuiteRunner:
    """Owns the two sandboxes (started on first use); use as a context manager."""

    def __init__(self, workers: int):
        self.workers = workers
        self._sandboxes: dict[int, Sandbox] = {}

    def __enter__(self) -> SuiteRunner:
        return self

    def __exit__(self, *exc) -> None:
        for sb in self._sandboxes.values():
            sb.close()

    def run(self, suites: Sequence[CallSuite]) -> list[SuiteResult]:
        small = [s.output_chars is None or 2 * s.output_chars + 1024 <= SMALL_OUTPUT_CHARS for s in suites]
        results: list[SuiteResult | None] = [None] * len(suites)
        for tier, members in ((SMALL_OUTPUT_CHARS, [i for i, f in enumerate(small) if f]),
                              (LARGE_OUTPUT_CHARS, [i for i, f in enumerate(small) if not f])):
            for i, r in zip(members, self._run_tier(tier, [suites[i] for i in members])):
                results[i] = r
        # an output over the small bound (unknown sizes, or a candidate's longer text for an equal value,
        # e.g. 0.30000000000000004 for 0.3) gets a second run with the large one
        retry = [i for i, r in enumerate(results) if r.status is Status.OUTPUT_LIMIT and small[i]]
        for i, r in zip(retry, self._run_tier(LARGE_OUTPUT_CHARS, [suites[i] for i in retry])):
            results[i] = r
        return results  # type: ignore[return-value]

    def _sandbox(self, max_output_chars: int) -> Sandbox:
        if max_output_chars not in self._sandboxes:
            config = replace(harness.sandbox_config(self.workers), max_output_chars=max_output_chars)
            self._sandboxes[max_output_chars] = Sandbox(config)
        return self._sandboxes[max_output_chars]

    def _run_tier(self, max_output_chars: int, suites: Sequence[CallSuite]) -> list[SuiteResult]:
        if not suites:
            return []
        size = chunk_size(max_output_chars)
        jobs, owners = [], []
        for k, suite in enumerate(suites):
            for job in _chunk_jobs(suite, min(size, suite.max_tests_per_job or size)):
                jobs.append(job)
                owners.append(k)
        per_suite: list[list] = [[] for _ in suites]
        for k, result in zip(owners, self._sandbox(max_output_chars).run(jobs)):
            per_suite[k].append(result)
        return [_join(parts) for parts in per_suite]


def _chunk_jobs(suite: CallSuite, size: int) -> list[Job]:
    n = len(suite.limits)
    timed = n > 0 and all(lim is not None for lim in suite.limits)
    jobs = []
    for c, start in enumerate(range(0, n, size) if n else [0]):  # a suite without tests still runs its program
        limits = list(suite.limits[start : start + size])
        if timed:
            chunk = sum(limits)
            timeout = (chunk if suite.budget is None else min(suite.budget, chunk)) + suite.slack
        else:
            timeout = (suite.budget if suite.budget is not None else UNTIMED_BUDGET) + suite.slack
        part = slice(start, start + size)
        jobs.append(harness.job(f"{suite.id}#{c}", suite.code, suite.call, limits, timeout,
                                sources=None if suite.sources is None else list(suite.sources[part]),
                                values=None if suite.values is None else list(suite.values[part])))
    return jobs


def _join(parts: list) -> SuiteResult:
    outputs: list[str] = []
    for r in parts:
        if not r.ok:
            return SuiteResult(False, [], r.status, r.error)
        outputs.extend(r.outputs)
    return SuiteResult(True, outputs)
