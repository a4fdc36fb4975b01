"""The one record every stage reads and writes, and the resumable JSONL file each stage appends to.

A record is one question on its way through the stages (docs/spec/meteor.md §8.1: the reference saved a different
dict at each step, so the next step found its fields missing): the question fields come in with the
question file and are carried through; each stage fills its own fields. Records are validated when
read and when written, and a stage checks the fields it needs before it starts (`require`).
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from selfevolve.recipes.meteor.errors import RecordError

Verdict = Literal["correct", "incorrect", "unparsed"]


class Pair(BaseModel):
    """Self-training: the model's low- and high-compute answers and which one is preferred."""

    model_config = ConfigDict(extra="forbid")

    low: str = Field(description="The low-compute answer (greedy; the paper's 'previous turn').")
    high: str = Field(description="The high-compute answer (beam search or sampling).")
    chosen: Literal["low", "high"] | None = Field(description="The preferred answer; None = the pair is dropped.")
    reason: str = Field(description="Why: the preference rule that decided, or why the pair was dropped "
                        "(identical, tie, unparsed, empty).")


class Record(BaseModel):
    """One question and what the stages made of it."""

    model_config = ConfigDict(extra="forbid")

    id: str = Field(min_length=1, description="Unique within a question set.")
    domain: str = Field(min_length=1, description="The field the question is from; fills the paper's {specific field}.")
    question_title: str = Field("", description="The question's title (Stack Overflow), '' when it has none.")
    question_content: str = Field(min_length=1, description="The question itself.")
    tests: list[str] | None = Field(None, description="Python test sources, one assert each (imports before it), run "
                                    "after the answer's code; None = the question has no tests.")
    guideline: str | None = Field(None, description="Distillation: the weak model's guideline.")
    answer: str | None = Field(None, description="Distillation: the strong model's answer; refinement: the model's final answer.")
    evaluation: str | None = Field(None, description="Refinement: the last feedback (the judge's, or the tests' report).")
    iterations: int = Field(0, ge=0, description="Refinement: answers made for this question.")
    verdict: Verdict | None = Field(None, description="Refinement: the last answer's verdict.")
    pair: Pair | None = Field(None, description="Self-training: the contrasted answers.")

    @property
    def question(self) -> str:
        """The question as prompts show it: the title (when there is one), then the content."""
        return f"{self.question_title}\n\n{self.question_content}" if self.question_title else self.question_content


def require(records: Iterable[Record], fields: tuple[str, ...], stage: str, fix: str) -> None:
    """Raise RecordError on the first record whose `fields` are empty: `stage` cannot use it."""
    for record in records:
        missing = [f for f in fields if getattr(record, f) in (None, "", [])]
        if missing:
            raise RecordError(f"{stage} needs {', '.join(missing)} on every record, but record {record.id!r} has none; {fix}")


def check_unique(records: list[Record], source: str) -> None:
    seen: set[str] = set()
    for record in records:
        if record.id in seen:
            raise RecordError(f"{source}: id {record.id!r} appears twice; give every question its own id")
        seen.add(record.id)


class StageLog:
    """A stage's output file: one validated JSON line per finished item, appended, flushed and synced
    as the item finishes, so a killed stage loses at most the item it was working on.

    A last line cut off by a kill is dropped when the file is opened; any other bad line is an error.
    """

    def __init__(self, path: Path, model: type[BaseModel] = Record):
        self.path = path
        self.model = model
        path.parent.mkdir(parents=True, exist_ok=True)
        self._drop_torn_tail()

    def read(self) -> list:
        if not self.path.is_file():
            return []
        rows = []
        with self.path.open(encoding="utf-8") as lines:
            for number, line in enumerate(lines, 1):
                try:
                    rows.append(self.model.model_validate_json(line))
                except ValidationError as e:
                    raise RecordError(f"{self.path}:{number} is not a valid {self.model.__name__} ({e.errors()[0]['msg']}); "
                                      f"remove the line or the file to redo those items") from None
        return rows

    def done(self) -> set[str]:
        return {row.id for row in self.read()}

    def append(self, row: BaseModel) -> None:
        line = self.model.model_validate(row.model_dump()).model_dump_json() + "\n"
        with self.path.open("a", encoding="utf-8") as f:
            f.write(line)
            f.flush()
            os.fsync(f.fileno())

    def _drop_torn_tail(self) -> None:
        if not self.path.is_file():
            return
        data = self.path.read_bytes()
        if data and not data.endswith(b"\n"):
            self.path.write_bytes(data[: data.rfind(b"\n") + 1])


def write_summary(path: Path, summary: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(summary, indent=2) + "\n")
