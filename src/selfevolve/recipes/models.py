"""What a recipe trains: the policy, and the frozen reference when the trainer's KL penalty needs one."""

from __future__ import annotations

from selfevolve.llm.loading import load_model
from selfevolve.rl.config import RLConfig


def load_policy(model: str, device: str | None, rl: RLConfig):
    """(policy, tokenizer, reference). The reference is a second, frozen copy of the starting model
    when `rl.kl_coef > 0` without LoRA (with LoRA the policy's base model serves); otherwise None.
    On resume it is still the starting model: checkpoints hold the policy only."""
    policy, tokenizer = load_model(model, device=device)
    reference = load_model(model, device=device)[0] if rl.needs_reference and rl.lora_r == 0 else None
    return policy, tokenizer, reference
