"""Plan → SFT record (docs/spec/sra_mcts.md §4): cleaning, the record format, the shuffle."""

from __future__ import annotations

import random
import re

from selfevolve.recipes.sra_mcts.prompts import INSTRUCTIONS
from selfevolve.tasks.code_tests import extract_code

_FENCED = re.compile(r"```[\s\S]*?(?:```|$)")


def clean_plan(plan: str) -> str:
    """The plan without fenced code blocks (a block left open runs to the end)."""
    return _FENCED.sub("", plan)


def word_count(text: str) -> int:
    return len(text.split())


def sft_question(question: str, rng: random.Random) -> str:
    """One of the five instruction sentences, then the problem cut before its first `**Example`."""
    return rng.choice(INSTRUCTIONS) + "\nHere's the question:\n" + question.split("**Example")[0]


def code_only(answer: str) -> str:
    """The answer's last Python block, fenced (the answer as it is when it has none)."""
    code = extract_code(answer)
    return f"```python\n{code}\n```" if code is not None else answer


def sft_solution(plan: str, answer: str, natural_language: bool) -> str:
    """Plan + "\\n" + the translated answer (paper), or the code alone (the ablation). CoT has no plan."""
    if not natural_language:
        return code_only(answer)
    return plan + "\n" + answer if plan else answer


def shuffled(records: list[dict], seed: int) -> list[dict]:
    out = list(records)
    random.Random(f"sra-mcts-shuffle:{seed}").shuffle(out)
    return out
