"""Precision and recall of a behaviour classifier against known per-trace counts.

Counts, not yes/no labels, are compared. Per behaviour, over all traces:
TP = sum(min(pred, true)), precision = TP / sum(pred), recall = TP / sum(true).
A classifier that says 3 where the truth is 2 gets 2 true positives and 1 false positive.
An empty denominator gives 1.0 (nothing predicted means nothing predicted wrongly).
"""

from __future__ import annotations

from collections.abc import Iterable

from selfevolve.behaviors.types import BEHAVIORS, Counts


def precision_recall(pairs: Iterable[tuple[Counts, Counts]]) -> dict[str, dict[str, float]]:
    """`pairs` of (predicted, true) counts; returns {behaviour: {precision, recall, tp, pred, true}}."""
    totals = {b: [0, 0, 0] for b in BEHAVIORS}  # tp, pred, true
    for predicted, true in pairs:
        for b in BEHAVIORS:
            p, t = predicted.get(b) or 0, true.get(b, 0)
            totals[b][0] += min(p, t)
            totals[b][1] += p
            totals[b][2] += t
    return {
        b: {
            "precision": tp / pred if pred else 1.0,
            "recall": tp / true if true else 1.0,
            "tp": tp, "pred": pred, "true": true,
        }
        for b, (tp, pred, true) in totals.items()
    }
