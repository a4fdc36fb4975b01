"""The Countdown prompt templates, character for character as TinyZero and the priming study use them."""

from __future__ import annotations

from selfevolve.tasks.countdown.problem import CountdownProblem

_PREAMBLE = (
    "A conversation between User and Assistant. The user asks a question, and the Assistant solves it. "
    "The assistant first thinks about the reasoning process in the mind and then provides the user with "
    "the answer."
)
_QWEN_SYSTEM = (
    "You are a helpful assistant. You first thinks about the reasoning process in the mind and then "
    "provides the user with the answer."
)


def user_text(problem: CountdownProblem) -> str:
    """The task sentence shared by every template (`numbers` is the Python list repr)."""
    return (
        f"Using the numbers {list(problem.nums)}, create an equation that equals {problem.target}. "
        "You can use basic arithmetic operations (+, -, *, /) and each number can only be used once. "
        "Show your work in <think> </think> tags. And return the final answer in <answer> </answer> tags, "
        "for example <answer> (1 + 2) / 3 </answer>."
    )


def _base(problem: CountdownProblem) -> str:
    return f"{_PREAMBLE}\nUser: {user_text(problem)}\nAssistant: Let me solve this step by step.\n<think>"


def _priming(problem: CountdownProblem) -> str:
    return f"{_PREAMBLE}\nUser: {user_text(problem)}\nAssistant: Let me solve this step by step."


def _qwen_instruct(problem: CountdownProblem) -> str:
    # The reference puts a space before "Using" in this template; kept for fidelity.
    return (
        f"<|im_start|>system\n{_QWEN_SYSTEM}<|im_end|>\n<|im_start|>user\n {user_text(problem)}<|im_end|>\n"
        "<|im_start|>assistant\nLet me solve this step by step.\n<think>"
    )


TEMPLATES = {"base": _base, "qwen-instruct": _qwen_instruct, "priming": _priming}


def render_prompt(problem: CountdownProblem, template: str = "base") -> str:
    """The raw prompt text (no chat template applied): `base`, `qwen-instruct` or `priming`."""
    if template not in TEMPLATES:
        raise ValueError(f"unknown template {template!r}; choose one of {sorted(TEMPLATES)}.")
    return TEMPLATES[template](problem)
