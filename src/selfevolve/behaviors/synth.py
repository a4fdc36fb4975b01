"""Synthetic Countdown reasoning traces with known behaviour counts, for every priming condition.

No model is involved: a random forward search over the problem produces attempts (chains of
`a op b = c` steps from the initial numbers); sentences from `phrasing` are woven in to show the
chosen behaviours, and every sentence that shows a behaviour increments that behaviour's count:

* backtracking: each restart from the initial numbers after an earlier attempt (1 per restart);
* verification: each comparison of a result with the target (1 per sentence);
* subgoal: each statement of an intermediate value to reach first (never the target itself);
* backward: each statement that works from the target back to a needed value.

Most traces end in a wrong answer (an expression of all numbers with the wrong value), as in the study.
"""

from __future__ import annotations

import random
from collections.abc import Iterable
from dataclasses import dataclass

from selfevolve.behaviors import phrasing
from selfevolve.behaviors.types import Counts, check_behaviors, zero_counts
from selfevolve.tasks.countdown import CountdownProblem, find_steps, steps_to_expression
from selfevolve.tasks.countdown.search import Step

_INVERSE = {"+": "-", "-": "+", "*": "/", "/": "*"}
_SYMBOLS = {"*": ("*", "*", "×", "x"), "/": ("/", "/", "÷")}


@dataclass(frozen=True)
class Trace:
    thought: str
    answer: str
    counts: Counts
    correct: bool


@dataclass(frozen=True)
class _Attempt:
    steps: list[Step]
    complete: bool  # uses every number (reduces the pool to one value)


_POOLS = ("INTRO", "STEP", "VERIFY_WRONG", "VERIFY_HIGH", "VERIFY_LOW", "VERIFY_RIGHT", "VERIFY_AND_RESTART",
          "RESTART", "BACKWARD", "SUBGOAL")


def _pools(heldout: bool) -> dict:
    """The phrasing pools: the main ones, or the held-out ones (see `phrasing.HELDOUT`)."""
    return {name: phrasing.HELDOUT[name] if heldout else getattr(phrasing, name) for name in _POOLS}


class _Writer:
    """Builds one trace: holds the random source, the output lines and the running counts."""

    def __init__(self, problem: CountdownProblem, rng: random.Random, heldout: bool):
        self.p, self.rng = problem, rng
        self.lines: list[str] = []
        self.counts = zero_counts()
        self.pools = _pools(heldout)
        self.step_style = rng.choice(list(self.pools["STEP"]))
        self.symbols = {op: rng.choice(choices) for op, choices in _SYMBOLS.items()}
        self.step_no = 0

    def say(self, pool: str, behavior: str | None = None, **values) -> None:
        fields = {"T": self.p.target, "nums": list(self.p.nums), **values}
        self.lines.append(self.rng.choice(self.pools[pool]).format(**fields))
        if behavior:
            self.counts[behavior] += 1

    def steps(self, steps: list[Step]) -> None:
        for a, op, b, c in steps:
            self.step_no += 1
            shown = self.symbols.get(op, op)
            self.lines.append(self.pools["STEP"][self.step_style].format(i=self.step_no, a=a, op=shown, b=b, c=c))


