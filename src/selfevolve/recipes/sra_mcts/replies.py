"""Reading the model's replies: next steps, reflections, critic scores, judge verdicts (docs/spec/sra_mcts.md §3).

Each function takes the reply text and returns what the search needs; none does keyword guessing
beyond what is stated here (the reference's " solved" substring test: docs/spec/sra_mcts.md §7, defect 2).
"""

from __future__ import annotations

import re

from selfevolve.recipes.sra_mcts.tree import CONTINUE, END

MIN_SCORE, MAX_SCORE, MISSING_SCORE = 0.0, 10.0, 5.0

_FENCED = re.compile(r"```.*?(?:```|\Z)", re.DOTALL)
# Where a step starts, by priority (the reference's order): `Next step:`, else `Step n:`, else `Analysis:`.
_MARKERS = tuple(re.compile(p + r"\s*:", re.IGNORECASE) for p in (r"next\s+step", r"step\s*\d+", r"analysis"))
_LABEL = re.compile(r"^\s*step\s*\d+\s*:", re.IGNORECASE)  # "Next step: Step 2: ..." carries its own label
_LATER_STEP = re.compile(r"\b(?:next\s+step|step\s*\d+)\s*:", re.IGNORECASE)
_NUMBERING = re.compile(r"^\s*(?:\d+[.)]|[-*•])\s+")
_STEP_LABEL = re.compile(r"^Step \d+: ")
_SCORE = re.compile(r"[Ss]core[:：]\s*(\d+)")
_BARE_SCORE = re.compile(r"\s*(\d+)\s*(?:/\s*10)?\s*\.?\s*")  # a reply that is only the number ("7", "7/10")


def step_texts(y: str) -> list[str]:
    """The bodies of the steps in `y` (one `Step k: ...` line each)."""
    return [_STEP_LABEL.sub("", line).strip() for line in y.splitlines() if line.strip()]


def normalise_step(reply: str, depth: int, y: str) -> str | None:
    """The reply as `Step {depth}: ...\\n`, or None when it holds no usable step.

    Fenced code is removed; the text after the first `Next step:` marker is taken (else after the
    first `Step n:`, else `Analysis:`, else the whole reply), without a `Step n:` label of its own, up
    to any later step marker; list numbering is stripped and the lines are joined into one. A step
    repeating one already in `y` is rejected.
    """
    text = _FENCED.sub("", reply).replace("：", ":")
    marker = next((m for pattern in _MARKERS if (m := pattern.search(text))), None)
    if marker:
        text = _LABEL.sub("", text[marker.end():], count=1)
    later = _LATER_STEP.search(text)
    if later:
        text = text[: later.start()]
    lines = [_NUMBERING.sub("", line).strip() for line in text.splitlines()]
    body = " ".join(line for line in lines if line)
    if not body or body in step_texts(y):
        return None
    return f"Step {depth}: {body}\n"


def parse_reflection(reply: str, mode: str) -> str | None:
    """END, CONTINUE (simple mode) or the analysis text (common mode); None for an empty reply.

    END only when the first non-empty line is exactly `<end>`, or `<end>` appears and the other
    answer does not (no `Analysis:` in common mode, no `<continue>` in simple mode): "not yet solved"
    is an analysis, never an end.
    """
    stripped = reply.strip()
    if not stripped:
        return None
    first = stripped.splitlines()[0].strip()
    other = "analysis:" if mode == "common" else CONTINUE
    if first == END or (END in stripped and other not in stripped.lower()):
        return END
    if mode == "simple":
        return CONTINUE
    at = stripped.lower().find("analysis:")
    return stripped[at + len("analysis:"):].strip() if at >= 0 else stripped


def parse_score(reply: str) -> float | None:
    """The first `Score: n` (or `score：n`), or a reply that is only the number, clipped to [0, 10]; None
    when there is neither (the search then takes MISSING_SCORE, as the reference does, and counts the
    reply as unscored). The prompt ends in "Score: ...", and Qwen2.5-Coder-0.5B often answers with the
    bare number, which the reference's pattern reads as no score (docs/sra_mcts.md, "Measured cost")."""
    match = _SCORE.search(reply) or _BARE_SCORE.fullmatch(reply)
    if not match:
        return None
    return min(MAX_SCORE, max(MIN_SCORE, float(match.group(1))))


def parse_verdict(reply: str) -> bool:
    """The completion judge: True for <solved>, False for <unsolved> or neither (the first tag wins)."""
    solved, unsolved = reply.find("<solved>"), reply.find("<unsolved>")
    if solved < 0:
        return False
    return unsolved < 0 or solved < unsolved
