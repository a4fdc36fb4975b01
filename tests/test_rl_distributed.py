"""Data parallel: 2 CPU processes (gloo) make the same update as one process on the same global batch, with
DDP and with FSDP2 sharding; an FSDP checkpoint is the single-process one, so runs resume across world sizes."""

import random

import pytest
import torch
from torch.distributed.tensor import DTensor

from selfevolve.rl import RLConfig, Trainer, assemble_batch, toy
from selfevolve.rl.distributed import decoder_layers
from two_processes import on_two_processes

CONFIG = dict(advantage_estimator="trr_pp", learning_rate=1e-2, mini_batch_size=4, micro_batch_size=1, ppo_epochs=2,
              entropy_coeff=0.01)
# The checkpoint test's trainer has every part a checkpoint holds: LoRA adapters (the policy with them
# disabled is the KL reference), a PPO value head with its own optimiser group.
RESUME_CONFIG = dict(advantage_estimator="gae", kl_coef=0.05, kl_mode="reward", lora_r=4, learning_rate=1e-2,
                     critic_learning_rate=1e-2, mini_batch_size=4, micro_batch_size=1, ppo_epochs=2)
# fp32 runs differ only in the order gradients are summed (~1e-7 relative). Adam divides each coordinate
# by its own gradient scale, which can amplify that rounding up to ~lr on near-zero coordinates, so
# parameters are compared at 1e-4 absolute (lr = 1e-2, 4 updates) and Adam's first moments (the
# averaged gradients themselves) at 1e-6. Adam and clipping hide a gradient's scale from the parameters,
# so the pre-clipping gradient norm is compared too (it would double if ranks summed instead of averaged).
PARAM_TOLERANCE, GRAD_TOLERANCE = 1e-4, 1e-6


def global_batch(tokenizer, seed: int = 0):
    rng = random.Random(seed)
    prompts = [tokenizer(toy.prompt(rng.randrange(10), rng.randrange(10)))["input_ids"] for _ in range(8)]
    completions = [[rng.randrange(10) for _ in range(rng.randrange(1, 4))] + [tokenizer.eos_token_id] for _ in prompts]
    return assemble_batch(prompts, completions, tokenizer.pad_token_id, scores=[rng.random() for _ in prompts],
                          keys=[i % 3 for i in range(8)])


def new_trainer(config: dict, data_parallel: str = "ddp") -> Trainer:
    torch.set_num_threads(1)
    return Trainer(toy.tiny_policy(toy.char_tokenizer(), seed=0), RLConfig(**config, data_parallel=data_parallel))


def full(tensor: torch.Tensor) -> torch.Tensor:
    """The whole tensor of an FSDP shard (a collective: every rank must call it), a plain tensor as it is."""
    return tensor.full_tensor() if isinstance(tensor, DTensor) else tensor


def optimizer_state(trainer: Trainer) -> dict[str, dict[str, torch.Tensor]]:
    """Adam's state of every trained parameter, full tensors, by parameter name (value head included)."""
    return {name: {key: full(value).clone() for key, value in trainer.optimizer.state[p].items()}
            for name, p in trainer.actor.named_parameters() if p.requires_grad}


def local_share(trainer: Trainer) -> float:
    """The largest fraction of a decoder-layer weight, or of its Adam moment, held by this rank."""
    state = trainer.optimizer.state
    tensors = [t for layer in decoder_layers(trainer.policy) for p in layer.parameters()
               for t in (p, *([state[p]["exp_avg"]] if p in state else []))]
    return max((t.to_local() if isinstance(t, DTensor) else t).numel() / t.numel() for t in tensors)


def one_step(data_parallel: str = "ddp") -> dict:
    """Parameters, Adam state, grad norm and this rank's share of the layers after one RL step
    (2 epochs x 2 mini-batches) from the same starting model."""
    trainer = new_trainer(CONFIG, data_parallel)
    metrics = trainer.step(global_batch(toy.char_tokenizer()))
    return {"params": trainer.full_policy_state_dict(trainable_only=True), "optimizer": optimizer_state(trainer),
            "grad_norm": metrics["grad_norm"], "share": local_share(trainer)}


