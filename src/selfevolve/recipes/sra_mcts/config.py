"""Configuration of SRA-MCTS data synthesis and SFT (docs/spec/sra_mcts.md). Presets:
`configs/sra_mcts_<name>.yaml` (`paper`: the published values; `cpu`: Qwen2.5-Coder-0.5B-Instruct on a
CPU; `tiny`: the shipped tiny-coder, for tests)."""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from selfevolve.tasks.code_tests import CodeTestsConfig

Method = Literal["mcts", "cot", "tot"]
Reflection = Literal["common", "simple", "none"]


class RoleConfig(BaseModel):
    """One role's model and sampling. The five roles are the same model by default ("self-driven")."""

    model_config = ConfigDict(extra="forbid")

    model: str | None = Field(None, description="A local model (name or directory) or an OpenAI-compatible base URL; None = the recipe's `model`.")
    api_model: str | None = Field(None, description="With a URL: the endpoint's model id; None = the recipe's `api_model` (or the first the server lists).")
    temperature: float = Field(0.7, ge=0, description="Sampling temperature (paper: 0.7 for every generation).")
    top_p: float = Field(1.0, gt=0, le=1, description="Nucleus sampling (paper: not set; 1.0 = off).")
    max_new_tokens: int = Field(512, gt=0, description="Generation budget (paper: 512; the critic 1,024).")
    max_prompt_tokens: int | None = Field(None, gt=0, description=(
        "Longest prompt; longer ones lose critic few-shot examples, then the middle of the problem, never the "
        "steps (reference: the critic truncated at 1,024 tokens, steps included). None = the model's context "
        "minus max_new_tokens (unknown for endpoints: prompts are sent whole)."))


class SearchConfig(BaseModel):
    """The MCTS over natural-language steps (docs/spec/sra_mcts.md §2-§3)."""

    model_config = ConfigDict(extra="forbid")

    branch: int = Field(3, ge=1, description="Children per expansion (paper: 3).")
    exploration_constant: float = Field(0.5, ge=0, description="c in the UCB score V + c*sqrt(2 ln N_parent / N) (paper: 0.5).")
    unvisited_bonus: float = Field(8.0, description="Added to V of a child never visited, instead of the exploration term (paper: 8).")
    end_gate: float = Field(8.8, description="A selected node with V >= end_gate ends the search as solved (paper: 8.8).")
    iteration_limit: int | None = Field(2, ge=1, description="MCTS rounds per problem (released driver: 2).")
    time_limit_ms: int | None = Field(None, gt=0, description=(
        "Alternative to iteration_limit: stop starting new rounds after this many ms per problem "
        "(wall clock, so searches depend on machine speed and on the other problems sharing the model)."))
    roll_policy: Literal["greedy", "random"] = Field("greedy", description="Simulation: keep the best-scored (greedy) or a random rolled step (paper: greedy).")
    roll_branch: int = Field(2, ge=1, description="Next steps sampled per simulation step (paper: 2).")
    roll_forward_steps: int = Field(1, ge=1, description="Simulation depth (paper: 1).")
    alpha: float = Field(0.5, ge=0, le=1, description="Rollout blending: V = alpha*V + (1-alpha)*rollout value (paper: 0.5).")
    reflection: Reflection = Field("common", description=(
        "'common': an analysis text (or <end>) conditions the next step (paper); 'simple': only <continue>/<end>; "
        "'none': no reflection calls."))
    simple_reflection_max_new_tokens: int = Field(128, gt=0, description="Budget of a simple reflection (paper: 128).")
    proposal_attempts: int = Field(3, ge=1, description="Attempts per proposal when the reply is empty or invalid (paper: 3).")
    proposal_history: bool = Field(False, description=(
        "Show a node's earlier sibling proposals as 'History i:' and ask for a different line of thought "
        "(reference: only without common reflection, so not in its released run)."))
    critic_few_shots: int = Field(2, ge=0, le=2, description="Scored examples in the critic prompt (paper: 2).")
    exec_weight: float = Field(0.0, ge=0, le=1, description=(
        "w: for a terminal node of a problem with tests, V = (1-w)*V_critic + w*10*pass_rate of its plan's "
        "translated code (selfevolve extension; 0 = reference)."))

    @model_validator(mode="after")
    def _one_limit(self) -> SearchConfig:
        if (self.iteration_limit is None) == (self.time_limit_ms is None):
            raise ValueError("set exactly one of iteration_limit and time_limit_ms (the other to null)")
        return self


