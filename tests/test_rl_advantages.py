"""Advantage estimators against hand-computed values, with the edge cases."""

import math

import pytest
import torch

from selfevolve.rl import advantages as A


def close(actual, expected, atol=1e-5):
    torch.testing.assert_close(actual, torch.tensor(expected, dtype=actual.dtype), atol=atol, rtol=0)


def test_grpo_group_mean_and_unbiased_std_all_equal_and_singleton():
    rewards = torch.tensor([1.0, 0.0, 2.0, 2.0, 2.0, 3.0])
    groups = torch.tensor([0, 0, 1, 1, 1, 2])
    # group 0: mean .5, std sqrt(.5) -> +-0.7071; group 1 all equal -> 0; singleton keeps its reward
    close(A.grpo(rewards, groups), [0.5 / (math.sqrt(0.5) + 1e-6), -0.5 / (math.sqrt(0.5) + 1e-6), 0, 0, 0, 3.0])


def test_dr_grpo_drops_the_std():
    rewards = torch.tensor([1.0, 0.0, 2.0, 2.0, 2.0, 3.0])
    groups = torch.tensor([0, 0, 1, 1, 1, 2])
    close(A.grpo(rewards, groups, scale_by_std=False), [0.5, -0.5, 0, 0, 0, 3.0])


def test_rloo_leave_one_out_baseline():
    rewards = torch.tensor([1.0, 0.0, 0.0, 3.0, 4.0, 4.0])
    groups = torch.tensor([7, 7, 7, 9, 5, 5])  # ids need not be contiguous or sorted
    close(A.rloo(rewards, groups), [1.0, -0.5, -0.5, 3.0, 0.0, 0.0])


def test_masked_whiten_ignores_padding_and_uses_bessel():
    values = torch.tensor([[1.0, 2.0, 99.0], [3.0, 99.0, 99.0]])
    mask = torch.tensor([[1.0, 1.0, 0.0], [1.0, 0.0, 0.0]])
    close(A.masked_whiten(values, mask), [[-1.0, 0.0, 0.0], [1.0, 0.0, 0.0]])


def test_returns_to_go_discounts_and_stops_at_padding():
    rewards = torch.tensor([[1.0, 2.0, 3.0], [0.0, 1.0, 5.0]])
    mask = torch.tensor([[1.0, 1.0, 1.0], [1.0, 1.0, 0.0]])
    close(A.returns_to_go(rewards, mask, gamma=0.5), [[2.75, 3.5, 3.0], [0.5, 1.0, 0.0]])


def test_reinforce_pp_whitens_broadcast_score_over_batch_tokens():
    scores = torch.tensor([1.0, 0.0])
    mask = torch.tensor([[1.0, 1.0], [1.0, 0.0]])
    rewards = A.last_token_scores(scores, mask)
    close(rewards, [[0.0, 1.0], [0.0, 0.0]])
    # returns [1, 1 | 0]: mean 2/3, var 1/3
    s = math.sqrt(1 / 3)
    close(A.reinforce_pp(rewards, mask), [[(1 / 3) / s, (1 / 3) / s], [-(2 / 3) / s, 0.0]])


def test_reinforce_pp_all_equal_rewards_give_zero():
    mask = torch.tensor([[1.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
    rewards = A.last_token_scores(torch.full((3,), 0.3), mask)
    close(A.reinforce_pp(rewards, torch.tensor([[0.0, 1.0], [1.0, 0.0], [0.0, 1.0]])), [[0, 0]] * 3)


def test_trr_pp_token_weighted_per_key():
    rewards = torch.tensor([1.0, 0.0, 5.0, 5.0])
    keys = [("abd", "solve"), ("abd", "solve"), ("ded", "propose"), ("ded", "propose")]
    mask = torch.tensor([[1, 1, 1], [1, 0, 0], [1, 1, 0], [1, 1, 0]], dtype=torch.float)
    # key 1 token-weighted (weights 3, 1): mean .75, var (3*.0625 + .5625)/3 = .25; key 2 all equal -> 0
    close(A.trr_pp(rewards, keys, mask, stats="token"), [0.5, -1.5, 0.0, 0.0], atol=1e-4)


def test_trr_pp_sequence_stats_and_singleton_key():
    rewards = torch.tensor([1.0, 0.0, 7.0])
    keys = ["a", "a", "b"]
    mask = torch.tensor([[1, 1, 1], [1, 0, 0], [1, 1, 0]], dtype=torch.float)
    close(A.trr_pp(rewards, keys, mask, stats="sequence"), [0.5 / math.sqrt(0.5), -0.5 / math.sqrt(0.5), 0.0], atol=1e-4)


def test_trr_pp_rejects_bad_arguments():
    with pytest.raises(ValueError, match="stats"):
        A.trr_pp(torch.zeros(1), ["a"], torch.ones(1, 1), stats="tokens")
    with pytest.raises(ValueError, match="one key per sequence"):
        A.trr_pp(torch.zeros(2), ["a"], torch.ones(2, 1))


def test_last_token_scores_with_empty_row():
    mask = torch.tensor([[1.0, 1.0, 0.0], [1.0, 0.0, 0.0], [0.0, 0.0, 0.0]])
    close(A.last_token_scores(torch.tensor([5.0, 6.0, 7.0]), mask), [[0, 5, 0], [6, 0, 0], [0, 0, 0]])


def test_kl_in_reward_k1_per_token():
    old = torch.tensor([[-1.0, -2.0]])
    ref = torch.tensor([[-1.5, -1.0]])
    mask = torch.ones(1, 2)
    close(A.kl_in_reward(A.last_token_scores(torch.tensor([2.0]), mask), old, ref, mask, beta=0.1), [[-0.05, 2.1]])
    step_rewards = torch.tensor([[0.5, 1.0]])  # per-token rewards keep theirs, minus the penalty
    close(A.kl_in_reward(step_rewards, old, ref, mask, beta=0.1), [[0.45, 1.1]])


def test_gae_gamma_lambda_one_is_return_minus_value_and_masks_padding():
    rewards = torch.tensor([[0.0, 0.0, 1.0], [0.0, 1.0, 5.0]])
    values = torch.tensor([[0.5, 0.6, 0.7], [0.2, 0.3, 9.0]])
    mask = torch.tensor([[1.0, 1.0, 1.0], [1.0, 1.0, 0.0]])
    adv, ret = A.gae(rewards, values, mask, gamma=1.0, lam=1.0, whiten=False)
    close(adv, [[0.5, 0.4, 0.3], [0.8, 0.7, 0.0]])
    close(ret, [[1.0, 1.0, 1.0], [1.0, 1.0, 0.0]])


def test_gae_discounted():
    adv, _ = A.gae(torch.tensor([[0.0, 0.0, 1.0]]), torch.tensor([[0.5, 0.6, 0.7]]), torch.ones(1, 3), 0.5, 0.5, whiten=False)
    close(adv, [[-0.24375, -0.175, 0.3]])


def test_gae_whitened_has_zero_mean_unit_var_on_real_tokens():
    mask = torch.tensor([[1.0, 1.0, 1.0], [1.0, 1.0, 0.0]])
    adv, _ = A.gae(torch.rand(2, 3), torch.rand(2, 3), mask)
    real = adv[mask > 0]
    assert abs(float(real.mean())) < 1e-5 and abs(float(real.std()) - 1) < 1e-3
    assert float(adv[1, 2]) == 0.0
