"""Rollout helper: batch layout, rewards under timeouts and crashes, generate -> score -> batch."""

import os
import threading
import time

import pytest
import torch

from selfevolve.llm.types import Completion, SamplingParams
from selfevolve.rl import assemble_batch, rollout, score, toy
from selfevolve.rl.reward_calls import score_many


def test_assemble_batch_left_pads_prompts_right_pads_completions():
    batch = assemble_batch([[1, 2], [3]], [[4], [5, 6, 7]], pad_id=0, scores=[1.0, 0.0],
                           old_logprobs=[[-0.5], [-1.0, -2.0, -3.0]], keys=["a", "b"])
    assert batch.prompt_width == 2
    assert batch.input_ids.tolist() == [[1, 2, 4, 0, 0], [0, 3, 5, 6, 7]]
    assert batch.attention_mask.tolist() == [[1, 1, 1, 0, 0], [0, 1, 1, 1, 1]]
    assert batch.completion_mask.tolist() == [[1, 0, 0], [1, 1, 1]]
    assert batch.old_logprobs.tolist() == [[-0.5, 0, 0], [-1.0, -2.0, -3.0]]
    assert batch.group_ids.tolist() == [0, 1] and batch.keys == ["a", "b"]
    sub = batch.rows(torch.tensor([1]))
    assert sub.keys == ["b"] and sub.scores.tolist() == [0.0] and sub.input_ids.shape == (1, 5)


def test_batch_needs_rewards():
    try:
        assemble_batch([[1]], [[2]], pad_id=0)
    except ValueError as exc:
        assert "scores" in str(exc)
    else:
        raise AssertionError("a batch without rewards was accepted")


def slow(prompt, completion, context):
    time.sleep(5)
    return 1.0


def crash(prompt, completion, context):
    raise ZeroDivisionError("boom")


def die(prompt, completion, context):
    os._exit(3)


def test_score_records_timeouts_exceptions_and_nan_as_failures():
    started = time.perf_counter()
    result = score(slow, "p", "c", timeout_s=0.2, failure_reward=-1.0)
    assert result.reward == -1.0 and "timeout" in result.error
    assert time.perf_counter() - started < 4  # the loop does not wait for the slow reward
    result = score(crash, "p", "c", failure_reward=-1.0)
    assert result.reward == -1.0 and result.error == "ZeroDivisionError: boom"
    assert score(lambda p, c, x: float("nan"), "p", "c").error == "reward is NaN"
    assert score(lambda p, c, x: len(c) + x, "p", "abc", context=1).reward == 4.0


def test_process_isolation_survives_a_dying_reward_and_kills_slow_ones():
    result = score(die, "p", "c", isolation="process", failure_reward=-2.0)
    assert result.reward == -2.0 and "died" in result.error
    result = score(slow, "p", "c", timeout_s=0.3, isolation="process")
    assert result.reward == 0.0 and "timeout" in result.error
    assert score(lambda p, c, x: 0.5, "p", "c", isolation="process").reward == 0.5


class EchoGenerator:
    """Answers every prompt with its i-th sample 'i' followed by EOS."""

    def __init__(self, tokenizer):
        self.tokenizer = tokenizer

    def generate(self, prompts, params: SamplingParams):
        eos = self.tokenizer.eos_token_id
        return [[Completion(text=str(i), token_ids=[self.tokenizer.convert_tokens_to_ids(str(i)), eos],
                            logprobs=[-0.1, -0.2], finish_reason="stop") for i in range(params.n)] for _ in prompts]


def test_rollout_groups_samples_by_prompt_and_scores_them():
    tokenizer = toy.char_tokenizer()
    prompts = ["1+1=", "10+1="]
    out = rollout(EchoGenerator(tokenizer), tokenizer, prompts, SamplingParams(n=3), toy.reward,
                  keys=[("ded", "solve"), ("abd", "solve")])
    batch = out.batch
    assert batch.scores.tolist() == [0.0, 0.0, 1.0, 0.0, 0.0, 0.0]
    assert batch.group_ids.tolist() == [0, 0, 0, 1, 1, 1]
    assert batch.keys[2] == ("ded", "solve") and batch.keys[3] == ("abd", "solve")
    assert batch.prompt_width == 5 and batch.input_ids.shape == (6, 7)
    assert batch.input_ids[0, :5].tolist() == [tokenizer.pad_token_id] + tokenizer("1+1=")["input_ids"]
    assert batch.old_logprobs[0].tolist() == pytest.approx([-0.1, -0.2])
    assert out.prompts[3] == "10+1=" and [r.error for r in out.results] == [None] * 6


def test_a_hanging_reward_in_a_large_batch_costs_exactly_that_one_row():
    release = threading.Event()  # set at the end to release the hung calls

    def reward(prompt, completion, context):
        if completion in ("hang", "hang again"):
            release.wait(30)  # returns a value only if the loop waited for it
        return float(len(completion))

    completions = [str(i) * (i % 3 + 1) for i in range(60)]
    completions[17], completions[41] = "hang", "hang again"
    try:
        results = score_many(reward, [("p", c, None) for c in completions], timeout_s=0.3, failure_reward=-1.0)
    finally:
        release.set()
    failed = [i for i, r in enumerate(results) if r.error is not None]
    assert failed == [17, 41] and all("timeout" in results[i].error and results[i].reward == -1.0 for i in failed)
    assert [r.reward for i, r in enumerate(results) if i not in failed] == [
        float(len(c)) for i, c in enumerate(completions) if i not in failed
    ]


def test_crashes_and_nan_in_a_batch_fail_only_their_rows():
    def reward(prompt, completion, context):
        if completion == "crash":
            raise ZeroDivisionError("boom")
        if completion == "exit":
            raise SystemExit(1)
        return float("nan") if completion == "nan" else context

    items = [("p", c, i) for i, c in enumerate(["a", "crash", "b", "nan", "exit", "c"])]
    results = score_many(reward, items, failure_reward=-1.0)
    assert [r.reward for r in results] == [0.0, -1.0, 2.0, -1.0, -1.0, 5.0]
    assert [r.error for r in results] == [None, "ZeroDivisionError: boom", None, "reward is NaN", "SystemExit: 1", None]
    assert score_many(reward, []) == []


def test_rollout_records_a_hung_reward_as_one_failure_and_scores_the_rest():
    tokenizer = toy.char_tokenizer()
    release = threading.Event()

    def reward(prompt, completion, context):
        if prompt == "2+2=" and completion == "1":
            release.wait(30)  # returns a value only if the loop waited for it
        return toy.reward(prompt, completion)

    try:
        out = rollout(EchoGenerator(tokenizer), tokenizer, ["1+1=", "2+2=", "1+0="], SamplingParams(n=3), reward,
                      timeout_s=0.3, failure_reward=-1.0)
    finally:
        release.set()
    assert out.batch.scores.tolist() == [0.0, 0.0, 1.0, 0.0, -1.0, 0.0, 0.0, 1.0, 0.0]
    assert [r.error is not None for r in out.results] == [False] * 4 + [True] + [False] * 4
