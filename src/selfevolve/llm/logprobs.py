"""Training-side per-token log-probs: the one function both sampling checks and the RL loss use."""

from __future__ import annotations

import inspect

import torch


def takes_logits_to_keep(model) -> bool:
    """Whether `model` (a transformers causal LM, or a PEFT wrapper of one) can skip unneeded logits."""
    base = model.get_base_model() if hasattr(model, "get_base_model") else model
    return "logits_to_keep" in inspect.signature(base.forward).parameters


def token_logprobs(model, input_ids: torch.Tensor, attention_mask: torch.Tensor, temperature: float = 1.0,
                   last: int | None = None, skip_logits: bool = False) -> torch.Tensor:
    """Log-prob of each token given the ones before it.

    input_ids, attention_mask: [B, T] (left or right padding). Returns [B, T-1], where entry t is
    log p(input_ids[:, t+1] | input_ids[:, :t+1]); padded positions hold garbage and must be masked
    by the caller. Position ids are derived from the mask so left padding gives the same values as
    no padding.

    last: return only the last `last` tokens' log-probs, [B, last]. With `skip_logits` (for models
    that `takes_logits_to_keep`) the model then computes logits at those positions only, instead of
    a [B, T, V] tensor most of which a long prompt would waste.
    """
    position_ids = (attention_mask.cumsum(-1) - 1).clamp(min=0)
    keep = {"logits_to_keep": last + 1} if last is not None and skip_logits else {}
    logits = model(input_ids=input_ids, attention_mask=attention_mask, position_ids=position_ids, **keep).logits
    if last is not None:
        logits = logits[:, -(last + 1):]
    logits = logits[:, :-1].float()
    if temperature != 1.0:
        logits = logits / temperature
    targets = input_ids[:, 1:] if last is None else input_ids[:, input_ids.shape[1] - last:]
    # gather minus logsumexp: same as log_softmax + gather without a second [B, T, V] tensor
    picked = logits.gather(-1, targets.unsqueeze(-1)).squeeze(-1)
    return picked - torch.logsumexp(logits, dim=-1)
