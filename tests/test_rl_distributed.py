"""Data parallel: 2 CPU processes (gloo, DDP) make the same update as one process on the same global batch."""

import os
import random
import socket
import time

import torch
import torch.multiprocessing as mp

from selfevolve.rl import RLConfig, Trainer, assemble_batch, init_distributed, toy

CONFIG = dict(advantage_estimator="trr_pp", learning_rate=1e-2, mini_batch_size=4, micro_batch_size=1, ppo_epochs=2,
              entropy_coeff=0.01)
# fp32 runs differ only in the order gradients are summed (~1e-7 relative). Adam divides each coordinate
# by its own gradient scale, which can amplify that rounding up to ~lr on near-zero coordinates, so
# parameters are compared at 1e-4 absolute (lr = 1e-2, 4 updates) and Adam's first moments (the
# averaged gradients themselves) at 1e-6.
PARAM_TOLERANCE, GRAD_TOLERANCE = 1e-4, 1e-6


def global_batch(tokenizer):
    rng = random.Random(0)
    prompts = [tokenizer(toy.prompt(rng.randrange(10), rng.randrange(10)))["input_ids"] for _ in range(8)]
    completions = [[rng.randrange(10) for _ in range(rng.randrange(1, 4))] + [tokenizer.eos_token_id] for _ in prompts]
    return assemble_batch(prompts, completions, tokenizer.pad_token_id, scores=[rng.random() for _ in prompts],
                          keys=[i % 3 for i in range(8)])


def train_one_step() -> tuple[list[torch.Tensor], list[torch.Tensor]]:
    """Parameters and Adam first moments after one RL step (2 epochs x 2 mini-batches)."""
    torch.set_num_threads(1)
    tokenizer = toy.char_tokenizer()
    trainer = Trainer(toy.tiny_policy(tokenizer, seed=0), RLConfig(**CONFIG))
    trainer.step(global_batch(tokenizer))
    params = list(trainer.policy.parameters())
    return [p.detach().clone() for p in params], [trainer.optimizer.state[p]["exp_avg"].clone() for p in params]


def worker(rank: int, port: int, out_path: str) -> None:
    os.environ.update(RANK=str(rank), LOCAL_RANK=str(rank), WORLD_SIZE="2", MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port))
    init_distributed()
    result = train_one_step()
    if rank == 0:
        torch.save(result, out_path)
    torch.distributed.destroy_process_group()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_two_process_ddp_step_equals_single_process_step(tmp_path):
    out = tmp_path / "ddp.pt"
    context = mp.start_processes(worker, args=(free_port(), str(out)), nprocs=2, join=False, start_method="spawn")
    deadline = time.monotonic() + 120
    while not context.join(timeout=1):
        if time.monotonic() > deadline:
            for p in context.processes:
                p.kill()
            raise AssertionError("the 2-process run did not finish in 120 s")
    (single, single_m), (ddp, ddp_m) = train_one_step(), torch.load(out)
    before = [p.detach() for p in toy.tiny_policy(toy.char_tokenizer(), seed=0).parameters()]
    assert max(float((a - b).abs().max()) for a, b in zip(single, before)) > 1e-2  # the step moved the weights
    for a, b in zip(single, ddp):
        torch.testing.assert_close(a, b, atol=PARAM_TOLERANCE, rtol=0)
    for a, b in zip(single_m, ddp_m):
        torch.testing.assert_close(a, b, atol=GRAD_TOLERANCE, rtol=0)
