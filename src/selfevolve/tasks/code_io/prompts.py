"""Prompt builders and ideal-completion renderers for proposer and solver of each task type.

Two styles share one answer format (`<think>...</think><answer>` + fenced blocks), so the same
parsers read both:

* ``full``: the reference AZR wording (K references, banned-word list, 10 induction inputs),
  wrapped in the R1 template; for real models.
* ``compact``: a short, regular format for tiny models (a ~512-token context); the tiny-coder
  base model is pretrained on exactly these prompts and `render_*_completion` outputs.

Every prompt ends with ``Assistant: <think>``; completions continue from there.
"""

from __future__ import annotations

from typing import Literal, Sequence

from selfevolve.tasks.code_io import prompts_full as full
from selfevolve.tasks.code_io.config import BANNED_KEYWORDS
from selfevolve.tasks.code_io.types import CodeTask, Proposal, TaskType

Style = Literal["full", "compact"]
COMPACT_TEMPLATE = "User: {}\nAssistant: <think>"


def _fence(tag: str, body: str) -> str:
    return f"```{tag}\n{body}\n```"


def _check_style(style: str) -> None:
    if style not in ("full", "compact"):
        raise ValueError(f"unknown prompt style {style!r}; use 'full' or 'compact'")


# ---------------------------------------------------------------- proposer prompts


def proposer_prompt(
    task_type: TaskType | str,
    references: Sequence[CodeTask],
    *,
    style: Style = "full",
    banned_keywords: Sequence[str] = BANNED_KEYWORDS,
    num_inputs: int = 10,
) -> str:
    """The proposer's prompt. Abduction/deduction show all `references` (K triplets); induction shows
    the program of `references[0]` and asks for `num_inputs` inputs and a message."""
    _check_style(style)
    task_type = TaskType.parse(task_type)
    if task_type is TaskType.INDUCTION:
        if not references:
            raise ValueError("an induction proposer prompt needs one reference program (references[0])")
        return _induction_proposer(references[0], style, num_inputs)
    if style == "compact":
        return _compact_proposer(task_type, references)
    goal, difficulty, new = (
        (full.ABDUCTION_GOAL, full.ABDUCTION_DIFFICULTY, "")
        if task_type is TaskType.ABDUCTION
        else (full.DEDUCTION_GOAL, full.DEDUCTION_DIFFICULTY, " New")
    )
    body = full.proposer_body(new, goal, difficulty, ", ".join(banned_keywords))
    snippets = "".join(
        f"<snippet_{i}>\n{_fence('python', r.program)}\n{_fence('input', r.input)}\n{_fence('output', r.output)}\n</snippet_{i}>\n"
        for i, r in enumerate(references)
    )
    return full.R1_TEMPLATE.format(body + snippets + "\n")


def _compact_proposer(task_type: TaskType, references: Sequence[CodeTask]) -> str:
    refs = "\n".join(f"{_fence('python', r.program)}\n{_fence('input', r.input)}" for r in references)
    head = f"Propose {task_type.long_name}: write a new function f and one input."
    return COMPACT_TEMPLATE.format(f"{head}\n{refs}" if refs else head)


def _induction_proposer(ref: CodeTask, style: Style, num_inputs: int) -> str:
    if style == "full":
        return full.R1_TEMPLATE.format(full.INDUCTION_PROPOSER.format(num_inputs=num_inputs, snippet=ref.program))
    head = f"Propose induction: give {num_inputs} inputs for f and a message."
    return COMPACT_TEMPLATE.format(f"{head}\n{_fence('python', ref.program)}")


# ---------------------------------------------------------------- solver prompts


def solver_prompt(task: CodeTask, *, style: Style = "full") -> str:
    """The solver's prompt: abduction shows program + output, deduction program + input, induction
    the given (input, output) pairs and the message (never the program or the hidden pairs)."""
    _check_style(style)
    if style == "compact":
        return COMPACT_TEMPLATE.format(_compact_solver(task))
    if task.type is TaskType.ABDUCTION:
        text = full.ABDUCTION_SOLVER.format(snippet=task.program, output=task.output)
    elif task.type is TaskType.DEDUCTION:
        text = full.DEDUCTION_SOLVER.format(snippet=task.program, input=task.input)
    else:
        pairs = "".join(
            f"{_fence(f'input_{i}', x)}\n{_fence(f'output_{i}', y)}\n" for i, (x, y) in enumerate(task.given_pairs)
        )
        text = full.INDUCTION_SOLVER.format(pairs=pairs, message=task.message)
    return full.R1_TEMPLATE.format(text)


def _compact_solver(task: CodeTask) -> str:
    if task.type is TaskType.ABDUCTION:
        return f"Solve abduction: give an input for f that gives the output.\n{_fence('python', task.program)}\n{_fence('output', task.output)}"
    if task.type is TaskType.DEDUCTION:
        return f"Solve deduction: give the output of f on the input.\n{_fence('python', task.program)}\n{_fence('input', task.input)}"
    pairs = "\n".join(f"{_fence('input', x)}\n{_fence('output', y)}" for x, y in task.given_pairs)
    return f"Solve induction: write f that maps each input to its output.\n{pairs}\n{_fence('message', task.message)}"


# ---------------------------------------------------------------- ideal completions


def _completion(body: str, thought: str) -> str:
    """What follows the prompt's trailing `<think>`: the thought, then the answer."""
    return f"\n{thought}\n</think>\n<answer>\n{body}\n</answer>"


def render_proposer_completion(proposal: Proposal | CodeTask, thought: str = "") -> str:
    """An ideal proposer completion for `proposal` (both styles share it); `parse_proposal` reads it
    back to the same program/inputs/message."""
    if proposal.type is TaskType.INDUCTION:
        body = "\n".join(_fence("input", x) for x in proposal.inputs) + "\n" + _fence("message", proposal.message)
    else:
        body = f"{_fence('python', proposal.program)}\n{_fence('input', proposal.inputs[0])}"
    return _completion(body, thought)


def render_solver_completion(task: CodeTask, thought: str = "") -> str:
    """An ideal (correct) solver completion for `task`: its input, its output, or its program."""
    if task.type is TaskType.ABDUCTION:
        body = _fence("input", task.input)
    elif task.type is TaskType.DEDUCTION:
        body = _fence("output", task.output)
    else:
        body = _fence("python", task.program)
    return _completion(body, thought)
