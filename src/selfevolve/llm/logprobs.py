"""Training-side per-token log-probs: the one function both sampling checks and the RL loss use."""

from __future__ import annotations

import torch


def token_logprobs(model, input_ids: torch.Tensor, attention_mask: torch.Tensor, temperature: float = 1.0) -> torch.Tensor:
    """Log-prob of each token given the ones before it.

    input_ids, attention_mask: [B, T] (left or right padding). Returns [B, T-1], where entry t is
    log p(input_ids[:, t+1] | input_ids[:, :t+1]); padded positions hold garbage and must be masked
    by the caller. Position ids are derived from the mask so left padding gives the same values as
    no padding.
    """
    position_ids = (attention_mask.cumsum(-1) - 1).clamp(min=0)
    logits = model(input_ids=input_ids, attention_mask=attention_mask, position_ids=position_ids).logits
    logits = logits[:, :-1].float()
    if temperature != 1.0:
        logits = logits / temperature
    targets = input_ids[:, 1:]
    # gather minus logsumexp: same as log_softmax + gather without a second [B, T, V] tensor
    picked = logits.gather(-1, targets.unsqueeze(-1)).squeeze(-1)
    return picked - torch.logsumexp(logits, dim=-1)
