"""Advantage estimators: pure functions over tensors.

Shapes: N sequences, T completion tokens. `mask` [N, T] is 1 on real completion tokens and 0 on
padding. Sequence-level estimators (GRPO, Dr. GRPO, RLOO, TRR++) return [N]; broadcast to tokens
with `per_token(adv, mask)`. Token-level estimators (REINFORCE++, GAE) return [N, T], zero on padding.
"""

from __future__ import annotations

from typing import Hashable, Sequence

import torch


def per_token(adv: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """[N] sequence advantages -> [N, T], the same value on every real token, 0 on padding."""
    return adv[:, None] * mask


def last_token_scores(scores: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """[N] scores -> [N, T] rewards, the score on each row's last real token and 0 elsewhere.

    Works for any padding layout: the last real token is the highest index where mask is 1.
    """
    index = torch.arange(mask.shape[1], device=mask.device) * (mask > 0)  # [N, T]
    last = index.argmax(dim=1)  # [N]
    rewards = torch.zeros(mask.shape, dtype=scores.dtype, device=scores.device)
    rewards[torch.arange(len(scores)), last] = scores
    return rewards * mask


def _group_stats(rewards: torch.Tensor, group_ids: torch.Tensor):
    """Per-row group mean [N], unbiased group std [N] (0 for singletons) and group size [N]."""
    _, inverse, counts = torch.unique(group_ids, return_inverse=True, return_counts=True)
    sums = torch.zeros(len(counts), dtype=rewards.dtype, device=rewards.device).index_add_(0, inverse, rewards)
    mean = (sums / counts)[inverse]
    sq = torch.zeros_like(sums).index_add_(0, inverse, (rewards - mean) ** 2)
    var = sq / (counts - 1).clamp(min=1)
    return mean, var.sqrt()[inverse], counts[inverse]


def grpo(rewards: torch.Tensor, group_ids: torch.Tensor, scale_by_std: bool = True, eps: float = 1e-6) -> torch.Tensor:
    """GRPO: A_i = (r_i - mean_g) / (std_g + eps) within each prompt group g (unbiased std).

    `scale_by_std=False` is Dr. GRPO (Liu et al. 2025): A_i = r_i - mean_g. A singleton group has no
    baseline, so its advantage is the raw reward (veRL's convention). rewards, group_ids: [N] -> [N].
    """
    mean, std, size = _group_stats(rewards, group_ids)
    adv = rewards - mean
    if scale_by_std:
        adv = adv / (std + eps)
    return torch.where(size > 1, adv, rewards)


def rloo(rewards: torch.Tensor, group_ids: torch.Tensor) -> torch.Tensor:
    """RLOO: A_i = r_i - mean of the other samples in the group = n/(n-1) (r_i - mean_g).

    A singleton group has no other sample, so its advantage is the raw reward. [N] -> [N].
    """
    mean, _, size = _group_stats(rewards, group_ids)
    n = size.to(rewards.dtype)
    adv = (rewards - mean) * n / (n - 1).clamp(min=1)
    return torch.where(size > 1, adv, rewards)


def masked_whiten(values: torch.Tensor, mask: torch.Tensor, eps: float = 1e-8, shift_mean: bool = True) -> torch.Tensor:
    """(x - mean) / sqrt(var + eps) over the real tokens, Bessel-corrected; padding stays 0.

    With a single real token the variance is taken as 0. values, mask: [N, T] -> [N, T].
    """
    count = mask.sum()
    mean = (values * mask).sum() / count.clamp(min=1)
    var = (((values - mean) * mask) ** 2).sum() / (count - 1).clamp(min=1)
    out = (values - mean) if shift_mean else values
    return out * torch.rsqrt(var + eps) * mask


def returns_to_go(token_rewards: torch.Tensor, mask: torch.Tensor, gamma: float = 1.0) -> torch.Tensor:
    """G_t = sum_{k >= t} gamma^(k-t) r_k over real tokens. [N, T] -> [N, T]."""
    returns = torch.zeros_like(token_rewards)
    running = torch.zeros_like(token_rewards[:, 0])  # [N]
    for t in reversed(range(token_rewards.shape[1])):
        running = token_rewards[:, t] + gamma * running
        returns[:, t] = running
        running = running * mask[:, t]  # a padded position passes nothing back
    return returns * mask


def reinforce_pp(token_rewards: torch.Tensor, mask: torch.Tensor, gamma: float = 1.0, eps: float = 1e-8) -> torch.Tensor:
    """REINFORCE++ (Hu 2025): returns-to-go, whitened over every real token of the batch.

    token_rewards [N, T] holds the score on the last token and, when KL is in the reward, the
    per-token penalty (see `kl_in_reward`). Returns [N, T].
    """
    return masked_whiten(returns_to_go(token_rewards, mask, gamma), mask, eps)


def trr_pp(
    rewards: torch.Tensor,
    keys: Sequence[Hashable],
    mask: torch.Tensor,
    stats: str = "token",
    eps: float = 1e-8,
) -> torch.Tensor:
    """TRR++ (docs/spec/azr.md §8): REINFORCE++ whitened separately for each key, e.g. (task type, role).

    A = (r - mu_key) / sqrt(var_key + eps). With `stats="token"` every real token carries its
    sequence's reward (statistics weighted by response length, as the AZR reference); with
    `stats="sequence"` each sequence counts once. Variance is Bessel-corrected; a key whose rewards
    are all equal gets A = 0. rewards [N], keys: N hashables, mask [N, T] -> [N].
    """
    if stats not in ("token", "sequence"):
        raise ValueError(f"stats={stats!r} is invalid; use 'token' or 'sequence'")
    if len(keys) != len(rewards):
        raise ValueError(f"got {len(keys)} keys for {len(rewards)} rewards; pass one key per sequence")
    weights = mask.sum(dim=1).to(rewards.dtype) if stats == "token" else torch.ones_like(rewards)  # [N]
    adv = torch.zeros_like(rewards)
    for key in dict.fromkeys(keys):
        rows = torch.tensor([k == key for k in keys], device=rewards.device)
        r, w = rewards[rows], weights[rows]
        mean = (w * r).sum() / w.sum().clamp(min=1e-12)
        var = (w * (r - mean) ** 2).sum() / (w.sum() - 1).clamp(min=1)
        adv[rows] = (r - mean) * torch.rsqrt(var + eps)
    return adv


def kl_in_reward(
    token_rewards: torch.Tensor,
    old_logprobs: torch.Tensor,
    ref_logprobs: torch.Tensor,
    mask: torch.Tensor,
    beta: float,
) -> torch.Tensor:
    """Per-token reward with the KL penalty folded in: r_t - beta * (log pi_old - log pi_ref)_t (k1).

    token_rewards, old_logprobs, ref_logprobs, mask [N, T] -> [N, T]; e.g. token_rewards =
    `last_token_scores(scores, mask)`.
    """
    return token_rewards - beta * (old_logprobs - ref_logprobs) * mask


def gae(
    token_rewards: torch.Tensor,
    values: torch.Tensor,
    mask: torch.Tensor,
    gamma: float = 1.0,
    lam: float = 1.0,
    whiten: bool = True,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Generalised advantage estimation (Schulman et al. 2016) over right-padded completions.

    delta_t = r_t + gamma V_{t+1} - V_t (V after the last real token is 0);
    A_t = delta_t + gamma lam A_{t+1}. Returns (advantages, returns = A + V), both [N, T], zero on
    padding; advantages are whitened over real tokens when `whiten` (veRL's PPO default).
    """
    n, length = token_rewards.shape
    advantages = torch.zeros_like(token_rewards)
    next_value = torch.zeros(n, dtype=values.dtype, device=values.device)
    next_adv = torch.zeros_like(next_value)
    for t in reversed(range(length)):
        delta = token_rewards[:, t] + gamma * next_value - values[:, t]
        adv_t = delta + gamma * lam * next_adv
        real = mask[:, t] > 0
        # padding neither gets an advantage nor passes one back to the real token before it
        advantages[:, t] = torch.where(real, adv_t, torch.zeros_like(adv_t))
        next_adv = advantages[:, t]
        next_value = torch.where(real, values[:, t], torch.zeros_like(next_value))
    returns = (advantages + values) * mask
    if whiten:
        advantages = masked_whiten(advantages, mask)
    return advantages, returns