def resumed_step(data_parallel: str, checkpoint: str, saved: str) -> dict:
    """Save the new trainer to `saved`_start, load `checkpoint`, sample greedily from the policy (as rollouts
    do), take one RL step on a second batch, save to `saved`: the samples' accuracy, and parameters and
    Adam state after the step."""
    tokenizer = toy.char_tokenizer()
    trainer = new_trainer(RESUME_CONFIG, data_parallel)
    trainer.save_checkpoint(saved + "_start")  # as a recipe does at step 0, before any update
    trainer.load_checkpoint(checkpoint)
    accuracy = toy.greedy_accuracy(trainer.policy, tokenizer, toy.TRAIN[:8])
    trainer.step(global_batch(tokenizer, seed=1))
    trainer.save_checkpoint(saved)
    return {"params": trainer.full_policy_state_dict(trainable_only=True), "optimizer": optimizer_state(trainer),
            "value_head": {n: full(p).clone() for n, p in trainer.actor.value_head.named_parameters()},
            "accuracy": accuracy, "share": local_share(trainer)}


def assert_same_update(single: dict, parallel: dict) -> None:
    assert single["params"].keys() == parallel["params"].keys()
    for name, value in single["params"].items():
        torch.testing.assert_close(value, parallel["params"][name], atol=PARAM_TOLERANCE, rtol=0)
    for name, state in single["optimizer"].items():
        torch.testing.assert_close(state["exp_avg"], parallel["optimizer"][name]["exp_avg"], atol=GRAD_TOLERANCE, rtol=0)
        assert float(state["step"]) == float(parallel["optimizer"][name]["step"])


@pytest.mark.parametrize("data_parallel", ["ddp", "fsdp"])
def test_two_process_step_equals_single_process_step(tmp_path, data_parallel):
    single, parallel = one_step(), on_two_processes(tmp_path, one_step, data_parallel)
    before = toy.tiny_policy(toy.char_tokenizer(), seed=0).state_dict()
    assert max(float((value - before[name]).abs().max()) for name, value in single["params"].items()) > 1e-2  # it moved
    assert_same_update(single, parallel)
    assert parallel["grad_norm"] == pytest.approx(single["grad_norm"], rel=1e-5)
    assert single["share"] == 1.0
    assert parallel["share"] == (0.5 if data_parallel == "fsdp" else 1.0)  # FSDP: each rank holds half of every layer


def test_checkpoints_move_between_one_process_and_fsdp(tmp_path):
    """One process saves after step 1; FSDP on 2 processes loads it, takes step 2 and saves; one process
    loads that and holds exactly FSDP's weights and optimiser state, which equal one process's own step 2."""
    first = new_trainer(RESUME_CONFIG)
    first.step(global_batch(toy.char_tokenizer()))
    first.save_checkpoint(tmp_path / "step1")
    sharded = on_two_processes(tmp_path, resumed_step, "fsdp", str(tmp_path / "step1"), str(tmp_path / "step2"))

    start = torch.load(tmp_path / "step2_start" / "trainer.pt", weights_only=False)
    assert start["optimizer"]["state"] == {}  # saved before any update: no Adam state (DCP would have made one)
    restored = new_trainer(RESUME_CONFIG)
    restored.load_checkpoint(tmp_path / "step2")
    assert restored.step_count == 2
    for name, p in restored.policy.named_parameters():
        if p.requires_grad:
            assert torch.equal(p, sharded["params"][name]), name
    for name, p in restored.actor.value_head.named_parameters():
        assert torch.equal(p, sharded["value_head"][name]), name
    restored_state = optimizer_state(restored)
    assert restored_state.keys() == sharded["optimizer"].keys() and any("lora_B" in n for n in restored_state)
    for name, state in restored_state.items():
        for key, value in state.items():
            assert torch.equal(value, sharded["optimizer"][name][key]), (name, key)

    single = resumed_step("ddp", str(tmp_path / "step1"), str(tmp_path / "single_step2"))
    assert_same_update(single, sharded)
    assert (single["share"], sharded["share"]) == (1.0, 0.5)  # LoRA's base weights and adapters sharded alike
    assert sharded["accuracy"] == single["accuracy"]


def test_fsdp_units_are_the_models_decoder_layers_found_through_peft_too():
    policy = toy.tiny_policy(toy.char_tokenizer(), seed=0, layers=3)
    assert [type(m).__name__ for m in decoder_layers(policy)] == ["Qwen2DecoderLayer"] * 3
    assert decoder_layers(Trainer(policy, RLConfig(lora_r=2)).policy) == decoder_layers(policy)  # under PEFT's wrapper
    with pytest.raises(ValueError, match="names no module of its own in _no_split_modules.*data_parallel='ddp'"):
        decoder_layers(torch.nn.Sequential(torch.nn.Linear(2, 2)))
