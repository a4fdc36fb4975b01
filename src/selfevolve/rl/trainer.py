"""The policy-gradient trainer: one `step(batch)` = advantages, then clipped-surrogate updates.

`Trainer.step` reads top to bottom: log-probs of the old policy and the reference, advantages from
the configured estimator (together a `StepTensors`), then `ppo_epochs` passes of mini-batch updates
(each micro-batched with gradient accumulation), then metrics. Estimators and losses are the pure functions of
`advantages.py` and `losses.py`; this file only wires them to a model and an optimiser.

Shapes: B rows in the batch, P prompt width, T completion width, V vocabulary, H hidden size.
"""

from __future__ import annotations

import contextlib
import math
import random
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch import nn
from torch.distributed.checkpoint.state_dict import (
    StateDictOptions,
    get_model_state_dict,
    get_optimizer_state_dict,
    set_model_state_dict,
    set_optimizer_state_dict,
)
from torch.distributed.tensor import DTensor
from torch.nn import functional as F
from torch.nn.parallel import DistributedDataParallel

from selfevolve.llm.logprobs import takes_logits_to_keep, token_logprobs
from selfevolve.rl import advantages as A
from selfevolve.rl import losses as L
from selfevolve.rl.batch import RolloutBatch
from selfevolve.rl.config import RLConfig
from selfevolve.rl.distributed import gather_rows, rank, shard_policy, sum_across_ranks, world_size
from selfevolve.store.metrics import MetricsLogger


# Full (unsharded) tensors on the CPU of rank 0 only (the other ranks get {}): one copy in host memory.
_GATHER = StateDictOptions(full_state_dict=True, cpu_offload=True)
# Full tensors read on rank 0 and scattered to every rank's shards; frozen tensors (LoRA's base) are not saved.
_SCATTER = StateDictOptions(full_state_dict=True, broadcast_from_rank0=True, strict=False)


@dataclass
class _ActorOutput:
    logits: torch.Tensor  # [B, P+T, V], or [B, T+1, V] when the completion's logits alone were asked for
    values: torch.Tensor | None  # [B, P+T] or None


class _Actor(nn.Module):
    """The policy and, for PPO, a linear value head on its last hidden state: one module for DDP and the optimiser."""

    def __init__(self, policy: nn.Module, with_value_head: bool):
        super().__init__()
        self.policy = policy
        self.value_head = nn.Linear(policy.config.hidden_size, 1) if with_value_head else None
        if self.value_head is not None:
            nn.init.zeros_(self.value_head.weight)
            nn.init.zeros_(self.value_head.bias)
            self.value_head.to(next(policy.parameters()).device)

    def forward(self, **inputs) -> _ActorOutput:
        out = self.policy(**inputs, output_hidden_states=self.value_head is not None)
        values = None
        if self.value_head is not None:
            hidden = out.hidden_states[-1].float()  # [B, L, H]
            # rows in, rows out: on a 3-D input nn.Linear returns a view, which FSDP warns about
            values = self.value_head(hidden.flatten(0, 1)).view(hidden.shape[:2])  # [B, L]
        return _ActorOutput(out.logits, values)


class _Capture:
    """Calls a model for `token_logprobs` and keeps its output (logits for entropy, values)."""

    def __init__(self, model):
        self.model = model
        self.output: _ActorOutput | None = None

    def __call__(self, **inputs):
        self.output = self.model(**inputs)
        return self.output


@dataclass
class StepTensors:
    """Per-token tensors of one RL step, computed once without gradients before its updates.

    All [B, T] over the whole batch (rows as in the batch, completion columns), 0 on padding.
    """

    old_logp: torch.Tensor  # log pi_old(token): the denominator of the importance ratio
    advantages: torch.Tensor  # from the configured estimator
    ref_logp: torch.Tensor | None = None  # log pi_ref(token); None without a KL term
    old_values: torch.Tensor | None = None  # V_old(s_t) before token t; PPO (GAE) only
    returns: torch.Tensor | None = None  # value targets A + V_old; PPO (GAE) only

    def rows(self, index: torch.Tensor, width: int) -> StepTensors:
        """Rows `index` ([m] long), first `width` columns: [m, width] each."""
        pick = lambda x: None if x is None else x[index, :width]  # noqa: E731
        return StepTensors(pick(self.old_logp), pick(self.advantages), pick(self.ref_logp),
                           pick(self.old_values), pick(self.returns))


