"""What every benchmark suite provides, and the records that pass between its parts.

A suite loads its tasks, renders one prompt per task in the benchmark's published format, turns a
model's text into the sample record kept in samples.jsonl, and scores sample records (from a run or
from a user's file) into per-task verdicts. It holds no model.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol, Sequence

# A suite renders its prompt for one of three styles: "base" = raw text to a model without a chat
# template, "chat" = the model's own chat template (transformers), "api" = an OpenAI-compatible endpoint.


@dataclass(frozen=True)
class Prompt:
    """Raw `text`, or chat `messages` ((role, content) pairs) that the reply continues after `prefill`
    (text already in the assistant's turn, e.g. EvalPlus's response prefix); generation ends at `stop`."""

    text: str | None = None
    messages: tuple[tuple[str, str], ...] = ()
    prefill: str = ""
    stop: tuple[str, ...] = ()


@dataclass(frozen=True)
class ScoreOptions:
    """Resources for scoring: sandbox worker slots, where computed expected outputs are cached, and the
    per-answer timeout of the math grader (seconds)."""

    workers: int = 2
    cache_dir: Path | None = None
    math_timeout: float = 10.0


@dataclass
class Verdicts:
    """Per task, one bool per sample in file order: `correct`, and for EvalPlus+ suites `base`/`plus`."""

    correct: dict[str, list[bool]] = field(default_factory=dict)
    base: dict[str, list[bool]] | None = None
    plus: dict[str, list[bool]] | None = None


class Suite(Protocol):
    name: str
    default_max_new_tokens: int

    def load(self, data_dir: str | Path | None) -> list:
        """The tasks, in the benchmark's order; each has a `task_id`."""
        ...

    def prompt(self, task, style: str) -> Prompt: ...

    def record(self, task, text: str, style: str) -> dict:
        """The fields of a sample record for the model's `text` (e.g. {"completion": text})."""
        ...

    def score(self, tasks: Sequence, samples: dict[str, list[dict]], options: ScoreOptions) -> Verdicts:
        """`samples[task_id]` holds that task's sample records in order."""
        ...
