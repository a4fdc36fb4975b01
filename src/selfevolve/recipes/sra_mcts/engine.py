"""Many problems' searches advanced together, so the model decodes many problems' requests at once
(the reference searches one tree at a time, every call a batch of one).

Each search is a generator (`calls.Search`) waiting on one request. The engine keeps up to `width`
searches open; a finished one is handed to `on_done` and the next problem starts in its place. Each
turn of the loop it sends every new request out, serves sandbox requests in one run, then steps each
model, and a search whose replies are back moves on to its next request. How a model is stepped:

- continuous (a model that `streams`: vLLM's engine or an endpoint, with `continuous=True`): an ask's
  prompts go out as soon as they are made (into vLLM's running batch), and a step is one decoding
  iteration (an endpoint's: until some request is answered), after which every search whose replies
  are all back goes on. Short replies do not wait for long ones, and the batch refills while the long
  ones decode.
- lockstep (transformers, or `continuous=False`): a step sends the asks made since the last one as
  one `generate` call per phase (reflect, propose, score, translate, judge, ...; each phase has its
  own sampling), and each call waits for its longest reply.

A search's own order of requests does not depend on the others, and randomness comes from each
problem's RNG, so under a model whose reply depends only on the prompt (a scripted one), batched and
one-at-a-time searches, lockstep or continuous, build the same trees.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from selfevolve.llm.errors import PromptTooLongError
from selfevolve.llm.open import ChatModel
from selfevolve.llm.types import Completion, SamplingParams
from selfevolve.recipes.sra_mcts.calls import Ask, Request, RunTests, Search
from selfevolve.tasks.code_tests import Verification

PHASES: tuple[str, ...] = ("reflect", "reflect_simple", "propose", "propose_tot", "score", "translate", "judge", "cot")
Replies = list[tuple[str, list[Completion]]]  # (problem id, one completion per prompt of its ask)


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
    sent: bool = False


class _Lockstep:
    """Serves a model's asks in one `generate` call per phase at each step (see the module docstring)."""

    def __init__(self, model: ChatModel):
        self.model = model
        self.queued: list[tuple[str, Ask, SamplingParams]] = []

    def submit(self, pid: str, ask: Ask, params: SamplingParams) -> None:
        self.queued.append((pid, ask, params))

    def busy(self) -> bool:
        return bool(self.queued)

    def step(self) -> Replies:
        queued, self.queued, done = self.queued, [], []
        for phase in PHASES:
            mine = [(pid, ask, params) for pid, ask, params in queued if ask.kind == phase]
            if not mine:
                continue
            completions = self.model.generate([p for _, ask, _ in mine for p in ask.prompts], mine[0][2])
            at = 0
            for pid, ask, _ in mine:
                done.append((pid, [c[0] for c in completions[at : at + len(ask.prompts)]]))
                at += len(ask.prompts)
        return done


class _Continuous:
    """Serves a streaming model's asks as they come, a search's replies as soon as all of them are back."""

    def __init__(self, model: ChatModel):
        self.model = model
        self.owner: dict[str, tuple[str, int]] = {}  # request id → (problem id, prompt index in its ask)
        self.replies: dict[str, list[Completion | None]] = {}

    def submit(self, pid: str, ask: Ask, params: SamplingParams) -> None:
        request_ids = self.model.submit(ask.prompts, params)
        self.replies[pid] = [None] * len(request_ids)
        for i, request_id in enumerate(request_ids):
            self.owner[request_id] = (pid, i)

    def busy(self) -> bool:
        return bool(self.owner)

    def step(self) -> Replies:
        done = []
        for request_id, completions in self.model.step():
            pid, i = self.owner.pop(request_id)
            self.replies[pid][i] = completions[0]
            if all(c is not None for c in self.replies[pid]):
                done.append((pid, self.replies.pop(pid)))
        return done


class Engine:
    """`models` and `sampling` per ask kind; `run_tests` serves RunTests requests ((code, tests) pairs)
    in one sandbox call; `continuous`: step a model that streams continuously, not in lockstep (see the
    module docstring); `skip_too_long`: a search whose prompt cannot fit is reported to `on_skip`
    instead of stopping the run."""

    def __init__(self, models: Mapping[str, ChatModel], sampling: Mapping[str, SamplingParams],
                 run_tests: Callable[[list[tuple[str | None, Sequence[str]]]], list[Verification]] | None = None,
                 width: int = 32, skip_too_long: bool = False, continuous: bool = True):
        if width < 1:
            raise ValueError(f"width={width}; advance at least one search at a time")
        self.sampling, self.run_tests = sampling, run_tests
        self.width, self.skip_too_long = width, skip_too_long
        by_model: dict[int, _Lockstep | _Continuous] = {}  # one server per model object, however many kinds share it
        for model in models.values():
            if id(model) not in by_model:
                by_model[id(model)] = _Continuous(model) if continuous and model.streams else _Lockstep(model)
        self.servers = {kind: by_model[id(model)] for kind, model in models.items()}
        self.distinct_servers = list(by_model.values())
        self.total = Usage()

    def run(self, searches: Iterable[tuple[str, Search]], on_done: Callable[[str, Any, Usage], None],
            on_skip: Callable[[str, str, Usage], None] | None = None,
            on_progress: Callable[[Usage], None] | None = None) -> None:
        """Run every (problem id, search) to its end; `on_done(id, result, usage)` as each finishes."""
        queue = iter(searches)
        active: dict[str, _Active] = {}

        def too_long(pid: str, usage: Usage, e: PromptTooLongError) -> None:
            active.pop(pid, None)
            if not self.skip_too_long or on_skip is None:
                raise PromptTooLongError(f"problem {pid}: {e}") from e
            on_skip(pid, f"prompt_too_long: {e}", usage)

        def advance(pid: str, search: Search, usage: Usage, reply: Any = None, first: bool = False) -> None:
            try:
                request = next(search) if first else search.send(reply)
            except StopIteration as stop:
                active.pop(pid, None)
                on_done(pid, stop.value, usage)
                return
            except PromptTooLongError as e:
                too_long(pid, usage, e)
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
            tests = [(pid, a) for pid, a in active.items() if isinstance(a.request, RunTests)]
            for pid, a in [(pid, a) for pid, a in active.items() if not a.sent and isinstance(a.request, Ask)]:
                try:
                    self.servers[a.request.kind].submit(pid, a.request, self.sampling[a.request.kind])
                    a.sent = True
                except PromptTooLongError as e:  # the model's own count, where the budget's estimate was short
                    too_long(pid, a.usage, e)
            if tests:  # sandbox runs first, so in lockstep the searches they free join this step's calls
                for (pid, a), verdict in zip(tests, self._run_tests(tests)):
                    advance(pid, a.search, a.usage, verdict)
            else:
                for pid, completions in self._step():
                    a = active[pid]
                    used = Usage(len(completions), sum(len(c.token_ids) for c in completions))
                    a.usage.add(used)
                    self.total.add(used)
                    advance(pid, a.search, a.usage, [c.text for c in completions])
            if on_progress:
                on_progress(self.total)
            fill()

    def _step(self) -> Replies:
        """One step of every model that has requests out; the asks whose replies are all back."""
        return [reply for server in self.distinct_servers if server.busy() for reply in server.step()]

    def _run_tests(self, waiting: list[tuple[str, _Active]]) -> list[Verification]:
        if self.run_tests is None:
            raise RuntimeError("a search asked to run tests, but the engine has no sandbox (run_tests)")
        return self.run_tests([(a.request.code, a.request.tests) for _, a in waiting])
