"""Data parallelism through torch.distributed: process-group set-up, FSDP2 sharding, and the two
collectives the trainer uses.

Launch with `torchrun --nproc-per-node N script.py` or `accelerate launch --num_processes N script.py`
(both set RANK / WORLD_SIZE / MASTER_ADDR); the script calls `init_distributed()` before building the
`Trainer`. Every rank passes the same global batch to `Trainer.step`; each rank runs the forward/backward
passes of its share of the rows and the gradients are averaged over ranks, so one update equals the
single-process update on the whole batch (tests/test_rl_distributed.py checks this with 2 CPU processes
over gloo). `RLConfig.data_parallel` picks how:

- `ddp`: the model wrapped in DistributedDataParallel; every rank holds full weights, gradients and
  optimiser state.
- `fsdp`: torch FSDP2 (`shard_policy`): `fully_shard` on each decoder layer (the classes the transformers
  model's `_no_split_modules` names), then on the transformers model (inside a PEFT wrapper, if any), and
  on the PPO value head as a unit of its own. Weights, gradients and AdamW state are sharded across
  ranks (parameters become DTensors); a layer's weights are gathered for its forward and backward only.
  Gradient accumulation skips the reduce-scatter on all but the last micro-batch of an update
  (`set_requires_gradient_sync`), like DDP's `no_sync`; the price is full-size gradients between
  micro-batches. The frozen KL reference (`ref_model`, without LoRA) is not sharded: every rank holds
  a copy. Tested on CPU over gloo only (no GPUs here): NCCL and bf16 on GPUs are not.

Checkpoints are the same full (unsharded) `trainer.pt` either way: under FSDP `save_checkpoint` gathers
the tensors with `torch.distributed.checkpoint.state_dict` (every rank must call it; rank 0 writes), and
`load_checkpoint` scatters them again, so a run may resume on another number of ranks or on one.
`Trainer.full_policy_state_dict()` gives the policy's full weights the same way (on rank 0), e.g. for
`save_pretrained` at the end of a script.

Under FSDP every forward pass is a collective: all ranks must run the same number of them. transformers'
`generate` keeps ranks in step (`synced_gpus`, which it turns on for a model `shard_policy` marked), and so
does our `TransformersGenerator`; a caller must still make the same calls on every rank (same number of
batches), which `map_shares` arranges by padding every rank's share to one size.

Rollouts in data parallel: each rank generates its share of the prompts and the results are gathered on
every rank (`map_shares`), so that group and key statistics (GRPO, TRR++) see the whole batch and every
rank passes the same global batch to `Trainer.step`. The recipes (`selfevolve azr`, `countdown`) do this
under `torchrun` (`selfevolve.recipes.ranks`); their final model goes through `full_policy_state_dict()`.
"""

from __future__ import annotations

import os
import pickle
from typing import Callable, Sequence, TypeVar

import torch
import torch.distributed as dist
from torch import nn

T, R = TypeVar("T"), TypeVar("R")


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


def map_shares(fn: Callable[[list[T]], list[R]], items: Sequence[T]) -> list[R]:
    """`fn(items)` with the work split over ranks: each rank calls `fn` on its contiguous share and every
    rank gets all the results, in item order, so each item is processed once and all ranks see the same
    results (a collective: every rank calls it with the same `items`).

    Shares are padded to one size with copies of the first item (results dropped), so that every rank
    makes the same calls: under FSDP each forward pass of a generation is a collective."""
    if world_size() == 1 or not items:
        return list(fn(list(items)))
    size = -(-len(items) // world_size())
    share = list(items[rank() * size : (rank() + 1) * size])
    results = list(fn(share + [items[0]] * (size - len(share))))[: len(share)]
    parts: list[list[R]] = [[] for _ in range(world_size())]
    dist.all_gather_object(parts, results)
    return [r for part in parts for r in part]


def from_rank0(fn: Callable[[], R]) -> R:
    """`fn()` run on rank 0 only and its result (or the exception it raised) given to every rank; for
    work with side effects that must happen once, like creating the run directory."""
    if world_size() == 1:
        return fn()
    box: list = [None]
    if rank() == 0:
        try:
            box[0] = (fn(), None)
        except Exception as error:  # noqa: BLE001 - re-raised on every rank below
            box[0] = (None, _picklable(error))
    dist.broadcast_object_list(box, src=0)
    result, error = box[0]
    if error is not None:
        raise error
    return result


def _picklable(error: Exception) -> Exception:
    """`error` itself if it can travel to the other ranks, else a RuntimeError with its message."""
    try:
        pickle.dumps(error)
        return error
    except Exception:  # noqa: BLE001 - anything pickle refuses
        return RuntimeError(f"{type(error).__name__}: {error}")


def barrier() -> None:
    if world_size() > 1:
        dist.barrier()


def shard_policy(policy: nn.Module, *others: nn.Module) -> list[nn.Module]:
    """FSDP2 over all ranks, in place: `fully_shard` each decoder layer of the transformers causal LM
    `policy`, then the model itself, then each of `others` as a unit of its own. Returns these root units.

    With PEFT the unit is the transformers model inside the wrapper: PEFT's `generate` calls that model
    directly, and its `forward` reaches it through `__call__`, so either way FSDP gathers the weights.
    Build the optimiser afterwards: the parameters become DTensor shards."""
    from torch.distributed.device_mesh import init_device_mesh
    from torch.distributed.fsdp import fully_shard

    model = _base_model(policy)
    mesh = init_device_mesh(next(model.parameters()).device.type, (world_size(),))
    for layer in decoder_layers(model):
        fully_shard(layer, mesh=mesh)
    fully_shard(model, mesh=mesh)
    for module in others:
        fully_shard(module, mesh=mesh)
    model._is_fsdp_managed_module = True  # transformers' generate reads it and keeps ranks in step (synced_gpus)
    return [model, *others]


def decoder_layers(model: nn.Module) -> list[nn.Module]:
    """The modules of `model` whose class its `_no_split_modules` names (transformers' "keep on one device"
    blocks: the decoder layers of Qwen2, Llama, ...), in order."""
    names = set(getattr(_base_model(model), "_no_split_modules", None) or ())
    layers = [m for m in model.modules() if any(c.__name__ in names for c in type(m).__mro__)]  # FSDP subclasses too
    if not layers:
        raise ValueError(
            f"data_parallel='fsdp' shards a model layer by layer, but {type(_base_model(model)).__name__} names no "
            f"module of its own in _no_split_modules ({sorted(names)}); use data_parallel='ddp', or a transformers "
            "model that sets _no_split_modules"
        )
    return layers


def _base_model(model: nn.Module) -> nn.Module:
    """The transformers model under a PEFT wrapper (the model itself otherwise)."""
    return model.get_base_model() if hasattr(model, "get_base_model") else model
