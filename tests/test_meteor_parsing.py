"""METEOR's judges: structured verdicts and scores, retries, and the reference's substring defect (docs/spec/meteor.md §8.2)."""

from __future__ import annotations

import json

import pytest

from selfevolve.llm.types import SamplingParams
from selfevolve.recipes.meteor.config import CRITERIA
from selfevolve.recipes.meteor.judging import judge_answers, score_answers
from selfevolve.recipes.meteor.parsing import Unreadable, parse_scores, parse_verdict
from selfevolve.recipes.meteor.records import Record
from selfevolve.recipes.meteor.roles import Role

from meteor_script import Scripted

GREEDY = SamplingParams(max_new_tokens=64, temperature=0.0)
QUESTION = Record(id="q1", domain="ML", question_content="What does dropout do?")


def scores(*per_answer: int) -> list[dict]:
    return [{**{c: s for c in CRITERIA}, "justification": "because"} for s in per_answer]


@pytest.mark.parametrize("reply", [
    "Correctness is poor. Correct the second step.",  # the reference took both as correct ("Correct" in text)
    "Correct",
    '{"verdict": "Correctness", "feedback": "poor"}',
    '{"verdict": "correct", "feedback": 3}',
    '["correct"]',
    "```python\n{\"verdict\": \"correct\"}\n```",
])
def test_anything_but_the_json_verdict_is_unreadable(reply):
    with pytest.raises(Unreadable):
        parse_verdict(reply)


def test_json_verdicts_alone_or_fenced():
    assert parse_verdict('{"verdict": "correct", "feedback": ""}').correct
    fenced = parse_verdict('Here is my evaluation:\n```json\n{"verdict": "incorrect", "feedback": "Step 2 is wrong."}\n```')
    assert not fenced.correct and fenced.feedback == "Step 2 is wrong."
    assert parse_verdict('{"verdict": "Incorrect", "feedback": "x"}').correct is False


def test_scores_need_one_object_per_answer_with_integer_criteria_from_1_to_10():
    assert parse_scores(json.dumps(scores(7, 3)), 2) == [{c: 7 for c in CRITERIA}, {c: 3 for c in CRITERIA}]
    assert parse_scores("```json\n" + json.dumps(scores(1, 10)) + "\n```", 2)[1]["Accuracy"] == 10
    bad = [
        json.dumps(scores(7)),  # one object for two answers
        json.dumps(scores(7, 11)),  # out of range
        json.dumps([{**s, "Accuracy": 7.5} for s in scores(7, 7)]),  # not an integer
        json.dumps([{**s, "Accuracy": True} for s in scores(7, 7)]),  # a bool is not a score
        json.dumps([{k: v for k, v in s.items() if k != "justification"} for s in scores(7, 7)]),
        "Answer 1 is better.",
    ]
    for reply in bad:
        with pytest.raises(Unreadable):
            parse_scores(reply, 2)


def test_unreadable_verdicts_are_re_asked_with_the_reason_then_counted_unparsed():
    judge = Scripted([("could not be read", '{"verdict": "incorrect", "feedback": "Check the base case."}'),
                      ("Evaluate whether", "Correctness is poor. Correct the second step.")])
    [judged] = judge_answers(Role("judge", judge), [QUESTION], ["It regularises."], GREEDY, retries=2)
    assert judged.value is not None and not judged.value.correct and judged.attempts == 2
    assert "Correctness is poor" in judge.prompts[1] and "no JSON object" in judge.prompts[1]

    stubborn = Scripted([("Evaluate whether", "Correct")])
    [judged] = judge_answers(Role("judge", stubborn), [QUESTION], ["It regularises."], GREEDY, retries=2)
    assert judged.value is None and judged.attempts == 3 and len(stubborn.prompts) == 3 and judged.reply == "Correct"


class ShortContext(Role):
    """A judge whose context holds only the first turn of a conversation (re-asking does not fit)."""

    def reply(self, conversations, params):
        fits = [len(c) <= 2 for c in conversations]
        replies = iter(super().reply([c for c, ok in zip(conversations, fits) if ok], params))
        return [next(replies) if ok else None for ok in fits]


def test_a_re_ask_that_does_not_fit_keeps_the_judges_last_reply():
    [judged] = judge_answers(ShortContext("judge", Scripted([("Evaluate whether", "Looks fine.")])), [QUESTION], ["x"],
                             GREEDY, retries=2)
    assert judged.value is None and judged.reply == "Looks fine." and judged.attempts == 1
    assert judged.problem == "no JSON object in the reply; the prompt does not fit the judge's context to re-ask"


def test_scores_are_asked_for_each_pair_in_the_order_given():
    judge = Scripted([("Answer 1:\nfirst", json.dumps(scores(9, 2))), ("Answer 1:\nsecond", json.dumps(scores(4, 6)))])
    a, b = score_answers(Role("judge", judge), [(QUESTION, ["first", "second"]), (QUESTION, ["second", "first"])], GREEDY, 0)
    assert a.value[0]["Accuracy"] == 9 and b.value[1]["Coherence"] == 6
    with pytest.raises(ValueError, match="two answers"):
        score_answers(Role("judge", judge), [(QUESTION, ["only one"])], GREEDY, 0)
