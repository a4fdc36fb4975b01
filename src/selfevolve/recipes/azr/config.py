"""Configuration of Absolute Zero self-play (docs/spec/azr.md). Presets: `configs/azr_<name>.yaml`."""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from selfevolve.recipes.models import GENERATOR_HELP, RolloutEngine, VLLMOptions
from selfevolve.rl.config import RLConfig
from selfevolve.tasks.code_io.config import CodeIOConfig

TaskName = Literal["abduction", "deduction", "induction"]


class AZRSampling(BaseModel):
    model_config = ConfigDict(extra="forbid")

    temperature: float = Field(1.0, gt=0, description="Rollout temperature for both roles and learnability (paper: 1.0).")
    top_p: float = Field(1.0, gt=0, le=1, description="Rollout nucleus (paper: 1.0).")
    proposer_max_new_tokens: int = Field(8096, gt=0, description="Proposer response budget (paper: 8,096).")
    solver_max_new_tokens: int = Field(8096, gt=0, description="Solver response budget (paper: 8,096).")
    max_prompt_tokens: int = Field(6144, gt=0, description="Longest prompt; longer solver prompts are dropped and the batch refilled (paper: 6,144).")
    generation_batch_size: int = Field(16, gt=0, description="Sequences decoded together by the local backend.")


class AZREval(BaseModel):
    model_config = ConfigDict(extra="forbid")

    tasks: list[str] = Field(["heldout_tiny"], min_length=1, description=(
        "Held-out sets: 'heldout_tiny' (the shipped set), 'cruxeval-o' / 'cruxeval-i' (CRUXEval as deduction / "
        "abduction tasks; paper: validates on both, 800 each) or a JSONL file of task records. One name is one set."))
    every: int = Field(10, ge=0, description="Evaluate greedily every this many steps (paper: 10); 0 = only at start and end.")
    limit: int | None = Field(None, gt=0, description="Evaluate on the first N tasks of each set only (None = all).")
    max_new_tokens: int = Field(8096, gt=0, description="Answer budget.")
    samples: int = Field(0, ge=0, description=(
        "Also sample this many answers per task at T=1 (fixed seed) and report their mean accuracy "
        "(eval/<type>/accuracy_t1, lower variance than greedy) and pass@k; 0 = greedy only."))

    @field_validator("tasks", mode="before")
    @classmethod
    def _one_name_is_one_set(cls, value):
        return [value] if isinstance(value, str) else value


class AZRConfig(BaseModel):
    """One self-play run. Fields are named as in the paper; defaults are the paper's 7B settings."""

    model_config = ConfigDict(extra="forbid")
    # What `--resume --set` may change: the run's length, its cadence and its resources. Every other
    # field decided what the checkpointed steps did, so it keeps its saved value.
    CHANGEABLE_ON_RESUME: ClassVar[tuple[str, ...]] = (
        "steps", "checkpoint_every", "eval.every", "threads", "device", "sandbox_workers", "sampling.generation_batch_size",
        "generator", "vllm",
    )

    model: str = Field("tiny-coder", description="Starting checkpoint: a shipped name, a local HF directory or a cached hub id.")
    device: str | None = Field(None, description="'cpu', 'cuda', 'cuda:1'...; None = CUDA when available.")
    generator: RolloutEngine = Field("transformers", description=GENERATOR_HELP)
    vllm: VLLMOptions = Field(default_factory=VLLMOptions)
    seed: int = Field(0, description="Seeds sampling, buffer draws and the trainer.")
    threads: int | None = Field(None, gt=0, description="torch CPU threads; None = torch's default. 1 is fastest for tiny models on a shared 2-core CPU.")
    steps: int = Field(960, gt=0, description="Self-play iterations (paper: 960 scheduled, checkpoints used at ~160-210).")
    batch_size: int = Field(64, gt=0, description="B: proposer prompts and solver tasks per task type (paper: 64 -> 384 sequences/step).")
    task_types: list[TaskName] = Field(["abduction", "deduction", "induction"], min_length=1, description="Task types played (ablation: drop some).")
    prompt_style: Literal["full", "compact"] = Field("full", description="'full' reference prompts for real models; 'compact' for the tiny models.")
    chat_template: bool = Field(False, description=(
        "Send every prompt as one user message in the tokenizer's chat template, as the reference does for "
        "instruct checkpoints (`pretrained_tokenizer: false`); off = the prompt text alone, as in the paper's "
        "base-model runs. Generation and the trainer's prompt ids read the same templated text."))
    references: bool = Field(True, description="Show K buffer references to the proposer (ablation: off).")
    reference_weighting: Literal["uniform", "recency"] = Field("uniform", description="How references are drawn (paper: uniform without replacement).")
    solver_selection: Literal["max_new", "uniform", "half_new"] = Field("max_new", description="How solver tasks are drawn from a buffer (paper: max_new).")
    train_proposer: bool = Field(True, description="Train the proposer role (ablation: off = only solver sequences in the update).")
    train_on_learnability_samples: bool = Field(False, description=(
        "Also train the solver role on the n learnability rollouts of each valid proposal (selfevolve "
        "extension: n times more solver sequences per step at no extra generation; paper: discarded)."))
    seeding: Literal["grow", "zero", "file"] = Field(
        "grow",
        description="Initial buffers: 'grow' = the frozen model proposes from the zero triplet (paper's seeding mode); "
        "'zero' = the zero triplet alone; 'file' = seed_files.",
    )
    seed_files: list[str] = Field([], description="With seeding=file: AZR seed JSONL files (triplet and/or induction schema).")
    seed_buffer_size: int = Field(256, gt=0, description="Seed entries per buffer (paper: B x seed_batch_factor = 256).")
    control: Literal["none", "constant_proposer_reward", "shuffled_solver_rewards"] = Field(
        "none",
        description="Equal-compute controls for learning claims: replace the learnability reward by a constant, "
        "or shuffle solver rewards within each task type.",
    )
    checkpoint_every: int = Field(10, gt=0, description="Checkpoint (model, optimiser, RNG, buffers) every N steps (paper: 10).")
    sandbox_workers: int | None = Field(None, gt=0, description="Sandbox worker slots; None = one per CPU core.")
    code_io: CodeIOConfig = Field(default_factory=CodeIOConfig, description="Proposal validation, verification and rewards.")
    sampling: AZRSampling = Field(default_factory=AZRSampling)
    eval: AZREval = Field(default_factory=AZREval)
    rl: RLConfig = Field(
        default_factory=lambda: RLConfig(advantage_estimator="trr_pp", learning_rate=1e-6, entropy_coeff=0.001, weight_decay=0.01),
        description="Trainer settings; other estimators are ablations (paper: TRR++, AdamW lr 1e-6, wd 0.01, clip 0.2, entropy 0.001, grad clip 1.0).",
    )

    @model_validator(mode="after")
    def _consistent(self) -> "AZRConfig":
        if self.seeding == "file" and not self.seed_files:
            raise ValueError("seeding='file' needs seed_files: a list of AZR seed JSONL paths")
        if "induction" in self.task_types and not {"abduction", "deduction"} & set(self.task_types) and self.seeding == "zero":
            raise ValueError("induction alone with seeding='zero' has only one program to play with; add abduction or deduction")
        return self
