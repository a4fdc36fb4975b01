"""Stage 1, weak-to-strong distillation (docs/spec/meteor.md §2): the weak model writes a guideline, the strong model
answers the question with it, and the weak model is fine-tuned on (question, answer).

Writes `records.jsonl` (one record per question, appended as each finishes: the question fields,
`guideline`, `answer`), `model/` (the fine-tuned weak model) and `summary.json`. Rerun on the same
directory to resume: finished questions are not redone, and a finished model is kept.
"""

from __future__ import annotations

from pathlib import Path

from rich.progress import Progress

from selfevolve.recipes.meteor.config import MeteorConfig
from selfevolve.recipes.meteor.prompts import Conversation, distilled_answer_prompt, guideline_prompt, sft_prompt
from selfevolve.recipes.meteor.records import Record, StageLog, require, write_summary
from selfevolve.recipes.meteor.roles import Role, Roles
from selfevolve.recipes.meteor.seeding import seed_for
from selfevolve.recipes.meteor.sft import fine_tune
from selfevolve.recipes.meteor.versions import is_complete


def distill(records: list[Record], roles: Roles, cfg: MeteorConfig, out: Path) -> dict:
    """Run the stage on `records` into `out`; returns the summary (also in `out/summary.json`)."""
    require(records, ("question_content",), "distillation", "every question needs its content")
    log = StageLog(out / "records.jsonl")
    done = log.done()
    todo = [r for r in records if r.id not in done]
    if todo:
        _write_records(todo, roles, cfg, log)
    written = [r for r in log.read() if r.id in {q.id for q in records}]
    answered = [r for r in written if r.answer]
    model_dir = out / "model"
    if cfg.distill.train and answered and not is_complete(model_dir):
        fine_tune(roles.weak_model, [sft_example(r, cfg) for r in answered], cfg.prompts.chat_template, cfg.distill.sft,
                  model_dir, device=cfg.roles.device, seed=cfg.seed,
                  manifest={"stage": "distill", "trained_on": [r.id for r in answered]})
    summary = {"stage": "distill", "questions": len(records), "resumed": len(records) - len(todo), "records": len(written),
               "answered": len(answered), "no_guideline": sum(r.guideline is None for r in written),
               "model": str(model_dir) if is_complete(model_dir) else None}
    write_summary(out / "summary.json", summary)
    return summary


def _write_records(todo: list[Record], roles: Roles, cfg: MeteorConfig, log: StageLog) -> None:
    """Distil the questions in batches, appending each record as it is done (the weak model is freed after)."""
    weak, strong = roles.weak(), roles.strong()
    with Progress(transient=True) as progress:
        task = progress.add_task("distillation", total=len(todo))
        for start in range(0, len(todo), cfg.distill.batch_size):
            batch = todo[start : start + cfg.distill.batch_size]
            for record in distill_batch(batch, weak, strong, cfg):
                log.append(record)
            progress.advance(task, len(batch))


def distill_batch(batch: list[Record], weak: Role, strong: Role, cfg: MeteorConfig) -> list[Record]:
    """Guidelines by the weak model, then answers by the strong model, for a batch of questions."""
    variant = cfg.prompts.variant
    guidelines = weak.reply([guideline_prompt(r, variant) for r in batch],
                            cfg.distill.guideline.params(seed_for(cfg.seed, "guideline", batch[0].id)))
    guided = [(r, g.strip()) for r, g in zip(batch, guidelines) if g is not None]
    answers = iter(strong.reply([distilled_answer_prompt(r, g, variant) for r, g in guided],
                                cfg.distill.answer.params(seed_for(cfg.seed, "answer", batch[0].id))) if guided else [])
    out = []
    for record, guideline in zip(batch, guidelines):
        answer = next(answers) if guideline is not None else None
        out.append(record.model_copy(update={"guideline": None if guideline is None else guideline.strip(),
                                             "answer": None if answer is None else answer.strip()}))
    return out


def sft_example(record: Record, cfg: MeteorConfig) -> tuple[Conversation, str]:
    """(prompt, answer) of a record with an answer: what the weak model is fine-tuned on."""
    return sft_prompt(record, cfg.prompts), record.answer
