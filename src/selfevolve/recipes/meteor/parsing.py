"""Reading the judges' structured replies. Anything that is not the asked-for JSON is unreadable.

The reference took an answer as correct when its judge's text contained "Correct" (case-sensitive,
anywhere), so "Correctness is poor. Correct the second step." passed (docs/spec/meteor.md §8.2). Here a verdict is
only the JSON object `{"verdict": "correct" | "incorrect", "feedback": str}`, and scores only the
JSON list of one object per answer; the JSON may stand alone or in a fenced block (```json ... ```).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

from selfevolve.recipes.meteor.config import CRITERIA

_FENCED = re.compile(r"```[ \t]*(?:json)?[ \t]*\n(.*?)```", re.DOTALL | re.IGNORECASE)


@dataclass(frozen=True)
class VerdictReply:
    correct: bool
    feedback: str


class Unreadable(ValueError):
    """A reply that is not the structured answer asked for; the message says what is wrong with it."""


def json_candidates(reply: str) -> list[object]:
    """The JSON values a reply holds: the whole reply, else each fenced block, in order."""
    texts = [reply.strip(), *(m.group(1).strip() for m in _FENCED.finditer(reply))]
    values = []
    for text in texts:
        try:
            values.append(json.loads(text))
        except json.JSONDecodeError:
            continue
    return values


def parse_verdict(reply: str) -> VerdictReply:
    """The verdict of a refinement judge's reply (raises Unreadable)."""
    return _first_readable(reply, _verdict, "no JSON object in the reply")


def _verdict(value: object) -> VerdictReply:
    if not isinstance(value, dict):
        raise Unreadable("the JSON is not an object")
    verdict = value.get("verdict")
    if not isinstance(verdict, str) or verdict.strip().lower() not in ("correct", "incorrect"):
        raise Unreadable(f'"verdict" must be "correct" or "incorrect", got {verdict!r}')
    feedback = value.get("feedback", "")
    if not isinstance(feedback, str):
        raise Unreadable('"feedback" must be a string')
    return VerdictReply(verdict.strip().lower() == "correct", feedback.strip())


def parse_scores(reply: str, n_answers: int) -> list[dict[str, int]]:
    """The criteria scores of an evaluation judge's reply, one dict per answer in the order shown (raises Unreadable)."""
    return _first_readable(reply, lambda value: _scores(value, n_answers), "no JSON list in the reply")


def _first_readable(reply: str, read, none_found: str):
    """`read` of the first JSON value in the reply it accepts; else Unreadable with the last reason."""
    candidates = json_candidates(reply)
    if not candidates:
        raise Unreadable(none_found)
    problem = ""
    for value in candidates:
        try:
            return read(value)
        except Unreadable as e:
            problem = str(e)
    raise Unreadable(problem)


def _scores(value: object, n_answers: int) -> list[dict[str, int]]:
    if not isinstance(value, list) or len(value) != n_answers:
        raise Unreadable(f"expected a JSON list of {n_answers} objects, one per answer")
    scores = []
    for i, item in enumerate(value, 1):
        if not isinstance(item, dict):
            raise Unreadable(f"item {i} is not an object")
        for criterion in CRITERIA:
            score = item.get(criterion)
            if type(score) is not int or not 1 <= score <= 10:
                raise Unreadable(f"answer {i}: {criterion} must be an integer from 1 to 10, got {score!r}")
        if not isinstance(item.get("justification"), str):
            raise Unreadable(f"answer {i}: justification must be a string")
        scores.append({c: item[c] for c in CRITERIA})
    return scores
