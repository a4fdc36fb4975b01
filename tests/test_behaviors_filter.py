"""Corpus filter with a fake labeller: labels, screening, split, rewrite."""

from selfevolve.behaviors.filter import CorpusFilter, FilterConfig, truncate_at_newline
from selfevolve.behaviors.judge import BehaviorJudge

RICH = "Solve x + 2 = 5. I try x = 4, check: 6, wrong. Let me try again: x = 3 works."
PLAIN = "Solve x + 2 = 5. x = 3."
ESSAY = "Mathematics is beautiful."


def fake_labeller(messages):
    prompt = messages[-1]["content"]
    document = prompt.split("<document>")[1]
    if "problem, and does it contain a solution" in prompt:
        return "problem: no\nsolution: no" if ESSAY in document else "Problem: yes\nSolution: yes"
    if "Rewrite" in prompt:
        return "<question>Solve x + 2 = 5.</question>\n<thoughts>I try 4... no. 3.</thoughts>\n<answer>3</answer>"
    rich = RICH in document and ("backtracking" in prompt or "verification" in prompt)
    return f"Thoughts: looked.\nAnswer: {'yes' if rich else 'no'}\n<count>{1 if rich else 0}</count>"


def test_filter_splits_and_rewrites():
    pipeline = CorpusFilter(BehaviorJudge(fake_labeller))
    rich, plain, essay = (pipeline.process(i, t) for i, t in enumerate([RICH, PLAIN, ESSAY]))
    assert rich.split == "rich" and rich.counts == {"verification": 1, "backtracking": 1, "subgoal": 0, "backward": 0}
    assert plain.split == "none" and essay.split == "rejected" and essay.completion is None
    assert rich.completion == "<think>I try 4... no. 3.</think>\n<answer>3</answer>"
    assert rich.question == "Solve x + 2 = 5."


def test_rewrite_without_sections_is_reported():
    def no_tags(messages):
        return "Problem: yes Solution: yes" if "solution" in messages[-1]["content"] else "<count>0</count>"

    doc = CorpusFilter(BehaviorJudge(no_tags)).process(0, PLAIN)
    assert doc.split == "none" and doc.completion is None and "lacks" in doc.error


def test_truncate_at_newline():
    text = "one two\nthree four five\nsix"
    assert truncate_at_newline(text, 5, lambda s: len(s.split())) == "one two\nthree four five"
    assert truncate_at_newline("a b c d", 2, lambda s: len(s.split())) == "a b"
    assert FilterConfig().max_doc_tokens == 3072
