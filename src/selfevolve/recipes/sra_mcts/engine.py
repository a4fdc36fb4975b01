"""Many problems' searches advanced together: each phase's asks from every active search go to the
model as one `generate` call (the reference searches one tree at a time, every call a batch of one).

Each search is a generator (`calls.Search`) waiting on one request. A sweep visits the phases in a
round's order (reflect, propose, score, translate, tests, judge, ...); at each, it gathers the
requests of every search now waiting on that phase, serves them with ONE call (a model's `generate`,
or one sandbox run for tests), and sends each search its replies, which moves it on to its next
request, possibly a later phase of the same sweep. Up to `width` searches run at once; a finished one
is handed to `on_done` and the next problem starts in its place.

A search's own order of requests does not depend on the others, and randomness comes from each
problem's RNG, so under a model whose reply depends only on the prompt (a scripted one), batched and
one-at-a-time searches build the same trees.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from selfevolve.llm.errors import PromptTooLongError
from selfevolve.llm.open import ChatModel
from selfevolve.llm.types import SamplingParams
from selfevolve.recipes.sra_mcts.calls import Ask, Request, RunTests, Search
from selfevolve.tasks.code_tests import Verification

TESTS = "tests"
PHASES: tuple[str, ...] = ("reflect", "reflect_simple", "propose", "propose_tot", "score", "translate", TESTS, "judge", "cot")


@dataclass
class Usage:
    """Model calls (one per prompt completed) and generated tokens (0 where a backend returns no ids)."""

    calls: int = 0
    tokens: int = 0

    def add(self, other: Usage) -> None:
        self.calls += other.calls
        self.tokens += other.tokens


@dataclass
class _Active:
    search: Search
    request: Request
    usage: Usage = field(default_factory=Usage)

    @property
    def phase(self) -> str:
        return TESTS if isinstance(self.request, RunTests) else self.request.kind


class Engine:
    """`models` and `sampling` per ask kind; `run_tests` serves RunTests requests (code, tests) pairs
    in one sandbox call; `skip_too_long`: a search whose prompt cannot fit is reported to `on_skip`
    instead of stopping the run."""

    def __init__(self, models: Mapping[str, ChatModel], sampling: Mapping[str, SamplingParams],
                 run_tests: Callable[[list[tuple[str | None, Sequence[str]]]], list[Verification]] | None = None,
                 width: int = 32, skip_too_long: bool = False):
        if width < 1:
            raise ValueError(f"width={width}; advance at least one search at a time")
        self.models, self.sampling, self.run_tests = models, sampling, run_tests
        self.width, self.skip_too_long = width, skip_too_long
        self.total = Usage()

    def run(self, searches: Iterable[tuple[str, Search]], on_done: Callable[[str, Any, Usage], None],
            on_skip: Callable[[str, str, Usage], None] | None = None,
            on_progress: Callable[[Usage], None] | None = None) -> None:
        """Run every (problem id, search) to its end; `on_done(id, result, usage)` as each finishes."""
        queue = iter(searches)
        active: dict[str, _Active] = {}

        def advance(pid: str, search: Search, usage: Usage, reply: Any = None, first: bool = False) -> None:
            try:
                request = next(search) if first else search.send(reply)
            except StopIteration as stop:
                active.pop(pid, None)
                on_done(pid, stop.value, usage)
                return
            except PromptTooLongError as e:
                active.pop(pid, None)
                if not self.skip_too_long or on_skip is None:
                    raise PromptTooLongError(f"problem {pid}: {e}") from e
                on_skip(pid, f"prompt_too_long: {e}", usage)
                return
            active[pid] = _Active(search, request, usage)

        def fill() -> None:
            while len(active) < self.width and (item := next(queue, None)) is not None:
                pid, search = item
                if pid in active:
                    raise ValueError(f"problem id {pid!r} is already being searched; problem ids must be unique")
                advance(pid, search, Usage(), first=True)

        fill()
        while active:
            for phase in PHASES:
                waiting = [(pid, a) for pid, a in active.items() if a.phase == phase]
                if not waiting:
                    continue
                replies = self._serve(phase, waiting)
                for (pid, a), reply in zip(waiting, replies):
                    advance(pid, a.search, a.usage, reply)
                if on_progress:
                    on_progress(self.total)
                fill()

    def _serve(self, phase: str, waiting: list[tuple[str, _Active]]) -> list[Any]:
        if phase == TESTS:
            if self.run_tests is None:
                raise RuntimeError("a search asked to run tests, but the engine has no sandbox (run_tests)")
            return self.run_tests([(a.request.code, a.request.tests) for _, a in waiting])
        asks: list[Ask] = [a.request for _, a in waiting]
        prompts = [p for ask in asks for p in ask.prompts]
        completions = self.models[phase].generate(prompts, self.sampling[phase])
        replies, at = [], 0
        for (_, a), ask in zip(waiting, asks):
            mine = completions[at : at + len(ask.prompts)]
            at += len(ask.prompts)
            used = Usage(len(mine), sum(len(c[0].token_ids) for c in mine))
            a.usage.add(used)
            self.total.add(used)
            replies.append([c[0].text for c in mine])
        return replies
