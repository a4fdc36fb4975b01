"""The synthetic labelled set and classifier evaluation on it (`behaviors eval-classifier`)."""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from typing import Any

from selfevolve.behaviors.conditions import CONDITIONS, get_condition, prime_record
from selfevolve.behaviors.metrics import precision_recall
from selfevolve.behaviors.rules import count_behaviors, think_text
from selfevolve.behaviors.types import Counts
from selfevolve.tasks.countdown import generate_problems

#: Seed of the evaluation set; priming data defaults to other seeds, so the set is held out.
EVAL_SEED = 20250311

Classifier = Callable[[str, Sequence[int], int], Counts]


def labelled_set(n_per_condition: int, seed: int = EVAL_SEED, heldout_share: float = 0.5) -> list[dict[str, Any]]:
    """Priming records of every condition; a `heldout_share` of them written with held-out phrasings."""
    if not 0.0 <= heldout_share <= 1.0:
        raise ValueError(f"heldout_share must lie in [0, 1], got {heldout_share}.")
    records = []
    for name in CONDITIONS:
        condition = get_condition(name)
        rng = random.Random(f"eval:{name}:{seed}")
        for problem in generate_problems(n_per_condition, seed, condition.preset):
            heldout = rng.random() < heldout_share
            record = prime_record(problem, condition, rng, heldout_phrasing=heldout)
            record["heldout_phrasing"] = heldout
            records.append(record)
    return records


def rules_classifier(completion: str, nums: Sequence[int], target: int) -> Counts:
    return count_behaviors(think_text(completion), nums, target)


def evaluate_classifier(records: list[dict[str, Any]], classify: Classifier = rules_classifier) -> dict:
    """Per-behaviour precision/recall of `classify` against the records' known `behaviors` counts."""
    pairs = [(classify(r["completion"], r["nums"], r["target"]), r["behaviors"]) for r in records]
    return precision_recall(pairs)
