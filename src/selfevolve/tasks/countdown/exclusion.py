"""The 200-problem "24 game" exclusion list, generated in code rather than typed in.

The spec (docs/spec/countdown_and_behaviors.md §1) defines the list only by its shape: 200 multisets of 4 numbers from 1-13 (target 24), of
which 197 are solvable. The reference list itself is not published with the spec, so we build a list
with exactly that shape, deterministically: enumerate all 1,820 sorted 4-multisets of 1-13, shuffle
them with `random.Random(24)`, and take the first 197 that the generator's own pair-reduction search
solves and the first 3 it cannot. The generator rejects any drawn multiset in this list, which keeps
24-game puzzles out of generated data the same way the reference does; the exact members differ.
"""

from __future__ import annotations

import random
from functools import lru_cache
from itertools import combinations_with_replacement

from selfevolve.tasks.countdown.search import find_steps

GAME24_TARGET = 24
GAME24_SIZE = 200
GAME24_SOLVABLE = 197


@lru_cache(maxsize=1)
def game24_exclusion() -> frozenset[tuple[int, ...]]:
    """The exclusion list as a set of sorted 4-tuples (see the module docstring for the construction)."""
    candidates = list(combinations_with_replacement(range(1, 14), 4))
    random.Random(GAME24_TARGET).shuffle(candidates)
    solvable: list[tuple[int, ...]] = []
    unsolvable: list[tuple[int, ...]] = []
    for nums in candidates:
        bucket = solvable if find_steps(nums, GAME24_TARGET) is not None else unsolvable
        if len(bucket) < (GAME24_SOLVABLE if bucket is solvable else GAME24_SIZE - GAME24_SOLVABLE):
            bucket.append(nums)
        if len(solvable) + len(unsolvable) == GAME24_SIZE:
            break
    return frozenset(solvable + unsolvable)