def lr_factor(update: int, config: RLConfig) -> float:
    """Multiplier of the learning rate at optimiser update `update` (0-based): linear warm-up, then
    constant or cosine decay to `min_lr_ratio` at `total_steps`."""
    if update < config.warmup_steps:
        return (update + 1) / (config.warmup_steps + 1)
    if config.lr_scheduler == "constant":
        return 1.0
    span = max(1, config.total_steps - config.warmup_steps)
    progress = min(1.0, (update - config.warmup_steps) / span)
    return config.min_lr_ratio + (1 - config.min_lr_ratio) * 0.5 * (1 + math.cos(math.pi * progress))


class Trainer:
    """Policy-gradient updates of a causal LM from `RolloutBatch`es.

    model: a transformers causal LM (already on its device). ref_model: the frozen reference for KL
    (needed when `config.kl_coef > 0`, except with LoRA, where the policy with adapters disabled is
    the reference). Under torch.distributed the model is wrapped in DDP or sharded with FSDP2
    (`config.data_parallel`; see `distributed.py`).
    """

    def __init__(self, model: nn.Module, config: RLConfig, ref_model: nn.Module | None = None):
        self.config = config
        if config.lora_r > 0:
            model = _with_lora(model, config)
        if config.needs_reference and ref_model is None and config.lora_r == 0:
            raise ValueError("kl_coef > 0 needs a frozen reference: pass ref_model=, or train with LoRA (lora_r > 0)")
        self.policy = model
        self.ref_model = ref_model.eval().requires_grad_(False) if ref_model is not None else None
        self.device = next(model.parameters()).device
        self.bf16 = config.bf16 if config.bf16 is not None else self.device.type == "cuda"
        self.skip_prompt_logits = takes_logits_to_keep(model)  # the loss needs the completion's logits only
        self.actor = _Actor(model, config.needs_value_head)
        self.sharded = world_size() > 1 and config.data_parallel == "fsdp"
        self.model = self.actor  # what the updates call
        self.fsdp_units: list[nn.Module] = []  # FSDP roots (transformers model, value head), whose gradient sync we switch
        if self.sharded:
            self.fsdp_units = shard_policy(model, *([self.actor.value_head] if self.actor.value_head is not None else []))
        elif world_size() > 1:
            self.model = DistributedDataParallel(self.actor)
        # after sharding: FSDP replaces the parameters by DTensor shards, which the optimiser must hold
        self.optimizer = torch.optim.AdamW(self._param_groups(), betas=config.adam_betas, eps=config.adam_eps)
        self.scheduler = torch.optim.lr_scheduler.LambdaLR(self.optimizer, lambda u: lr_factor(u, config))
        self.shuffle_rng = torch.Generator().manual_seed(config.seed)
        self.step_count = 0
        self.logger = None
        if config.run_dir and rank() == 0:
            self.logger = MetricsLogger(config.run_dir, config.wandb_project, config.model_dump())

    def _param_groups(self) -> list[dict]:
        cfg = self.config
        groups = [{"params": [p for p in self.policy.parameters() if p.requires_grad], "lr": cfg.learning_rate,
                   "weight_decay": cfg.weight_decay}]
        if self.actor.value_head is not None:
            groups.append({"params": list(self.actor.value_head.parameters()), "lr": cfg.critic_learning_rate,
                           "weight_decay": 0.0})
        return groups

    # ------------------------------------------------------------------ the RL step

    def step(self, batch: RolloutBatch) -> dict[str, float]:
        """One RL step on `batch` (the global batch; identical on every rank). Returns the metrics."""
        started = time.perf_counter()
        cfg = self.config
        b = len(batch)
        if b % world_size():
            raise ValueError(f"batch of {b} rows does not split over {world_size()} ranks; use a multiple")
        batch = batch.to(self.device)

        with torch.no_grad():
            tensors = self._step_tensors(batch)

        sums: dict[str, torch.Tensor] = {}
        grad_norms = []
        for _ in range(cfg.ppo_epochs):
            for rows in self._mini_batches(b):
                grad_norms.append(self._update(batch, tensors, rows, sums))

        self.step_count += 1
        metrics = self._metrics(batch, tensors.advantages, sums, grad_norms, time.perf_counter() - started)
        if self.logger is not None:
            self.logger.log(self.step_count, metrics)
        return metrics

    def _step_tensors(self, batch: RolloutBatch) -> StepTensors:
        """Old-policy log-probs (the sampler's, or recomputed), reference log-probs and old values
        where needed, then advantages (and GAE's value targets)."""
        cfg = self.config
        old_logp, old_values = batch.old_logprobs, None  # [B, T], [B, T]
        if old_logp is None or cfg.needs_value_head:
            policy_logp, old_values = self._score_rows(self.actor, batch)
            old_logp = policy_logp if old_logp is None else old_logp
        ref_logp = self._reference_logprobs(batch) if cfg.needs_reference else None  # [B, T]
        advantages, returns = self._advantages(batch, old_logp, ref_logp, old_values)  # [B, T] each
        return StepTensors(old_logp, advantages, ref_logp, old_values, returns)

    def _advantages(self, batch: RolloutBatch, old_logp: torch.Tensor, ref_logp: torch.Tensor | None,
                    old_values: torch.Tensor | None) -> tuple[torch.Tensor, torch.Tensor | None]:
        """Advantages [B, T] (0 on padding) and, for GAE, value targets [B, T]."""
        cfg, mask = self.config, batch.completion_mask
        scores = batch.scores if batch.scores is not None else (batch.token_rewards * mask).sum(dim=1)  # [B]
        est = cfg.advantage_estimator
        if est in ("grpo", "dr_grpo"):
            return A.per_token(A.grpo(scores, batch.group_ids, est == "grpo", cfg.grpo_eps), mask), None
        if est == "rloo":
            return A.per_token(A.rloo(scores, batch.group_ids), mask), None
        if est == "trr_pp":
            return A.per_token(A.trr_pp(scores, batch.keys, mask, cfg.adv_stats, cfg.whiten_eps), mask), None
        rewards = batch.token_rewards if batch.token_rewards is not None else A.last_token_scores(scores, mask)
        if cfg.kl_mode == "reward" and ref_logp is not None:
            rewards = A.kl_in_reward(rewards, old_logp, ref_logp, mask, cfg.kl_coef)
        if est == "reinforce_pp":
            return A.reinforce_pp(rewards, mask, cfg.gamma, cfg.whiten_eps), None
        return A.gae(rewards, old_values, mask, cfg.gamma, cfg.lam)

    def _update(self, batch: RolloutBatch, tensors: StepTensors, rows: torch.Tensor, sums: dict) -> float:
        """One optimiser update on the mini-batch `rows` ([M] global row indices); returns the grad norm.

        Each micro-batch's loss is divided by the whole mini-batch's denominator and multiplied by the
        world size, so the gradients summed over micro-batches and averaged over ranks (DDP's all-reduce,
        FSDP's reduce-scatter) equal the single-process gradient of the mini-batch loss.
        """
        cfg = self.config
        denominators = (L.normaliser(batch.completion_mask[rows], cfg.loss_agg_mode, cfg.loss_norm_length),
                        float(batch.completion_mask[rows].sum()))  # (policy loss, value loss)
        micro = _by_length(batch, rows.chunk(world_size())[rank()]).split(cfg.micro_batch_size)  # this rank's share
        for i, idx in enumerate(micro):
            with contextlib.nullcontext() if i == len(micro) - 1 else self._local_gradients():
                self._micro_batch_loss(batch, tensors, idx, denominators, sums).backward()
        params = [p for group in self.optimizer.param_groups for p in group["params"]]
        grad_norm = torch.nn.utils.clip_grad_norm_(params, cfg.max_grad_norm or float("inf"))
        self.optimizer.step()
        self.scheduler.step()
        self.optimizer.zero_grad(set_to_none=True)
        return float(grad_norm.full_tensor() if isinstance(grad_norm, DTensor) else grad_norm)  # FSDP: a replicated DTensor

    @contextlib.contextmanager
    def _local_gradients(self):
        """Backward passes that accumulate gradients on this rank without averaging them over ranks
        (DDP's `no_sync`, FSDP's `set_requires_gradient_sync(False)`); the update's last one averages all."""
        if isinstance(self.model, DistributedDataParallel):
            with self.model.no_sync():
                yield
            return
        for unit in self.fsdp_units:
            unit.set_requires_gradient_sync(False)
        try:
            yield
        finally:
            for unit in self.fsdp_units:
                unit.set_requires_gradient_sync(True)

    def _micro_batch_loss(self, batch: RolloutBatch, tensors: StepTensors, idx: torch.Tensor,
                          denominators: tuple[float, float], sums: dict) -> torch.Tensor:
        """Scaled loss of rows `idx` ([m]): clipped surrogate, - entropy bonus, + KL, + value loss.

        Adds the per-token statistics (policy loss, clip fraction, entropy, KL, value loss) to `sums`.
        """
        cfg = self.config
        sub = batch.rows(idx).trimmed()
        mask, t = sub.completion_mask, sub.completion_mask.shape[1]  # mask [m, t]: t <= T, the rows' own width
        own = tensors.rows(idx, t)  # [m, t] each
        capture = _Capture(self.model)
        with self._autocast():
            logp = self._completion_logprobs(capture, sub)  # [m, t]
        pg, clipped = L.clipped_surrogate(logp, own.old_logp, own.advantages, cfg.clip_ratio_low,
                                          cfg.clip_ratio_high, cfg.dual_clip)  # [m, t] each
        logits = capture.output.logits[:, -(t + 1) : -1] / cfg.temperature  # [m, t, V]
        entropy = L.entropy_from_logits(logits if cfg.entropy_coeff > 0 else logits.detach())  # [m, t]
        per_token = pg - cfg.entropy_coeff * entropy
        _accumulate(sums, "loss/policy", pg, mask)
        _accumulate(sums, "clip_frac", clipped.float(), mask)
        _accumulate(sums, "entropy", entropy, mask)
        if own.ref_logp is not None:
            kl = L.kl_penalty(logp, own.ref_logp, cfg.kl_estimator)  # [m, t]
            _accumulate(sums, "kl", kl, mask)
            if cfg.kl_mode == "loss":
                per_token = per_token + cfg.kl_coef * kl
        loss = L.aggregate(per_token, mask, cfg.loss_agg_mode, denominators[0])
        if own.old_values is not None:
            values = capture.output.values[:, sub.prompt_width - 1 : -1]  # [m, t]: V(s_t) before token t
            vloss = L.value_loss(values, own.old_values, own.returns, cfg.value_clip)  # [m, t]
            _accumulate(sums, "loss/value", vloss, mask)
            loss = loss + cfg.value_loss_coef * L.aggregate(vloss, mask, "token-mean", denominators[1])
        return loss * world_size()

    # ------------------------------------------------------------------ forward passes

    def _completion_logprobs(self, model, batch: RolloutBatch) -> torch.Tensor:
        """log pi(completion token t | prefix): [B, T], columns P-1 .. P+T-2 of token_logprobs."""
        return token_logprobs(model, batch.input_ids, batch.attention_mask, self.config.temperature,
                              last=batch.completion_mask.shape[1], skip_logits=self.skip_prompt_logits)

    def _score_rows(self, actor: _Actor, batch: RolloutBatch):
        """No-grad log-probs [B, T] and values [B, T] (or None) of all rows, each rank doing its share."""
        local = torch.arange(len(batch)).chunk(world_size())[rank()]
        width = batch.completion_mask.shape[1]
        logps, values = [], []
        for idx in local.split(self.config.micro_batch_size):
            capture = _Capture(actor)
            sub = batch.rows(idx).trimmed()
            pad = (0, width - sub.completion_mask.shape[1])  # back to the batch's width T
            with self._autocast():
                logps.append(F.pad(self._completion_logprobs(capture, sub).float(), pad))
            if capture.output.values is not None:
                values.append(F.pad(capture.output.values[:, sub.prompt_width - 1 : -1].float(), pad))
        logp = gather_rows(torch.cat(logps))
        return logp, (gather_rows(torch.cat(values)) if values else None)

    def _reference_logprobs(self, batch: RolloutBatch) -> torch.Tensor:
        if self.ref_model is not None:
            return self._score_rows(_Actor(self.ref_model, False), batch)[0]
        with self.policy.disable_adapter():  # LoRA: the base model is the reference
            return self._score_rows(_Actor(self.policy, False), batch)[0]

    def _autocast(self):
        return torch.autocast(device_type=self.device.type, dtype=torch.bfloat16, enabled=self.bf16)

    def _mini_batches(self, b: int) -> list[torch.Tensor]:
        """Global row indices of each mini-batch: a seeded permutation split into mini_batch_size rows."""
        size = self.config.mini_batch_size or b
        if size % world_size():
            raise ValueError(f"mini_batch_size={size} does not split over {world_size()} ranks; use a multiple")
        order = torch.randperm(b, generator=self.shuffle_rng) if self.config.shuffle_mini_batches else torch.arange(b)
        return list(order.split(size))

    # ------------------------------------------------------------------ metrics

    def _metrics(self, batch: RolloutBatch, adv: torch.Tensor, sums, grad_norms, seconds: float) -> dict[str, float]:
        names = sorted(sums)
        totals = sum_across_ranks(torch.stack([sums[n] for n in names])) if names else None  # [metrics, 2]
        metrics = {n: float(totals[i, 0] / totals[i, 1].clamp(min=1)) for i, n in enumerate(names)}
        scores = batch.scores if batch.scores is not None else (batch.token_rewards * batch.completion_mask).sum(1)
        metrics.update(_reward_metrics(scores.float().cpu(), batch.group_ids.cpu(), batch.keys))
        row_adv = L.masked_mean(adv, batch.completion_mask, dim=1)  # [B]
        metrics.update(_key_stats("advantage", row_adv.float().cpu(), batch.keys))
        lengths = batch.completion_mask.sum(dim=1)
        metrics.update({
            "response_length/mean": float(lengths.mean()),
            "response_length/max": float(lengths.max()),
            "response_length/min": float(lengths.min()),
            "grad_norm": sum(grad_norms) / len(grad_norms),
            "lr": self.scheduler.get_last_lr()[0],
            "step_time_s": seconds,
            "tokens_per_s": float(batch.attention_mask.sum()) / seconds,
        })
        return metrics

    # ------------------------------------------------------------------ checkpoints

    def save_checkpoint(self, path: str | Path) -> None:
        """Model (trainable weights), value head, optimiser, scheduler, step, and every rank's RNG states.

        Full tensors whatever the data parallelism, so any number of ranks can load it. Under FSDP every
        rank must call this (the tensors are gathered); rank 0 writes `trainer.pt`."""
        path = Path(path)
        model = self.full_policy_state_dict(trainable_only=True)
        value_head = self._full_value_head_state()
        optimizer = self._full_optimizer_state()
        if rank() == 0:
            path.mkdir(parents=True, exist_ok=True)
            torch.save({
                "model": model,
                "value_head": value_head,
                "optimizer": optimizer,
                "scheduler": self.scheduler.state_dict(),
                "step": self.step_count,
                "config": self.config.model_dump(),
            }, path / "trainer.pt")
        if world_size() > 1:
            torch.distributed.barrier()
        torch.save(_rng_state(self.shuffle_rng), path / f"rng_rank{rank()}.pt")

    def load_checkpoint(self, path: str | Path) -> None:
        """Restore what `save_checkpoint` wrote into this trainer (built with the same config and base model),
        whatever the number of ranks that saved it. Under FSDP every rank must call this.

        A rank the saving run did not have (resumed on more ranks) takes the mini-batch order, which all
        ranks share, from rank 0's RNG file and keeps its sampling RNGs as the caller seeded them."""
        path = Path(path)
        # FSDP: mmap, so that ranks other than 0 (whose tensors the scatter ignores) read only what they use
        state = torch.load(path / "trainer.pt", map_location="cpu", mmap=self.sharded, weights_only=False)
        missing = [n for n in self._trainable_names() if n not in state["model"]]
        if missing:
            raise ValueError(f"checkpoint {path} lacks {len(missing)} trainable tensors (e.g. {missing[0]}); was it saved from this model and LoRA setting?")
        if self.sharded:
            set_model_state_dict(self.policy, state["model"], options=_SCATTER)
            if self.actor.value_head is not None:
                set_model_state_dict(self.actor.value_head, state["value_head"], options=_SCATTER)
        else:
            params = dict(self.policy.named_parameters())
            with torch.no_grad():
                for name, tensor in state["model"].items():
                    params[name].copy_(tensor)
            if self.actor.value_head is not None:
                self.actor.value_head.load_state_dict(state["value_head"])
        self._load_optimizer_state(state["optimizer"])
        self.scheduler.load_state_dict(state["scheduler"])
        self.step_count = state["step"]
        own = path / f"rng_rank{rank()}.pt"
        if own.is_file():
            _set_rng_state(torch.load(own, weights_only=False), self.shuffle_rng)
        else:
            self.shuffle_rng.set_state(torch.load(path / "rng_rank0.pt", weights_only=False)["shuffle"])

    def full_policy_state_dict(self, trainable_only: bool = False) -> dict[str, torch.Tensor]:
        """`policy.state_dict()` as full tensors on the CPU (`trainable_only`: the weights that train, by
        their `named_parameters` names). Under FSDP a collective that every rank must call, after which
        rank 0 holds the tensors and the other ranks an empty dict."""
        state = self._full_state(self.policy, ignore_frozen_params=trainable_only)
        if trainable_only and state:
            state = {name: state[name] for name in self._trainable_names()}  # drops tied duplicates (lm_head)
        return state

    def _full_value_head_state(self) -> dict[str, torch.Tensor] | None:
        return None if self.actor.value_head is None else self._full_state(self.actor.value_head)

    def _full_state(self, module: nn.Module, ignore_frozen_params: bool = False) -> dict[str, torch.Tensor]:
        """`module.state_dict()` as full CPU tensors; under FSDP gathered, on rank 0 only ({} elsewhere)."""
        if self.sharded:
            options = StateDictOptions(full_state_dict=True, cpu_offload=True, ignore_frozen_params=ignore_frozen_params)
            return get_model_state_dict(module, options=options)
        return {name: tensor.detach().cpu() for name, tensor in module.state_dict().items()}

    def _trainable_names(self) -> list[str]:
        return [name for name, p in self.policy.named_parameters() if p.requires_grad]

    def _full_optimizer_state(self) -> dict:
        """`optimizer.state_dict()` with full tensors (keyed by parameter position, as in one process).
        Under FSDP: gathered, on rank 0 only ({} elsewhere)."""
        # Before the first update the state holds no tensors, and DCP would fill it by a zero-gradient
        # step (Adam's step count 1), which would change the next update.
        if not self.sharded or not self.optimizer.state:
            return self.optimizer.state_dict()
        by_name = get_optimizer_state_dict(self.actor, self.optimizer, options=_GATHER)
        if rank() != 0:
            return {}
        position = {name: i for i, name in enumerate(n for group in by_name["param_groups"] for n in group["params"])}
        return _rekeyed(by_name, position.__getitem__)

    def _load_optimizer_state(self, saved: dict) -> None:
        """Load `_full_optimizer_state`'s format; under FSDP scatter it to the shards, by parameter name."""
        if not self.sharded or not saved["state"]:
            self.optimizer.load_state_dict(saved)
            return
        name_of = {p: name for name, p in self.actor.named_parameters()}
        names = [name_of[p] for group in self.optimizer.param_groups for p in group["params"]]  # by position
        set_optimizer_state_dict(self.actor, self.optimizer, _rekeyed(saved, names.__getitem__), options=_SCATTER)

    def close(self) -> None:
        if self.logger is not None:
            self.logger.close()


