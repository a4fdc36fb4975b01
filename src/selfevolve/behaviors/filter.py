"""Behaviour filtering of a math corpus (docs/spec/countdown_and_behaviors.md §9) with an LLM judge.

For each document: cut it to a token budget at a newline; ask one labelling prompt per behaviour
(Thoughts / yes-no / `<count>`); screen it for a problem and its solution; keep documents with both and
split them into behaviour-rich (any count > 0) and behaviour-free (all 0); rewrite each kept document as
question / thoughts / answer, in the curated style (rich documents: keeps the author's mistakes,
backtracking and verification, thinking out loud) or the negative style (behaviour-free: solution steps
only). The completion of a rewritten document is `<think>{thoughts}</think>\\n<answer>{answer}</answer>`.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from selfevolve.behaviors.judge import BehaviorJudge, parse_count
from selfevolve.behaviors.types import BEHAVIORS

_DEFINITIONS = {
    "verification": "checks of their own intermediate results, e.g. 'Let me check this by plugging it back in'",
    "backtracking": "abandoning an approach and trying another, e.g. 'That doesn't work. Let me try again'",
    "subgoal": "breaking the problem into intermediate goals, e.g. 'First I will find the radius, then...'",
    "backward": "reasoning from the desired result back to the givens, e.g. 'To prove this, it suffices to show...'",
}

_LABEL = (
    "Below is a document from the web containing mathematics.\n\n<document>\n{text}\n</document>\n\n"
    "Does the author show {name}: {definition}? Answer in three sections: 'Thoughts:' with your reasoning, "
    "then 'Answer: yes' or 'Answer: no', then the number of distinct instances inside <count> </count> "
    "tags (<count>0</count> if none)."
)
_SCREEN = (
    "Below is a document from the web containing mathematics.\n\n<document>\n{text}\n</document>\n\n"
    "Does it contain a mathematical problem, and does it contain a solution to that problem? Answer in the "
    "form 'problem: yes|no' and 'solution: yes|no'."
)
_REWRITE = {
    "curated": (
        "Rewrite the document below as a question, the thoughts of someone solving it, and the answer. In "
        "the thoughts keep the author's mistakes, backtracking and verification; write in the first person, "
        "present tense, as if thinking out loud.\n\n<document>\n{text}\n</document>\n\n"
        "Reply with <question>...</question> <thoughts>...</thoughts> <answer>...</answer>."
    ),
    "negative": (
        "Rewrite the document below as a question, the solution steps, and the answer. Give only the steps "
        "of the solution: no checks, no false starts, no commentary.\n\n<document>\n{text}\n</document>\n\n"
        "Reply with <question>...</question> <thoughts>...</thoughts> <answer>...</answer>."
    ),
}
_NAMES = {"verification": "verification", "backtracking": "backtracking", "subgoal": "subgoal setting",
          "backward": "backward chaining"}


def truncate_at_newline(text: str, max_tokens: int, count_tokens: Callable[[str], int]) -> str:
    """The longest prefix ending at a newline within `max_tokens` (or the first line cut by words)."""
    if count_tokens(text) <= max_tokens:
        return text
    kept: list[str] = []
    for line in text.split("\n"):
        if count_tokens("\n".join(kept + [line])) > max_tokens:
            break
        kept.append(line)
    if kept:
        return "\n".join(kept)
    return " ".join(text.split()[:max_tokens])


def _yes(reply: str, field_name: str) -> bool:
    match = re.findall(rf"{field_name}\s*:\s*(yes|no)", reply, re.IGNORECASE)
    return bool(match) and match[-1].lower() == "yes"


def _section(reply: str, tag: str) -> str | None:
    match = re.findall(rf"<{tag}>(.*?)</{tag}>", reply, re.DOTALL | re.IGNORECASE)
    return match[-1].strip() if match else None


@dataclass
class FilterConfig:
    """max_doc_tokens: document cut (3,072 in the study); styles: rewrite style per split."""

    max_doc_tokens: int = 3072
    rich_style: str = "curated"
    none_style: str = "negative"
    count_tokens: Callable[[str], int] = field(default=lambda s: len(s.split()))


@dataclass
class FilteredDoc:
    index: int
    counts: dict[str, int | None]
    has_problem: bool
    has_solution: bool
    split: str  # "rich" | "none" | "rejected"
    question: str | None = None
    completion: str | None = None
    error: str | None = None

    def to_record(self) -> dict[str, Any]:
        return dict(self.__dict__)


class CorpusFilter:
    def __init__(self, judge: BehaviorJudge, config: FilterConfig | None = None):
        self.judge = judge
        self.config = config or FilterConfig()

    def _ask(self, prompt: str) -> str:
        return self.judge.reply([{"role": "system", "content": "You are a helpful assistant."},
                                 {"role": "user", "content": prompt}])

    def label(self, text: str) -> dict[str, int | None]:
        return {
            b: parse_count(self._ask(_LABEL.format(text=text, name=_NAMES[b], definition=_DEFINITIONS[b])))
            for b in BEHAVIORS
        }

    def process(self, index: int, text: str) -> FilteredDoc:
        text = truncate_at_newline(text, self.config.max_doc_tokens, self.config.count_tokens)
        counts = self.label(text)
        screen = self._ask(_SCREEN.format(text=text))
        doc = FilteredDoc(index, counts, _yes(screen, "problem"), _yes(screen, "solution"), "rejected")
        if not (doc.has_problem and doc.has_solution):
            return doc
        doc.split = "rich" if any((c or 0) > 0 for c in counts.values()) else "none"
        style = self.config.rich_style if doc.split == "rich" else self.config.none_style
        reply = self._ask(_REWRITE[style].format(text=text))
        question, thoughts, answer = (_section(reply, t) for t in ("question", "thoughts", "answer"))
        if None in (question, thoughts, answer):
            doc.error = "rewrite reply lacks <question>, <thoughts> or <answer>"
            return doc
        doc.question = question
        doc.completion = f"<think>{thoughts}</think>\n<answer>{answer}</answer>"
        return doc
