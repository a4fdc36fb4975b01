"""EvalPlus's test oracle: expected outputs from the canonical solution, and the per-input check.

Expected outputs (EvalPlus `get_groundtruth`): the canonical solution runs once on every input, in
the sandbox; its outputs and per-call times are cached on disk under the sha256 of the dataset file,
one file per task, so a later run (or `--limit`) computes only what is missing.

The check of one output (EvalPlus `unsafe_execute`, 0.3.1), all in the parent on decoded values:
``out == exp``, or the task's special oracle; when that fails and the task has a tolerance, the same
type and `numpy.allclose(out, exp, rtol=1e-7, atol)`. Floats without a tolerance get atol 1e-6, which
then holds for the rest of that run's inputs, as in EvalPlus.
"""

from __future__ import annotations

import gzip
import json
import math
import os
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from selfevolve.bench import harness
from selfevolve.bench.execution import SuiteRunner, CallSuite
from selfevolve.bench.evalplus_data import PlusTask
from selfevolve.bench.values import DecodeError, decode, measurement

CACHE_FORMAT = 1  # bump when what is cached changes
SPLITS = ("base", "plus")

# EvalPlus 0.3.1 evalplus/eval/_special_oracle.py: MBPP tasks checked by set equality or `is not None`
MBPP_OUTPUT_SET_EQ_TASKS = frozenset({
    "similar_elements", "find_char_long", "common_in_nested_lists", "extract_singly", "larg_nnum",
    "intersection_array", "find_dissimilar", "Diff",
})
MBPP_OUTPUT_NOT_NONE_TASKS = frozenset({"check_str", "text_match_three", "text_starta_endb"})


@dataclass
class Expected:
    """The canonical solution's outputs (tagged JSON text) and call times (seconds) for one split."""

    outputs: list[str | None]  # None: the canonical solution failed on this input in the sandbox
    seconds: list[float]
    floats: list[bool]  # EvalPlus `is_floats(expected)`, per input

    @property
    def longest(self) -> int:
        return max((len(t) for t in self.outputs if t is not None), default=0)


def canonical_call(task: PlusTask) -> harness.Call:
    post = "_se_not_none" if task.dataset == "mbpp" and task.entry_point in MBPP_OUTPUT_NOT_NONE_TASKS else None
    return harness.Call(task.entry_point, post)


def candidate_call(task: PlusTask) -> harness.Call:
    not_none = task.dataset == "mbpp" and task.entry_point in MBPP_OUTPUT_NOT_NONE_TASKS
    return harness.Call(task.entry_point, "_se_bool_or_not_none" if not_none else None)


def split_inputs(task: PlusTask, split: str) -> list:
    return task.base_inputs if split == "base" else task.plus_inputs


class ExpectedCache:
    """Expected outputs of one dataset file, computed on demand and kept in `root/<sha256>/`."""

    def __init__(self, root: Path, dataset_sha256: str):
        self.dir = Path(root) / f"evalplus-{dataset_sha256}-v{CACHE_FORMAT}"

    def get(self, tasks: Sequence[PlusTask], runner: SuiteRunner) -> dict[str, dict[str, Expected]]:
        """{task_id: {"base": Expected, "plus": Expected}} for `tasks`, computing the missing ones."""
        found = {t.task_id: self._load(t.task_id) for t in tasks}
        missing = [t for t in tasks if found[t.task_id] is None]
        if missing:
            for task, expected in zip(missing, compute_expected(missing, runner)):
                self._store(task.task_id, expected)
                found[task.task_id] = expected
        return found  # type: ignore[return-value]

    def _file(self, task_id: str) -> Path:
        return self.dir / (task_id.replace("/", "_") + ".json.gz")

    def _load(self, task_id: str) -> dict[str, Expected] | None:
        path = self._file(task_id)
        if not path.is_file():
            return None
        with gzip.open(path, "rt", encoding="utf-8") as f:
            data = json.load(f)
        return {split: Expected(**data[split]) for split in SPLITS}

    def _store(self, task_id: str, expected: dict[str, Expected]) -> None:
        self.dir.mkdir(parents=True, exist_ok=True)
        path = self._file(task_id)
        tmp = path.with_suffix(f".tmp{os.getpid()}")
        with gzip.open(tmp, "wt", encoding="utf-8") as f:
            json.dump({split: vars(e) for split, e in expected.items()}, f)
        os.replace(tmp, path)  # atomic: a killed run leaves no half-written entry


def compute_expected(tasks: Sequence[PlusTask], runner: SuiteRunner) -> list[dict[str, Expected]]:
    """Run each canonical solution on its base and plus inputs in the sandbox, without time limits.

    Where a split's run fails (an input needs more than the sandbox's 4 GiB, or its output is over
    64 MB), its inputs are run one by one, and the inputs that still fail have no expected output:
    no candidate can pass them."""
    pairs = [(task, split) for task in tasks for split in SPLITS]
    results = runner.run([_canonical_suite(task, split, range(len(split_inputs(task, split)))) for task, split in pairs])
    expected: dict[tuple[str, str], Expected] = {}
    for (task, split), result in zip(pairs, results):
        if result.ok:
            expected[(task.task_id, split)] = _expected([measurement(o) for o in result.outputs])
        else:
            expected[(task.task_id, split)] = _expected_one_by_one(task, split, runner)
    return [{split: expected[(task.task_id, split)] for split in SPLITS} for task in tasks]