def _random_steps(rng: random.Random, nums: tuple[int, ...], stop_at: int) -> list[Step]:
    """A random forward chain of pair reductions until `stop_at` values remain."""
    pool, steps = list(nums), []
    while len(pool) > stop_at:
        i, j = rng.sample(range(len(pool)), 2)
        a, b = pool[i], pool[j]
        big, small = max(a, b), min(a, b)
        options = [(big, "+", small, big + small), (big, "-", small, big - small), (big, "*", small, big * small)]
        if small and big % small == 0 and small != 1:
            options.append((big, "/", small, big // small))
        step = rng.choice(options)
        pool = [v for k, v in enumerate(pool) if k not in (i, j)] + [step[3]]
        steps.append(step)
    return steps


def _wrong_attempt(rng: random.Random, problem: CountdownProblem, complete: bool) -> _Attempt:
    k = len(problem.nums)
    complete = complete or k < 3
    for _ in range(50):
        steps = _random_steps(rng, problem.nums, 1 if complete else rng.randint(2, k - 1))
        if steps[-1][3] != problem.target:
            break
    return _Attempt(steps, complete)


def _rest(problem: CountdownProblem, used: int) -> list[int]:
    rest = list(problem.nums)
    if used in rest:
        rest.remove(used)
    return rest


def _backward(w: _Writer, attempt: _Attempt) -> None:
    """Work back from the target: through the attempt's real last step when it reaches the target,
    otherwise through a last step `x op y = T` with y one of the given numbers."""
    real = _given_last_step(w.p, attempt)
    x, op, y = real if real is not None else w.rng.choice(_last_steps(w.p))
    inv = _INVERSE[op]
    w.say("BACKWARD", "backward", x=x, y=y, op=w.symbols.get(op, op), inv=w.symbols.get(inv, inv),
          rest=_rest(w.p, y))


def _given_last_step(problem: CountdownProblem, attempt: _Attempt) -> tuple[int, str, int] | None:
    """The attempt's final step as `x op y = T` with y a given number, when it reaches the target."""
    a, op, b, c = attempt.steps[-1]
    if not attempt.complete or c != problem.target:
        return None
    if b in problem.nums:
        return a, op, b
    return (b, op, a) if op in "+*" and a in problem.nums else None


def _last_steps(problem: CountdownProblem) -> list[tuple[int, str, int]]:
    """Candidate final steps `x op y = target` with y a given number and x a non-negative integer."""
    t, out = problem.target, []
    for y in problem.nums:
        out.append((t + y, "-", y))
        if t > y:
            out.append((t - y, "+", y))
        if y > 1:
            out.append((t * y, "/", y))
            if t % y == 0:
                out.append((t // y, "*", y))
    return out


def _subgoal_value(w: _Writer, attempt: _Attempt) -> int:
    values = [s[3] for s in attempt.steps if s[3] != w.p.target]
    if attempt.complete and attempt.steps[-1][3] == w.p.target and len(attempt.steps) > 1:
        values = [attempt.steps[-1][0]] if attempt.steps[-1][0] != w.p.target else values
    if values and w.rng.random() < 0.7:
        return w.rng.choice(values)
    near = [v for v in (w.p.target // 2, w.p.target - 1, w.p.target + 2) if v > 0 and v != w.p.target]
    return w.rng.choice(near or [w.p.target + 1])


def _verify(w: _Writer, result: int, expr: str) -> None:
    if result == w.p.target:
        w.say("VERIFY_RIGHT", "verification", r=result, expr=expr)
        return
    pools = ["VERIFY_WRONG", "VERIFY_HIGH" if result > w.p.target else "VERIFY_LOW"]
    w.say(w.rng.choice(pools), "verification", r=result, d=abs(result - w.p.target))


def _plan(rng: random.Random, problem: CountdownProblem, backtracking: bool, correct: bool) -> list[_Attempt]:
    n = rng.randint(2, 5) if backtracking else 1
    attempts = [_wrong_attempt(rng, problem, complete=rng.random() < 0.6) for _ in range(n - 1)]
    if correct:
        steps = find_steps(problem.nums, problem.target)
        if steps is None:
            raise ValueError(f"problem {problem.to_record()} has no solution; cannot write a correct trace.")
        attempts.append(_Attempt(steps, True))
    else:
        attempts.append(_wrong_attempt(rng, problem, complete=True))
    return attempts


def synthesize_trace(
    problem: CountdownProblem,
    behaviors: Iterable[str],
    rng: random.Random,
    correct: bool,
    heldout_phrasing: bool = False,
) -> Trace:
    """One trace showing exactly `behaviors` (others count 0); `correct` decides the final answer.
    `heldout_phrasing` writes with the phrasings kept out of classifier development.

    With a behaviour wanted, at least one instance of it appears (subgoal and backward are forced
    into one random attempt; verification always checks the final result).
    """
    wanted = check_behaviors(behaviors)
    w = _Writer(problem, rng, heldout_phrasing)
    attempts = _plan(rng, problem, "backtracking" in wanted, correct)
    forced = {b: rng.randrange(len(attempts)) for b in ("subgoal", "backward")}
    checked = False  # whether the previous attempt's result was already compared with the target
    w.say("INTRO")
    for index, attempt in enumerate(attempts):
        if index:
            _restart(w, attempts[index - 1], "verification" in wanted and not checked)
        if "backward" in wanted and (forced["backward"] == index or rng.random() < 0.4):
            _backward(w, attempt)
        if "subgoal" in wanted and (forced["subgoal"] == index or rng.random() < 0.4):
            w.say("SUBGOAL", "subgoal", v=_subgoal_value(w, attempt))
        w.steps(attempt.steps)
        last = index == len(attempts) - 1
        checked = "verification" in wanted and (last or rng.random() < 0.5)
        if checked:
            expr = steps_to_expression(problem.nums, attempt.steps) if attempt.complete else ""
            _verify(w, attempt.steps[-1][3], expr)
    final = attempts[-1]
    answer = steps_to_expression(problem.nums, final.steps)
    return Trace("\n".join(w.lines), answer, w.counts, final.steps[-1][3] == problem.target)


def _restart(w: _Writer, previous: _Attempt, may_verify: bool) -> None:
    """Mark a restart: silently (only after a complete attempt and without verification), with a check
    of the abandoned result folded in, or with a plain restart sentence."""
    if previous.complete and not may_verify and w.rng.random() < 0.15:
        w.counts["backtracking"] += 1  # the next step simply starts again from the initial numbers
    elif may_verify and w.rng.random() < 0.7:
        w.say("VERIFY_AND_RESTART", "verification", r=previous.steps[-1][3])
        w.counts["backtracking"] += 1
    else:
        w.say("RESTART", "backtracking")
