"""Evaluation (docs/spec/meteor.md §7): two models answer the held-out questions; a judge scores both answers on five
criteria, 1-10 each, as strict JSON; win rates per criterion, the mean score, and for questions with
tests the pass rate of each model's code.

Position swap (default): each question is judged twice, answers shown A-B and B-A. On a criterion A
wins only when it scores higher in both orders, B likewise; anything else is a tie worth 0.5 to each.
The judge's position consistency is the fraction of (question, criterion) outcomes (A, B or tie)
that agree across the two orders: 1 for a judge that only reads content, 0 for one that always
prefers the answer shown first. Without swap each question is judged once (A first), and a
first-position bias goes straight into A's win rate. A question with an unreadable judgment (after
the retries) is left out of the figures and counted in `n_unparsed`. With `evaluate.judged` off no
judge is called: the answers and pass rates alone (e.g. to follow the pass rate after each stage).

Writes `answers_1.jsonl`, `answers_2.jsonl` (the records with each model's `answer`),
`judgments.jsonl` (one line per question and order) and `evaluation.json`; resumable like the stages.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict
from rich.progress import Progress

from selfevolve.recipes.meteor.code_checks import Runner, check_answers, sandbox_or_own
from selfevolve.recipes.meteor.config import CRITERIA, MeteorConfig
from selfevolve.recipes.meteor.errors import MeteorError
from selfevolve.recipes.meteor.judging import score_answers
from selfevolve.recipes.meteor.prompts import answer_prompt
from selfevolve.recipes.meteor.records import Record, StageLog, require
from selfevolve.recipes.meteor.roles import Role
from selfevolve.recipes.meteor.seeding import seed_for

Order = Literal["AB", "BA"]


class Judgment(BaseModel):
    """The judge's scores of one question's two answers shown in one order."""

    model_config = ConfigDict(extra="forbid")

    id: str  # "<question id>|<order>"
    question: str
    order: Order
    scores: list[dict[str, int]] | None  # per answer as shown; None = unreadable
    attempts: int
    problem: str = ""
    reply: str = ""


def evaluate(records: list[Record], models: list[str], open_model: Callable[[str], Role], judge: Callable[[], Role],
             cfg: MeteorConfig, out: Path, sandbox: Runner | None = None) -> dict:
    """Compare `models` (two names) on `records` into `out`; returns (and writes) `evaluation.json`'s content."""
    if len(models) != 2 or models[0] == models[1]:
        raise MeteorError(f"evaluation compares two different models, got {models}")
    require(records, ("question_content",), "evaluation", "every question needs its content")
    answers = [_answers(records, model, open_model, cfg, out / f"answers_{i}.jsonl") for i, model in enumerate(models, 1)]
    result: dict = {"models": models}
    if cfg.evaluate.judged:  # n_questions: the questions the judge could score
        judgments = _judgments(records, answers, judge, cfg, out / "judgments.jsonl")
        result |= summarize(judgments, cfg.evaluate.position_swap, tuple(models)) | {"position_swap": cfg.evaluate.position_swap}
    else:
        result["n_questions"] = len(records)
    tested = [i for i, r in enumerate(records) if r.tests]
    if tested:
        with sandbox_or_own(sandbox, True, cfg.sandbox_workers) as runner:
            result["pass_rate"] = {m: _pass_rate([a[i] for i in tested], [records[i].tests for i in tested], runner)
                                   for m, a in zip(models, answers)}
        result["n_tested"] = len(tested)
    (out / "evaluation.json").write_text(json.dumps(result, indent=2) + "\n")
    return result


def _answers(records: list[Record], model: str, open_model: Callable[[str], Role], cfg: MeteorConfig, path: Path) -> list[str]:
    """Each question's answer by `model` (answered once; a rerun reads them back). '' where the prompt did not fit."""
    log = StageLog(path)
    done = log.done()
    todo = [r for r in records if r.id not in done]
    if todo:
        role = open_model(model)
        size = cfg.evaluate.batch_size
        with Progress(transient=True) as progress:
            task = progress.add_task(f"answers of {model}", total=len(todo))
            for at in range(0, len(todo), size):
                batch = todo[at : at + size]
                replies = role.reply([answer_prompt(r, cfg.prompts) for r in batch],
                                     cfg.evaluate.answer.params(seed_for(cfg.seed, "evaluate", model, batch[0].id)))
                for record, reply in zip(batch, replies):
                    log.append(record.model_copy(update={"answer": None if reply is None else reply.strip()}))
                progress.advance(task, len(batch))
    by_id = {r.id: r.answer or "" for r in log.read()}
    return [by_id[r.id] for r in records]


