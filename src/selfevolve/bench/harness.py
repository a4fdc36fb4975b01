"""Sandbox jobs for function-call tests: one job runs one program on all of its test inputs.

The job's program is `child.py` (silences the program, times each call, encodes results), then the
program under test, then a small entry function. Test arguments travel either as values, in one tagged
JSON string constant of the program (`_SE_INPUTS`; the job's inputs are then ``"<limit>, <index>"``,
so the sandbox's static check parses one constant instead of every argument list), or as source text
(``"<limit>, <arguments>"``, for arguments that are expressions, as CRUXEval's). The job's result
holds one ``"<seconds>|<tagged JSON>"`` per test (see `values`), compared in the parent.
"""

from __future__ import annotations

import ast
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from selfevolve.bench.values import encode_arguments
from selfevolve.sandbox import Job, SandboxConfig

CHILD_SOURCE = (Path(__file__).resolve().parent / "child.py").read_text()
ENTRY = "_se_test"


@dataclass(frozen=True)
class Call:
    """What the entry function calls on each input: `target` is an expression naming a callable in the
    program (e.g. the task's entry point), `post` a function of child.py applied to the result."""

    target: str
    post: str | None = None


def sandbox_config(workers: int, memory_mb: int = 4096) -> SandboxConfig:
    """The sandbox settings for benchmark programs.

    No banned-module list (EvalPlus and LiveCodeBench ban none, and solutions use `time`, `hashlib`,
    `random`); the sandbox's process isolation, rlimits and runtime refusals all still apply. 4 GiB of
    address space as EvalPlus allows; one run per job (benchmarks have no determinism check).
    `execution.SuiteRunner` sets the largest output per sandbox."""
    return SandboxConfig(workers=workers, banned_modules=(), memory_mb=memory_mb, check_determinism=False)


def program(code: str, call: Call, values: Sequence | None = None) -> str:
    """The job program around `code`; with `values` (argument lists), the entry takes a test's index.
    `from __future__` imports of `code` move to the very top, where Python requires them."""
    future, body = _split_future(code)
    post = call.post or "None"
    if values is None:
        entry = (f"def {ENTRY}(_se_limit, *args):\n"
                 f"    return _se_measure(_se_limit, {call.target}, args, {post})\n")
    else:
        entry = (f"_SE_INPUTS = {encode_arguments(values)!r}\n\n\ndef {ENTRY}(_se_limit, _se_index):\n"
                 f"    return _se_measure(_se_limit, {call.target}, _se_arguments(_se_index), {post})\n")
    return "\n".join(part for part in (future, CHILD_SOURCE, body, entry) if part)


def job(job_id: str, code: str, call: Call, limits: Sequence[float | None], timeout: float,
        sources: Sequence[str] | None = None, values: Sequence | None = None) -> Job:
    """Test i has time limit `limits[i]` (seconds; None: none) and arguments `values[i]` (a list of
    builtin values) or `sources[i]` (argument-list source text): exactly one of the two is given."""
    if (sources is None) == (values is None):
        raise ValueError("give a job's test arguments as exactly one of sources or values")
    if values is not None:
        inputs = [f"{limit!r}, {i}" for i, limit in enumerate(limits)]
    else:
        inputs = [f"{limit!r}, {args}" if args else repr(limit) for limit, args in zip(limits, sources)]
    return Job(job_id, program(code, call, values), inputs, entry=ENTRY, timeout=timeout, check_determinism=False)


def _split_future(code: str) -> tuple[str, str]:
    """(the leading `from __future__ import ...` lines, the rest). Unparsable code is left as it is."""
    try:
        tree = ast.parse(code)
    except (SyntaxError, ValueError, MemoryError, RecursionError):
        return "", code
    lines = code.splitlines(keepends=True)
    future_rows: set[int] = set()
    for node in tree.body:
        if isinstance(node, ast.ImportFrom) and node.module == "__future__":
            future_rows.update(range(node.lineno - 1, node.end_lineno))
        elif not (isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant)):
            break  # only a docstring may come before them
    if not future_rows:
        return "", code
    future = "".join(lines[i] for i in sorted(future_rows))
    rest = "".join(line for i, line in enumerate(lines) if i not in future_rows)
    return future, rest
