"""Losses against hand-computed values."""

import math

import pytest
import torch

from selfevolve.rl import losses as L


def close(actual, expected, atol=1e-5):
    torch.testing.assert_close(actual, torch.tensor(expected, dtype=actual.dtype), atol=atol, rtol=0)


RATIOS = torch.tensor([[0.5, 1.0, 1.5]])


def test_clipped_surrogate_symmetric_positive_and_negative_advantage():
    logp, old = RATIOS.log(), torch.zeros(1, 3)
    loss, clipped = L.clipped_surrogate(logp, old, torch.ones(1, 3))
    close(loss, [[-0.5, -1.0, -1.2]])
    assert clipped.tolist() == [[False, False, True]]
    loss, clipped = L.clipped_surrogate(logp, old, -torch.ones(1, 3))
    close(loss, [[0.8, 1.0, 1.5]])
    assert clipped.tolist() == [[True, False, False]]


def test_clipped_surrogate_asymmetric_clip_higher():
    loss, _ = L.clipped_surrogate(RATIOS.log(), torch.zeros(1, 3), torch.ones(1, 3), clip_low=0.2, clip_high=0.28)
    close(loss, [[-0.5, -1.0, -1.28]])


def test_dual_clip_caps_negative_advantage_loss():
    logp = torch.tensor([[math.log(4.0), math.log(4.0)]])
    adv = torch.tensor([[-1.0, 1.0]])
    loss, clipped = L.clipped_surrogate(logp, torch.zeros(1, 2), adv, dual_clip=3.0)
    close(loss, [[3.0, -1.2]])
    assert clipped.tolist() == [[True, True]]
    plain, _ = L.clipped_surrogate(logp, torch.zeros(1, 2), adv)
    close(plain, [[4.0, -1.2]])


def test_kl_estimators():
    logp, ref = torch.zeros(1, 1), torch.full((1, 1), math.log(0.5))
    close(L.kl_penalty(logp, ref, "k1"), [[math.log(2)]])
    close(L.kl_penalty(logp, ref, "k3"), [[0.5 + math.log(2) - 1]])
    close(L.kl_penalty(logp, logp, "k3"), [[0.0]])
    with pytest.raises(ValueError, match="k1"):
        L.kl_penalty(logp, ref, "k2")


def test_entropy_from_logits():
    logits = torch.tensor([[[0.0, 0.0, 0.0, 0.0], [0.0, -1e9, -1e9, -1e9]]])
    close(L.entropy_from_logits(logits), [[math.log(4), 0.0]])


def test_value_loss_with_and_without_clipping():
    v, old, ret = torch.tensor([[1.0, 0.2]]), torch.zeros(1, 2), torch.tensor([[0.0, 1.0]])
    # clip .5: token 0 plain 1 vs clipped (0.5)^2 -> 0.5 * 1; token 1 inside the range -> 0.5 * .64
    close(L.value_loss(v, old, ret, clip=0.5), [[0.5, 0.32]])
    # clip .1: token 0 -> 0.5 * max(1, .01); token 1 -> 0.5 * max(.64, (0.1 - 1)^2 = .81)
    close(L.value_loss(v, old, ret, clip=0.1), [[0.5, 0.405]])
    close(L.value_loss(v, old, ret, clip=None), [[0.5, 0.32]])


PER_TOKEN = torch.tensor([[1.0, 2.0, 100.0], [3.0, 100.0, 100.0]])
MASK = torch.tensor([[1.0, 1.0, 0.0], [1.0, 0.0, 0.0]])


def test_aggregation_modes_ignore_padding():
    close(L.aggregate(PER_TOKEN, MASK, "token-mean"), 2.0)
    close(L.aggregate(PER_TOKEN, MASK, "seq-mean-token-mean"), 2.25)
    close(L.aggregate(PER_TOKEN, MASK, "seq-mean-token-sum-norm"), 1.0)
    close(L.aggregate(PER_TOKEN, MASK, "seq-mean-token-sum-norm", L.normaliser(MASK, "seq-mean-token-sum-norm", 4)), 0.75)


def test_aggregation_with_a_global_denominator_sums_over_micro_batches():
    whole = L.aggregate(PER_TOKEN, MASK, "token-mean")
    denominator = L.normaliser(MASK, "token-mean")
    parts = sum(L.aggregate(PER_TOKEN[i : i + 1], MASK[i : i + 1], "token-mean", denominator) for i in range(2))
    close(parts, float(whole))


def test_unknown_aggregation_mode_is_a_clear_error():
    with pytest.raises(ValueError, match="loss_agg_mode"):
        L.aggregate(PER_TOKEN, MASK, "mean")
    with pytest.raises(ValueError, match="loss_agg_mode"):
        L.aggregate(PER_TOKEN, MASK, "mean", 2.0)


def test_masked_mean():
    close(L.masked_mean(PER_TOKEN, MASK), 2.0)
    close(L.masked_mean(PER_TOKEN, torch.zeros_like(MASK)), 0.0)
    close(L.masked_mean(PER_TOKEN, MASK, dim=1), [1.5, 3.0])  # one mean per sequence
    close(L.masked_mean(PER_TOKEN, torch.stack([MASK[0], torch.zeros(3)]), dim=1), [1.5, 0.0])
