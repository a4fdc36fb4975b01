"""The four behaviours and the per-trace count record shared by judges, rules and the synthesiser."""

from __future__ import annotations

BEHAVIORS: tuple[str, ...] = ("verification", "backtracking", "subgoal", "backward")

Counts = dict[str, int]


def zero_counts() -> Counts:
    return {name: 0 for name in BEHAVIORS}


def check_behaviors(names) -> frozenset[str]:
    """Validate behaviour names, naming the bad one and the allowed set."""
    names = frozenset(names)
    unknown = names - set(BEHAVIORS)
    if unknown:
        raise ValueError(f"unknown behaviours {sorted(unknown)}; choose from {list(BEHAVIORS)}.")
    return names
