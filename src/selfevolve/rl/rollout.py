"""Rollouts: generate with a `Generator`, score under a per-call timeout, assemble the batch tensors.

Batch layout (B sequences, prompt width P, completion width T):

    input_ids      [B, P + T]  prompt LEFT-padded to P, then completion RIGHT-padded to T
    attention_mask [B, P + T]  1 on real prompt and completion tokens
    completion_mask[B, T]      1 on real completion tokens (float)

Left-padding prompts makes every completion start at column P, so completion token t sits at
`input_ids[:, P + t]` and its log-prob at column `P - 1 + t` of `token_logprobs(...)` [B, P+T-1].
"""

from __future__ import annotations

import functools
import multiprocessing
import threading
import time
from dataclasses import dataclass, field, replace
from typing import Any, Callable, Hashable, Sequence

import torch

from selfevolve.llm.types import Completion, Generator, SamplingParams

RewardFn = Callable[[str, str, Any], float]  # (prompt, completion text, context) -> reward


@dataclass
class RolloutBatch:
    """One batch of rollouts as tensors (see the module docstring for the layout)."""

    input_ids: torch.Tensor  # [B, P + T] long
    attention_mask: torch.Tensor  # [B, P + T] long
    completion_mask: torch.Tensor  # [B, T] float
    prompt_width: int  # P
    group_ids: torch.Tensor  # [B] long: samples of the same prompt share an id (GRPO/RLOO groups)
    keys: list[Hashable]  # B grouping keys for TRR++ baselines and per-key metrics, e.g. (task, role)
    scores: torch.Tensor | None = None  # [B] sequence rewards
    token_rewards: torch.Tensor | None = None  # [B, T] per-token rewards (used instead of scores)
    old_logprobs: torch.Tensor | None = None  # [B, T] sampling log-probs; None = recompute

    def __post_init__(self):
        if self.scores is None and self.token_rewards is None:
            raise ValueError("a RolloutBatch needs `scores` [B] or `token_rewards` [B, T]")
        b, t = self.completion_mask.shape
        if self.input_ids.shape != (b, self.prompt_width + t):
            raise ValueError(
                f"input_ids {tuple(self.input_ids.shape)} does not match prompt_width {self.prompt_width} "
                f"+ completion width {t} for {b} rows"
            )
        if len(self.keys) != b or len(self.group_ids) != b:
            raise ValueError(f"need one group id and one key per row ({b}); got {len(self.group_ids)} and {len(self.keys)}")

    def __len__(self) -> int:
        return self.input_ids.shape[0]

    def rows(self, index: torch.Tensor) -> "RolloutBatch":
        """The sub-batch of rows `index` ([k] long), same widths."""
        pick = lambda x: None if x is None else x[index]  # noqa: E731
        return replace(
            self,
            input_ids=self.input_ids[index],
            attention_mask=self.attention_mask[index],
            completion_mask=self.completion_mask[index],
            group_ids=self.group_ids[index],
            keys=[self.keys[i] for i in index.tolist()],
            scores=pick(self.scores),
            token_rewards=pick(self.token_rewards),
            old_logprobs=pick(self.old_logprobs),
        )

    def trimmed(self) -> "RolloutBatch":
        """The same rows without the padding columns none of them uses: prompt columns left of the
        longest prompt and completion columns right of the longest completion. A sub-batch of short
        rows then costs what its own rows need, not what the longest row of the whole batch needs."""
        p = int(self.attention_mask[:, : self.prompt_width].sum(1).max())
        t = max(1, int(self.completion_mask.sum(1).max()))
        cut = lambda x: None if x is None else x[:, :t]  # noqa: E731
        return replace(
            self,
            input_ids=self.input_ids[:, self.prompt_width - p : self.prompt_width + t],
            attention_mask=self.attention_mask[:, self.prompt_width - p : self.prompt_width + t],
            completion_mask=self.completion_mask[:, :t],
            prompt_width=p,
            token_rewards=cut(self.token_rewards),
            old_logprobs=cut(self.old_logprobs),
        )

    def to(self, device) -> "RolloutBatch":
        move = lambda x: None if x is None else x.to(device)  # noqa: E731
        return replace(
            self,
            input_ids=move(self.input_ids),
            attention_mask=move(self.attention_mask),
            completion_mask=move(self.completion_mask),
            group_ids=move(self.group_ids),
            scores=move(self.scores),
            token_rewards=move(self.token_rewards),
            old_logprobs=move(self.old_logprobs),
        )


