"""Synthetic priming traces and the rule-based classifier on them."""

import random

import pytest

from selfevolve.behaviors.conditions import CONDITIONS, prime_data, prime_record
from selfevolve.behaviors.evaluation import evaluate_classifier, labelled_set
from selfevolve.behaviors.metrics import precision_recall
from selfevolve.behaviors.rules import count_behaviors
from selfevolve.behaviors.synth import synthesize_trace
from selfevolve.tasks.countdown import CountdownProblem, extract_answer, score
from selfevolve.tasks.countdown.prompts import render_prompt


@pytest.mark.parametrize("condition", sorted(CONDITIONS))
def test_records_follow_the_condition(condition):
    records = prime_data(condition, 40, seed=3)
    spec = CONDITIONS[condition]
    for r in records:
        assert r["completion"].startswith("<think>") and "</think>\n<answer>" in r["completion"]
        assert r["query"].endswith("Assistant: Let me solve this step by step.")
        problem = CountdownProblem(tuple(r["nums"]), r["target"])
        assert r["reward"] == score(r["completion"], problem)[0] and r["reward"] in (0.1, 1.0)
        shown = spec.behaviors if spec.thought == "full" else frozenset()
        assert all(r["behaviors"][b] == 0 for b in r["behaviors"] if b not in shown)
    if spec.thought == "full":
        for b in spec.behaviors:
            assert all(r["behaviors"][b] >= 1 for r in records)
    mean = sum(r["reward"] for r in records) / len(records)
    if condition == "incorrect_only":
        assert mean == pytest.approx(0.1)
    else:
        assert 0.2 < mean < 0.65


def test_empty_and_dots_conditions_keep_the_all_strategies_answer_shape():
    empty = prime_data("empty_cot", 5, seed=1)
    assert all(r["completion"].startswith("<think> </think>\n<answer>") for r in empty)
    for r in prime_data("dots", 5, seed=1):
        thought = r["completion"].split("</think>")[0][len("<think>"):]
        assert set(thought) <= {" ", "."} and thought.count(".") >= 10


def test_dots_length_matches_original_thought_tokens():
    problem = CountdownProblem((3, 9, 4, 16), 14)
    rng = random.Random(0)
    correct = rng.random() < CONDITIONS["dots"].p_correct  # prime_record draws this first
    trace = synthesize_trace(problem, CONDITIONS["dots"].behaviors, rng, correct)
    record = prime_record(problem, CONDITIONS["dots"], random.Random(0))
    assert record["completion"].count(" .") == len(trace.thought.split()) - 1
    assert extract_answer(record["completion"]) == trace.answer


def test_only_backtracking_example_from_the_spec_is_counted():
    text = "12+2 = 14. Trying something else. 12*2=24."
    assert count_behaviors(text, [12, 2], 24) == {"verification": 0, "backtracking": 1, "subgoal": 0, "backward": 0}
    text = "12+2 = 14. 14 is not 24, so let's try something else. 12*2=24. This works!"
    assert count_behaviors(text, [12, 2], 24) == {"verification": 2, "backtracking": 1, "subgoal": 0, "backward": 0}


def test_rules_on_spec_examples_of_subgoal_and_backward():
    assert count_behaviors("First, I'll try to get close to 11, then add the rest.", [25, 3], 22)["subgoal"] == 1
    assert count_behaviors("Since the target is 22, and 22 + 3 = 25, I need 25.", [25, 3], 22)["backward"] == 1
    assert count_behaviors("24/2 = 12. So, 12*2=24", [12, 2], 24)["backward"] == 0  # no cue: read as steps


def test_precision_recall_definition():
    result = precision_recall([({"verification": 3}, {"verification": 2}), ({"verification": 0}, {"verification": 1})])
    assert result["verification"]["tp"] == 2
    assert result["verification"]["precision"] == pytest.approx(2 / 3)
    assert result["verification"]["recall"] == pytest.approx(2 / 3)


def test_rule_classifier_reaches_090_on_held_out_seed_and_phrasings():
    records = labelled_set(40, seed=4242, heldout_share=0.5)
    assert any(r["heldout_phrasing"] for r in records) and not all(r["heldout_phrasing"] for r in records)
    for behavior, figures in evaluate_classifier(records).items():
        assert figures["precision"] >= 0.9 and figures["recall"] >= 0.9, behavior


def test_bad_condition_and_behavior_names_are_named():
    with pytest.raises(ValueError, match="unknown condition"):
        prime_data("everything", 1, 0)
    with pytest.raises(ValueError, match="unknown behaviours"):
        synthesize_trace(CountdownProblem((1, 2), 3), ["planning"], random.Random(0), True)
    assert render_prompt(CountdownProblem((1, 2), 3), "priming").endswith("step by step.")
