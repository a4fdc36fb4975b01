"""Sampling parameter checks and the logits → next-token step shared by the local backends."""

from __future__ import annotations

import torch

from selfevolve.llm.errors import InvalidSamplingParams
from selfevolve.llm.types import SamplingParams


def validate_params(params: SamplingParams) -> None:
    """Raise InvalidSamplingParams naming the bad field, its value and the allowed range."""
    checks = [
        ("n", params.n, params.n >= 1, "an integer >= 1"),
        ("max_new_tokens", params.max_new_tokens, params.max_new_tokens >= 1, "an integer >= 1"),
        ("temperature", params.temperature, params.temperature >= 0, ">= 0 (0 = greedy)"),
        ("top_p", params.top_p, 0 < params.top_p <= 1, "in (0, 1] (1 = off)"),
        ("top_k", params.top_k, params.top_k >= 0, "an integer >= 0 (0 = off)"),
    ]
    for name, value, ok, allowed in checks:
        if not ok:
            raise InvalidSamplingParams(f"SamplingParams.{name}={value!r} is invalid; use {allowed}")
    if isinstance(params.stop, str) or any(not isinstance(s, str) or not s for s in params.stop):
        raise InvalidSamplingParams(
            f"SamplingParams.stop={params.stop!r} is invalid; use a tuple of non-empty strings, e.g. stop=('</answer>',)"
        )


def next_tokens(logits: torch.Tensor, params: SamplingParams, generator: torch.Generator | None) -> torch.Tensor:
    """Pick one token per row of `logits` [B, V] under temperature / top-k / top-p (greedy at T=0)."""
    if params.temperature == 0:
        return logits.argmax(-1)
    logits = logits.float() / params.temperature
    if params.top_k > 0 and params.top_k < logits.shape[-1]:
        kth = torch.topk(logits, params.top_k, dim=-1).values[:, -1:]
        logits = logits.masked_fill(logits < kth, float("-inf"))
    if params.top_p < 1.0:
        logits = _top_p_filter(logits, params.top_p)
    probs = torch.softmax(logits, dim=-1)
    return torch.multinomial(probs, 1, generator=generator).squeeze(-1)


def _top_p_filter(logits: torch.Tensor, top_p: float) -> torch.Tensor:
    """Keep the smallest set of tokens whose probability mass reaches top_p (always the top token)."""
    sorted_logits, order = logits.sort(dim=-1, descending=True)
    cum = sorted_logits.softmax(-1).cumsum(-1)
    drop_sorted = cum - sorted_logits.softmax(-1) >= top_p  # mass before this token already enough
    drop = drop_sorted.scatter(-1, order, drop_sorted)
    return logits.masked_fill(drop, float("-inf"))
