"""The one generation interface every backend implements."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Mapping, Protocol, Sequence


@dataclass(frozen=True)
class SamplingParams:
    n: int = 1
    max_new_tokens: int = 256
    temperature: float = 1.0  # 0 = greedy
    top_p: float = 1.0
    top_k: int = 0  # 0 = off
    stop: tuple[str, ...] = ()
    seed: int | None = None


@dataclass
class Completion:
    text: str
    token_ids: list[int] = field(default_factory=list)
    logprobs: list[float] = field(default_factory=list)  # per generated token, under the sampling distribution's model
    finish_reason: str = "length"  # "stop" | "length"


class Generator(Protocol):
    def generate(self, prompts: Sequence[str], params: SamplingParams) -> list[list[Completion]]:
        """Return `params.n` completions for each prompt, in prompt order."""
        ...


class StreamingGenerator(Generator, Protocol):
    """A generator that takes new requests while earlier ones run (vLLM's engine, `OpenAIClient`), so a
    caller can keep a continuously batching engine full: `submit` returns one request id per prompt
    without waiting, and each `step` advances the work and returns the requests that finished in it."""

    def submit(self, prompts: Sequence[str], params: SamplingParams) -> list[str]: ...

    def submit_chats(self, conversations: Sequence[Sequence[Mapping[str, str]]], params: SamplingParams) -> list[str]: ...

    def step(self) -> list[tuple[str, list[Completion]]]: ...
