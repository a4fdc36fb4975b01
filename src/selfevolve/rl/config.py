"""The RL trainer's configuration: every hyper-parameter a documented field, named as in the papers."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator


class RLConfig(BaseModel):
    """Hyper-parameters of `selfevolve.rl.Trainer`. Defaults follow the AZR `paper` branch where one exists."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    # --- advantage estimator ---
    advantage_estimator: Literal["grpo", "dr_grpo", "rloo", "reinforce_pp", "trr_pp", "gae"] = Field(
        "trr_pp",
        description="grpo: group mean/std (DeepSeekMath); dr_grpo: group mean only (Liu et al. 2025); "
        "rloo: leave-one-out mean; reinforce_pp: batch-whitened returns (Hu 2025); trr_pp: whitened per "
        "grouping key (Absolute Zero); gae: PPO with a value head (Countdown/TinyZero).",
    )
    grpo_eps: float = Field(1e-6, gt=0, description="epsilon in (r - mean) / (std + eps) for GRPO.")
    whiten_eps: float = Field(1e-8, gt=0, description="epsilon in (x - mean) / sqrt(var + eps) for REINFORCE++/TRR++/GAE.")
    adv_stats: Literal["token", "sequence"] = Field(
        "token", description="TRR++ statistics: token-weighted (AZR reference) or one count per sequence."
    )
    gamma: float = Field(1.0, ge=0, le=1, description="discount (REINFORCE++ returns, GAE); 1.0 in AZR and TinyZero.")
    lam: float = Field(1.0, ge=0, le=1, description="GAE lambda; 1.0 in TinyZero.")

    # --- policy loss ---
    clip_ratio_low: float = Field(0.2, ge=0, description="epsilon_low: ratio clipped below at 1 - clip_ratio_low.")
    clip_ratio_high: float = Field(0.2, ge=0, description="epsilon_high: above at 1 + clip_ratio_high (0.28 = DAPO clip-higher).")
    dual_clip: float | None = Field(None, gt=1, description="dual-clip constant c (AZR master: 3.0); None = off.")
    loss_agg_mode: Literal["token-mean", "seq-mean-token-mean", "seq-mean-token-sum-norm"] = Field(
        "token-mean", description="how per-token losses are averaged (veRL names); the last is Dr. GRPO's constant normaliser."
    )
    loss_norm_length: int | None = Field(
        None, gt=0, description="Dr. GRPO's constant length for seq-mean-token-sum-norm; None = the batch's completion width."
    )
    entropy_coeff: float = Field(0.0, ge=0, description="entropy bonus coefficient (AZR paper 0.001).")

    # --- KL to a frozen reference ---
    kl_coef: float = Field(0.0, ge=0, description="beta. 0 = no reference model needed.")
    kl_mode: Literal["loss", "reward"] = Field(
        "loss", description="loss: add beta * KL to the loss (GRPO); reward: r_t -= beta * k1 (PPO/TinyZero)."
    )
    kl_estimator: Literal["k1", "k3"] = Field("k3", description="per-token KL estimator for kl_mode=loss (k3 = low_var_kl).")

    # --- value head (gae only) ---
    value_clip: float | None = Field(0.5, gt=0, description="PPO value clipping range (TinyZero 0.5); None = off.")
    value_loss_coef: float = Field(0.5, ge=0, description="weight of the value loss in the total loss.")
    critic_learning_rate: float = Field(1e-5, gt=0, description="learning rate of the value head (TinyZero critic: 1e-5).")

    # --- optimisation ---
    learning_rate: float = Field(1e-6, gt=0, description="AdamW learning rate of the policy (AZR, TinyZero: 1e-6).")
    adam_betas: tuple[float, float] = Field((0.9, 0.999), description="AdamW (beta1, beta2).")
    adam_eps: float = Field(1e-8, gt=0, description="AdamW epsilon.")
    weight_decay: float = Field(0.01, ge=0, description="AdamW weight decay (AZR paper 0.01, master 0.0).")
    max_grad_norm: float | None = Field(1.0, gt=0, description="gradient clipping by global norm; None = off.")
    lr_scheduler: Literal["constant", "cosine"] = Field("constant", description="learning-rate schedule after warm-up.")
    warmup_steps: int = Field(0, ge=0, description="linear warm-up, in optimiser updates.")
    total_steps: int | None = Field(None, gt=0, description="optimiser updates of the whole run (cosine needs it).")
    min_lr_ratio: float = Field(0.0, ge=0, le=1, description="cosine floor as a fraction of learning_rate.")

    # --- batching ---
    ppo_epochs: int = Field(1, ge=1, description="passes over each rollout batch (AZR, TinyZero: 1).")
    mini_batch_size: int | None = Field(
        None, gt=0, description="sequences per optimiser update (global, all ranks); None = the whole batch, one update."
    )
    micro_batch_size: int = Field(8, gt=0, description="sequences per forward/backward on one rank (gradient accumulation).")
    shuffle_mini_batches: bool = Field(True, description="shuffle rows before splitting into mini-batches (seeded).")

    # --- hardware / adapters ---
    bf16: bool | None = Field(None, description="bf16 autocast; None = on when the model is on a CUDA device.")
    data_parallel: Literal["ddp", "fsdp"] = Field(
        "ddp",
        description="How ranks share the update under torch.distributed (world size > 1; ignored in one process): "
        "ddp = DistributedDataParallel, a full copy of weights, gradients and optimiser state on every rank; "
        "fsdp = torch FSDP2 `fully_shard` per decoder layer, weights, gradients and optimiser state sharded "
        "across ranks (for policies that do not fit one device). Both make the single-process update.",
    )
    lora_r: int = Field(0, ge=0, description="LoRA rank through peft; 0 = full fine-tuning.")
    lora_alpha: int = Field(32, gt=0, description="LoRA alpha.")
    lora_dropout: float = Field(0.0, ge=0, lt=1, description="LoRA dropout.")
    lora_target_modules: tuple[str, ...] | str = Field("all-linear", description="peft target_modules.")
    temperature: float = Field(1.0, gt=0, description="temperature of the training log-probs; match the sampler's convention.")

    # --- bookkeeping ---
    seed: int = Field(0, description="seed of the mini-batch shuffling; seed torch/python/numpy for sampling yourself (per rank).")
    run_dir: str | None = Field(None, description="metrics.jsonl and TensorBoard events go here; None = no files.")
    wandb_project: str | None = Field(None, description="W&B project; None = W&B off.")

    @model_validator(mode="after")
    def _consistent(self) -> "RLConfig":
        if self.lr_scheduler == "cosine" and self.total_steps is None:
            raise ValueError("lr_scheduler='cosine' needs total_steps (optimiser updates of the whole run)")
        if self.total_steps is not None and self.warmup_steps > self.total_steps:
            raise ValueError(f"warmup_steps={self.warmup_steps} exceeds total_steps={self.total_steps}")
        if self.kl_mode == "reward" and self.kl_coef > 0 and self.advantage_estimator not in ("reinforce_pp", "gae"):
            raise ValueError(
                f"kl_mode='reward' needs a token-level estimator (reinforce_pp or gae), not {self.advantage_estimator!r}; "
                "use kl_mode='loss' with group or key baselines"
            )
        return self

    @property
    def needs_reference(self) -> bool:
        return self.kl_coef > 0

    @property
    def needs_value_head(self) -> bool:
        return self.advantage_estimator == "gae"
