"""The Countdown problem record and the TinyZero dataset schema (`Countdown-Tasks-3to4` rows and veRL rows)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from selfevolve.store.jsonl import read_jsonl

#: The reference split of Countdown-Tasks-3to4: contiguous, unshuffled.
TINYZERO_TRAIN_SIZE = 327_680
TINYZERO_TEST_SIZE = 1_024


@dataclass(frozen=True)
class CountdownProblem:
    """Reach `target` using every number in `nums` exactly once with + - * /.

    `solution` is one known solving expression (kept by the generator), or None when unknown.
    """

    nums: tuple[int, ...]
    target: int
    solution: str | None = None

    def __post_init__(self) -> None:
        if not self.nums:
            raise ValueError("CountdownProblem needs at least one number in `nums`.")
        if any(not isinstance(n, int) or isinstance(n, bool) or n < 0 for n in self.nums):
            raise ValueError(f"nums must be non-negative integers, got {list(self.nums)!r}.")
        if not isinstance(self.target, int) or isinstance(self.target, bool):
            raise ValueError(f"target must be an integer, got {self.target!r}.")

    def to_record(self) -> dict[str, Any]:
        """The TinyZero task schema `{target, nums}` (plus `solution` when known)."""
        record: dict[str, Any] = {"target": self.target, "nums": list(self.nums)}
        if self.solution is not None:
            record["solution"] = self.solution
        return record


def problem_from_record(record: dict[str, Any]) -> CountdownProblem:
    """Read a task from `{target, nums}`, a veRL row (`reward_model.ground_truth`), or `{target, numbers}`."""
    if "reward_model" in record:
        record = record["reward_model"].get("ground_truth", {})
    nums = record.get("nums", record.get("numbers"))
    if nums is None or "target" not in record:
        raise ValueError(
            "record has no Countdown task: expected keys `target` and `nums` (or a veRL row with "
            f"reward_model.ground_truth), got keys {sorted(record)}."
        )
    return CountdownProblem(tuple(int(n) for n in nums), int(record["target"]), record.get("solution"))


def to_training_row(problem: CountdownProblem, prompt: str, split: str, index: int) -> dict[str, Any]:
    """One veRL training row exactly as TinyZero writes it (`data_source` routes the reward)."""
    return {
        "data_source": "countdown",
        "prompt": [{"role": "user", "content": prompt}],
        "ability": "math",
        "reward_model": {
            "style": "rule",
            "ground_truth": {"target": problem.target, "numbers": list(problem.nums)},
        },
        "extra_info": {"split": split, "index": index},
    }


def tinyzero_split(
    items: list[Any], train_size: int = TINYZERO_TRAIN_SIZE, test_size: int = TINYZERO_TEST_SIZE
) -> tuple[list[Any], list[Any]]:
    """The reference split: train = first `train_size` rows, test = the next `test_size`, no shuffle."""
    if len(items) < train_size + test_size:
        raise ValueError(
            f"need at least {train_size + test_size} rows for this split, got {len(items)}; "
            "pass smaller train_size/test_size."
        )
    return items[:train_size], items[train_size : train_size + test_size]


def load_problems(path: str | Path) -> list[CountdownProblem]:
    """Read tasks from JSONL in any schema `problem_from_record` accepts; a bad line raises naming it."""
    problems = []
    for number, record, error in read_jsonl(path):
        if error is not None:
            raise ValueError(f"{path}:{number} {error}")
        try:
            problems.append(problem_from_record(record))
        except (ValueError, TypeError) as exc:
            raise ValueError(f"{path}:{number}: {exc}") from exc
    return problems
