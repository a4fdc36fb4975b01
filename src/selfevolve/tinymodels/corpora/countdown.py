"""tiny-countdown's corpus: Countdown problems in the base prompt format with short, mostly wrong attempts.

Problems, prompts and scoring come from `selfevolve.tasks.countdown` (priming-data ranges: targets
10-25, numbers 1-24, 3 or 4 numbers, solvable by construction). Each document is the base prompt
followed by one direct attempt: the known solution with probability CORRECT_FRACTION, otherwise a
random expression over the given numbers, with its (honestly computed) value.
"""

from __future__ import annotations

import ast
import random
from fractions import Fraction

from selfevolve.tasks.countdown import CountdownProblem, generate_problems, render_prompt, score

CORRECT_FRACTION = 0.15  # share of corpus attempts that are right: a weak "base model"


def random_attempt(numbers: tuple[int, ...], rng: random.Random) -> str:
    """A left-to-right expression over all numbers in random order with random operators."""
    nums = list(numbers)
    rng.shuffle(nums)
    expr = str(nums[0])
    for n in nums[1:]:
        op = rng.choice("+-*")
        expr = f"({expr}) {op} {n}" if op == "*" and " " in expr else f"{expr} {op} {n}"
    return expr


def attempt(problem: CountdownProblem, rng: random.Random) -> str:
    expr = problem.solution if rng.random() < CORRECT_FRACTION else random_attempt(problem.nums, rng)
    value = _value(expr)
    shown = value.numerator if value.denominator == 1 else f"{float(value):.2f}"
    return f" Let me try {expr} = {shown}.</think>\n<answer> {expr} </answer>"


def corpus(n_docs: int, seed: int) -> list[str]:
    rng = random.Random(seed + 1)
    return [render_prompt(p, "base") + attempt(p, rng) for p in generate_problems(n_docs, seed, "priming")]


def heldout_problems(n: int, seed: int) -> list[CountdownProblem]:
    return generate_problems(n, seed, "priming")


def verdict(completion: str, problem: CountdownProblem) -> str:
    """The hardened reward's verdict name ("correct", "wrong_numbers", "syntax_error", ...)."""
    return score(completion, problem)[1].value


def _value(expr: str) -> Fraction:
    """Exact value of a + - * / expression over int literals (our own attempts only)."""
    def walk(node: ast.AST) -> Fraction:
        if isinstance(node, ast.Constant):
            return Fraction(node.value)
        a, b = walk(node.left), walk(node.right)
        ops = {ast.Add: a.__add__, ast.Sub: a.__sub__, ast.Mult: a.__mul__, ast.Div: a.__truediv__}
        return ops[type(node.op)](b)

    return walk(ast.parse(expr, mode="eval").body)
