"""Rewards of the code task family (docs/spec/azr.md §7): format gate, solver reward, proposer learnability."""

from __future__ import annotations

import re
from typing import Sequence

_FORMAT_RE = re.compile(r"<think>.*?</think>\s*<answer>.*?</answer>", re.DOTALL)

SOLVER_CORRECT = 1.0
SOLVER_WRONG = -0.5  # formatted but wrong
FORMAT_FAILURE = -1.0


def format_ok(response: str, *, think_prefilled: bool = True) -> bool:
    """Does the response match `<think>.*?</think>\\s*<answer>.*?</answer>` from the start?

    With `think_prefilled` (our prompts end in `Assistant: <think>`), the response is read as if it
    began with that `<think>`. Trailing text after `</answer>` is allowed.
    """
    text = "<think>" + response if think_prefilled else response
    return _FORMAT_RE.match(text) is not None


def solver_reward(formatted: bool, correct: bool) -> float:
    """1.0 correct, -0.5 formatted but wrong, -1.0 format failure (an unformatted answer never scores)."""
    if not formatted:
        return FORMAT_FAILURE
    return SOLVER_CORRECT if correct else SOLVER_WRONG


def solve_rate(scores: Sequence[float | None]) -> float | None:
    """Mean accuracy of the solver samples; `None` entries (executor failures) are excluded.
    Returns None when no sample could be scored."""
    kept = [s for s in scores if s is not None]
    return sum(kept) / len(kept) if kept else None


def proposer_reward(
    valid: bool,
    formatted: bool,
    scores: Sequence[float | None],
    extreme_reward: float = 0.0,
) -> float:
    """Learnability reward: -1 if invalid or unformatted; else 1 - r̄ for 0 < r̄ < 1, and
    `extreme_reward` when r̄ is 0 or 1 (paper Eq. 4: 0.0; reference code: -0.5).

    `scores` are the per-sample accuracies of the n learnability solver rollouts (format not
    required); with no scorable sample the task counts as extreme.
    """
    if not (valid and formatted):
        return FORMAT_FAILURE
    rate = solve_rate(scores)
    if rate is None or rate <= 0.0 or rate >= 1.0:
        return extreme_reward
    return 1.0 - rate
