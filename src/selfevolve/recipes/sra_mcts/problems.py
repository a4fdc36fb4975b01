"""Problem files: the reference's JSONL (`{"question": ...}`, optional `id` and `tests`), the shipped
LeetCode statements, and the MBPP+ synthesis pool for the execution-verified path.

MBPP+ split: tasks with an even number (`Mbpp/2`, `Mbpp/4`, ...) form the synthesis pool; the odd
ones, and all of HumanEval+, are held out for evaluation and never enter synthesis. A pool problem's
question is the MBPP+ prompt (the task text and one example assert, without the docstring quotes);
its tests are the task's `assertion` field (MBPP's original asserts), one test per assert with any
import before it, and `import math` in front (MBPP's harness has `math` in scope: Mbpp/120's asserts
call `math.isclose` without importing it). The `base_input` checks were not used: those inputs are stored as JSON, so tuples
arrive as lists (Mbpp/2's contract requires tuples) and outputs would have to come from the
canonical solution, which the held-out evaluation uses too.
"""

from __future__ import annotations

import gzip
import json
from importlib import resources
from pathlib import Path

from selfevolve.bench.evalplus_data import is_mbpp_pool_task
from selfevolve.recipes.sra_mcts.calls import Problem
from selfevolve.store.jsonl import read_jsonl
from selfevolve.tasks.code_tests import split_tests

SHIPPED = {"leetcode-uneasy": "leetcode-uneasy.jsonl"}  # the paper's 1,819 LeetCode medium/hard statements
MBPP_PLUS_FILE = "MbppPlus-v0.2.0.jsonl.gz"


def shipped_path(name: str) -> Path:
    return Path(str(resources.files("selfevolve") / "data" / "sra_mcts" / SHIPPED[name]))


def read_problems(source: str, limit: int | None = None) -> list[Problem]:
    """Problems from a JSONL file or a shipped name, in file order (the first `limit`)."""
    path = shipped_path(source) if source in SHIPPED else Path(source)
    if not path.is_file():
        raise ValueError(f"problem file {source} does not exist; pass a JSONL file of {{\"question\": ...}} records "
                         f"or a shipped set: {', '.join(SHIPPED)}")
    problems: list[Problem] = []
    seen: dict[str, int] = {}
    for number, record, error in read_jsonl(path):
        if limit is not None and len(problems) >= limit:
            break
        if error is not None:
            raise ValueError(f"{path}:{number} {error}; each line must be one record like {{\"question\": \"...\"}}")
        problem = _problem(record, number, len(problems), path)
        if problem.id in seen:
            raise ValueError(f"{path}:{number}: id {problem.id!r} repeats line {seen[problem.id]}; give each problem its own id")
        seen[problem.id] = number
        problems.append(problem)
    return problems


def _problem(record: dict, number: int, position: int, path: Path) -> Problem:
    where = f"{path}:{number}"
    if not isinstance(record.get("question"), str) or not record["question"].strip():
        raise ValueError(f"{where}: needs a non-empty string field `question`")
    pid = record.get("id", f"line-{number}")
    if not isinstance(pid, (str, int)) or isinstance(pid, bool):
        raise ValueError(f"{where}: `id` must be a string or an integer, got {pid!r}")
    return Problem(str(pid), record["question"], _tests(record.get("tests"), where), position)


def _tests(tests: object, where: str) -> tuple[str, ...] | None:
    if tests is None:
        return None
    if isinstance(tests, str):
        return tuple(split_tests(tests)) or None
    if not isinstance(tests, list) or not all(isinstance(t, str) and t.strip() for t in tests):
        raise ValueError(f"{where}: `tests` must be a list of Python statements (strings), e.g. [\"assert f(1) == 2\"]")
    return tuple(tests) or None


def default_mbpp_plus_path() -> Path:
    """The MBPP+ file shipped with selfevolve (`data/benchmarks/evalplus/`)."""
    return Path(str(resources.files("selfevolve") / "data" / "benchmarks" / "evalplus" / MBPP_PLUS_FILE))


def mbpp_synthesis_pool(path: Path | None = None) -> list[dict]:
    """Problem records (`id`, `question`, `tests`) of the even MBPP+ tasks, in file order."""
    return _mbpp_problems(path, pool=True)


def mbpp_heldout(path: Path | None = None) -> list[dict]:
    """The same records for the odd MBPP+ tasks: the held-out half, for evaluation only."""
    return _mbpp_problems(path, pool=False)


def _mbpp_problems(path: Path | None, pool: bool) -> list[dict]:
    path = path or default_mbpp_plus_path()
    if not path.is_file():
        raise ValueError(f"MBPP+ file {path} not found; pass the path of {MBPP_PLUS_FILE}")
    with gzip.open(path, "rt", encoding="utf-8") if path.suffix == ".gz" else path.open(encoding="utf-8") as lines:
        tasks = [json.loads(line) for line in lines if line.strip()]
    return [
        {"id": t["task_id"], "question": _mbpp_question(t["prompt"]), "tests": split_tests("import math\n" + t["assertion"])}
        for t in tasks if is_mbpp_pool_task(t["task_id"]) == pool
    ]


def _mbpp_question(prompt: str) -> str:
    text = prompt.strip()
    if text.startswith('"""') and text.endswith('"""'):
        text = text[3:-3]
    return text.strip()
