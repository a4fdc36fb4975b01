"""One problem from statement to SFT record, as one search (docs/spec/sra_mcts.md §3-§4, §8):

    search (mcts | tot) → judge → clean (fences out, >= 20 words) → translate → [tests in the sandbox,
    re-translate up to `retranslations` times] → keep or drop → record
    cot → [tests, asked again up to `retranslations` times] → keep or drop → record
"""

from __future__ import annotations

from dataclasses import dataclass

from selfevolve.recipes.sra_mcts import prompts
from selfevolve.recipes.sra_mcts.baselines import cot, tot
from selfevolve.recipes.sra_mcts.calls import Ask, Context, RunTests, Search
from selfevolve.recipes.sra_mcts.data import clean_plan, sft_question, sft_solution, word_count
from selfevolve.recipes.sra_mcts.search import judge_plan, mcts
from selfevolve.tasks.code_tests import Verification, extract_code


@dataclass
class Outcome:
    """What happened to one problem. `status`: kept | dropped | skipped; `reason` says why not kept."""

    status: str
    reason: str = ""
    plan: str = ""
    answer: str = ""
    accurate: bool | None = None
    finish: int | None = None
    tree: dict | None = None
    verification: Verification | None = None
    record: dict | None = None
    critic_replies: int = 0  # distinct partial plans the critic scored
    critic_unscored: int = 0  # of those, replies without a score (valued 5, the spec's default)


def synthesize(ctx: Context) -> Search:
    """The Outcome of `ctx.problem` under `ctx.cfg.method`, with the critic's reply counts."""
    outcome = yield from _synthesize(ctx)
    outcome.critic_replies, outcome.critic_unscored = len(ctx.scores), ctx.critic_unscored
    return outcome


def _synthesize(ctx: Context) -> Search:
    cfg = ctx.cfg
    if cfg.method == "cot":
        answer, verification = yield from _answer_until_verified(ctx, lambda: cot(ctx))
        return _finish(ctx, Outcome("kept", answer=answer, verification=verification))
    found = yield from (mcts(ctx) if cfg.method == "mcts" else tot(ctx))
    outcome = Outcome("kept", plan=found.plan, finish=found.finish, tree=found.tree.to_dict())
    outcome.accurate = yield from judge_plan(ctx, found.plan)
    outcome.plan = clean_plan(found.plan)
    if word_count(outcome.plan) < cfg.data.min_plan_words:
        return _drop(outcome, "short_plan")
    if cfg.data.filter_on_judge and not outcome.accurate:
        return _drop(outcome, "judged_unsolved")
    outcome.answer, outcome.verification = yield from _answer_until_verified(ctx, lambda: _translate(ctx, outcome.plan))
    return _finish(ctx, outcome)


def _translate(ctx: Context, plan: str) -> Search:
    prompt = ctx.prompt("translate", lambda problem, _: prompts.translate(problem, plan, ctx.cfg.prompt_style))
    [answer] = yield Ask("translate", (prompt,))
    return answer


def _answer_until_verified(ctx: Context, answer_once) -> Search:
    """(answer, Verification or None): asked once without tests; with tests, asked again while the pass
    rate is below min_pass_rate, `retranslations` more times at most."""
    tests, verify_cfg = ctx.problem.tests, ctx.cfg.verify
    answer = yield from answer_once()
    if not tests:
        return answer, None
    verification = yield RunTests(extract_code(answer), tests)
    for _ in range(verify_cfg.retranslations):
        if verification.pass_rate >= verify_cfg.min_pass_rate:
            break
        answer = yield from answer_once()
        verification = yield RunTests(extract_code(answer), tests)
    return answer, verification


def _finish(ctx: Context, outcome: Outcome) -> Outcome:
    verification = outcome.verification
    if verification is not None and verification.pass_rate < ctx.cfg.verify.min_pass_rate:
        return _drop(outcome, "tests_failed")
    question = sft_question(ctx.problem.question, ctx.rng)
    record = {"id": ctx.problem.id, "question": question,
              "solution": sft_solution(outcome.plan, outcome.answer, ctx.cfg.data.natural_language)}
    if verification is None:
        record["verified"] = None  # no tests: the reference path, unverified
    else:
        record |= {"verified": verification.verified, "pass_rate": verification.pass_rate, "n_tests": verification.n_tests}
    outcome.record = record
    return outcome


def _drop(outcome: Outcome, reason: str) -> Outcome:
    outcome.status, outcome.reason = "dropped", reason
    return outcome