class ToTConfig(BaseModel):
    """The Tree-of-Thoughts baseline (docs/spec/sra_mcts.md §5): depth-first over steps, same critic."""

    model_config = ConfigDict(extra="forbid")

    branch: int = Field(3, ge=1, description="Proposals per node (paper: 3).")
    keep: int = Field(1, ge=1, description="Best children descended into, in order (paper: 1).")
    max_depth: int = Field(4, ge=1, description="Deepest step (paper: 4).")
    end_gate: float = Field(8.8, description="A proposal scored >= end_gate is the plan (paper: 8.8).")
    max_new_tokens: int = Field(256, gt=0, description="Proposal budget (paper: 256).")


class CoTConfig(BaseModel):
    """The chain-of-thought baseline (docs/spec/sra_mcts.md §5): one generation with analysis and code."""

    model_config = ConfigDict(extra="forbid")

    max_new_tokens: int = Field(1024, gt=0, description="Budget (paper: 1,024).")
    temperature: float = Field(0.7, ge=0, description="Sampling temperature (paper: 0.7).")


class DataConfig(BaseModel):
    """Cleaning and the SFT record (docs/spec/sra_mcts.md §4)."""

    model_config = ConfigDict(extra="forbid")

    min_plan_words: int = Field(20, ge=0, description="Plans with fewer whitespace-separated words (code removed) are dropped (paper: 20).")
    natural_language: bool = Field(True, description="Solution = plan + code (paper); False = code only (the 'w/o natural language' ablation).")
    filter_on_judge: bool = Field(False, description="Keep only plans the completion judge calls <solved> (reference: verdict recorded, not used).")
    shuffle: bool = Field(True, description="Shuffle sft.jsonl (paper: shuffled).")


class VerifyConfig(BaseModel):
    """Execution-verified filtering for problems with tests (docs/spec/sra_mcts.md §8; the reference has none)."""

    model_config = ConfigDict(extra="forbid")

    min_pass_rate: float = Field(1.0, ge=0, le=1, description="Keep a record only if at least this share of its tests pass (default: all).")
    retranslations: int = Field(0, ge=0, le=3, description="Translate a failing plan again up to this many times before dropping it.")
    sandbox_workers: int | None = Field(None, gt=0, description="Sandbox job slots; None = one per CPU core.")
    tests: CodeTestsConfig = Field(default_factory=CodeTestsConfig, description="Per-test timeout, memory, banned modules, equality.")


class TrainConfig(BaseModel):
    """SFT of the model on its own data (hyper-parameters unpublished; LLaMA-Factory-like defaults)."""

    model_config = ConfigDict(extra="forbid")

    lora: bool = Field(True, description="Train LoRA adapters (merged into the saved model) instead of all weights.")
    lora_r: int = Field(8, gt=0, description="LoRA rank.")
    lora_alpha: int = Field(16, gt=0, description="LoRA alpha.")
    lora_dropout: float = Field(0.05, ge=0, lt=1, description="LoRA dropout.")
    lora_target_modules: str | list[str] = Field("all-linear", description="Modules given adapters (PEFT's 'all-linear' or names).")
    epochs: float = Field(3.0, gt=0, description="Passes over the data.")
    learning_rate: float | None = Field(None, gt=0, description="Peak learning rate; None = 1e-4 with LoRA, 1e-5 without.")
    batch_size: int = Field(16, gt=0, description="Records per optimiser step.")
    micro_batch_size: int = Field(4, gt=0, description="Records per forward pass (batch_size must be a multiple).")
    max_length: int = Field(2048, gt=0, description="Longest prompt + completion in tokens (longer ones are truncated by TRL).")
    warmup_ratio: float = Field(0.1, ge=0, lt=1, description="Share of steps with linear warm-up.")
    lr_scheduler: str = Field("cosine", description="transformers scheduler name.")
    weight_decay: float = Field(0.0, ge=0, description="AdamW weight decay.")
    max_grad_norm: float = Field(1.0, gt=0, description="Gradient clipping.")
    gradient_checkpointing: bool = Field(False, description="Recompute activations (saves memory on large models; slow on CPU).")

    @model_validator(mode="after")
    def _batches(self) -> TrainConfig:
        if self.batch_size % self.micro_batch_size:
            raise ValueError(f"batch_size {self.batch_size} must be a multiple of micro_batch_size {self.micro_batch_size}")
        return self

    @property
    def peak_learning_rate(self) -> float:
        return self.learning_rate or (1e-4 if self.lora else 1e-5)