def assemble_batch(
    prompt_ids: Sequence[Sequence[int]],
    completion_ids: Sequence[Sequence[int]],
    pad_id: int,
    scores: Sequence[float] | torch.Tensor | None = None,
    old_logprobs: Sequence[Sequence[float]] | None = None,
    group_ids: Sequence[int] | None = None,
    keys: Sequence[Hashable] | None = None,
    token_rewards: Sequence[Sequence[float]] | None = None,
) -> RolloutBatch:
    """Pad token-id lists into a `RolloutBatch` (prompts left, completions right).

    Defaults: every row its own group, every key None. Empty completions are allowed (all-zero mask).
    """
    b = len(prompt_ids)
    if len(completion_ids) != b:
        raise ValueError(f"{b} prompts but {len(completion_ids)} completions; pass one prompt per completion")
    p = max(len(x) for x in prompt_ids)
    t = max(1, max(len(x) for x in completion_ids))
    # one tensor per field from padded Python lists (row-by-row tensor writes cost ~10 us each)
    input_ids = torch.tensor([[pad_id] * (p - len(x)) + list(x) + list(y) + [pad_id] * (t - len(y))
                              for x, y in zip(prompt_ids, completion_ids)], dtype=torch.long)
    attention_mask = torch.tensor([[0] * (p - len(x)) + [1] * (len(x) + len(y)) + [0] * (t - len(y))
                                   for x, y in zip(prompt_ids, completion_ids)], dtype=torch.long)
    completion_mask = torch.tensor([[1.0] * len(y) + [0.0] * (t - len(y)) for y in completion_ids])

    def padded(rows):  # ragged [B][<=T] floats -> [B, T]
        return torch.tensor([[float(v) for v in row] + [0.0] * (t - len(row)) for row in rows], dtype=torch.float)

    return RolloutBatch(
        input_ids=input_ids,
        attention_mask=attention_mask,
        completion_mask=completion_mask,
        prompt_width=p,
        group_ids=torch.tensor(list(group_ids) if group_ids is not None else range(b), dtype=torch.long),
        keys=list(keys) if keys is not None else [None] * b,
        scores=None if scores is None else torch.as_tensor(scores, dtype=torch.float),
        token_rewards=None if token_rewards is None else padded(token_rewards),
        old_logprobs=None if old_logprobs is None else padded(old_logprobs),
    )


@dataclass
class RewardResult:
    """One scored completion: the reward used, and why it is the failure reward if it is."""

    reward: float
    error: str | None = None  # "timeout after 2.0s", "ValueError: ...", "process died (exit -11)"


class _Worker(threading.Thread):
    """Runs calls[first:] one after another in a daemon thread, storing each value or exception.

    `index` and `started` tell the waiting caller which call runs and since when, so it can enforce
    a per-call deadline. Once `abandoned` (its call overran), the worker stores nothing more.
    """

    def __init__(self, calls: Sequence[Callable[[], Any]], first: int, outcomes: list, cond: threading.Condition):
        super().__init__(daemon=True)
        self.calls, self.outcomes, self.cond = calls, outcomes, cond
        self.index = first
        self.started: float | None = None  # time.monotonic() at the start of calls[index]; None before the first
        self.abandoned = self.done = False

    def run(self) -> None:
        for i in range(self.index, len(self.calls)):
            with self.cond:
                if self.abandoned:
                    return
                self.index, self.started = i, time.monotonic()
            try:
                outcome = self.calls[i]()
            except BaseException as exc:  # noqa: BLE001 - a reward may raise anything, even SystemExit
                outcome = exc
            with self.cond:
                if self.abandoned:
                    return
                self.outcomes[i] = outcome
        with self.cond:
            self.done = True
            self.cond.notify()


