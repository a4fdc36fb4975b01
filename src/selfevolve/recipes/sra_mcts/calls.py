"""What a search asks for, and what it knows about its problem.

Searches are generators: they `yield` an `Ask` (texts from a model) or a `RunTests` (a sandbox
verdict) and are sent the answer back, so the algorithm reads as the sequential reference while the
engine (`engine.py`) serves many searches' asks together. A search never touches a model itself.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Generator
from dataclasses import dataclass, field
from typing import Any, Literal

from selfevolve.recipes.sra_mcts.config import SRAMCTSConfig
from selfevolve.recipes.sra_mcts.prompts import Budget, Conversation, fit

# The phases a search asks a model for; each is served by a role's model with its own sampling (run.sampling_params).
Kind = Literal["reflect", "reflect_simple", "propose", "propose_tot", "score", "translate", "judge", "cot"]
ROLE_OF: dict[str, str] = {
    "reflect": "reflector", "reflect_simple": "reflector", "propose": "proposer", "propose_tot": "proposer",
    "score": "critic", "translate": "translator", "judge": "judge", "cot": "proposer",
}


@dataclass(frozen=True)
class Problem:
    """One problem: its id (from the file, or its line number), statement, and tests (None: none)."""

    id: str
    question: str
    tests: tuple[str, ...] | None = None
    position: int = 0


@dataclass(frozen=True)
class Ask:
    """Complete each conversation once with the model of `kind`'s role; the reply is the list of texts."""

    kind: Kind
    prompts: tuple[Conversation, ...]

    def __post_init__(self):
        if not self.prompts:
            raise ValueError(f"an Ask({self.kind!r}) with no prompts would never be answered; ask for at least one")


@dataclass(frozen=True)
class RunTests:
    """Run `code` against the problem's tests in the sandbox; the reply is a code_tests Verification."""

    code: str | None
    tests: tuple[str, ...]


Request = Ask | RunTests
Search = Generator[Request, Any, Any]


@dataclass
class Context:
    """Everything one problem's search uses besides its tree: the config, the prompt budget per kind,
    its own RNG (seeded from (seed, problem id)), the critic's score cache (exact `y` → score) and how
    many of its replies held no score, the node counter, and a clock for the time limit."""

    problem: Problem
    cfg: SRAMCTSConfig
    budgets: dict[str, Budget | None] = field(default_factory=dict)
    rng: random.Random = field(default_factory=random.Random)
    scores: dict[str, float] = field(default_factory=dict)
    critic_unscored: int = 0  # critic replies without a score (valued MISSING_SCORE)
    created: int = 0
    clock: Callable[[], float] = time.monotonic

    @classmethod
    def for_problem(cls, problem: Problem, cfg: SRAMCTSConfig, budgets: dict[str, Budget | None] | None = None,
                    clock: Callable[[], float] = time.monotonic) -> Context:
        return cls(problem, cfg, budgets or {}, problem_rng(cfg.seed, problem.id), clock=clock)

    def prompt(self, kind: str, build: Callable[[str, int], Conversation], shots: int = 0) -> Conversation:
        """`build(problem text, shots)` fitted into `kind`'s prompt budget."""
        return fit(build, self.problem.question, self.budgets.get(kind), shots)

    def next_order(self) -> int:
        self.created += 1
        return self.created


def problem_rng(seed: int, problem_id: str) -> random.Random:
    """The RNG of one problem: the same for a problem whatever else runs beside it."""
    return random.Random(f"sra-mcts:{seed}:{problem_id}")