class SRAMCTSConfig(BaseModel):
    """One synthesis run: problems → search → plan → code → (verification) → SFT records."""

    model_config = ConfigDict(extra="forbid")

    # A resumed run continues the saved one: only these may differ from the saved config.
    CHANGEABLE_ON_RESUME: ClassVar[tuple[str, ...]] = (
        "limit", "concurrent_problems", "generation_batch_size", "api_concurrency", "device", "verify.sandbox_workers", "train",
        "generator", "tensor_parallel_size", "continuous_batching",
    )

    model: str = Field(..., description="The model for every role: a shipped/registry name, a local directory, or an OpenAI-compatible base URL.")
    api_model: str | None = Field(None, description="With a base URL: the endpoint's model id (default: the first it lists).")
    generator: Literal["transformers", "vllm", "openai"] | None = Field(None, description=(
        "The engine of every role's model: 'transformers' or 'vllm' (an in-process vLLM engine, the vllm extras) for "
        "local models, 'openai' for base URLs; None = openai for a URL, else transformers."))
    tensor_parallel_size: int = Field(1, ge=1, description=(
        "With generator=vllm: GPUs each vLLM engine splits the model over (vLLM's tensor parallelism); 1 = one device "
        "(untested here: no GPUs)."))
    api_key_env: str = Field("OPENAI_API_KEY", description="Environment variable holding the endpoint's API key (unset = no key).")
    api_concurrency: int = Field(32, gt=0, description="Requests in flight at once to an endpoint.")
    device: str | None = Field(None, description="'cpu', 'cuda', ...; None = CUDA when available.")
    dtype: str | None = Field(None, description="float32, bfloat16, float16; None = bf16 on GPUs that support it, else fp32.")
    problems: str = Field("leetcode-uneasy", description="JSONL of {question, id?, tests?}, or 'leetcode-uneasy' (the paper's 1,819 shipped statements).")
    limit: int | None = Field(None, gt=0, description="Use the first N problems only.")
    method: Method = Field("mcts", description="'mcts' (SRA-MCTS), or the baselines 'cot' and 'tot'.")
    prompt_style: Literal["full", "compact"] = Field("full", description="'full': the reference's instructions; 'compact': short ones for tiny models.")
    seed: int = Field(0, description="Seeds each problem's RNG (tie-breaks, random rollouts, instruction choice) from (seed, problem id), and the shuffle.")
    concurrent_problems: int = Field(32, gt=0, description="Searches advanced together; the model decodes their requests as one batch.")
    continuous_batching: bool = Field(True, description=(
        "With vLLM or an endpoint: a search's request goes out as soon as it is made (joining vLLM's running batch), and "
        "the search goes on as soon as its own replies are back. False (and always with transformers): each phase's "
        "requests of all open searches go out as one call, which waits for its longest reply."))
    generation_batch_size: int = Field(32, gt=0, description="Sequences a local model decodes at once (paper's translator: 32).")
    on_prompt_too_long: Literal["error", "skip"] = Field("error", description=(
        "A prompt that does not fit even with the problem's middle cut: 'error' stops the run naming the problem; "
        "'skip' records the problem as skipped and goes on."))
    proposer: RoleConfig = Field(default_factory=RoleConfig, description="Proposes next steps.")
    reflector: RoleConfig = Field(default_factory=RoleConfig, description="Reflects: <end> or an analysis.")
    critic: RoleConfig = Field(default_factory=lambda: RoleConfig(max_new_tokens=1024), description="Scores steps 0-10 (paper: 1,024 new tokens).")
    judge: RoleConfig = Field(default_factory=RoleConfig, description="Completion judge: <solved>/<unsolved>.")
    translator: RoleConfig = Field(default_factory=RoleConfig, description="Writes the code that follows the plan.")
    search: SearchConfig = Field(default_factory=SearchConfig)
    tot: ToTConfig = Field(default_factory=ToTConfig)
    cot: CoTConfig = Field(default_factory=CoTConfig)
    data: DataConfig = Field(default_factory=DataConfig)
    verify: VerifyConfig = Field(default_factory=VerifyConfig)
    train: TrainConfig = Field(default_factory=TrainConfig)

    def role(self, name: str) -> RoleConfig:
        return getattr(self, name)
