"""SRA-MCTS tree arithmetic and reply parsing: pure functions, no model."""

from __future__ import annotations

import math
import random

import pytest

from selfevolve.recipes.sra_mcts.replies import normalise_step, parse_reflection, parse_score, parse_verdict
from selfevolve.recipes.sra_mcts.tree import (
    END,
    Node,
    backpropagate,
    best_child,
    best_value_node,
    blend_execution,
    blend_rollout,
    is_terminal,
    select,
    selection_score,
)


def tree_with(values_visits: list[tuple[float, int]], parent_visits: int) -> Node:
    root = Node(N=parent_visits, fully_expanded=True)
    for i, (v, n) in enumerate(values_visits):
        child = root.add_child(f"Step 1: s{i}\n", i + 1)
        child.V, child.N = v, n
    return root


def test_selection_score_is_ucb_for_visited_and_bonus_for_unvisited():
    root = tree_with([(6.0, 2), (5.0, 0)], parent_visits=4)
    visited, unvisited = root.children.values()
    assert selection_score(visited, 4, 0.5, 8) == pytest.approx(6.0 + 0.5 * math.sqrt(2 * math.log(4) / 2))
    assert selection_score(unvisited, 4, 0.5, 8) == 13.0
    assert best_child(root, 0.5, 8, random.Random(0)) is unvisited


def test_ties_are_broken_at_random_by_the_callers_rng():
    root = tree_with([(5.0, 0), (5.0, 0), (5.0, 0)], parent_visits=1)
    picks = {best_child(root, 0.5, 8, random.Random(seed)).step for seed in range(30)}
    assert len(picks) == 3
    assert best_child(root, 0.5, 8, random.Random(7)) is best_child(root, 0.5, 8, random.Random(7))


def test_all_children_scored_zero_still_gives_a_choice():
    # the reference starts the running best at 0, so visited children at V=0 under a parent with
    # N=1 (ln 1 = 0) score 0, never beat it, and random.choice([]) crashes (docs/spec/sra_mcts.md §7.5)
    root = tree_with([(0.0, 1), (0.0, 1)], parent_visits=1)
    assert best_child(root, 0.5, 8, random.Random(0)) in root.children.values()
    assert select(root, 0.5, 8, random.Random(0)) in root.children.values()


def test_blend_and_backpropagation_use_visit_weighted_means_of_visited_children():
    root = tree_with([(7.0, 0), (5.0, 0), (3.0, 0)], parent_visits=0)
    a, b, c = root.children.values()
    blend_rollout(a, 9.0, alpha=0.5)
    assert (a.V, a.N) == (8.0, 1)
    backpropagate(root)
    assert (root.V, root.N) == (8.0, 1)  # b and c are unvisited: ignored
    b.N = 3
    backpropagate(root)
    assert root.V == pytest.approx((8.0 * 1 + 5.0 * 3) / 4) and root.N == 2


def test_backpropagation_climbs_from_the_expanded_node():
    root = tree_with([(6.0, 1)], parent_visits=1)
    child = next(iter(root.children.values()))
    child.fully_expanded = True
    grandchild = child.add_child("Step 2: g\n", 9)
    grandchild.V, grandchild.N = 9.0, 1
    backpropagate(child)
    assert (child.N, child.V) == (2, 9.0) and (root.N, root.V) == (2, 9.0)


def test_best_value_node_includes_the_frontier_and_prefers_later_nodes_on_ties():
    root = tree_with([(7.0, 1), (7.0, 0)], parent_visits=1)
    first, second = root.children.values()
    assert best_value_node(root) is second
    first.fully_expanded = True
    deep = first.add_child("Step 2: deep\n", 3)
    deep.V = 7.5
    assert best_value_node(root) is deep
    assert best_value_node(Node()).y == ""


def test_duplicate_children_are_dropped_and_tree_round_trips():
    root = Node(fully_expanded=True)
    assert root.add_child("Step 1: a\n", 1) is not None and root.add_child("Step 1: a\n", 2) is None
    root.children["Step 1: a\n"].reflection = "look closer"
    copy = Node.from_dict(root.to_dict())
    assert copy.to_dict() == root.to_dict() and copy.children["Step 1: a\n"].parent is copy
    assert copy.children["Step 1: a\n"].y == "Step 1: a\n"


def test_terminal_nodes_and_execution_blend():
    node = Node(y="Step 1: so the answer is 3\n")
    assert is_terminal(node) and is_terminal(Node(reflection=END)) and not is_terminal(Node(reflection="go on"))
    node.V = 6.0
    blend_execution(node, pass_rate=1.0, weight=0.5)
    assert (node.V, node.pass_rate) == (8.0, 1.0)


def test_not_yet_solved_is_an_analysis_never_an_end():
    assert parse_reflection("The problem is not yet solved.\nAnalysis: sort the list first.", "common") == "sort the list first."
    assert parse_reflection("not yet solved; the steps miss the base case", "common") == "not yet solved; the steps miss the base case"
    assert parse_reflection("<end>", "common") == END
    assert parse_reflection("\n  <end>\nAll steps are there.", "common") == END
    assert parse_reflection("Analysis: do not write <end> yet; add a loop", "common") == "do not write <end> yet; add a loop"
    assert parse_reflection("solved", "simple") == "<continue>"
    assert parse_reflection("<continue>", "simple") == "<continue>"
    assert parse_reflection("I think <end>", "simple") == END
    assert parse_reflection("   ", "common") is None


def test_proposals_are_normalised_and_repeats_rejected():
    y = "Step 1: Sort the array.\n"
    assert normalise_step("Analysis: fine.\nNext step: 1. Use two pointers\nfrom both ends.", 2, y) == \
        "Step 2: Use two pointers from both ends.\n"
    assert normalise_step("Step 2: Count pairs.\nStep 3: Return.", 2, y) == "Step 2: Count pairs.\n"
    assert normalise_step("```python\nx = 1\n```\nNext step: Track the best sum.", 2, y) == "Step 2: Track the best sum.\n"
    assert normalise_step("Next step: Sort the array.", 2, y) is None
    assert normalise_step("```python\nprint(1)\n```", 2, y) is None
    assert normalise_step("Just loop over it", 2, y) == "Step 2: Just loop over it\n"
    assert normalise_step("Next step: Step 2: Merge the halves.\nStep 3: Return.", 2, y) == "Step 2: Merge the halves.\n"


def test_scores_and_verdicts():
    assert parse_score("Analysis: good.\nScore: 8") == 8.0
    assert parse_score("score：12") == 10.0
    assert parse_score("no number") is None  # the search values it MISSING_SCORE and counts it
    assert parse_score(" 7\n") == 7.0 and parse_score("7/10.") == 7.0  # the whole reply is the score
    assert parse_score("Step 2 computes 7") is None  # a number inside prose is not a score
    assert parse_verdict("<solved>") and not parse_verdict("<unsolved>") and not parse_verdict("maybe")
    assert not parse_verdict("<unsolved> although one might say <solved>")
