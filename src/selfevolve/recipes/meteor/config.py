"""Configuration of METEOR (docs/spec/meteor.md): the roles, the three stages and the evaluation.

Defaults are the reference code's numbers with the paper's method choices (guideline prompts, beam
search, "prefer the high-compute answer"); where paper and code differ the choice is a field, and
the presets `configs/meteor_{paper,code,cpu}.yaml` set them (`selfevolve meteor run --preset code`).
"""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from selfevolve.llm.types import SamplingParams

CRITERIA = ("Accuracy", "Completeness", "Relevance", "Coherence", "Reliability")


class Decoding(BaseModel):
    """How one role decodes in one step."""

    model_config = ConfigDict(extra="forbid")

    max_new_tokens: int = Field(512, gt=0, description="New tokens per reply (the reference's `max_length` also counted the prompt).")
    temperature: float = Field(0.7, ge=0, description="0 = greedy.")
    top_p: float = Field(1.0, gt=0, le=1, description="Nucleus mass; 1 = off.")
    top_k: int = Field(0, ge=0, description="0 = off.")

    def params(self, seed: int | None = None) -> SamplingParams:
        return SamplingParams(n=1, max_new_tokens=self.max_new_tokens, temperature=self.temperature, top_p=self.top_p,
                              top_k=self.top_k, seed=seed)


def _decoding(description: str, max_new_tokens: int, temperature: float, top_p: float = 1.0, top_k: int = 0):
    return Field(default_factory=lambda: Decoding(max_new_tokens=max_new_tokens, temperature=temperature, top_p=top_p,
                                                  top_k=top_k), description=description)


class RolesConfig(BaseModel):
    """The models. Each is a local model (a shipped or registry name, a directory, a cached hub id) or
    the base URL of an OpenAI-compatible server (`http://host:8000/v1`, e.g. `selfevolve serve`)."""

    model_config = ConfigDict(extra="forbid")

    weak: str | None = Field(None, description="The domain model being trained (paper: LLaMA3-8B-Instruct, Qwen2-7B-Instruct). "
                             "Stages that train it need a local model.")
    strong: str | None = Field(None, description="Writes distilled answers and judges refinement answers (paper: GPT-4).")
    judge: str | None = Field(None, description="Scores answers in evaluation and, with preference=judge, in self-training (paper: GPT-4).")
    weak_api_model: str | None = Field(None, description="The served model name when `weak` is a URL (default: the first the server lists).")
    strong_api_model: str | None = Field(None, description="The served model name when `strong` is a URL.")
    judge_api_model: str | None = Field(None, description="The served model name when `judge` is a URL.")
    generator: Literal["transformers", "vllm", "openai"] | None = Field(None, description=(
        "The engine of the strong and judge models: 'transformers' or 'vllm' (an in-process vLLM engine, the vllm "
        "extras) for local models, 'openai' for base URLs; None = openai for a URL, else transformers. The weak "
        "model, which METEOR trains, beam-searches and counts tokens of, always opens on transformers (or its URL)."))
    tensor_parallel_size: int = Field(1, ge=1, description=(
        "With generator=vllm: GPUs each vLLM engine splits the model over (vLLM's tensor parallelism); 1 = one device "
        "(untested here: no GPUs)."))
    api_key_env: str = Field("OPENAI_API_KEY", description="Environment variable holding the endpoints' API key (unset: no key sent).")
    api_concurrency: int = Field(8, ge=1, description="HTTP requests in flight at once.")
    device: str | None = Field(None, description="Local models: 'cpu', 'cuda', 'cuda:1'...; None = CUDA when available.")
    generation_batch_size: int = Field(16, gt=0, description="Sequences a local model decodes together.")

    @model_validator(mode="after")
    def _api_models_need_urls(self) -> "RolesConfig":
        for name in ("weak", "strong", "judge"):
            model, api_model = getattr(self, name), getattr(self, f"{name}_api_model")
            if api_model is not None and not (model or "").startswith(("http://", "https://")):
                raise ValueError(f"roles.{name}_api_model names a served model, but roles.{name} is not an http(s):// URL "
                                 f"({model!r}); drop it or point {name} at the server")
            if model is not None and not model.strip():
                raise ValueError(f"roles.{name} is empty; give a model name, a directory or an http(s)://.../v1 URL")
        return self


