"""Scripted models for the METEOR tests: a Generator whose replies are scripted by prompt pattern."""

from __future__ import annotations

import re
from collections.abc import Callable

from selfevolve.llm.types import Completion, SamplingParams
from selfevolve.recipes.meteor.roles import Role, Roles

Reply = str | Callable[[str, SamplingParams], str]


class Scripted:
    """Answers each prompt with the reply of the first rule whose regex matches it (a text, or a function
    of the prompt and the sampling parameters); records every prompt.
    `fail_after`: raise after that many prompts (a run killed mid-stage)."""

    def __init__(self, rules: list[tuple[str, Reply]], fail_after: int | None = None):
        self.rules = [(re.compile(pattern, re.DOTALL), reply) for pattern, reply in rules]
        self.prompts: list[str] = []
        self.fail_after = fail_after

    def generate(self, prompts, params):
        out = []
        for prompt in prompts:
            if self.fail_after is not None and len(self.prompts) >= self.fail_after:
                raise KeyboardInterrupt("scripted kill")
            self.prompts.append(prompt)
            out.append([Completion(text=self._reply(prompt, params))] * params.n)
        return out

    def _reply(self, prompt: str, params: SamplingParams) -> str:
        for pattern, reply in self.rules:
            if pattern.search(prompt):
                return reply(prompt, params) if callable(reply) else reply
        raise AssertionError(f"no scripted reply for prompt {prompt[:300]!r}")

    def asked(self, pattern: str) -> list[str]:
        return [p for p in self.prompts if re.search(pattern, p, re.DOTALL)]


def scripted_roles(weak: Scripted, strong: Scripted | None = None, judge: Scripted | None = None,
                   weak_model: str = "weak-model") -> tuple[Roles, list[str]]:
    """Roles over scripted models, and the list of weak-model versions opened (in order)."""
    opened: list[str] = []

    def open_weak(model: str) -> Role:
        opened.append(model)
        return Role("weak", weak, chat=False)

    return Roles(weak_model, open_weak, (lambda: Role("strong", strong)) if strong else None,
                 (lambda: Role("judge", judge)) if judge else None), opened
