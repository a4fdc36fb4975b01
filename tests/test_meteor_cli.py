"""`selfevolve meteor` end to end on the shipped tiny-coder (weak, strong and judge), a strong model behind
an OpenAI-compatible endpoint, and the command's errors."""

from __future__ import annotations

import json

import pytest
import torch
from typer.testing import CliRunner

from selfevolve.cli.meteor import app
from selfevolve.llm.loading import load_model
from selfevolve.llm.server import create_app
from selfevolve.llm.transformers_backend import TransformersGenerator
from selfevolve.recipes.meteor.config import MeteorConfig
from selfevolve.recipes.meteor.evaluate import Judgment
from selfevolve.recipes.meteor.records import Record, StageLog
from selfevolve.recipes.meteor.refine import refine
from selfevolve.recipes.meteor.roles import Roles

from local_server import serve_in_thread

runner = CliRunner()

TINY_BUDGETS = [
    "max_questions=4", "evaluate.holdout=2", "roles.device=cpu",
    "distill.guideline.max_new_tokens=16", "distill.answer.max_new_tokens=16",
    "distill.sft.epochs=1", "distill.sft.batch_size=2", "distill.sft.gradient_accumulation_steps=1",
    "refine.answer.max_new_tokens=16", "refine.judge.max_new_tokens=16", "refine.max_iterations=2",
    "refine.judge_retries=1", "refine.fine_tune_interval=2", "refine.sft.batch_size=2", "refine.sft.gradient_accumulation_steps=1",
    "self_train.max_new_tokens=16", "self_train.num_beams=2", "self_train.gradient_accumulation_steps=2",
    "evaluate.answer.max_new_tokens=16", "evaluate.judge.max_new_tokens=32", "evaluate.judge_retries=0",
]


def test_meteor_run_on_tiny_coder_counts_what_it_cannot_read_and_resumes(tmp_path):
    args = ["run", "--preset", "paper", "--weak", "tiny-coder", "--strong", "tiny-coder", "--judge", "tiny-coder",
            "-q", "mbpp", "-o", str(tmp_path)] + [a for s in TINY_BUDGETS for a in ("--set", s)]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert (summary["train"], summary["heldout"]) == (4, 2)
    distilled = StageLog(tmp_path / "distill" / "records.jsonl").read()
    refined = StageLog(tmp_path / "refine" / "records.jsonl").read()
    assert len(distilled) == len(refined) == 4 and all(r.tests for r in refined)
    assert sum(summary["refine"]["verdicts"].values()) == 4  # every question accounted for, unparsed ones included
    assert summary["distill"]["model"] == str(tmp_path / "distill" / "model")
    evaluation = json.loads((tmp_path / "evaluate" / "evaluation.json").read_text())
    assert evaluation["models"] == [summary["final_model"], "tiny-coder"]
    assert evaluation["n_questions"] + evaluation["n_unparsed"] == 2 and set(evaluation["pass_rate"]) == set(evaluation["models"])
    judgments = StageLog(tmp_path / "evaluate" / "judgments.jsonl", Judgment).read()
    assert len(judgments) == 4 and all(j.scores is None or len(j.scores) == 2 for j in judgments)

    again = runner.invoke(app, args)  # a finished run resumes to the same result, every question already done
    assert again.exit_code == 0, again.output
    resumed = json.loads((tmp_path / "summary.json").read_text())
    assert resumed["distill"]["resumed"] == resumed["refine"]["resumed"] == resumed["self_train"]["turns"][0]["resumed"] == 4
    assert without_resumed(resumed) == without_resumed(summary)
    assert json.loads((tmp_path / "evaluate" / "evaluation.json").read_text()) == evaluation
    changed = runner.invoke(app, args + ["--set", "refine.max_iterations=3"])
    assert changed.exit_code == 2 and "cannot change refine.max_iterations" in changed.output
    allowed = runner.invoke(app, args + ["--set", "sandbox_workers=1"])  # a resource, free to change on resume
    assert allowed.exit_code == 0, allowed.output
    assert "sandbox_workers: 1" in (tmp_path / "config.yaml").read_text()


def without_resumed(value):
    if isinstance(value, dict):
        return {k: without_resumed(v) for k, v in value.items() if k != "resumed"}
    return [without_resumed(v) for v in value] if isinstance(value, list) else value


@pytest.fixture()
def served_tiny_coder():
    model, tokenizer = load_model("tiny-coder", device="cpu", dtype=torch.float32)
    with serve_in_thread(create_app(TransformersGenerator(model, tokenizer), "tiny-coder-served")) as url:
        yield url


def test_the_strong_model_can_be_any_openai_compatible_endpoint(tmp_path, served_tiny_coder):
    cfg = MeteorConfig.model_validate({
        "roles": {"weak": "tiny-coder", "strong": served_tiny_coder, "strong_api_model": "tiny-coder-served", "device": "cpu"},
        "refine": {"answer": {"max_new_tokens": 8}, "judge": {"max_new_tokens": 8}, "max_iterations": 1, "judge_retries": 0,
                   "fine_tune_interval": 0}})
    roles = Roles.from_config(cfg.roles, chat_template=True)
    questions = [Record(id=f"q{i}", domain="Python", question_content=f"Add {i}.") for i in range(2)]
    summary = refine(questions, roles, cfg, tmp_path)
    assert roles.strong().chat and roles.strong().generator.model == "tiny-coder-served"
    assert sum(summary["verdicts"].values()) == 2
    assert all(r.evaluation is not None for r in StageLog(tmp_path / "records.jsonl").read())


def test_bad_settings_and_files_exit_2_with_the_fix(tmp_path):
    bad_field = runner.invoke(app, ["distill", "-q", "mbpp", "-o", str(tmp_path / "a"), "--set", "refine.feedback=oracle"])
    assert bad_field.exit_code == 2 and "refine.feedback" in bad_field.output
    missing = runner.invoke(app, ["evaluate", "--models", "a", "b", "-q", str(tmp_path / "none.json"), "-o", str(tmp_path / "b")])
    assert missing.exit_code == 2 and "does not exist" in missing.output
    no_strong = runner.invoke(app, ["distill", "--preset", "paper", "--weak", "tiny-coder", "-q", "mbpp", "-o", str(tmp_path / "c"),
                                    "--set", "max_questions=1"])
    assert no_strong.exit_code == 2 and "pass --strong MODEL" in no_strong.output
