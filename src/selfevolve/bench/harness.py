"""Sandbox jobs for function-call tests: one job runs one program on all of its test inputs.

The job's program is `child.py` (silences the program, times each call, encodes results), then the
program under test, then a small entry function; its inputs are ``"<limit>, <arguments>"``. The job's
result holds one ``"<seconds>|<tagged JSON>"`` per input (see `values`), compared in the parent.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

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


def program(code: str, call: Call) -> str:
    """The job program around `code`. `from __future__` imports of `code` move to the very top, where
    Python requires them."""
    future, body = _split_future(code)
    entry = (f"def {ENTRY}(_se_limit, *args):\n"
             f"    return _se_measure(_se_limit, {call.target}, args, {call.post or 'None'})\n")
    return "\n".join(part for part in (future, CHILD_SOURCE, body, entry) if part)


def job(job_id: str, code: str, call: Call, arguments: list[str], limits: list[float | None], timeout: float) -> Job:
    """`arguments[i]` is the argument-list source of test i; `limits[i]` its time limit in seconds (None: none)."""
    inputs = [f"{limit!r}, {args}" if args else repr(limit) for limit, args in zip(limits, arguments)]
    return Job(job_id, program(code, call), inputs, entry=ENTRY, timeout=timeout, check_determinism=False)


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
