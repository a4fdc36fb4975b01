"""Countdown R1-Zero recipe on a nano model: GRPO and PPO steps, disjoint splits, resume, report, CLI errors."""

from __future__ import annotations


import pytest
import torch
from safetensors.torch import load_file
from typer.testing import CliRunner

from selfevolve.cli import app, _register
from selfevolve.recipes.countdown.config import CountdownConfig, DataConfig
from selfevolve.recipes.countdown.run import problem_key, run_countdown, split_problems
from selfevolve.recipes.rundir import RunDirError
from selfevolve.store.metrics import read_metrics
from selfevolve.tinymodels.build import build_tiny
from selfevolve.tinymodels.corpora.countdown import corpus
from selfevolve.tinymodels.corpus import write_corpus


@pytest.fixture(scope="module")
def nano_countdown(tmp_path_factory):
    """A randomly initialised nano model with a tokenizer trained on Countdown base-prompt documents."""
    root = tmp_path_factory.mktemp("nano-countdown")
    write_corpus(root / "corpus.jsonl", corpus(80, 0))
    return build_tiny("nano", root / "corpus.jsonl", root / "model")


def small_config(model, **rl) -> CountdownConfig:
    return CountdownConfig.model_validate({
        "model": str(model), "device": "cpu", "threads": 1, "steps": 2, "prompts_per_step": 2, "samples_per_prompt": 2,
        "checkpoint_every": 1,
        "data": {"train_problems": 40, "test_problems": 3},
        "sampling": {"max_new_tokens": 6, "generation_batch_size": 8},
        "eval": {"every": 1, "max_new_tokens": 6, "behavior_samples": 3},
        "rl": {"advantage_estimator": "grpo", "kl_mode": "loss", "kl_coef": 0.001, "learning_rate": 1e-3, **rl},
    })


def test_test_split_is_disjoint_from_rl_pool():
    train, test = split_problems(DataConfig(train_problems=2000, test_problems=200))
    assert len(test) == 200 and len(train) > 1000
    assert not {problem_key(p) for p in train} & {problem_key(p) for p in test}


def test_resumed_run_repeats_the_uninterrupted_run(nano_countdown, tmp_path):
    straight = run_countdown(small_config(nano_countdown), tmp_path / "straight").parent
    stopped = tmp_path / "stopped"
    run_countdown(small_config(nano_countdown).model_copy(update={"steps": 1}), stopped)
    report = run_countdown(None, stopped, resume=True, overrides=["steps=2"])

    a, b = read_metrics(straight / "metrics.jsonl"), read_metrics(stopped / "metrics.jsonl")
    assert [r["step"] for r in a] == [r["step"] for r in b] == [0, 1, 2]
    for key in ("reward/mean", "loss/policy", "kl", "eval/accuracy_t1", "eval/behavior/backtracking"):
        assert a[2][key] == pytest.approx(b[2][key], abs=1e-6), key
    wa, wb = load_file(straight / "model" / "model.safetensors"), load_file(stopped / "model" / "model.safetensors")
    assert all(torch.allclose(wa[k], wb[k], atol=1e-6) for k in wa)
    assert "Countdown R1-Zero" in report.read_text() and "accuracy" in report.read_text()
    assert sorted(p.name for p in (stopped / "checkpoints").iterdir()) == ["step_000001", "step_000002"]


def test_ppo_with_critic_trains_the_value_head(nano_countdown, tmp_path):
    cfg = small_config(nano_countdown, advantage_estimator="gae", kl_mode="reward", kl_estimator="k1",
                       critic_learning_rate=1e-2).model_copy(update={"steps": 1, "samples_per_prompt": 1})
    run_countdown(cfg, tmp_path / "ppo")
    last = read_metrics(tmp_path / "ppo" / "metrics.jsonl")[-1]
    assert last["step"] == 1 and "loss/value" in last and "kl" in last
    state = torch.load(tmp_path / "ppo" / "checkpoints" / "step_000001" / "trainer.pt", weights_only=False)
    assert state["value_head"] is not None and state["step"] == 1


def test_bad_input_gets_clear_errors(nano_countdown, tmp_path):
    with pytest.raises(ValueError, match="samples_per_prompt >= 2"):
        CountdownConfig(rl={"advantage_estimator": "grpo"}, samples_per_prompt=1)
    with pytest.raises(RunDirError, match="no run to resume"):
        run_countdown(None, tmp_path / "nothing", resume=True)
    _register()
    result = CliRunner().invoke(app, ["countdown", "train", "--preset", "nope", "--out", str(tmp_path / "x")])
    assert result.exit_code == 2 and "tiny" in result.output
    result = CliRunner().invoke(app, ["countdown", "train", "--set", "steps=0", "--out", str(tmp_path / "x")])
    assert result.exit_code == 2 and "steps" in result.output


def test_resume_with_set_changes_what_may_change_and_refuses_the_rest(nano_countdown, tmp_path):
    run = tmp_path / "run"
    run_countdown(small_config(nano_countdown).model_copy(update={"steps": 1}), run)
    _register()
    for override, field in (("rl.learning_rate=0.5", "rl.learning_rate"), ("eval.problems=2", "eval.problems")):
        refused = CliRunner().invoke(app, ["countdown", "train", "--resume", str(run), "--set", override])
        assert refused.exit_code == 2 and f"cannot change {field} when resuming" in refused.output, refused.output
    refused = CliRunner().invoke(app, ["countdown", "train", "--resume", str(run), "--out", str(tmp_path / "elsewhere")])
    assert refused.exit_code == 2 and "--out do not apply with --resume" in refused.output
    done = CliRunner().invoke(app, ["countdown", "train", "--resume", str(run), "--set", "steps=3", "--set", "eval.every=0"])
    assert done.exit_code == 0, done.output
    records = read_metrics(run / "metrics.jsonl")
    assert [r["step"] for r in records] == [0, 1, 2, 3]
    assert [r["step"] for r in records if "eval/accuracy_t1" in r] == [0, 1, 3]  # eval.every=0: only the last step
    report = (run / "report.html").read_text()
    assert "test accuracy (1 sample at T=1)" in report and "3 of 3" in report
