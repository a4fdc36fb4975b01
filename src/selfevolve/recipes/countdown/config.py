"""Configuration of Countdown R1-Zero RL, SFT priming and the priming study (docs/spec/countdown_and_behaviors.md).

Presets: `configs/countdown_<name>.yaml` (one RL run) and `configs/countdown-study_<name>.yaml` (the study).
Defaults are the spec's 3B settings (docs/spec/countdown_and_behaviors.md §4 PPO with a critic, §8 SFT priming); the tiny presets shrink them.
"""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from selfevolve.behaviors.conditions import CONDITIONS
from selfevolve.recipes.models import GENERATOR_HELP, RolloutEngine, VLLMOptions
from selfevolve.rl.config import RLConfig
from selfevolve.tasks.countdown import PRESETS, TEMPLATES


def _ppo_defaults() -> RLConfig:
    """TinyZero / cognitive-behaviours PPO (docs/spec/countdown_and_behaviors.md §4): GAE γ = λ = 1, KL k1 in the reward (0.001), critic."""
    return RLConfig(
        advantage_estimator="gae", gamma=1.0, lam=1.0, kl_coef=0.001, kl_mode="reward", kl_estimator="k1",
        learning_rate=1e-6, critic_learning_rate=1e-5, value_clip=0.5, entropy_coeff=0.001, clip_ratio_low=0.2,
        clip_ratio_high=0.2, max_grad_norm=1.0, ppo_epochs=1, mini_batch_size=512, weight_decay=0.0,
    )


class DataConfig(BaseModel):
    """Where RL and test problems come from. Test problems are removed from the RL (and priming) pool."""

    model_config = ConfigDict(extra="forbid")

    dataset: str | None = Field(
        None, description="JSONL of {target, nums} rows (e.g. Countdown-Tasks-3to4 exported); split contiguously as "
        "TinyZero does (train = first train_problems rows, test = the next test_problems). None = generate.",
    )
    preset: str = Field("priming", description=f"Generator preset when dataset is None: one of {sorted(PRESETS)}.")
    train_problems: int = Field(327_680, gt=0, description="Size of the RL problem pool (TinyZero: 327,680 rows).")
    test_problems: int = Field(1024, gt=0, description="Size of the fixed held-out test split (TinyZero: 1,024).")
    train_seed: int = Field(1, description="Generator seed of the RL pool.")
    test_seed: int = Field(20_250_303, description="Generator seed of the test split (not used by priming data or the tiny models' corpora).")

    @model_validator(mode="after")
    def _known_preset(self) -> "DataConfig":
        if self.preset not in PRESETS:
            raise ValueError(f"unknown generator preset {self.preset!r}; choose one of {sorted(PRESETS)}")
        return self


class CountdownSampling(BaseModel):
    model_config = ConfigDict(extra="forbid")

    temperature: float = Field(1.0, gt=0, description="Rollout temperature (spec: 1.0).")
    top_p: float = Field(1.0, gt=0, le=1, description="Rollout nucleus (spec: 1.0).")
    max_new_tokens: int = Field(1024, gt=0, description="Response budget (spec: 1,024).")
    generation_batch_size: int = Field(64, gt=0, description="Sequences decoded together by the local backend.")
    stop: list[str] = Field(
        ["</answer>"], description="Stop strings (spec: none, responses end at EOS; stopping at the closing answer tag "
        "saves decoding and changes no reward, as the hardened evaluator reads the last answer).",
    )


class CountdownEval(BaseModel):
    model_config = ConfigDict(extra="forbid")

    every: int = Field(10, ge=0, description="Evaluate every N steps (cognitive behaviours: 10; TinyZero: 100); 0 = start and end only.")
    problems: int | None = Field(None, gt=0, description="Evaluate on the first N test problems (None = all; spec: 1,024).")
    max_new_tokens: int = Field(1024, gt=0, description="Answer budget in evaluation (spec: 1,024).")
    greedy: bool = Field(True, description="Also evaluate greedily (TinyZero validation); the headline accuracy is 1 sample at T = 1.")
    behavior_samples: int = Field(200, gt=0, description="T = 1 test completions whose behaviours are counted (spec: 200).")


