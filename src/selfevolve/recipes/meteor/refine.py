"""Stage 2, iterative refinement with feedback (docs/spec/meteor.md §3): the model answers with reasoning, feedback
judges the answer, and a wrong answer is retried with the feedback, up to `max_iterations` answers.
Kept samples (correct ones; with `keep_unverified` also those still wrong) are pooled, and every
`fine_tune_interval` of them the model is fine-tuned into a new version, `models/v001`, `v002`, ...;
the next questions are answered by the newest version. The starting model is never written to.

Feedback (`refine.feedback`): the strong model's structured verdict ("judge", the paper), the
question's tests run on the answer's code ("tests"), or the tests' verdict with the strong model's
advice for the retry ("both").

Writes `records.jsonl` (per question: the final `answer`, `evaluation` = the last feedback,
`iterations`, `verdict`), `models/vNNN/` (each with `meteor.json`: the version it was trained from and
the records it was trained on) and `summary.json`. Resume: finished questions are not redone, kept
samples not yet trained on are trained on first, and the newest complete version is used.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from rich.progress import Progress

from selfevolve.recipes.meteor.code_checks import Runner, check_answers, sandbox_or_own
from selfevolve.recipes.meteor.config import MeteorConfig
from selfevolve.recipes.meteor.distill import sft_example
from selfevolve.recipes.meteor.judging import Judged, judge_answers
from selfevolve.recipes.meteor.parsing import VerdictReply
from selfevolve.recipes.meteor.prompts import answer_prompt, revise_prompt
from selfevolve.recipes.meteor.records import Record, StageLog, Verdict, require, write_summary
from selfevolve.recipes.meteor.roles import Role, Roles
from selfevolve.recipes.meteor.seeding import seed_for
from selfevolve.recipes.meteor.sft import fine_tune
from selfevolve.recipes.meteor.versions import manifest, next_version, versions

NO_ROOM = "the prompt does not fit the model's context"


def refine(records: list[Record], roles: Roles, cfg: MeteorConfig, out: Path, start: str | None = None,
           sandbox: Runner | None = None) -> dict:
    """Run the stage on `records` into `out`, starting from the weak model at `start` (default: --weak)."""
    rc = cfg.refine
    require(records, ("question_content",), "refinement", "every question needs its content")
    if rc.feedback != "judge":
        require(records, ("tests",), f"refinement with feedback={rc.feedback}",
                "use refine.feedback=judge for questions without tests")
    log = StageLog(out / "records.jsonl")
    done = log.done()
    todo = [r for r in records if r.id not in done]
    current = _Current(roles, _newest(out / "models", start or roles.weak_model))
    pool = _untrained(log.read(), out / "models", rc.keep_unverified)
    interval = rc.fine_tune_interval
    with sandbox_or_own(sandbox, rc.feedback != "judge" and bool(todo), cfg.sandbox_workers) as runner:
        with Progress(transient=True) as progress:
            task = progress.add_task("refinement", total=len(todo))
            for start_at in range(0, len(todo), rc.batch_size):
                if interval and len(pool) >= interval:
                    pool = _new_version(current, pool, cfg, out)
                for record in refine_batch(todo[start_at : start_at + rc.batch_size], current.role, roles, cfg, runner):
                    log.append(record)
                    pool += [record] if _kept(record, rc.keep_unverified) else []
                    progress.advance(task)
    if interval and pool and (len(pool) >= interval or rc.final_fine_tune):
        pool = _new_version(current, pool, cfg, out)
    written = [r for r in log.read() if r.id in {q.id for q in records}]
    summary = {"stage": "refine", "questions": len(records), "resumed": len(records) - len(todo), "records": len(written),
               "verdicts": dict(Counter(r.verdict for r in written)),
               "iterations": dict(Counter(r.iterations for r in written)),
               "kept": sum(_kept(r, rc.keep_unverified) for r in written), "not_yet_trained": len(pool),
               "versions": [p.name for p in versions(out / "models")], "model": current.model}
    write_summary(out / "summary.json", summary)
    return summary


def refine_batch(batch: list[Record], weak: Role, roles: Roles, cfg: MeteorConfig, runner: Runner | None) -> list[Record]:
    """Answer, judge, and retry with the feedback, for a batch of questions; one finished record each."""
    rc = cfg.refine
    state: dict[str, dict] = {r.id: {} for r in batch}
    feedback: dict[str, str] = {}
    active = batch
    for iteration in range(1, rc.max_iterations + 1):
        prompts = [answer_prompt(r, cfg.prompts) if iteration == 1 else revise_prompt(r, feedback[r.id], cfg.prompts)
                   for r in active]
        answers = weak.reply(prompts, rc.answer.params(seed_for(cfg.seed, "refine", active[0].id, iteration)))
        answered = [(r, a.strip()) for r, a in zip(active, answers) if a is not None]
        advise = iteration < rc.max_iterations  # feedback=both: advice only for answers that get another try
        verdicts = iter(_feedback([r for r, _ in answered], [a for _, a in answered], roles, cfg, runner, advise)
                        if answered else [])
        retry = []
        for record, answer in zip(active, answers):
            verdict, text = next(verdicts) if answer is not None else ("unparsed", NO_ROOM)
            state[record.id] = {"answer": None if answer is None else answer.strip(), "evaluation": text,
                                "iterations": iteration, "verdict": verdict}
            if verdict == "incorrect" and iteration < rc.max_iterations:
                feedback[record.id] = text
                retry.append(record)
        active = retry
        if not active:
            break
    return [r.model_copy(update=state[r.id]) for r in batch]


def _feedback(records: list[Record], answers: list[str], roles: Roles, cfg: MeteorConfig, runner: Runner | None,
              advise: bool) -> list[tuple[Verdict, str]]:
    """(verdict, feedback text) per answer, by the configured feedback; with feedback=both and `advise`, the
    strong model's advice on each failing answer is added to the tests' report."""
    rc = cfg.refine
    params = rc.judge.params()
    if rc.feedback == "judge":
        judged = judge_answers(roles.strong(), records, answers, params, rc.judge_retries)
        return [_from_judge(j) for j in judged]
    checks = check_answers(answers, [r.tests for r in records], runner)
    out: list[tuple[Verdict, str]] = [("correct" if c.passed else "incorrect", c.report()) for c in checks]
    if rc.feedback == "both" and advise:
        failing = [i for i, c in enumerate(checks) if not c.passed]
        advice = judge_answers(roles.strong(), [records[i] for i in failing], [answers[i] for i in failing], params,
                               rc.judge_retries, [checks[i].report() for i in failing]) if failing else []
        for i, judged in zip(failing, advice):
            if judged.value is not None and judged.value.feedback:
                out[i] = ("incorrect", f"{out[i][1]}\nAdvice: {judged.value.feedback}")
    return out


def _from_judge(judged: Judged[VerdictReply]) -> tuple[Verdict, str]:
    if judged.value is None:
        return "unparsed", judged.reply or judged.problem
    return ("correct" if judged.value.correct else "incorrect"), judged.value.feedback


def _kept(record: Record, keep_unverified: bool) -> bool:
    return record.verdict == "correct" or (keep_unverified and record.verdict == "incorrect")


def _newest(models: Path, start: str) -> str:
    done = versions(models)
    return str(done[-1]) if done else start


def _untrained(written: list[Record], models: Path, keep_unverified: bool) -> list[Record]:
    trained = {rid for v in versions(models) for rid in manifest(v)["trained_on"]}
    return [r for r in written if _kept(r, keep_unverified) and r.id not in trained]


class _Current:
    """The newest version of the weak model; its role is opened on first use, and freed before training."""

    def __init__(self, roles: Roles, model: str):
        self.roles, self.model, self._role = roles, model, None

    @property
    def role(self) -> Role:
        if self._role is None:
            self._role = self.roles.weak(self.model)
        return self._role

    def switch(self, model: str | None = None) -> None:
        """Free the open role; with `model`, make it the current version."""
        self.model, self._role = model or self.model, None


def _new_version(current: _Current, pool: list[Record], cfg: MeteorConfig, out: Path) -> list[Record]:
    """Fine-tune the current version on `pool` into the next one and switch to it (only once it is
    saved); returns the samples left untrained (none)."""
    current.switch()  # the generating copy of the weights is not needed while training
    new = fine_tune(current.model, [sft_example(r, cfg) for r in pool], cfg.prompts.chat_template, cfg.refine.sft,
                    next_version(out / "models"), device=cfg.roles.device, seed=cfg.seed,
                    manifest={"stage": "refine", "trained_on": [r.id for r in pool]})
    current.switch(str(new))
    return []
