"""METEOR's judged evaluation (docs/spec/meteor.md §7): win rates with ties as 0.5, position swap, the judge's position
consistency, mean scores, pass rates, unreadable judgments counted, resume."""

from __future__ import annotations

import json

import pytest

from selfevolve.recipes.meteor.code_checks import open_sandbox
from selfevolve.recipes.meteor.config import CRITERIA, MeteorConfig
from selfevolve.recipes.meteor.evaluate import evaluate, summarize
from selfevolve.recipes.meteor.records import Record
from selfevolve.recipes.meteor.roles import Role

from meteor_script import Scripted


def shown(first: int, second: int) -> list[dict[str, int]]:
    return [dict.fromkeys(CRITERIA, first), dict.fromkeys(CRITERIA, second)]


def first_judge(prompt, params):
    """Always scores the answer shown first 9 and the other 3."""
    return json.dumps([{**dict.fromkeys(CRITERIA, s), "justification": "."} for s in (9, 3)])


def test_a_judge_that_prefers_the_first_answer_gives_half_with_swap_and_its_bias_without(tmp_path):
    records = [Record(id=f"q{i}", domain="ML", question_content=f"Explain idea {i}.") for i in range(4)]
    models = {"A": Scripted([("Answer with reasoning:", "A's answer.")]), "B": Scripted([("Answer with reasoning:", "B's.")])}
    results = {}
    for swap in (True, False):
        cfg = MeteorConfig.model_validate({"evaluate": {"position_swap": swap}})
        judge = Scripted([("Evaluate each answer", first_judge)])
        results[swap] = evaluate(records, ["A", "B"], lambda name: Role(name, models[name]), lambda: Role("judge", judge),
                                 cfg, tmp_path / str(swap))
        assert len(judge.prompts) == (8 if swap else 4)
    swapped, plain = results[True], results[False]
    assert swapped["win_rate"] == dict.fromkeys(CRITERIA, 0.5) and swapped["position_consistency"] == 0.0
    assert swapped["score"] == {"A": 6.0, "B": 6.0} and swapped["n_questions"] == 4
    assert plain["win_rate"] == dict.fromkeys(CRITERIA, 1.0) and plain["position_consistency"] is None
    assert plain["score"] == {"A": 9.0, "B": 3.0} and "pass_rate" not in plain


def test_wins_count_only_when_both_orders_agree():
    judgments = {
        "agree": {"AB": shown(8, 4), "BA": shown(4, 8)},  # A higher in both orders: a win for A
        "b_wins": {"AB": shown(2, 7), "BA": shown(7, 2)},  # B higher in both: a win for B
        "flip": {"AB": shown(8, 4), "BA": shown(8, 4)},  # the first shown wins each time: a tie
        "half": {"AB": shown(5, 5), "BA": shown(4, 6)},  # equal when A is first, A higher when B is first: a tie
    }
    result = summarize(judgments, position_swap=True, models=("new", "old"))
    assert result["win_rate"] == dict.fromkeys(CRITERIA, (1 + 0 + 0.5 + 0.5) / 4)
    assert result["position_consistency"] == 2 / 4  # agree and b_wins agree; flip and half do not
    assert set(result["score"]) == {"new", "old"}
    # A's scores per question and order: (8, 8), (2, 2), (8, 4), (5, 6); "BA" lists B's first
    assert result["score"]["new"] == pytest.approx((8 + 8 + 2 + 2 + 8 + 4 + 5 + 6) / 8)


def test_unreadable_judgments_leave_a_question_out_and_are_counted():
    judgments = {"ok": {"AB": shown(8, 4), "BA": shown(4, 8)}, "bad": {"AB": shown(8, 4), "BA": None}, "gone": {}}
    result = summarize(judgments, position_swap=True)
    assert result["n_questions"] == 1 and result["n_unparsed"] == 2 and result["win_rate"]["Accuracy"] == 1.0
    empty = summarize({"bad": {"AB": None}}, position_swap=False)
    assert empty["win_rate"] == dict.fromkeys(CRITERIA) and empty["score"] == {"A": None, "B": None}


def score_reply(prompt, params):
    """A fair judge: 8 for an answer with code that adds, 3 otherwise, wherever it is shown."""
    answers = prompt.split("### Answers:")[1].split("Reply with only")[0].split("Answer 2:")
    return json.dumps([{**dict.fromkeys(CRITERIA, 8 if "a + b" in a else 3), "justification": "."} for a in answers])


def test_evaluate_writes_the_documented_file_with_pass_rates_and_resumes(tmp_path):
    records = [Record(id=f"q{i}", domain="Python programming", question_content=f"Write add #{i}.",
                      tests=["assert add(1, 2) == 3"]) for i in range(3)]
    good, bad = "```python\ndef add(a, b):\n    return a + b\n```", "```python\ndef add(a, b):\n    return a * b\n```"
    models = {"new": Scripted([("Answer with reasoning:", good)]), "old": Scripted([("Answer with reasoning:", bad)])}
    open_model = lambda name: Role(name, models[name])  # noqa: E731
    cfg = MeteorConfig.model_validate({"evaluate": {"batch_size": 1}})
    killed = Scripted([("Evaluate each answer", score_reply)], fail_after=3)
    with open_sandbox(1) as sandbox:
        with pytest.raises(KeyboardInterrupt):
            evaluate(records, ["new", "old"], open_model, lambda: Role("judge", killed), cfg, tmp_path, sandbox)
        judge = Scripted([("Evaluate each answer", score_reply)])
        result = evaluate(records, ["new", "old"], open_model, lambda: Role("judge", judge), cfg, tmp_path, sandbox)
    assert len(judge.prompts) == 3 and len(models["new"].prompts) == 3  # 6 judgments, 3 made before the kill
    written = json.loads((tmp_path / "evaluation.json").read_text())
    assert written == result
    assert written["models"] == ["new", "old"] and written["n_questions"] == 3
    assert written["win_rate"] == dict.fromkeys(CRITERIA, 1.0) and written["position_consistency"] == 1.0
    assert written["score"] == {"new": 8.0, "old": 3.0} and written["pass_rate"] == {"new": 1.0, "old": 0.0}
    with pytest.raises(ValueError, match="two different models"):
        evaluate(records, ["new", "new"], open_model, lambda: Role("judge", judge), cfg, tmp_path / "same")


def test_an_unjudged_evaluation_calls_no_judge_and_reports_pass_rates(tmp_path):
    records = [Record(id=f"q{i}", domain="Python programming", question_content=f"Write add #{i}.",
                      tests=["assert add(1, 2) == 3"]) for i in range(2)]
    good, bad = "```python\ndef add(a, b):\n    return a + b\n```", "```python\ndef add(a, b):\n    return a * b\n```"
    models = {"new": Scripted([("Answer with reasoning:", good)]), "old": Scripted([("Answer with reasoning:", bad)])}
    cfg = MeteorConfig.model_validate({"evaluate": {"judged": False}})

    def no_judge():
        raise AssertionError("the judge was opened")

    with open_sandbox(1) as sandbox:
        result = evaluate(records, ["new", "old"], lambda name: Role(name, models[name]), no_judge, cfg, tmp_path, sandbox)
    assert result == {"models": ["new", "old"], "n_questions": 2, "pass_rate": {"new": 1.0, "old": 0.0}, "n_tested": 2}
    assert not (tmp_path / "judgments.jsonl").exists()