def _canonical_suite(task: PlusTask, split: str, which: Sequence[int]) -> CallSuite:
    inputs = split_inputs(task, split)
    return CallSuite(f"{task.task_id}:{split}", task.canonical_program, canonical_call(task), [None] * len(which),
                     values=[inputs[i] for i in which])


def _expected_one_by_one(task: PlusTask, split: str, runner: SuiteRunner) -> Expected:
    n = len(split_inputs(task, split))
    results = runner.run([_canonical_suite(task, split, [i]) for i in range(n)])
    failed = [i for i, r in enumerate(results) if not r.ok]
    warnings.warn(f"{task.task_id}: the canonical solution fails on {len(failed)} of its {n} {split} inputs in the "
                  f"sandbox (e.g. input {failed[0]}: {results[failed[0]].status.value}); no candidate can pass them")
    return _expected([measurement(r.outputs[0]) if r.ok else None for r in results])


def _expected(measured: list[tuple[float, str] | None]) -> Expected:
    texts = [m[1] if m else None for m in measured]
    return Expected(texts, [m[0] if m else 0.0 for m in measured], [t is not None and _is_floats(decode(t)) for t in texts])


def time_limits(seconds: Sequence[float], min_time_limit: float = 1.0, factor: float = 4.0) -> list[float]:
    """EvalPlus: each test may take max(min_time_limit, factor x the canonical solution's time)."""
    return [max(min_time_limit, factor * s) for s in seconds]


def run_budget(limits: Sequence[float]) -> float:
    """EvalPlus's limit for a whole run: min(60, sum of the test limits) (+ 1 s, + 1 s it waits on join:
    the `slack` of `execution.CallSuite`)."""
    return min(60.0, sum(limits))


def check_outputs(task: PlusTask, split: str, outputs: Sequence[str], expected: Expected) -> bool:
    """Do the candidate's job outputs (one per input) pass, input by input, as in EvalPlus?"""
    if len(outputs) != len(expected.outputs):
        return False
    atol = task.atol
    for args, raw, exp_text, exp_floats in zip(split_inputs(task, split), outputs, expected.outputs, expected.floats):
        if exp_text is None:
            return False
        try:
            _, out_text = measurement(raw)
        except DecodeError:
            return False
        ok, atol = _check_one(task, args, out_text, exp_text, exp_floats, atol)
        if not ok:
            return False
    return True


def _check_one(task: PlusTask, args: list, out_text: str, exp_text: str, exp_floats: bool,
               atol: float) -> tuple[bool, float]:
    """(does this output pass, the tolerance for the next input). A float expected value without a
    tolerance sets atol to 1e-6, which EvalPlus keeps for the rest of the run (it reassigns `atol`)."""
    next_atol = 1e-6 if atol == 0 and exp_floats else atol
    if not _has_special_oracle(task) and out_text == exp_text and "NaN" not in exp_text:
        return True, next_atol  # the same encoding is the same value (NaN is the one value unequal to itself)
    try:
        out, exp = decode(out_text), decode(exp_text)
        if task.dataset == "humaneval" and task.entry_point == "find_zero":
            return abs(_poly(*args, out)) <= atol, atol  # HumanEval/32: any root passes
        exact = _exact(task, args, out, exp, atol)
        if not exact and next_atol != 0:
            if type(out) is not type(exp) or (isinstance(exp, (list, tuple)) and len(out) != len(exp)):
                return False, next_atol
            return bool(np.allclose(out, exp, rtol=1e-07, atol=next_atol)), next_atol
        return bool(exact), next_atol
    except Exception:  # noqa: BLE001 - in EvalPlus any exception while checking fails the test
        return False, next_atol


def _has_special_oracle(task: PlusTask) -> bool:
    if task.dataset == "humaneval":
        return task.entry_point == "find_zero"
    return task.entry_point in MBPP_OUTPUT_SET_EQ_TASKS or task.entry_point in (
        "are_equivalent", "sum_div", "surface_Area", "digit_distance_nums")


def _exact(task: PlusTask, args: list, out: Any, exp: Any, atol: float) -> bool:
    exact = out == exp
    if task.dataset != "mbpp":
        return exact
    name = task.entry_point
    if name == "are_equivalent":  # Mbpp/164: any output passes
        return True
    if name == "sum_div":  # Mbpp/295
        return exact or out == 0
    if name == "surface_Area":  # Mbpp/581: the height read as perpendicular height also passes
        return exact or abs(out - _pyramid_surface_area(*args)) <= atol
    if name == "digit_distance_nums":  # Mbpp/558: shorter number padded with zeros also passes
        return exact or out == _padded_digit_distance(*args)
    if name in MBPP_OUTPUT_SET_EQ_TASKS:
        return set(out) == set(exp)
    return exact


def _is_floats(x: Any) -> bool:
    """EvalPlus `is_floats`: a float, or a non-empty list/tuple of floats only."""
    if isinstance(x, float):
        return True
    return isinstance(x, (list, tuple)) and bool(x) and all(isinstance(i, float) for i in x)


def _poly(xs: list, x: float) -> float:
    """HumanEval/32's polynomial, evaluated as EvalPlus's oracle does."""
    return sum(coeff * math.pow(x, i) for i, coeff in enumerate(xs))


def _pyramid_surface_area(base_edge: float, height: float) -> int:
    slant = math.sqrt((base_edge / 2) ** 2 + height**2)
    return round(base_edge**2 + 4 * (base_edge * slant) / 2)


def _padded_digit_distance(a: int, b: int) -> int:
    x, y = str(a), str(b)
    width = max(len(x), len(y))
    return sum(abs(int(p) - int(q)) for p, q in zip(x.zfill(width), y.zfill(width)))
