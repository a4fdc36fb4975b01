"""The priming conditions of the study (docs/spec/countdown_and_behaviors.md §7) and the records `prime-data` writes."""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from selfevolve.behaviors.synth import synthesize_trace
from selfevolve.behaviors.types import BEHAVIORS, zero_counts
from selfevolve.tasks.countdown import CountdownProblem, generate_problems, render_prompt, score

ALL = frozenset(BEHAVIORS)


@dataclass(frozen=True)
class Condition:
    """behaviors: what the thoughts show; thought: "full", "empty" (`<think> </think>`) or "dots"
    (" ." per token of the original thought, minus one); p_correct: share of correct final answers;
    preset: which problem generator preset the condition draws from."""

    name: str
    behaviors: frozenset[str]
    thought: str = "full"
    p_correct: float = 0.35
    preset: str = "priming"


CONDITIONS: dict[str, Condition] = {
    c.name: c
    for c in (
        Condition("all_strategies", ALL),
        Condition("only_backtracking", frozenset({"backtracking"})),
        Condition("backtracking_verification", frozenset({"backtracking", "verification"})),
        Condition("backtracking_backward", frozenset({"backtracking", "backward"})),
        Condition("backtracking_subgoal", frozenset({"backtracking", "subgoal"})),
        Condition("negative_control", frozenset()),
        Condition("empty_cot", ALL, thought="empty"),
        Condition("dots", ALL, thought="dots"),
        Condition("incorrect_only", ALL, p_correct=0.0, preset="incorrect"),
    )
}


def whitespace_tokens(text: str) -> int:
    return len(text.split())


def get_condition(name: str) -> Condition:
    if name not in CONDITIONS:
        raise ValueError(f"unknown condition {name!r}; choose one of {sorted(CONDITIONS)}.")
    return CONDITIONS[name]


def prime_record(
    problem: CountdownProblem,
    condition: Condition,
    rng: random.Random,
    count_tokens: Callable[[str], int] = whitespace_tokens,
    heldout_phrasing: bool = False,
) -> dict[str, Any]:
    """One priming example: the query, a `<think>...</think>\\n<answer>...</answer>` completion, labels."""
    correct = rng.random() < condition.p_correct
    trace = synthesize_trace(problem, condition.behaviors, rng, correct, heldout_phrasing)
    thought, counts = trace.thought, trace.counts
    if condition.thought == "empty":
        thought, counts = " ", zero_counts()
    elif condition.thought == "dots":
        thought, counts = " ." * max(count_tokens(trace.thought) - 1, 0), zero_counts()
    completion = f"<think>{thought}</think>\n<answer>{trace.answer}</answer>"
    return {
        "query": render_prompt(problem, "priming"),
        "completion": completion,
        "nums": list(problem.nums),
        "target": problem.target,
        "condition": condition.name,
        "behaviors": counts,
        "reward": score(completion, problem)[0],
    }


def prime_data(
    condition: str, n: int, seed: int, count_tokens: Callable[[str], int] = whitespace_tokens
) -> list[dict[str, Any]]:
    """`n` priming records for a condition, reproducible from `seed` (problems and traces alike)."""
    spec = get_condition(condition)
    rng = random.Random(f"{condition}:{seed}")
    return [prime_record(p, spec, rng, count_tokens) for p in generate_problems(n, seed, spec.preset)]
