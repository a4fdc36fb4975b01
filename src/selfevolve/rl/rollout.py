"""Rollouts: generate with a `Generator`, score each completion (`reward_calls`), assemble the batch
(`batch`). Rows are prompt-major; see `rollout`."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Hashable, Sequence

from selfevolve.llm.types import Completion, Generator, SamplingParams
from selfevolve.rl.batch import RolloutBatch, assemble_batch
from selfevolve.rl.reward_calls import RewardFn, RewardResult, score_many


@dataclass
class Rollout:
    """A scored batch plus the text-level records the store and reports need."""

    batch: RolloutBatch
    prompts: list[str]  # [B], each prompt repeated n times
    completions: list[Completion]  # [B]
    results: list[RewardResult] = field(default_factory=list)  # [B]


def rollout(
    generator: Generator,
    tokenizer,
    prompts: Sequence[str],
    params: SamplingParams,
    reward_fn: RewardFn,
    contexts: Sequence[Any] | None = None,
    keys: Sequence[Hashable] | None = None,
    timeout_s: float = 10.0,
    failure_reward: float = 0.0,
    isolation: str = "thread",
) -> Rollout:
    """Generate `params.n` completions per prompt, score each, and assemble the batch.

    Rows are prompt-major (prompt i's samples are rows i*n .. i*n+n-1) and share group id i.
    `contexts[i]` (e.g. the task's gold answer) is passed to reward_fn; `keys[i]` labels prompt i's
    rows for TRR++ and metrics. Prompt ids are `tokenizer(prompt)["input_ids"]`, as the generator's.
    """
    n = params.n
    outputs = generator.generate(list(prompts), params)
    prompt_ids = tokenizer(list(prompts))["input_ids"] if prompts else []  # one call: same ids as one by one
    flat = [c for group in outputs for c in group]
    row_prompt = [i for i in range(len(prompts)) for _ in range(n)]
    items = [(prompts[i], c.text, None if contexts is None else contexts[i]) for i, c in zip(row_prompt, flat)]
    results = score_many(reward_fn, items, timeout_s, failure_reward, isolation)
    pad_id = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else tokenizer.eos_token_id
    batch = assemble_batch(
        prompt_ids=[prompt_ids[i] for i in row_prompt],
        completion_ids=[c.token_ids for c in flat],
        pad_id=pad_id,
        scores=[r.reward for r in results],
        old_logprobs=[c.logprobs for c in flat] if all(len(c.logprobs) == len(c.token_ids) for c in flat) else None,
        group_ids=row_prompt,
        keys=[None if keys is None else keys[i] for i in row_prompt],
    )
    return Rollout(batch, [prompts[i] for i in row_prompt], flat, results)
