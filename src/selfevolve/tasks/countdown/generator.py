"""Solvable-by-construction Countdown problems (the priming-task generator of docs/spec/countdown_and_behaviors.md §1, seeded)."""

from __future__ import annotations

import random
from dataclasses import dataclass

from selfevolve.tasks.countdown.exclusion import game24_exclusion
from selfevolve.tasks.countdown.problem import CountdownProblem
from selfevolve.tasks.countdown.search import find_steps, steps_to_expression

MIN_SIZE, MAX_SIZE = 2, 6


@dataclass(frozen=True)
class GeneratorConfig:
    """How problems are drawn.

    start_probs: weights of problem sizes 2, 3, 4, ... (index 0 is size 2), up to size 6; the spec's
        priming value is (0, 0.5, 0.5). Rejection of unsolvable draws skews the realised sizes upward.
    min_target / max_target: target drawn uniformly once per problem (inclusive).
    min_number / max_number: each number uniform in this range; max_number None means max_target - 1.
    max_tries: draws per problem before giving up with an error (guards impossible settings).
    """

    start_probs: tuple[float, ...] = (0.0, 0.5, 0.5)
    min_target: int = 10
    max_target: int = 25
    min_number: int = 1
    max_number: int | None = None
    max_tries: int = 100_000
    exclude_game24: bool = True

    def __post_init__(self) -> None:
        if not 1 <= len(self.start_probs) <= MAX_SIZE - MIN_SIZE + 1:
            raise ValueError(
                f"start_probs gives weights for sizes 2..6 (1 to 5 entries), got {len(self.start_probs)}."
            )
        if any(p < 0 for p in self.start_probs) or sum(self.start_probs) <= 0:
            raise ValueError(f"start_probs must be non-negative with a positive sum, got {self.start_probs}.")
        if self.min_target > self.max_target:
            raise ValueError(f"min_target {self.min_target} exceeds max_target {self.max_target}.")
        if self.min_number < 0 or self.number_range[0] > self.number_range[1]:
            raise ValueError(f"number range {self.number_range} is empty or negative; fix min/max_number.")

    @property
    def number_range(self) -> tuple[int, int]:
        high = self.max_target - 1 if self.max_number is None else self.max_number
        return self.min_number, high


@dataclass(frozen=True)
class Preset:
    config: GeneratorConfig
    default_seed: int
    note: str = ""


PRESETS: dict[str, Preset] = {
    "priming": Preset(GeneratorConfig((0.0, 0.5, 0.5), 10, 25, 1, 24), 42, "priming data (main)"),
    "incorrect": Preset(GeneratorConfig((0.0, 0.5, 0.5), 10, 100, 1, 99), 42, "incorrect-only control"),
    "bulk": Preset(GeneratorConfig((0.1, 0.4, 0.5), 10, 25, 1, 24), 42, "bulk JSONL sets"),
}


def preset_config(preset: str) -> GeneratorConfig:
    if preset not in PRESETS:
        raise ValueError(f"unknown preset {preset!r}; choose one of {sorted(PRESETS)}.")
    return PRESETS[preset].config


def draw_problem(rng: random.Random, config: GeneratorConfig) -> CountdownProblem:
    """Target first, then draw sizes and numbers until a multiset is allowed and solvable."""
    target = rng.randint(config.min_target, config.max_target)
    sizes = list(range(MIN_SIZE, MIN_SIZE + len(config.start_probs)))
    low, high = config.number_range
    excluded = game24_exclusion() if config.exclude_game24 else frozenset()
    for _ in range(config.max_tries):
        k = rng.choices(sizes, weights=config.start_probs)[0]
        nums = tuple(rng.randint(low, high) for _ in range(k))
        if tuple(sorted(nums)) in excluded:
            continue
        steps = find_steps(nums, target)
        if steps is not None:
            return CountdownProblem(nums, target, steps_to_expression(nums, steps))
    raise RuntimeError(
        f"no solvable problem for target {target} after {config.max_tries} draws; widen the number range "
        "or put weight on larger sizes in start_probs."
    )


def generate_problems(
    n: int, seed: int, preset: str | GeneratorConfig = "priming"
) -> list[CountdownProblem]:
    """`n` solvable problems, reproducible from `seed`, drawn with a named preset or an explicit config."""
    if n < 0:
        raise ValueError(f"n must be >= 0, got {n}.")
    config = preset if isinstance(preset, GeneratorConfig) else preset_config(preset)
    rng = random.Random(seed)
    return [draw_problem(rng, config) for _ in range(n)]
