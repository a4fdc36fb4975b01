"""The whole of METEOR on one question set: distillation -> refinement -> self-training, then the
evaluation of the final model against the starting weak model on held-out questions.

Each stage reads the previous stage's records (so every field a stage needs was written by the one
before, docs/spec/meteor.md §8.1) and starts from the previous stage's newest model. Run directory:

    config.yaml  train.jsonl  heldout.jsonl  summary.json
    distill/     records.jsonl  model/  summary.json
    refine/      records.jsonl  models/v001 ...  summary.json
    self_train/  turn_01/{pairs.jsonl, model/}  summary.json
    evaluate/    answers_1.jsonl  answers_2.jsonl  judgments.jsonl  evaluation.json

Rerun the same command to resume: finished items and models are kept, the rest is done.
"""

from __future__ import annotations

import json
from pathlib import Path

import yaml

from selfevolve.config import ConfigError, dump_config
from selfevolve.recipes.meteor.config import MeteorConfig
from selfevolve.recipes.meteor.distill import distill
from selfevolve.recipes.meteor.errors import MeteorError
from selfevolve.recipes.meteor.evaluate import evaluate
from selfevolve.recipes.meteor.questions import split_holdout, write_records
from selfevolve.recipes.meteor.records import Record, StageLog
from selfevolve.recipes.meteor.refine import refine
from selfevolve.recipes.meteor.roles import Roles
from selfevolve.recipes.meteor.self_train import self_train
from selfevolve.recipes.rundir import check_resume_changes


def start_dir(out: Path, cfg: MeteorConfig) -> None:
    """Write `out/config.yaml`; for a resumed directory, check that only `CHANGEABLE_ON_RESUME` fields differ
    from the saved config (the same rule as every recipe's `--resume --set`) and save the new values."""
    saved = out / "config.yaml"
    if saved.is_file():
        before = MeteorConfig.model_validate(yaml.safe_load(saved.read_text()))
        try:
            check_resume_changes(before, cfg, MeteorConfig.CHANGEABLE_ON_RESUME)
        except ConfigError as e:
            raise MeteorError(f"{out} holds a run to resume: {e}") from None
        dump_config(cfg, saved)
        return
    out.mkdir(parents=True, exist_ok=True)
    dump_config(cfg, saved)


def run_meteor(records: list[Record], roles: Roles, cfg: MeteorConfig, out: Path) -> dict:
    """All stages and the evaluation; returns the summary (also in `out/summary.json`)."""
    start_dir(out, cfg)
    train, heldout = split_holdout(records, cfg.evaluate.holdout, cfg.seed)
    train = train[: cfg.max_questions] if cfg.max_questions else train
    write_records(train, out / "train.jsonl")
    write_records(heldout, out / "heldout.jsonl")
    summary: dict = {"questions": len(records), "train": len(train), "heldout": len(heldout)}
    summary["distill"] = distill(train, roles, cfg, out / "distill")
    distilled = _stage_records(out / "distill" / "records.jsonl", train)
    summary["refine"] = refine(distilled, roles, cfg, out / "refine", start=summary["distill"]["model"])
    refined = _stage_records(out / "refine" / "records.jsonl", train)
    summary["self_train"] = self_train(refined, roles, cfg, out / "self_train", start=summary["refine"]["model"])
    final = summary["self_train"]["model"]
    summary["final_model"] = final
    if not heldout:
        summary["evaluate"] = {"skipped": "evaluate.holdout is 0"}
    elif final == roles.weak_model:
        summary["evaluate"] = {"skipped": "no stage trained the weak model, so there is nothing to compare"}
    else:
        summary["evaluate"] = evaluate(heldout, [final, roles.weak_model], roles.weak, roles.judge, cfg, out / "evaluate")
    (out / "summary.json").write_text(json.dumps(summary, indent=2) + "\n")
    return summary


def _stage_records(path: Path, questions: list[Record]) -> list[Record]:
    """A stage's output records of `questions`, in their order."""
    by_id = {r.id: r for r in StageLog(path).read()}
    return [by_id[q.id] for q in questions if q.id in by_id]
