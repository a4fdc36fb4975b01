"""A scripted model for tests: a `Generator` whose replies are chosen by patterns in the prompt."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable

from selfevolve.llm.types import Completion, SamplingParams

Reply = str | Callable[[str, int], str]  # a text, or f(prompt, k) with k = earlier asks of this exact prompt


class ScriptedModel:
    """Replies by the first rule whose regex matches the prompt; every `generate` call is logged as
    (prompts, params). `fail_after`: raise RuntimeError on that many-th call (a crash mid-run)."""

    def __init__(self, rules: list[tuple[str, Reply]], fail_after: int | None = None):
        self.rules = [(re.compile(pattern, re.DOTALL), reply) for pattern, reply in rules]
        self.calls: list[tuple[list[str], SamplingParams]] = []
        self.seen: Counter[str] = Counter()
        self.fail_after = fail_after

    def generate(self, prompts, params: SamplingParams) -> list[list[Completion]]:
        if self.fail_after is not None and len(self.calls) >= self.fail_after:
            raise RuntimeError("scripted crash")
        self.calls.append((list(prompts), params))
        return [[self._reply(p) for _ in range(params.n)] for p in prompts]

    def _reply(self, prompt: str) -> Completion:
        k = self.seen[prompt]
        self.seen[prompt] += 1
        for pattern, reply in self.rules:
            if pattern.search(prompt):
                text = reply(prompt, k) if callable(reply) else reply
                return Completion(text=text, token_ids=list(range(len(text.split()))), finish_reason="stop")
        raise AssertionError(f"no scripted reply for prompt: {prompt[:300]!r}")


# Patterns that tell the full-style prompts apart (recipes/sra_mcts/prompts.py).
CRITIC = r"^You are an evaluator"
REFLECT = r"^You are an expert"
REFLECT_SIMPLE = r"^Decide whether the given steps resolve"
PROPOSE = r"^Your task is to give the"
JUDGE = r"respond with: <solved>"
TRANSLATE = r"code implementer"
COT = r"Both natural language analysis and code"


def steps_of(prompt: str) -> list[str]:
    """The step lines of the (last) `Existing steps:` section of a prompt."""
    section = prompt.rsplit("Existing steps:\n", 1)[-1]
    return re.findall(r"^Step \d+: .*$", section, re.MULTILINE)


def problem_of(prompt: str) -> str:
    """The problem text of a full-style prompt (the last `Problem:` section)."""
    return prompt.rsplit("Problem:\n", 1)[-1].split("\nExisting steps:", 1)[0].split("\nSolution:", 1)[0]


def phase_counts(model: ScriptedModel) -> list[tuple[str, int]]:
    """(phase, prompts) of each logged call, the phase named by the first prompt."""
    names = [("critic", CRITIC), ("reflect", REFLECT), ("reflect_simple", REFLECT_SIMPLE), ("propose", PROPOSE),
             ("judge", JUDGE), ("translate", TRANSLATE), ("cot", COT)]
    out = []
    for prompts, _ in model.calls:
        name = next(n for n, p in names if re.search(p, prompts[0], re.DOTALL))
        assert all(re.search(dict(names)[name], p, re.DOTALL) for p in prompts), f"mixed phases in one call: {name}"
        out.append((name, len(prompts)))
    return out