class CountdownConfig(BaseModel):
    """One R1-Zero-style RL run on Countdown. Defaults: the spec's 3B PPO-with-critic settings (docs/spec/countdown_and_behaviors.md §4)."""

    model_config = ConfigDict(extra="forbid")
    # What `--resume --set` may change: the run's length, its cadence and its resources. Every other
    # field decided what the checkpointed steps did, so it keeps its saved value.
    CHANGEABLE_ON_RESUME: ClassVar[tuple[str, ...]] = (
        "steps", "checkpoint_every", "eval.every", "threads", "device", "sampling.generation_batch_size",
        "generator", "vllm",
    )

    model: str = Field("tiny-countdown", description="Starting checkpoint: a shipped name, a local HF directory or a cached hub id.")
    device: str | None = Field(None, description="'cpu', 'cuda', 'cuda:1'...; None = CUDA when available.")
    generator: RolloutEngine = Field("transformers", description=GENERATOR_HELP)
    vllm: VLLMOptions = Field(default_factory=VLLMOptions)
    seed: int = Field(0, description="Seeds prompt draws, sampling and the trainer; a step's draws depend only on (seed, step).")
    threads: int | None = Field(
        None, gt=0, description="torch intra-op CPU threads (None = torch's default). On a shared CPU, 1 avoids "
        "oversubscription: on the 2-core dev box, 1 thread sampled ~40x and trained ~9x faster than 2.",
    )
    steps: int = Field(250, gt=0, description="RL steps (cognitive behaviours: 250; TinyZero: 15 epochs).")
    prompts_per_step: int = Field(256, gt=0, description="Prompts per step (spec: 256).")
    samples_per_prompt: int = Field(4, gt=0, description="n samples per prompt (cognitive behaviours: 4; TinyZero: 1; GRPO: 5).")
    template: str = Field("base", description=f"Prompt template: one of {sorted(TEMPLATES)} (spec: base for all RL runs).")
    reward_mode: Literal["hardened", "tinyzero_compat"] = Field("hardened", description="Evaluator (docs/spec/countdown_and_behaviors.md §2; hardened closes the loopholes).")
    format_score: float = Field(0.1, ge=0, le=1, description="Reward of a found but wrong answer in training (spec: 0.1; evals use 0).")
    control: Literal["none", "shuffled_rewards"] = Field(
        "none", description="Equal-compute control: shuffle the rewards across the step's rollouts before the update.",
    )
    checkpoint_every: int = Field(10, gt=0, description="Checkpoint every N steps (cognitive behaviours: 10; TinyZero: 100).")
    data: DataConfig = Field(default_factory=DataConfig)
    sampling: CountdownSampling = Field(default_factory=CountdownSampling)
    eval: CountdownEval = Field(default_factory=CountdownEval)
    rl: RLConfig = Field(
        default_factory=_ppo_defaults,
        description="Trainer settings. PPO (docs/spec/countdown_and_behaviors.md §4): gae, kl_mode=reward k1 0.001, actor lr 1e-6, critic lr 1e-5, value clip 0.5, "
        "entropy 0.001, mini-batch 512 sequences. GRPO variant: grpo, kl_mode=loss k3 (low_var_kl) 0.001, n = 5.",
    )

    @model_validator(mode="after")
    def _consistent(self) -> "CountdownConfig":
        if self.template not in TEMPLATES:
            raise ValueError(f"unknown template {self.template!r}; choose one of {sorted(TEMPLATES)}")
        if self.rl.advantage_estimator in ("grpo", "dr_grpo", "rloo") and self.samples_per_prompt < 2:
            raise ValueError(f"{self.rl.advantage_estimator} needs samples_per_prompt >= 2 to form groups (GRPO: 5)")
        if self.rl.run_dir is not None:
            raise ValueError("leave rl.run_dir unset; the recipe logs metrics to its own run directory")
        return self


STUDY_CONDITIONS = ("none", *CONDITIONS)  # "none" = RL from the base model without priming


