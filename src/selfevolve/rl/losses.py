"""Policy-gradient losses: pure functions over per-token tensors.

Every function returns a per-token tensor [N, T]; `aggregate` reduces it to a scalar with an explicit
normaliser, so that micro-batches and data-parallel ranks can share one global denominator.
"""

from __future__ import annotations

import torch

LOSS_AGG_MODES = ("token-mean", "seq-mean-token-mean", "seq-mean-token-sum-norm")


def clipped_surrogate(
    logprobs: torch.Tensor,
    old_logprobs: torch.Tensor,
    advantages: torch.Tensor,
    clip_low: float = 0.2,
    clip_high: float = 0.2,
    dual_clip: float | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """PPO clipped surrogate, per token: max(-A rho, -A clip(rho, 1 - clip_low, 1 + clip_high)).

    Asymmetric clipping (clip_high > clip_low) is DAPO's "clip-higher". With `dual_clip = c > 1`
    (Ye et al. 2020) the loss of a negative-advantage token is also capped at -c A, so a huge ratio
    cannot blow it up. All inputs [N, T]; returns (loss [N, T], clipped [N, T] bool: where the
    clipped branch was taken).
    """
    ratio = torch.exp(logprobs - old_logprobs)
    unclipped = -advantages * ratio
    clipped = -advantages * ratio.clamp(1.0 - clip_low, 1.0 + clip_high)
    loss = torch.maximum(unclipped, clipped)
    was_clipped = clipped > unclipped
    if dual_clip is not None:
        capped = torch.minimum(loss, -advantages * dual_clip)
        loss = torch.where(advantages < 0, capped, loss)
        was_clipped = was_clipped | ((advantages < 0) & (loss < torch.maximum(unclipped, clipped)))
    return loss, was_clipped


def kl_penalty(logprobs: torch.Tensor, ref_logprobs: torch.Tensor, estimator: str = "k3") -> torch.Tensor:
    """Per-token estimate of KL(pi || pi_ref) from tokens sampled from pi (Schulman 2020).

    k1 = log pi - log pi_ref (unbiased, can be negative); k3 = exp(-k1) + k1 - 1 (unbiased, >= 0,
    low variance; veRL's `low_var_kl`, clamped to [-10, 10] as there). [N, T] -> [N, T].
    """
    k1 = logprobs - ref_logprobs
    if estimator == "k1":
        return k1
    if estimator == "k3":
        return (torch.exp(-k1) + k1 - 1).clamp(-10.0, 10.0)
    raise ValueError(f"kl estimator {estimator!r} is invalid; use 'k1' or 'k3'")


def entropy_from_logits(logits: torch.Tensor) -> torch.Tensor:
    """Entropy of the next-token distribution at each position. [N, T, V] -> [N, T]."""
    logp = torch.log_softmax(logits.float(), dim=-1)
    return -(logp.exp() * logp).sum(dim=-1)


def value_loss(values: torch.Tensor, old_values: torch.Tensor, returns: torch.Tensor, clip: float | None) -> torch.Tensor:
    """PPO value loss with value clipping: 0.5 max((V - R)^2, (V_old + clip(V - V_old, +-c) - R)^2).

    `clip=None` gives the plain 0.5 (V - R)^2. All [N, T] -> [N, T].
    """
    plain = (values - returns) ** 2
    if clip is None:
        return 0.5 * plain
    clipped = old_values + (values - old_values).clamp(-clip, clip)
    return 0.5 * torch.maximum(plain, (clipped - returns) ** 2)


def normaliser(mask: torch.Tensor, mode: str, norm_length: int | None = None) -> float:
    """The denominator `aggregate` divides by, computed once over a whole (global) mini-batch.

    token-mean: number of real tokens. seq-mean-token-mean: number of sequences.
    seq-mean-token-sum-norm (Dr. GRPO): sequences x a constant length (`norm_length`, default T).
    """
    if mode == "token-mean":
        return float(mask.sum())
    if mode == "seq-mean-token-mean":
        return float(mask.shape[0])
    if mode == "seq-mean-token-sum-norm":
        return float(mask.shape[0] * (norm_length or mask.shape[1]))
    raise ValueError(f"loss_agg_mode {mode!r} is invalid; use one of {LOSS_AGG_MODES}")


def aggregate(per_token: torch.Tensor, mask: torch.Tensor, mode: str, denominator: float | None = None) -> torch.Tensor:
    """Reduce a per-token loss [N, T] to a scalar.

    token-mean: sum over all real tokens / denominator. seq-mean-token-mean: each sequence's token
    mean, summed / denominator. seq-mean-token-sum-norm: token sum / denominator. Without a
    `denominator` the one of this batch alone is used (`normaliser`).
    """
    if denominator is None:
        denominator = normaliser(mask, mode)  # also rejects an unknown mode
    elif mode not in LOSS_AGG_MODES:
        raise ValueError(f"loss_agg_mode {mode!r} is invalid; use one of {LOSS_AGG_MODES}")
    if mode == "seq-mean-token-mean":
        per_seq = masked_mean(per_token, mask, dim=1)  # [N]
        return per_seq.sum() / max(denominator, 1.0)
    return (per_token * mask).sum() / max(denominator, 1.0)


def masked_mean(values: torch.Tensor, mask: torch.Tensor, dim: int | None = None) -> torch.Tensor:
    """Mean of `values` over real tokens (0 where there are none): of the whole tensor, or along `dim`
    (dim=1: one mean per sequence [N])."""
    if dim is None:
        return (values * mask).sum() / mask.sum().clamp(min=1)
    return (values * mask).sum(dim=dim) / mask.sum(dim=dim).clamp(min=1)
