"""Data parallelism through torch.distributed: process-group set-up and the two collectives the trainer uses.

Launch with `torchrun --nproc-per-node N script.py` or `accelerate launch --num_processes N script.py`
(both set RANK / WORLD_SIZE / MASTER_ADDR); the script calls `init_distributed()` before building the
`Trainer`, which then wraps the model in DDP. Every rank passes the same global batch to
`Trainer.step`; each rank runs the forward/backward passes of its share of the rows and DDP averages
the gradients, so one update equals the single-process update on the whole batch
(tests/test_rl_distributed.py checks this with 2 CPU processes over gloo).

Rollouts in data parallel: each rank generates its share of the prompts; gather them into one global
batch (e.g. `torch.distributed.all_gather_object` of the per-rank `Rollout` records, then
`assemble_batch`) so that group and key statistics (GRPO, TRR++) see the whole batch.

FSDP (models that do not fit one GPU per rank) is not wired into `Trainer`: it wraps the model in
DDP only. The route is torch's FSDP2 - `torch.distributed.fsdp.fully_shard` on each decoder layer
and then on the root model, in place of the DDP wrapper - with checkpoints through
`torch.distributed.checkpoint.state_dict.get_state_dict(model, optimizer)` (full state dicts), and
`no_sync` replaced by `model.set_requires_gradient_sync(False)` on accumulation micro-batches.
"""

from __future__ import annotations

import os

import torch
import torch.distributed as dist


def init_distributed() -> tuple[int, int]:
    """Join the process group described by the launcher's environment; return (rank, world size).

    A plain `python script.py` (no WORLD_SIZE, or 1) stays single-process. Backend: nccl with CUDA,
    gloo on CPU.
    """
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world > 1 and not dist.is_initialized():
        backend = "nccl" if torch.cuda.is_available() else "gloo"
        dist.init_process_group(backend=backend)
        if backend == "nccl":
            torch.cuda.set_device(int(os.environ.get("LOCAL_RANK", "0")))
    return rank(), world_size()


def rank() -> int:
    return dist.get_rank() if dist.is_initialized() else 0


def world_size() -> int:
    return dist.get_world_size() if dist.is_initialized() else 1


def gather_rows(local: torch.Tensor) -> torch.Tensor:
    """Concatenate every rank's [k, ...] tensor along dim 0 in rank order (same shape on all ranks)."""
    if world_size() == 1:
        return local
    parts = [torch.empty_like(local) for _ in range(world_size())]
    dist.all_gather(parts, local.contiguous())
    return torch.cat(parts)


def sum_across_ranks(values: torch.Tensor) -> torch.Tensor:
    """Element-wise sum over ranks (a copy; the input is untouched)."""
    total = values.clone()
    if world_size() > 1:
        dist.all_reduce(total)
    return total