class PrimingConfig(BaseModel):
    """SFT on a priming set (docs/spec/countdown_and_behaviors.md §8): prompt = priming query, response = completion + EOS, loss on the response."""

    model_config = ConfigDict(extra="forbid")

    train_records: int = Field(1000, gt=0, description="Priming traces per condition (spec: 1,000 train).")
    max_completion_tokens: int | None = Field(
        None, gt=0, description="Keep only traces whose completion fits this many tokens (spec: none; tiny models "
        "have a 512-token context and a corpus tokenizer that spends ~1 token per 1.5 characters of prose).",
    )
    data_seed: int = Field(42, description="Seed of the priming problems and traces (spec: 42); test problems are removed.")
    epochs: int = Field(5, gt=0, description="SFT epochs (spec: 5).")
    start_epoch: int = Field(4, gt=0, description="RL starts from this epoch's checkpoint (spec: epoch 4, step 60).")
    batch_size: int = Field(64, gt=0, description="Sequences per optimiser step (spec: 64).")
    micro_batch_size: int = Field(8, gt=0, description="Sequences per forward/backward (spec: 8).")
    learning_rate: float = Field(1e-5, gt=0, description="AdamW peak learning rate (spec: 1e-5).")
    adam_betas: tuple[float, float] = Field((0.9, 0.95), description="AdamW betas (spec: 0.9, 0.95).")
    weight_decay: float = Field(0.01, ge=0, description="AdamW weight decay (spec: 0.01).")
    warmup_ratio: float = Field(0.1, ge=0, lt=1, description="Linear warm-up share before cosine decay (spec: 10%).")
    max_grad_norm: float = Field(1.0, gt=0, description="Gradient clipping (spec: 1.0).")
    max_length: int = Field(2048, gt=0, description="Longest SFT sequence in tokens (spec: 2,048).")
    per_seed: bool = Field(
        True, description="One SFT per (condition, seed), seeded by the seed; False = one SFT per condition (seed 0) "
        "shared by every seed's RL run, so the spread over seeds then reflects RL alone (saves compute).",
    )
    gradient_checkpointing: bool = Field(False, description="Recompute activations (saves GPU memory; slows tiny CPU runs ~3x).")

    @model_validator(mode="after")
    def _consistent(self) -> "PrimingConfig":
        if self.start_epoch > self.epochs:
            raise ValueError(f"start_epoch={self.start_epoch} is after the last epoch ({self.epochs})")
        if self.batch_size % self.micro_batch_size:
            raise ValueError(f"batch_size={self.batch_size} is not a multiple of micro_batch_size={self.micro_batch_size}")
        return self


class StudyConfig(BaseModel):
    """The priming study: for each condition and seed, SFT priming (none: skipped), then RL."""

    model_config = ConfigDict(extra="forbid")
    # What `--resume --set` may change: more conditions, seeds or controls (new runs with the same
    # settings) and the resources of the runs still to come. Everything else would make runs that
    # already finished incomparable with the rest.
    CHANGEABLE_ON_RESUME: ClassVar[tuple[str, ...]] = (
        "conditions", "seeds", "shuffled_control", "rl.threads", "rl.device", "rl.sampling.generation_batch_size",
    )

    conditions: list[str] = Field(
        ["none", "all_strategies", "only_backtracking", "incorrect_only", "empty_cot"], min_length=1,
        description=f"Conditions to run, from {list(STUDY_CONDITIONS)} (spec: all nine plus no priming).",
    )
    seeds: list[int] = Field([0, 1, 2], min_length=1, description="Seeds per condition (each seeds priming SFT order and RL).")
    shuffled_control: list[str] = Field(
        [], description="Conditions also run with control=shuffled_rewards (equal-compute RL without reward signal).",
    )
    priming: PrimingConfig = Field(default_factory=PrimingConfig)
    rl: CountdownConfig = Field(default_factory=CountdownConfig, description="The RL run after priming (its seed is replaced per run).")

    @model_validator(mode="after")
    def _known_conditions(self) -> "StudyConfig":
        unknown = [c for c in [*self.conditions, *self.shuffled_control] if c not in STUDY_CONDITIONS]
        if unknown:
            raise ValueError(f"unknown conditions {unknown}; choose from {list(STUDY_CONDITIONS)}")
        return self