def _rekeyed(optimizer_state: dict, key) -> dict:
    """An optimiser state dict whose parameters are keyed by `key(old key)`: positions <-> names."""
    return {"state": {key(k): s for k, s in optimizer_state["state"].items()},
            "param_groups": [{**g, "params": [key(k) for k in g["params"]]} for g in optimizer_state["param_groups"]]}


def _by_length(batch: RolloutBatch, rows: torch.Tensor) -> torch.Tensor:
    """`rows` ordered by sequence length, so micro-batches hold rows of similar length and trim well.
    The mini-batch loss is a sum over its micro-batches, so their make-up does not change it."""
    lengths = batch.attention_mask[rows].sum(1)
    return rows[torch.argsort(lengths, stable=True)]


def _accumulate(sums: dict, name: str, values: torch.Tensor, mask: torch.Tensor) -> None:
    """Add (sum over real tokens, token count) of a per-token quantity to the step's totals."""
    total = torch.stack([(values.detach().float() * mask).sum(), mask.sum().float()])  # [2]
    sums[name] = sums[name] + total if name in sums else total


def _key_stats(name: str, values: torch.Tensor, keys: list) -> dict[str, float]:
    """`name/mean`, `name/std` of one value per row [B], overall and per grouping key."""
    metrics = {f"{name}/mean": float(values.mean()), f"{name}/std": float(values.std(unbiased=False))}
    for key in dict.fromkeys(keys):
        if key is None:
            continue
        v = values[torch.tensor([k == key for k in keys])]
        label = "/".join(map(str, key)) if isinstance(key, tuple) else str(key)
        metrics[f"{name}/mean/{label}"] = float(v.mean())
        metrics[f"{name}/std/{label}"] = float(v.std(unbiased=False))
    return metrics


