"""The Countdown reward: 0 (no answer), format credit (an answer that is wrong), full credit (correct).

Two modes:

* ``hardened`` (default): searches only the completion for the last ``<answer>...</answer>`` (newlines
  inside and text after it allowed); caps the answer length; parses it with ``ast`` allowing only
  ``+ - * /`` over integer literals; requires the multiset of literals to equal the given numbers;
  evaluates exactly with ``Fraction``. One trailing ``= <target>`` is accepted. Work is bounded by the
  length cap and a bit-size cap on every intermediate, so no wall-clock timeout is needed: each call
  does a bounded amount of arithmetic on numbers of bounded size.
* ``tinyzero_compat``: the reference's behaviour, loopholes included (see docs/countdown.md): last line
  of the text after ``Assistant:`` only, ``\\d+`` number check, character whitelist, float comparison
  within 1e-5. The reference calls ``eval``; we never do. The whitelisted text is parsed with ``ast`` and
  evaluated node by node with Python's own operators, which gives the same values (``**`` and ``//``
  included). Two bounds the reference lacks: the answer is capped at 1,000 characters, and an integer
  result wider than 100,000 bits is refused (``too_large``, format credit) instead of stalling the worker.
"""

from __future__ import annotations

import ast
import operator
import re
from dataclasses import dataclass
from enum import Enum
from fractions import Fraction

from selfevolve.sandbox.static import parse_untrusted
from selfevolve.tasks.countdown.problem import CountdownProblem
from selfevolve.tasks.countdown.prompts import render_prompt

MODES = ("hardened", "tinyzero_compat")

_ANSWER = re.compile(r"<answer>(.*?)</answer>", re.DOTALL)
_ANSWER_ONE_LINE = re.compile(r"<answer>(.*?)</answer>")
_HARDENED_CHARS = re.compile(r"[0-9+\-*/()=\s]*")
_COMPAT_CHARS = re.compile(r"^[\d+\-*/().\s]+$")


class Verdict(str, Enum):
    CORRECT = "correct"
    NO_ANSWER = "no_answer"
    TOO_LONG = "too_long"
    NON_ASCII = "non_ascii"
    BAD_CHARACTERS = "bad_characters"
    SYNTAX_ERROR = "syntax_error"
    DISALLOWED_SYNTAX = "disallowed_syntax"
    WRONG_NUMBERS = "wrong_numbers"
    EQUALS_NOT_TARGET = "equals_not_target"
    DIVISION_BY_ZERO = "division_by_zero"
    TOO_LARGE = "too_large"
    EVAL_ERROR = "eval_error"
    WRONG_VALUE = "wrong_value"


@dataclass(frozen=True)
class RewardConfig:
    """format_score: reward of a found but wrong answer (0.1; accuracy evals use 0).
    correct_score: reward of a correct answer (1.0).
    max_answer_chars: hardened length cap on the answer text.
    allow_unary_minus: hardened mode rejects `-3` as a literal unless this is set.
    max_bits: hardened cap on numerator/denominator size of any intermediate.
    """

    format_score: float = 0.1
    correct_score: float = 1.0
    max_answer_chars: int = 256
    allow_unary_minus: bool = False
    max_bits: int = 4096


COMPAT_MAX_CHARS = 1_000
COMPAT_MAX_BITS = 100_000


class _Refused(Exception):
    def __init__(self, verdict: Verdict):
        super().__init__(verdict.value)
        self.verdict = verdict


def extract_answer(completion: str) -> str | None:
    """The stripped text of the last `<answer>...</answer>` in the completion (may span lines)."""
    matches = _ANSWER.findall(completion)
    return matches[-1].strip() if matches else None


def score(
    completion: str,
    problem: CountdownProblem,
    mode: str = "hardened",
    config: RewardConfig | None = None,
    prompt: str | None = None,
) -> tuple[float, Verdict]:
    """Reward and verdict for one completion (the text generated after the prompt).

    `prompt` matters only in `tinyzero_compat`, which scores prompt + completion as veRL does; the
    base template is used when it is not given.
    """
    config = config or RewardConfig()
    if mode == "hardened":
        verdict = _hardened_verdict(completion, problem, config)
    elif mode == "tinyzero_compat":
        full = (prompt if prompt is not None else render_prompt(problem, "base")) + completion
        verdict = _compat_verdict(full, problem)
    else:
        raise ValueError(f"unknown reward mode {mode!r}; choose one of {MODES}.")
    if verdict is Verdict.CORRECT:
        return config.correct_score, verdict
    return (0.0 if verdict is Verdict.NO_ANSWER else config.format_score), verdict


# ---- hardened -------------------------------------------------------------------------------------

def _hardened_verdict(completion: str, problem: CountdownProblem, config: RewardConfig) -> Verdict:
    answer = extract_answer(completion)
    if answer is None:
        return Verdict.NO_ANSWER
    if len(answer) > config.max_answer_chars:
        return Verdict.TOO_LONG
    if not answer.isascii():
        return Verdict.NON_ASCII
    if not _HARDENED_CHARS.fullmatch(answer):
        return Verdict.BAD_CHARACTERS
    try:
        expression = " ".join(_strip_equals(answer, problem.target).split())  # newlines inside are fine
        tree = parse_untrusted(expression, mode="eval")
        literals = _check_tree(tree.body, config.allow_unary_minus)
        if sorted(literals) != sorted(problem.nums):
            return Verdict.WRONG_NUMBERS
        value = _eval_fraction(tree.body, config.max_bits)
    except _Refused as refused:
        return refused.verdict
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return Verdict.SYNTAX_ERROR
    return Verdict.CORRECT if value == problem.target else Verdict.WRONG_VALUE


