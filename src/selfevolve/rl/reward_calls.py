"""Reward calls that can neither hang nor crash the trainer: each under a timeout, any failure scored.

`score` / `score_many` call a `RewardFn(prompt, completion, context) -> float` and return a
`RewardResult`: the value, or the failure reward and why. isolation="thread" runs a batch's calls one
after another in one daemon worker thread and stops waiting for a call at its timeout;
isolation="process" forks a child per call and kills it at the timeout.
"""

from __future__ import annotations

import functools
import multiprocessing
import threading
import time
from dataclasses import dataclass
from typing import Any, Callable, Sequence

RewardFn = Callable[[str, str, Any], float]  # (prompt, completion text, context) -> reward


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