def _reward_metrics(scores: torch.Tensor, group_ids: torch.Tensor, keys: list) -> dict[str, float]:
    """Reward mean/std overall and per key, and the fraction of multi-sample groups with zero spread."""
    metrics = _key_stats("reward", scores, keys)
    groups = [scores[group_ids == g] for g in group_ids.unique()]
    multi = [g for g in groups if len(g) > 1]
    metrics["groups/zero_std_frac"] = sum(float(g.max() == g.min()) for g in multi) / len(multi) if multi else 0.0
    return metrics


def _with_lora(model: nn.Module, config: RLConfig) -> nn.Module:
    from peft import LoraConfig, get_peft_model

    lora = LoraConfig(r=config.lora_r, lora_alpha=config.lora_alpha, lora_dropout=config.lora_dropout,
                      target_modules=config.lora_target_modules, task_type="CAUSAL_LM")
    return get_peft_model(model, lora)


def _rng_state(shuffle_rng: torch.Generator) -> dict:
    return {
        "python": random.getstate(),
        "numpy": np.random.get_state(),
        "torch": torch.get_rng_state(),
        "cuda": torch.cuda.get_rng_state_all() if torch.cuda.is_available() else None,
        "shuffle": shuffle_rng.get_state(),
    }


def _set_rng_state(state: dict, shuffle_rng: torch.Generator) -> None:
    random.setstate(state["python"])
    np.random.set_state(state["numpy"])
    torch.set_rng_state(state["torch"])
    if state["cuda"] is not None and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])
    shuffle_rng.set_state(state["shuffle"])