def _judgments(records: list[Record], answers: list[list[str]], judge: Callable[[], Role], cfg: MeteorConfig,
               path: Path) -> dict[str, dict[str, list[dict[str, int]] | None]]:
    """question id -> order -> the scores as shown (None = unreadable), for every question and order."""
    ev = cfg.evaluate
    orders: list[Order] = ["AB", "BA"] if ev.position_swap else ["AB"]
    log = StageLog(path, Judgment)
    done = log.done()
    todo = [(i, order) for i in range(len(records)) for order in orders if f"{records[i].id}|{order}" not in done]
    if todo:
        role = judge()
        with Progress(transient=True) as progress:
            task = progress.add_task("judging", total=len(todo))
            for at in range(0, len(todo), ev.batch_size):
                batch = todo[at : at + ev.batch_size]
                items = [(records[i], _shown(answers, i, order)) for i, order in batch]
                for (i, order), judged in zip(batch, score_answers(role, items, ev.judge.params(), ev.judge_retries)):
                    rid = records[i].id
                    log.append(Judgment(id=f"{rid}|{order}", question=rid, order=order, scores=judged.value,
                                        attempts=judged.attempts, problem=judged.problem, reply=judged.reply))
                progress.advance(task, len(batch))
    wanted = {r.id for r in records}
    table: dict[str, dict[str, list[dict[str, int]] | None]] = {r.id: {} for r in records}
    for j in log.read():
        if j.question in wanted and j.order in orders:
            table[j.question][j.order] = j.scores
    return table


def _shown(answers: list[list[str]], i: int, order: Order) -> list[str]:
    first, second = (0, 1) if order == "AB" else (1, 0)
    return [answers[first][i], answers[second][i]]


def summarize(judgments: dict[str, dict[str, list[dict[str, int]] | None]], position_swap: bool,
              models: tuple[str, str] = ("A", "B")) -> dict:
    """Win rates of A against B per criterion, mean scores, and the judge's position consistency.

    `judgments[question]["AB"]` are the scores with A shown first ([A's, B's]); `["BA"]` with B shown
    first ([B's, A's]). Win rates, scores and consistency are None when no question could be scored."""
    orders = ("AB", "BA") if position_swap else ("AB",)
    wins = dict.fromkeys(CRITERIA, 0.0)
    totals = [0.0, 0.0]
    agree = scored = unparsed = 0
    for by_order in judgments.values():
        if any(by_order.get(o) is None for o in orders):
            unparsed += 1
            continue
        scored += 1
        views = [(by_order["AB"][0], by_order["AB"][1])]  # (A's scores, B's scores) in each order
        if position_swap:
            views.append((by_order["BA"][1], by_order["BA"][0]))
        for a, b in views:
            totals[0] += sum(a[c] for c in CRITERIA)
            totals[1] += sum(b[c] for c in CRITERIA)
        for c in CRITERIA:
            outcomes = {(a[c] > b[c]) - (a[c] < b[c]) for a, b in views}  # +1 A higher, -1 B higher, 0 equal
            wins[c] += 1.0 if outcomes == {1} else 0.0 if outcomes == {-1} else 0.5
            agree += len(outcomes) == 1
    n_scores = scored * len(CRITERIA) * len(orders)
    return {
        "win_rate": {c: wins[c] / scored if scored else None for c in CRITERIA},
        "score": {m: total / n_scores if n_scores else None for m, total in zip(models, totals)},
        "position_consistency": agree / (scored * len(CRITERIA)) if scored and position_swap else None,
        "n_questions": scored,
        "n_unparsed": unparsed,
    }


def _pass_rate(answers: list[str], tests: list[list[str]], runner: Runner) -> float:
    checks = check_answers(answers, tests, runner)
    return sum(c.passed for c in checks) / len(checks)
