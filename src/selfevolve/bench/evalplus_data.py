"""HumanEval+ and MBPP+ as EvalPlus 0.3.1 reads them (`evalplus/data/{humaneval,mbpp}.py`).

HumanEval+ inputs are used as stored. MBPP+ stores tuples, sets and complex numbers as JSON lists and
strings; EvalPlus rebuilds them per task before calling the function (`mbpp_deserialize_inputs`), and
so do we: `MBPP_INPUT_TYPES` below lists, per task number, the same conversion.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from selfevolve.bench.data import read_jsonl

HUMANEVAL_PLUS = "evalplus/HumanEvalPlus-v0.1.10.jsonl.gz"
MBPP_PLUS = "evalplus/MbppPlus-v0.2.0.jsonl.gz"
FILES = {"humaneval": HUMANEVAL_PLUS, "mbpp": MBPP_PLUS}
_MBPP_ID = re.compile(r"Mbpp/(\d+)")


def is_mbpp_pool_task(task_id: str) -> bool:
    """The project's MBPP+ split: tasks with an even number (`Mbpp/2`, `Mbpp/4`, ...) are the pool that
    SRA-MCTS synthesises from and METEOR trains on; the odd ones (and all of HumanEval+) are held out
    for evaluation (`mbpp+-heldout`)."""
    match = _MBPP_ID.fullmatch(task_id)
    return bool(match) and int(match.group(1)) % 2 == 0


@dataclass(frozen=True)
class PlusTask:
    """One EvalPlus problem. `base_inputs`/`plus_inputs` are positional argument lists (Python values)."""

    dataset: str  # "humaneval" | "mbpp"
    task_id: str
    prompt: str
    entry_point: str
    canonical_solution: str
    base_inputs: list
    plus_inputs: list
    atol: float

    @property
    def canonical_program(self) -> str:
        return self.prompt + self.canonical_solution


def load_tasks(dataset: str, path: Path) -> list[PlusTask]:
    if dataset not in FILES:
        raise ValueError(f"unknown EvalPlus dataset {dataset!r}; use one of {sorted(FILES)}")
    tasks = []
    for row in read_jsonl(path):
        base, plus = list(row["base_input"]), list(row["plus_input"])  # one MBPP+ task stores {} for none
        if dataset == "mbpp":
            number = int(row["task_id"].split("/")[-1])
            base, plus = mbpp_inputs(number, base), mbpp_inputs(number, plus)
        tasks.append(PlusTask(dataset, row["task_id"], row["prompt"], row["entry_point"], row["canonical_solution"],
                              base, plus, float(row["atol"])))
    return tasks


def _tuples(args: list) -> list:
    return [tuple(a) for a in args]


def _lists_of_tuples(args: list) -> list:
    return [[tuple(x) for x in a] for a in args]


def _all_tuples(value):
    return tuple(_all_tuples(x) for x in value) if isinstance(value, list) else value


# task number -> how one argument list is rebuilt (EvalPlus 0.3.1, evalplus/data/mbpp.py)
_CONVERSIONS: list[tuple[tuple[int, ...], Callable[[list], list | tuple]]] = [
    ((2, 116, 132, 143, 222, 261, 273, 394, 399, 421, 424, 429, 470, 560, 579, 596, 616, 630, 726, 740, 744, 809),
     _tuples),
    ((63, 64, 70, 94, 120, 237, 272, 299, 400, 409, 417, 438, 473, 614, 780), _lists_of_tuples),
    ((75, 413, 444, 753), lambda a: [[tuple(x) for x in a[0]], a[1]]),
    ((106, 750), lambda a: [a[0], tuple(a[1])]),
    ((115,), lambda a: [[set(x) if isinstance(x, list) and x else {} for x in a[0]]]),
    ((124,), lambda a: (float(a[0]), complex(a[1]))),
    ((250, 405, 446, 617, 720, 763, 808), lambda a: [tuple(a[0]), a[1]]),
    ((259, 401, 445), lambda a: [tuple(tuple(x) for x in arg) for arg in a]),
    ((278,), lambda a: [tuple(tuple(x) if isinstance(x, list) else x for x in a[0])]),
    ((307,), lambda a: [tuple(a[0]), a[1], a[2]]),
    ((722,), lambda a: [{k: tuple(v) for k, v in a[0].items()}, *a[1:]]),
    ((252,), lambda a: [complex(a[0])]),
    ((580, 615, 791), _all_tuples),
]
MBPP_INPUT_TYPES: dict[int, Callable[[list], list | tuple]] = {n: f for numbers, f in _CONVERSIONS for n in numbers}


def mbpp_inputs(number: int, inputs: list) -> list:
    """The argument lists of MBPP task `number` with EvalPlus's types restored."""
    convert = MBPP_INPUT_TYPES.get(number)
    return [convert(args) for args in inputs] if convert else inputs