def _strip_equals(answer: str, target: int) -> str:
    """Accept `expr = target`; any other use of `=` is refused."""
    if "=" not in answer:
        return answer
    parts = answer.split("=")
    if len(parts) != 2 or not parts[1].strip().isdigit():
        raise _Refused(Verdict.SYNTAX_ERROR)
    if int(parts[1]) != target:
        raise _Refused(Verdict.EQUALS_NOT_TARGET)
    return parts[0]


_HARDENED_OPS = {ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul, ast.Div: operator.truediv}


def _check_tree(node: ast.AST, allow_unary_minus: bool) -> list[int]:
    """The integer literals of an allowed tree; anything else is refused as disallowed syntax."""
    if isinstance(node, ast.Constant) and type(node.value) is int:
        return [node.value]
    if isinstance(node, ast.BinOp) and type(node.op) in _HARDENED_OPS:
        return _check_tree(node.left, allow_unary_minus) + _check_tree(node.right, allow_unary_minus)
    if allow_unary_minus and isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        return _check_tree(node.operand, allow_unary_minus)
    raise _Refused(Verdict.DISALLOWED_SYNTAX)


def _eval_fraction(node: ast.AST, max_bits: int) -> Fraction:
    if isinstance(node, ast.Constant):
        value = Fraction(node.value)
    elif isinstance(node, ast.UnaryOp):
        value = -_eval_fraction(node.operand, max_bits)
    else:
        left, right = _eval_fraction(node.left, max_bits), _eval_fraction(node.right, max_bits)
        if isinstance(node.op, ast.Div) and right == 0:
            raise _Refused(Verdict.DIVISION_BY_ZERO)
        value = _HARDENED_OPS[type(node.op)](left, right)
    if max(value.numerator.bit_length(), value.denominator.bit_length()) > max_bits:
        raise _Refused(Verdict.TOO_LARGE)
    return value


# ---- tinyzero_compat ------------------------------------------------------------------------------

def _compat_verdict(full_text: str, problem: CountdownProblem) -> Verdict:
    if "Assistant:" in full_text:
        text = full_text.split("Assistant:", 1)[1]
    elif "<|im_start|>assistant" in full_text:
        text = full_text.split("<|im_start|>assistant", 1)[1]
    else:
        return Verdict.NO_ANSWER
    matches = _ANSWER_ONE_LINE.findall(text.split("\n")[-1])
    if not matches:
        return Verdict.NO_ANSWER
    answer = matches[-1].strip()
    if sorted(int(n) for n in re.findall(r"\d+", answer)) != sorted(problem.nums):
        return Verdict.WRONG_NUMBERS
    if len(answer) > COMPAT_MAX_CHARS:
        return Verdict.TOO_LONG
    if not _COMPAT_CHARS.match(answer):
        return Verdict.BAD_CHARACTERS
    try:
        value = _eval_python(parse_untrusted(answer.strip(" \t"), mode="eval").body)
        close = abs(value - problem.target) < 1e-5
    except _Refused as refused:
        return refused.verdict
    except ZeroDivisionError:
        return Verdict.DIVISION_BY_ZERO
    except SyntaxError:
        return Verdict.SYNTAX_ERROR
    except (ArithmeticError, TypeError, ValueError, RecursionError, MemoryError):
        return Verdict.EVAL_ERROR
    return Verdict.CORRECT if close else Verdict.WRONG_VALUE


_COMPAT_BINOPS = {
    ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul, ast.Div: operator.truediv,
    ast.FloorDiv: operator.floordiv, ast.Pow: operator.pow,
}
_COMPAT_UNARY = {ast.UAdd: operator.pos, ast.USub: operator.neg}


def _eval_python(node: ast.AST):
    """What `eval` computes for the whitelisted grammar, with integer size bounded."""
    if isinstance(node, ast.Constant) and type(node.value) in (int, float):
        return node.value
    if isinstance(node, ast.UnaryOp) and type(node.op) in _COMPAT_UNARY:
        return _COMPAT_UNARY[type(node.op)](_eval_python(node.operand))
    if isinstance(node, ast.BinOp) and type(node.op) in _COMPAT_BINOPS:
        left, right = _eval_python(node.left), _eval_python(node.right)
        if isinstance(node.op, ast.Pow):
            _check_power(left, right)
        return _bounded(_COMPAT_BINOPS[type(node.op)](left, right))
    raise TypeError(f"{type(node).__name__} is outside the arithmetic the whitelist admits")


def _check_power(base, exponent) -> None:
    if isinstance(base, int) and isinstance(exponent, int) and exponent > 0:
        if abs(base) > 1 and exponent * base.bit_length() > COMPAT_MAX_BITS:
            raise _Refused(Verdict.TOO_LARGE)


def _bounded(value):
    if isinstance(value, int) and value.bit_length() > COMPAT_MAX_BITS:
        raise _Refused(Verdict.TOO_LARGE)
    return value