class PromptsConfig(BaseModel):
    """How the weak model is asked. `{question}` is the question (its title, then its content)."""

    model_config = ConfigDict(extra="forbid")

    variant: Literal["paper", "code"] = Field(
        "paper", description="Distillation prompts: 'paper' (the weak model writes a guideline for a stronger model, "
        "given the domain) or 'code' (the reference repository's 'Title/Content ... provide guidelines').")
    chat_template: bool = Field(True, description="Render the weak model's prompts with its chat template "
                                "(the reference sends raw text; instruct models expect their template).")
    answer: str = Field("Question: {question}\nAnswer with reasoning:",
                        description="The weak model answers (refinement, self-training, evaluation; reference text).")
    revise: str = Field("Question: {question}\nFeedback: {feedback}\nPlease provide a revised answer with reasoning:",
                        description="A retry after feedback in refinement (reference text).")
    sft: str = Field("Question: {question}\nAnswer:",
                     description="The prompt an SFT example is trained on; the completion is the answer (reference: "
                     "'Question: ...\\nAnswer: ...').")

    @model_validator(mode="after")
    def _placeholders(self) -> "PromptsConfig":
        for name, needed in (("answer", ("{question}",)), ("revise", ("{question}", "{feedback}")), ("sft", ("{question}",))):
            missing = [p for p in needed if p not in getattr(self, name)]
            if missing:
                raise ValueError(f"prompts.{name} must contain {' and '.join(missing)}")
        return self


class SFTConfig(BaseModel):
    """Supervised fine-tuning of the weak model (TRL's SFTTrainer). Reference: AdamW, fp16, ZeRO-2, 4 GPUs."""

    model_config = ConfigDict(extra="forbid")

    learning_rate: float = Field(3e-5, gt=0, description="Reference: 3e-5.")
    epochs: int = Field(3, gt=0, description="Reference: 3 (distillation), 1 (refinement rounds).")
    batch_size: int = Field(1, gt=0, description="Per-device batch (reference: 1, x 8 accumulation x 4 GPUs = 32).")
    gradient_accumulation_steps: int = Field(8, gt=0, description="Reference: 8.")
    weight_decay: float = Field(0.01, ge=0, description="Reference: 0.01.")
    adam_betas: tuple[float, float] = Field((0.9, 0.999), description="Reference: (0.9, 0.999).")
    adam_epsilon: float = Field(1e-8, gt=0, description="Reference: 1e-8.")
    max_length: int = Field(512, gt=0, description="Tokens per example, prompt included (reference: 512).")
    loss_on: Literal["completion", "all"] = Field(
        "completion", description="'completion': loss on the answer only (prompt masked); 'all': every token, as the "
        "reference (padding is masked either way; the reference's ignore_index was the missing pad id).")


class DistillConfig(BaseModel):
    """Stage 1: the weak model writes a guideline, the strong model answers with it, the weak model is fine-tuned."""

    model_config = ConfigDict(extra="forbid")

    batch_size: int = Field(4, gt=0, description="Questions handled together (reference: 4).")
    guideline: Decoding = _decoding("The weak model's guideline (reference: sampling, top-p 0.95, top-k 50, 512 tokens).",
                                    512, 1.0, top_p=0.95, top_k=50)
    answer: Decoding = _decoding("The strong model's answer (reference: T 0.7, 1,024 tokens).", 1024, 0.7)
    train: bool = Field(True, description="Fine-tune the weak model on (question, answer); false = write the data only.")
    sft: SFTConfig = Field(default_factory=SFTConfig)


class RefineConfig(BaseModel):
    """Stage 2: the model answers, feedback judges it, wrong answers are retried with the feedback."""

    model_config = ConfigDict(extra="forbid")

    batch_size: int = Field(4, gt=0, description="Questions handled together (the reference: one at a time).")
    answer: Decoding = _decoding("The model's answers (reference: T 0.7, top-p 0.9, 1,024 tokens).", 1024, 0.7, top_p=0.9)
    judge: Decoding = _decoding("The strong model's verdicts (reference: T 0, 512 tokens).", 512, 0.0)
    max_iterations: int = Field(3, gt=0, description="Answers per question at most (paper and reference: 3).")
    feedback: Literal["judge", "tests", "both"] = Field(
        "judge", description="'judge': the strong model's verdict and advice (paper); 'tests': the answer's last fenced "
        "python block runs against the question's tests; 'both': the tests' verdict, the strong model's advice added to "
        "the retry prompt. 'tests' and 'both' need questions with tests.")
    judge_retries: int = Field(2, ge=0, description="Re-asks when the judge's reply is not the JSON verdict; then 'unparsed'.")
    fine_tune_interval: int = Field(10, ge=0, description="Fine-tune every N kept samples (reference: 10); 0 = never.")
    final_fine_tune: bool = Field(True, description="Also fine-tune on the samples left at the end (fewer than the "
                                  "interval); the reference drops them.")
    keep_unverified: bool = Field(False, description="Also train on answers still judged incorrect after max_iterations "
                                  "(the reference does); unparsed verdicts are never kept.")
    sft: SFTConfig = Field(default_factory=lambda: SFTConfig(epochs=1))


