"""Asking a judge for a structured reply: ask, read, and re-ask (with the reason) what could not be read.

Used for the refinement verdicts and the evaluation scores. A reply still unreadable after the
retries is counted as unparsed by the caller, never guessed at.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

from selfevolve.llm.types import SamplingParams
from selfevolve.recipes.meteor.parsing import Unreadable, VerdictReply, parse_scores, parse_verdict
from selfevolve.recipes.meteor.prompts import VERDICT_FORMAT, Conversation, nudge, scores_format, scores_prompt, verdict_prompt
from selfevolve.recipes.meteor.records import Record
from selfevolve.recipes.meteor.roles import Role

T = TypeVar("T")
TOO_LONG = "the prompt does not fit the judge's context"


@dataclass(frozen=True)
class Judged(Generic[T]):
    """What a judge said: the parsed value (None when unreadable), its last reply, how many replies it
    gave (0 when the prompt did not fit its context), and what was wrong with the last one."""

    value: T | None
    reply: str
    attempts: int
    problem: str = ""


def ask(role: Role, conversations: Sequence[Conversation], params: SamplingParams, parse: Callable[[str], T],
        expected: str, retries: int) -> list[Judged[T]]:
    """Ask every conversation; re-ask the unreadable ones up to `retries` times, each time with the
    judge's reply and the reason it could not be read appended."""
    threads = [list(c) for c in conversations]
    results: list[Judged[T] | None] = [None] * len(threads)
    pending = list(range(len(threads)))
    for attempt in range(1, retries + 2):
        replies = role.reply([threads[i] for i in pending], params)
        unreadable = []
        for i, reply in zip(pending, replies):
            if reply is None:  # keep what the judge said before, if it was re-asked
                before = results[i]
                results[i] = Judged(None, before.reply, attempt - 1, f"{before.problem}; {TOO_LONG} to re-ask") if before \
                    else Judged(None, "", 0, TOO_LONG)
                continue
            try:
                results[i] = Judged(parse(reply), reply, attempt)
            except Unreadable as e:
                results[i] = Judged(None, reply, attempt, str(e))
                threads[i] += nudge(reply, str(e), expected)
                unreadable.append(i)
        pending = unreadable
        if not pending:
            break
    return results


def judge_answers(role: Role, records: Sequence[Record], answers: Sequence[str], params: SamplingParams, retries: int,
                  test_reports: Sequence[str | None] | None = None) -> list[Judged[VerdictReply]]:
    """Refinement: a verdict with feedback for each (record, answer)."""
    reports = test_reports or [None] * len(records)
    conversations = [verdict_prompt(r, a, t) for r, a, t in zip(records, answers, reports, strict=True)]
    return ask(role, conversations, params, parse_verdict, f"the JSON object {VERDICT_FORMAT}", retries)


def score_answers(role: Role, items: Sequence[tuple[Record, Sequence[str]]], params: SamplingParams,
                  retries: int) -> list[Judged[list[dict[str, int]]]]:
    """Evaluation: the criteria scores of each question's two answers, in the order they are given."""
    if any(len(answers) != 2 for _, answers in items):
        raise ValueError("score_answers compares two answers per question")
    conversations = [scores_prompt(record, list(answers)) for record, answers in items]
    return ask(role, conversations, params, lambda reply: parse_scores(reply, 2), f"the JSON list {scores_format(2)}", retries)
