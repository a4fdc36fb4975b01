"""Trainer: config validation, the LR schedule, one update per estimator, metrics files, exact resume."""

import json
import random

import pytest
import torch
from pydantic import ValidationError

from selfevolve.rl import RLConfig, Trainer, assemble_batch, toy
from selfevolve.rl.trainer import lr_factor

torch.set_num_threads(1)


def make_batch(tokenizer, rng: random.Random, rows: int = 8):
    """A random batch of addition prompts with 1-3 token answers; groups of 4, keys by parity."""
    pairs = [(rng.randrange(10), rng.randrange(10)) for _ in range(rows // 4)]
    prompts = [tokenizer(toy.prompt(a, b))["input_ids"] for a, b in pairs for _ in range(4)]
    completions = [[rng.randrange(10) for _ in range(rng.randrange(1, 3))] + [tokenizer.eos_token_id] for _ in prompts]
    return assemble_batch(prompts, completions, tokenizer.pad_token_id,
                          scores=[float(rng.random() < 0.5) for _ in prompts],
                          group_ids=[i // 4 for i in range(rows)], keys=[("k", i % 2) for i in range(rows)])


@pytest.fixture(scope="module")
def tokenizer():
    return toy.char_tokenizer()


def test_bad_config_gives_clear_errors():
    with pytest.raises(ValidationError, match="total_steps"):
        RLConfig(lr_scheduler="cosine")
    with pytest.raises(ValidationError, match="token-level estimator"):
        RLConfig(advantage_estimator="grpo", kl_coef=0.1, kl_mode="reward")
    with pytest.raises(ValidationError, match="extra"):
        RLConfig(clip_ratio=0.2)
    with pytest.raises(ValidationError, match="dual_clip"):
        RLConfig(dual_clip=0.5)


def test_kl_without_reference_is_rejected(tokenizer):
    with pytest.raises(ValueError, match="reference"):
        Trainer(toy.tiny_policy(tokenizer), RLConfig(kl_coef=0.01))


def test_lr_schedule_warmup_then_cosine_to_floor():
    cfg = RLConfig(lr_scheduler="cosine", warmup_steps=3, total_steps=13, min_lr_ratio=0.1)
    assert [lr_factor(u, cfg) for u in range(3)] == pytest.approx([0.25, 0.5, 0.75])
    assert lr_factor(3, cfg) == pytest.approx(1.0)
    assert lr_factor(8, cfg) == pytest.approx(0.55)
    assert lr_factor(13, cfg) == pytest.approx(0.1) and lr_factor(50, cfg) == pytest.approx(0.1)
    assert lr_factor(7, RLConfig(warmup_steps=1)) == 1.0


@pytest.mark.parametrize("overrides", [
    {"advantage_estimator": "grpo"},
    {"advantage_estimator": "dr_grpo", "loss_agg_mode": "seq-mean-token-sum-norm"},
    {"advantage_estimator": "rloo", "loss_agg_mode": "seq-mean-token-mean"},
    {"advantage_estimator": "reinforce_pp", "kl_coef": 0.01, "kl_mode": "reward"},
    {"advantage_estimator": "trr_pp", "clip_ratio_high": 0.28, "dual_clip": 3.0, "entropy_coeff": 0.001},
    {"advantage_estimator": "gae", "kl_coef": 0.001, "kl_mode": "reward", "ppo_epochs": 2, "mini_batch_size": 4},
    {"advantage_estimator": "grpo", "kl_coef": 0.01, "kl_estimator": "k3", "micro_batch_size": 3},
])
def test_one_step_of_every_estimator_updates_the_policy(tokenizer, overrides):
    model = toy.tiny_policy(tokenizer)
    before = [p.detach().clone() for p in model.parameters()]
    ref = toy.tiny_policy(tokenizer) if overrides.get("kl_coef") else None
    trainer = Trainer(model, RLConfig(learning_rate=1e-3, **overrides), ref_model=ref)
    metrics = trainer.step(make_batch(tokenizer, random.Random(0)))
    assert any(not torch.equal(a, b) for a, b in zip(before, model.parameters()))
    for name in ("loss/policy", "entropy", "clip_frac", "grad_norm", "tokens_per_s", "groups/zero_std_frac",
                 "reward/mean/k/0", "reward/std/k/1", "response_length/mean"):
        assert name in metrics and metrics[name] == metrics[name]  # present and not NaN
    assert ("kl" in metrics) == bool(ref) and ("loss/value" in metrics) == (overrides["advantage_estimator"] == "gae")


def test_positive_advantage_completion_becomes_more_likely(tokenizer):
    model = toy.tiny_policy(tokenizer)
    batch = assemble_batch([[1, 10, 2, 11]] * 2, [[3, 12], [4, 12]], tokenizer.pad_token_id, scores=[1.0, 0.0],
                           group_ids=[0, 0])
    trainer = Trainer(model, RLConfig(advantage_estimator="grpo", learning_rate=1e-2))
    with torch.no_grad():
        before = trainer._completion_logprobs(model, batch).sum(1)
    trainer.step(batch)
    with torch.no_grad():
        after = trainer._completion_logprobs(model, batch).sum(1)
    assert after[0] > before[0] and after[1] < before[1]


def test_lora_trains_adapters_only_with_base_model_as_reference(tokenizer):
    model = toy.tiny_policy(tokenizer)
    base = {n: p.detach().clone() for n, p in model.named_parameters()}
    trainer = Trainer(model, RLConfig(lora_r=4, learning_rate=1e-2, kl_coef=0.1, advantage_estimator="grpo"))
    first = trainer.step(make_batch(tokenizer, random.Random(0)))
    second = trainer.step(make_batch(tokenizer, random.Random(1)))
    assert first["kl"] == pytest.approx(0.0, abs=1e-6) and second["kl"] > 0  # adapters start as the identity
    for name, p in trainer.policy.named_parameters():
        if "lora_" not in name:
            assert torch.equal(p, base[name.replace("base_model.model.", "").replace(".base_layer", "")])


def test_metrics_go_to_jsonl_and_tensorboard(tokenizer, tmp_path):
    trainer = Trainer(toy.tiny_policy(tokenizer), RLConfig(run_dir=str(tmp_path), advantage_estimator="grpo"))
    trainer.step(make_batch(tokenizer, random.Random(0)))
    trainer.step(make_batch(tokenizer, random.Random(1)))
    trainer.close()
    lines = [json.loads(x) for x in (tmp_path / "metrics.jsonl").read_text().splitlines()]
    assert [x["step"] for x in lines] == [1, 2] and "reward/mean" in lines[0]
    assert list((tmp_path / "tensorboard").glob("events.out.tfevents.*"))


def run(tokenizer, steps: int, save_at: int | None = None, checkpoint=None, resume: bool = False):
    """Train to `steps` on batches drawn from the global torch RNG; optionally save after step
    `save_at` (and stop) or resume from `checkpoint` first. Returns the final parameters."""
    torch.manual_seed(0)
    model = toy.tiny_policy(tokenizer, seed=0)
    config = RLConfig(advantage_estimator="grpo", learning_rate=1e-3, lr_scheduler="cosine", warmup_steps=1,
                      total_steps=8, mini_batch_size=4, micro_batch_size=2)
    trainer = Trainer(model, config)
    if resume:
        trainer.load_checkpoint(checkpoint)
    prompt = [tokenizer("3+4=")["input_ids"]] * 8
    while trainer.step_count < steps:
        completions = torch.randint(0, 10, (8, 2)).tolist()  # stands in for sampling: consumes the torch RNG
        scores = torch.rand(8).round().tolist()
        trainer.step(assemble_batch(prompt, completions, tokenizer.pad_token_id, scores=scores,
                                    group_ids=[i // 4 for i in range(8)]))
        if trainer.step_count == save_at:
            trainer.save_checkpoint(checkpoint)
            break
    return [p.detach().clone() for p in trainer.policy.parameters()]


def test_resume_after_step_k_is_bit_exact(tokenizer, tmp_path):
    uninterrupted = run(tokenizer, steps=4)
    run(tokenizer, steps=4, save_at=2, checkpoint=tmp_path)
    torch.manual_seed(123)  # the resumed run must not depend on the RNG state it starts in
    random.seed(123)
    resumed = run(tokenizer, steps=4, checkpoint=tmp_path, resume=True)
    assert all(torch.equal(a, b) for a, b in zip(uninterrupted, resumed))


def test_trr_pp_advantages_are_reported_per_key_and_whitened_within_each(tokenizer):
    batch = make_batch(tokenizer, random.Random(7), rows=16)
    batch.scores = torch.tensor([1.0, 0.0, 0.0, 1.0] * 4)  # keys alternate, so each key sees 1, 0, 1, 0, ...
    metrics = Trainer(toy.tiny_policy(tokenizer), RLConfig(advantage_estimator="trr_pp", adv_stats="sequence")).step(batch)
    for key in ("k/0", "k/1"):
        assert metrics[f"advantage/mean/{key}"] == pytest.approx(0.0, abs=1e-5)
        assert metrics[f"advantage/std/{key}"] == pytest.approx(0.935, abs=0.01)  # sqrt(7/8): whitened with Bessel's correction


@pytest.mark.parametrize("estimator", ["grpo", "gae"])
def test_micro_batching_of_ragged_rows_does_not_change_the_update(tokenizer, estimator):
    """Micro-batches are length-sorted and trimmed of padding no row in them uses; the gradient,
    losses and statistics must equal those of one micro-batch holding every row."""
    rng = random.Random(3)
    prompts = [[rng.randrange(3, 12) for _ in range(rng.choice([2, 5, 30]))] for _ in range(8)]
    completions = [[rng.randrange(3, 12) for _ in range(rng.choice([1, 4, 25]))] for _ in prompts]
    batch = assemble_batch(prompts, completions, tokenizer.pad_token_id, scores=[rng.random() for _ in prompts],
                           group_ids=[i // 4 for i in range(8)])
    results = []
    for micro in (1, 3, 8):
        torch.manual_seed(0)
        model, ref = toy.tiny_policy(tokenizer), toy.tiny_policy(tokenizer)
        config = RLConfig(advantage_estimator=estimator, micro_batch_size=micro, kl_coef=0.01, entropy_coeff=0.01)
        results.append(Trainer(model, config, ref_model=ref).step(batch))
    for name in ("grad_norm", "loss/policy", "entropy", "kl", "clip_frac"):
        assert results[0][name] == pytest.approx(results[2][name], rel=1e-5, abs=1e-7), name
        assert results[1][name] == pytest.approx(results[2][name], rel=1e-5, abs=1e-7), name


@pytest.mark.parametrize("estimator", ["grpo", "gae"])
def test_completion_only_logits_give_the_same_update_as_logits_at_every_position(tokenizer, estimator):
    """The loss asks the model for the completion's logits only (`logits_to_keep`); the update must
    equal the one computed from the logits of every position."""
    rng = random.Random(5)
    prompts = [[rng.randrange(3, 12) for _ in range(rng.choice([2, 5, 30]))] for _ in range(8)]
    completions = [[rng.randrange(3, 12) for _ in range(rng.choice([1, 4, 25]))] for _ in prompts]
    batch = assemble_batch(prompts, completions, tokenizer.pad_token_id, scores=[rng.random() for _ in prompts],
                           group_ids=[i // 4 for i in range(8)])
    results, weights = [], []
    for skip in (True, False):
        torch.manual_seed(0)
        model, ref = toy.tiny_policy(tokenizer), toy.tiny_policy(tokenizer)
        trainer = Trainer(model, RLConfig(advantage_estimator=estimator, micro_batch_size=3, kl_coef=0.01,
                                          entropy_coeff=0.01), ref_model=ref)
        assert trainer.skip_prompt_logits  # the toy model supports logits_to_keep
        trainer.skip_prompt_logits = skip
        results.append(trainer.step(batch))
        weights.append(torch.cat([p.detach().flatten() for p in model.parameters()]))
    for name in ("grad_norm", "loss/policy", "entropy", "kl", "clip_frac"):
        assert results[0][name] == pytest.approx(results[1][name], rel=1e-5, abs=1e-7), name
    torch.testing.assert_close(weights[0], weights[1])