def _call_all_in_thread(calls: Sequence[Callable[[], Any]], timeout_s: float) -> list:
    """Each call's value or exception (a TimeoutError once it has run timeout_s), in order.

    One worker thread serves the whole batch, so the caller wakes once per batch rather than once
    per call: a thread per call cost a start and two scheduler hand-offs each, which on a busy CPU
    took longer than a toy RL step's model work. A call that overruns is abandoned with its worker
    (a daemon that may run on) and a fresh worker takes the calls after it.
    """
    outcomes: list = [None] * len(calls)
    cond = threading.Condition()
    first = 0
    while first < len(calls):
        worker = _Worker(calls, first, outcomes, cond)
        worker.start()
        with cond:
            while not worker.done:
                if worker.started is None:  # not scheduled yet: its first call has no deadline so far
                    cond.wait(timeout_s)
                    continue
                left = worker.started + timeout_s - time.monotonic()
                if left <= 0:
                    worker.abandoned = True
                    outcomes[worker.index] = TimeoutError(f"timeout after {timeout_s}s")
                    break
                cond.wait(left)
            first = worker.index + 1 if worker.abandoned else len(calls)
    return outcomes


def _child(fn: Callable[[], float], conn) -> None:
    try:
        conn.send(("ok", float(fn())))
    except BaseException as exc:  # noqa: BLE001
        conn.send(("error", f"{type(exc).__name__}: {exc}"))


def _run_in_process(fn: Callable[[], float], timeout_s: float) -> float:
    """Call fn in a forked child, killed at timeout_s; survives segfaults and os._exit in fn."""
    ctx = multiprocessing.get_context("fork")
    parent, child = ctx.Pipe(duplex=False)
    proc = ctx.Process(target=_child, args=(fn, child), daemon=True)
    proc.start()
    child.close()
    ready = parent.poll(timeout_s)
    if not ready:
        proc.kill()
        proc.join()
        raise TimeoutError(f"timeout after {timeout_s}s")
    try:
        status, value = parent.recv()
    except EOFError:
        proc.join()
        raise RuntimeError(f"reward process died (exit {proc.exitcode})") from None
    proc.join()
    if status == "error":
        raise RuntimeError(value)
    return value


def score(
    reward_fn: RewardFn,
    prompt: str,
    completion: str,
    context: Any = None,
    timeout_s: float = 10.0,
    failure_reward: float = 0.0,
    isolation: str = "thread",
) -> RewardResult:
    """reward_fn(prompt, completion, context) under a timeout; any failure yields `failure_reward`.

    isolation="thread": cheap; catches exceptions and stops waiting at the timeout, but a runaway
    call keeps a daemon thread busy. isolation="process": a forked child per call, killed at the
    timeout; also survives crashes of the interpreter itself. Neither ever raises.
    """
    return score_many(reward_fn, [(prompt, completion, context)], timeout_s, failure_reward, isolation)[0]


def score_many(
    reward_fn: RewardFn,
    items: Sequence[tuple[str, str, Any]],
    timeout_s: float = 10.0,
    failure_reward: float = 0.0,
    isolation: str = "thread",
) -> list[RewardResult]:
    """`score` of each (prompt, completion, context), with timeout_s per call, in order.

    With isolation="thread" the calls run one after another in one worker thread (see
    `_call_all_in_thread`); with "process" each gets its own forked child, as in `score`.
    """
    if isolation not in ("thread", "process"):
        raise ValueError(f"isolation={isolation!r} is invalid; use 'thread' or 'process'")
    calls = [functools.partial(reward_fn, p, c, x) for p, c, x in items]
    if isolation == "thread":
        outcomes = _call_all_in_thread(calls, timeout_s)
    else:
        outcomes = [_outcome(lambda call=call: _run_in_process(call, timeout_s)) for call in calls]
    return [_result(o, failure_reward) for o in outcomes]


def _outcome(fn: Callable[[], Any]) -> Any:
    """fn()'s value, or the exception it raised."""
    try:
        return fn()
    except BaseException as exc:  # noqa: BLE001 - recorded, never propagated
        return exc


def _result(outcome: Any, failure_reward: float) -> RewardResult:
    """A reward call's value, or the exception it raised, as a RewardResult (never raises)."""
    try:
        if isinstance(outcome, BaseException):
            raise outcome
        value = float(outcome)
    except BaseException as exc:  # noqa: BLE001 - recorded, never propagated
        message = str(exc) if isinstance(exc, (TimeoutError, RuntimeError)) else f"{type(exc).__name__}: {exc}"
        return RewardResult(failure_reward, message)
    if value != value:  # NaN
        return RewardResult(failure_reward, "reward is NaN")
    return RewardResult(value)


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