class SelfTrainConfig(BaseModel):
    """Stage 3: contrast a low- and a high-compute answer of the model itself and train toward the preferred one."""

    model_config = ConfigDict(extra="forbid")

    turns: int = Field(1, gt=0, description="Rounds of generate-then-train, each from the previous round's model (paper: several, unspecified).")
    batch_size: int = Field(4, gt=0, description="Questions decoded together.")
    max_new_tokens: int = Field(512, gt=0, description="Answer budget of both answers (reference: 512 tokens with the prompt).")
    high_compute: Literal["beam", "sample"] = Field(
        "beam", description="'beam': beam search with num_beams (paper: 10); 'sample': T/top-p sampling (the reference code).")
    num_beams: int = Field(10, gt=1, description="Beams of the high-compute answer (paper: 10).")
    temperature: float = Field(0.7, gt=0, description="high_compute=sample: temperature (reference: 0.7).")
    top_p: float = Field(0.9, gt=0, le=1, description="high_compute=sample: nucleus (reference: 0.9).")
    preference: Literal["high_compute", "longer", "judge"] = Field(
        "high_compute", description="Which answer is preferred: the high-compute one (paper), the longer one in tokens "
        "(reference code; equal lengths are dropped), or the one the judge scores higher (ties and unparsed dropped).")
    loss: Literal["hinge", "dpo"] = Field(
        "hinge", description="'hinge': mean max(0, NLL(y+) - NLL(y-) + margin) over per-token-mean NLLs (reference); "
        "'dpo': TRL's DPO against the turn's starting model.")
    margin: float = Field(0.0, ge=0, description="Hinge margin m (reference: 0, so the gradient vanishes once y+ is likelier).")
    beta: float = Field(0.1, gt=0, description="DPO beta (ASSUMPTION: neither source gives it; 0.1 is the common default).")
    learning_rate: float = Field(1e-5, gt=0, description="Reference: 1e-5.")
    epochs: int = Field(1, gt=0, description="Reference: 1.")
    batch_pairs: int = Field(1, gt=0, description="Pairs per micro-batch (reference: 1).")
    gradient_accumulation_steps: int = Field(8, gt=0, description="Reference: 8.")
    weight_decay: float = Field(0.0, ge=0, description="AdamW weight decay (reference: the Trainer default, 0).")
    max_grad_norm: float = Field(1.0, gt=0, description="Gradient clipping (reference: the Trainer default, 1.0).")
    max_length: int = Field(1024, gt=0, description="Tokens of prompt + answer in training; longer answers are cut.")


class EvalConfig(BaseModel):
    """Head-to-head evaluation by a judge on five criteria (docs/spec/meteor.md §7)."""

    model_config = ConfigDict(extra="forbid")

    answer: Decoding = _decoding("The compared models' answers (reference: T 0.7, top-p 0.9, 1,024 tokens).", 1024, 0.7, top_p=0.9)
    judge: Decoding = _decoding("The judge's scores (reference: T 0, 1,500 tokens).", 1500, 0.0)
    batch_size: int = Field(4, gt=0, description="Questions answered or judged together.")
    position_swap: bool = Field(True, description="Judge every pair in both orders; a criterion is won only when both "
                                "orders agree, anything else is a tie (0.5).")
    judge_retries: int = Field(2, ge=0, description="Re-asks when the judge's reply is not the JSON score list.")
    judged: bool = Field(True, description="False: answers and (for questions with tests) pass rates only, no judge "
                         "calls; cheap enough to follow the pass rate after every stage.")
    holdout: int = Field(100, ge=0, description="`run`: questions held out of training for the evaluation (reference: 100).")


class MeteorConfig(BaseModel):
    """A METEOR run: roles, prompts, the three stages and the evaluation."""

    model_config = ConfigDict(extra="forbid")

    # A rerun in the same directory continues the saved run: only these may differ from the saved config.
    CHANGEABLE_ON_RESUME: ClassVar[tuple[str, ...]] = (
        "max_questions", "sandbox_workers", "roles.device", "roles.api_concurrency", "roles.generation_batch_size",
        "roles.tensor_parallel_size",
    )

    roles: RolesConfig = Field(default_factory=RolesConfig)
    prompts: PromptsConfig = Field(default_factory=PromptsConfig)
    seed: int = Field(0, description="Seeds the held-out split, sampling (per question and attempt) and training.")
    max_questions: int | None = Field(None, gt=0, description="Train on at most this many questions (after the hold-out); None = all.")
    sandbox_workers: int = Field(2, gt=0, description="Sandbox slots for running answers' code against tests.")
    distill: DistillConfig = Field(default_factory=DistillConfig)
    refine: RefineConfig = Field(default_factory=RefineConfig)
    self_train: SelfTrainConfig = Field(default_factory=SelfTrainConfig)
    evaluate: EvalConfig = Field(default_factory=EvalConfig)
