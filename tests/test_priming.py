"""SFT priming (TRL SFTTrainer, completion-only loss) and the miniature study, on a nano model."""

from __future__ import annotations

import pytest
from safetensors.torch import load_file

from selfevolve.llm.loading import load_model
from selfevolve.recipes.countdown.config import PrimingConfig, StudyConfig
from selfevolve.recipes.countdown.priming import prime, priming_records, sft_pairs
from selfevolve.recipes.countdown.run import problem_key
from selfevolve.recipes.countdown.study import run_study
from selfevolve.store.metrics import read_metrics
from selfevolve.tasks.countdown import generate_problems, render_prompt
from selfevolve.tinymodels.build import build_tiny
from selfevolve.tinymodels.corpora.countdown import corpus
from selfevolve.tinymodels.corpus import write_corpus

SMALL_SFT = {"train_records": 4, "epochs": 2, "start_epoch": 1, "batch_size": 2, "micro_batch_size": 2,
             "learning_rate": 1e-3, "max_length": 512}


@pytest.fixture(scope="module")
def nano_countdown(tmp_path_factory):
    root = tmp_path_factory.mktemp("nano-priming")
    write_corpus(root / "corpus.jsonl", corpus(80, 0))
    return build_tiny("nano", root / "corpus.jsonl", root / "model")


def test_sft_prompt_ends_like_the_rl_prompt():
    records = priming_records("all_strategies", PrimingConfig(train_records=3), exclude=[])
    pairs = sft_pairs(records)
    problem = generate_problems(1, 42, "priming")[0]
    assert render_prompt(problem, "base").endswith(pairs[0]["prompt"][-60:])
    assert pairs[0]["prompt"] + pairs[0]["completion"] == records[0]["query"] + "\n" + records[0]["completion"]


def test_priming_records_avoid_test_problems_and_respect_the_token_budget():
    test = [generate_problems(1, 42, "priming")[0]]  # the first priming problem of seed 42
    records = priming_records("only_backtracking", PrimingConfig(train_records=20, max_completion_tokens=200), test, len)
    assert len(records) == 20 and all(len(r["completion"]) <= 200 for r in records)
    assert problem_key(test[0]) not in {(tuple(sorted(r["nums"])), r["target"]) for r in records}
    with pytest.raises(ValueError, match="needs count_tokens"):
        priming_records("only_backtracking", PrimingConfig(max_completion_tokens=60), [])
    with pytest.raises(ValueError, match="start_epoch"):
        PrimingConfig(epochs=2, start_epoch=3)


def test_sft_changes_the_model_and_logs_a_loss(nano_countdown, tmp_path):
    cfg = PrimingConfig(**SMALL_SFT)
    out = prime(str(nano_countdown), priming_records("empty_cot", cfg, []), cfg, tmp_path / "sft", seed=0, device="cpu")
    model, tokenizer = load_model(out, device="cpu")
    assert tokenizer.padding_side == "left" and model.config.vocab_size == len(tokenizer)
    before, after = load_file(nano_countdown / "model.safetensors"), load_file(out / "model.safetensors")
    assert any((before[k].float() - after[k].float()).abs().max() > 0 for k in before)
    losses = [r["loss"] for r in read_metrics(tmp_path / "sft" / "sft_log.jsonl") if "loss" in r]
    assert len(losses) == 4 and all(loss > 0 for loss in losses)  # 2 epochs x 4 records / batch 2


def test_study_runs_conditions_writes_report_and_resumes(nano_countdown, tmp_path):
    cfg = StudyConfig.model_validate({
        "conditions": ["none", "empty_cot"], "seeds": [0], "shuffled_control": ["none"], "priming": SMALL_SFT,
        "rl": {"model": str(nano_countdown), "device": "cpu", "threads": 1, "steps": 1, "prompts_per_step": 2, "samples_per_prompt": 2,
               "data": {"train_problems": 40, "test_problems": 3},
               "sampling": {"max_new_tokens": 6}, "eval": {"every": 1, "max_new_tokens": 6, "behavior_samples": 3,
                                                           "greedy": False},
               "rl": {"advantage_estimator": "grpo", "kl_coef": 0.0, "learning_rate": 1e-3}},
    })
    report = run_study(cfg, tmp_path / "study")
    study = tmp_path / "study"
    assert (study / "empty_cot" / "seed0" / "sft" / "done").is_file()
    assert not (study / "none" / "seed0" / "sft").exists()
    assert (study / "none+shuffled" / "seed0" / "rl" / "config.yaml").read_text().count("shuffled_rewards") == 1
    text = report.read_text()
    assert "none+shuffled" in text and "accuracy_t1 start" in text
    metrics = study / "empty_cot" / "seed0" / "rl" / "metrics.jsonl"
    lines = metrics.read_text()
    assert [r["step"] for r in read_metrics(metrics)] == [0, 1]
    run_study(None, study, resume=True)  # every run finished: nothing is redone
    assert metrics.read_text() == lines
