"""Beam search for the high-compute answer of self-training (the paper: 10 beams).

The project's `TransformersGenerator` samples or decodes greedily; beam search is transformers' own
`generate(num_beams=...)` on the weak model, in eval mode and without gradients, with a generation
config of its own (so the model's sampling defaults do not mix in).
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from transformers import GenerationConfig

from selfevolve.recipes.meteor.errors import MeteorError
from selfevolve.recipes.meteor.roles import Conversation, Role, evaluating


def beam_search(role: Role, conversations: Sequence[Conversation], num_beams: int, max_new_tokens: int) -> list[str | None]:
    """The best beam's text for each conversation; None where the prompt leaves no room to generate."""
    local = role.local
    if local is None:
        raise MeteorError(f"beam search needs the {role.name} model's weights; use a local model or "
                         f"self_train.high_compute=sample")
    ids = [role.prompt_ids(c) for c in conversations]
    fits = [len(p) < local.context_length for p in ids]
    todo = [p for p, ok in zip(ids, fits) if ok]
    per_call = max(1, local.batch_size // num_beams)
    texts = []
    for start in range(0, len(todo), per_call):
        texts += _beams(local, todo[start : start + per_call], num_beams, max_new_tokens)
    found = iter(texts)
    return [next(found) if ok else None for ok in fits]


def _beams(local, prompts: list[list[int]], num_beams: int, max_new_tokens: int) -> list[str]:
    model, tokenizer = local.model, local.tokenizer
    width = max(len(p) for p in prompts)
    input_ids = torch.tensor([[local.pad_id] * (width - len(p)) + p for p in prompts], device=model.device)  # [B, W]
    mask = torch.tensor([[0] * (width - len(p)) + [1] * len(p) for p in prompts], device=model.device)  # [B, W]
    budget = min(max_new_tokens, local.context_length - width)
    config = GenerationConfig(num_beams=num_beams, do_sample=False, max_new_tokens=budget, num_return_sequences=1,
                              pad_token_id=local.pad_id, eos_token_id=sorted(local.eos_ids))
    with evaluating(model), torch.inference_mode():
        out = model.generate(input_ids=input_ids, attention_mask=mask, generation_config=config)  # [B, W + new]
    return tokenizer.batch_decode(out[:, width:], skip_special_tokens=True)
