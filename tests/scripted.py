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



class StreamingScriptedModel(ScriptedModel):
    """A scripted model that takes requests while others run, as vLLM's engine does (`submit`, `step`):
    each reply is chosen when its request is submitted and comes back after one step per
    `words_per_step` of its words, so short replies overtake long ones. `batches` logs the prompts in
    flight at each step; `generate` still works (and logs to `calls`) for lockstep use."""

    def __init__(self, rules: list[tuple[str, Reply]], words_per_step: int = 4):
        super().__init__(rules)
        self.words_per_step = words_per_step
        self.submitted = 0
        self.running: dict[str, tuple[int, str, list[Completion]]] = {}  # id → (finishing step, prompt, completions)
        self.batches: list[list[str]] = []

    def submit(self, prompts, params: SamplingParams) -> list[str]:
        request_ids = []
        for prompt in prompts:
            completions = [self._reply(prompt) for _ in range(params.n)]
            due = len(self.batches) + 1 + max(len(c.token_ids) for c in completions) // self.words_per_step
            self.submitted += 1
            request_ids.append(f"r{self.submitted}")
            self.running[request_ids[-1]] = (due, prompt, completions)
        return request_ids

    def step(self) -> list[tuple[str, list[Completion]]]:
        self.batches.append([prompt for _, prompt, _ in self.running.values()])
        done = [rid for rid, (due, _, _) in self.running.items() if due <= len(self.batches)]
        return [(rid, self.running.pop(rid)[2]) for rid in done]


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


PHASE_PATTERNS = {"critic": CRITIC, "reflect": REFLECT, "reflect_simple": REFLECT_SIMPLE, "propose": PROPOSE,
                  "judge": JUDGE, "translate": TRANSLATE, "cot": COT}


def phase_of(prompt: str) -> str:
    return next(name for name, pattern in PHASE_PATTERNS.items() if re.search(pattern, prompt, re.DOTALL))


def phase_counts(model: ScriptedModel) -> list[tuple[str, int]]:
    """(phase, prompts) of each logged call, the phase named by the first prompt."""
    out = []
    for prompts, _ in model.calls:
        name = phase_of(prompts[0])
        assert all(phase_of(p) == name for p in prompts), f"mixed phases in one call: {name}"
        out.append((name, len(prompts)))
    return out
