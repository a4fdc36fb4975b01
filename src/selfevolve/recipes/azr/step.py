"""Absolute Zero self-play (docs/spec/azr.md §4): one model proposes code tasks and solves them.

`self_play_step` is the whole iteration, top to bottom:

    solver tasks drawn from the buffers (before this step's proposals exist)
    -> proposer prompts (K references) -> generate -> parse -> validate in the sandbox
    -> n learnability solves per valid proposal and one solve per solver task -> verify in the sandbox
    -> rewards -> the sequences of one TRR++ update over the (task type, role) groups
       (optionally the learnability solves are trained too: `train_on_learnability_samples`)

The step's data travel in two records, filled in phase by phase: a `ProposerSlot` per proposer
prompt (its reference, completion, parsed proposal, validation, valid task, learnability attempts and
reward) and a `SolverAttempt` per solver answer (task, prompt, completion, verdict, reward).
`update_batch` turns the trained sequences into the trainer's batch, and `commit_step` puts valid
proposals into the buffers and every trained sequence into the store. The run around them (set-up,
seeding, checkpoints, evaluation) is `azr_run.py`.
"""

from __future__ import annotations

import random
import time
from collections import defaultdict
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import Mapping, Protocol, Sequence

from selfevolve.llm.types import Completion, Generator, SamplingParams
from selfevolve.recipes.azr.config import AZRConfig
from selfevolve.rl.batch import RolloutBatch, assemble_batch
from selfevolve.store.db import RolloutRecord, RunStore
from selfevolve.tasks.code_io import (
    AnswerVerdict,
    CodeTask,
    ParseError,
    Proposal,
    TaskBuffer,
    TaskType,
    Validation,
    format_ok,
    parse_proposal,
    proposer_prompt,
    proposer_reward,
    sample_programs,
    solver_prompt,
    solver_reward,
    validate_proposals,
    verify_answers,
)
from selfevolve.tasks.code_io.execution import Runner


class Role(StrEnum):
    """The two roles the one model plays; with the task type they key the TRR++ baselines."""

    PROPOSE = "propose"
    SOLVE = "solve"


class Policy(Generator, Protocol):
    """The policy's sampler: a `Generator` that knows its context window (in tokens)."""

    context_length: int


class Tokenizer(Protocol):
    """What the step asks of the policy's tokenizer (a transformers tokenizer is one)."""

    pad_token_id: int | None
    eos_token_id: int | None

    def __call__(self, text: str) -> Mapping[str, list[int]]: ...

    def apply_chat_template(self, messages: list[dict[str, str]], *, tokenize: bool, add_generation_prompt: bool) -> str: ...


@dataclass
class Players:
    """What a step needs besides the config: the policy's sampler, the sandbox, the buffers."""

    generator: Policy
    tokenizer: Tokenizer
    sandbox: Runner
    buffers: dict[TaskType, TaskBuffer]
    rng: random.Random  # every random draw of the step (references, solver tasks, controls)
    chat_template: bool = False  # AZRConfig.chat_template: prompts go out as a user message in the tokenizer's template

    def __post_init__(self) -> None:
        if self.chat_template and not getattr(self.tokenizer, "chat_template", None):
            raise ValueError("chat_template is on but the model's tokenizer has no chat template; "
                             "set chat_template=false (a base model reads the prompt text alone)")

    def render(self, prompt: str) -> str:
        """The text the policy reads for a task prompt; every prompt it reads is made here. The
        generator samples from this text, and the trainer's prompt ids, the rollout rows and the
        length limits are all taken from the same text, so they are the same tokens."""
        if not self.chat_template:
            return prompt
        return self.tokenizer.apply_chat_template([{"role": "user", "content": prompt}], tokenize=False,
                                                  add_generation_prompt=True)

    def prompt_tokens(self, prompt: str) -> int:
        return len(self.tokenizer(prompt)["input_ids"])


@dataclass
class TrainedSequence:
    """One trained sequence: what was asked, what came back, its reward and its (task, role) key."""

    prompt: str
    completion: Completion
    reward: float
    task_type: TaskType
    role: Role
    task_id: int | None = None  # the buffer task a solver answered (None: proposals, learnability)


@dataclass
class SolverAttempt:
    """One solver answer: the task asked and its prompt, then what came back and how it was judged."""

    task: CodeTask
    prompt: str
    completion: Completion | None = None  # set by `answer`
    verdict: AnswerVerdict | None = None  # set by `judge`
    reward: float | None = None  # set by `reward_solver`

    def sequence(self) -> TrainedSequence:
        return TrainedSequence(self.prompt, self.completion, self.reward, self.task.type, Role.SOLVE, self.task.id)


@dataclass
class ProposerSlot:
    """One proposer prompt and all that follows from it, filled in as the step goes."""

    task_type: TaskType
    prompt: str
    reference: CodeTask | None  # induction: the existing program the proposal is about
    completion: Completion | None = None
    proposal: Proposal | None = None  # None: the completion did not parse
    validation: Validation | None = None  # None: nothing to validate
    task: CodeTask | None = None  # the valid task, if its solver prompt fits too; else None
    learnability: list[SolverAttempt] = field(default_factory=list)  # n solves of `task`
    reward: float | None = None  # the learnability reward (before any control)

    def sequence(self) -> TrainedSequence:
        return TrainedSequence(self.prompt, self.completion, self.reward, self.task_type, Role.PROPOSE)


@dataclass
class StepOutcome:
    slots: list[ProposerSlot]
    solves: list[SolverAttempt]  # the attempts at the tasks drawn from the buffers
    sequences: list[TrainedSequence]  # what the update trains on, controls applied
    stats: dict[str, float] = field(default_factory=dict)

    @property
    def new_tasks(self) -> dict[TaskType, list[CodeTask]]:
        """This step's valid proposals by type (every proposed type present, possibly empty)."""
        new: dict[TaskType, list[CodeTask]] = {s.task_type: [] for s in self.slots}
        for s in self.slots:
            if s.task is not None:
                new[s.task_type].append(s.task)
        return new


class PhaseTimer:
    """Wall seconds per phase of a step (generation, sandbox, update...)."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = defaultdict(float)

    @contextmanager
    def __call__(self, phase: str):
        start = time.perf_counter()
        try:
            yield
        finally:
            self.seconds[phase] += time.perf_counter() - start


# ---------------------------------------------------------------- the iteration


def self_play_step(cfg: AZRConfig, players: Players, step: int, timer: PhaseTimer) -> StepOutcome:
    types = [TaskType.parse(t) for t in cfg.task_types]
    solves = [SolverAttempt(task, rendered_solver_prompt(cfg, players, task))
              for t in types for task in select_solver_tasks(cfg, players, t, step)]

    # Proposer: K references from the type's own buffer (induction: one existing program).
    slots = proposer_slots(cfg, players, types)
    with timer("generation"):
        completions = generate(cfg, players, [s.prompt for s in slots], cfg.sampling.proposer_max_new_tokens)
    for slot, completion in zip(slots, completions):
        slot.completion = completion
        slot.proposal = parse_or_none(cfg, slot)
    with timer("sandbox"):
        validate(cfg, players, slots, step)

    # Solver: n learnability samples per valid proposal + one sample per solver task, generated in
    # one call so that they share decoding batches, and verified in one sandbox call.
    for slot in slots:
        if slot.task is not None:
            prompt = rendered_solver_prompt(cfg, players, slot.task)
            slot.learnability = [SolverAttempt(slot.task, prompt) for _ in range(cfg.code_io.learnability_samples)]
    attempts = [a for slot in slots for a in slot.learnability] + solves
    with timer("generation"):
        completions = generate(cfg, players, [a.prompt for a in attempts], cfg.sampling.solver_max_new_tokens)
    with timer("sandbox"):
        verdicts = verify_answers([a.task for a in attempts], [c.text for c in completions], players.sandbox, cfg.code_io)
    for attempt, completion, verdict in zip(attempts, completions, verdicts):
        attempt.completion, attempt.verdict = completion, verdict

    # Rewards, and the sequences of the update.
    for attempt in attempts:
        attempt.reward = solver_reward(format_ok(attempt.completion.text), attempt.verdict.correct)
    for slot in slots:
        slot.reward = learnability_reward(cfg, slot)
    trained = ([s.sequence() for s in slots] if cfg.train_proposer else []) + [a.sequence() for a in solves]
    if cfg.train_on_learnability_samples:
        trained += [a.sequence() for slot in slots for a in slot.learnability]
    sequences = apply_control(cfg, trained, players.rng)
    return StepOutcome(slots, solves, sequences, step_stats(types, slots, solves, players.buffers))


def select_solver_tasks(cfg: AZRConfig, players: Players, t: TaskType, step: int) -> list[CodeTask]:
    """B tasks of type t from its buffer, drawn before this step's proposals are added; prompts over
    the length limit are dropped and the batch refilled (docs/spec/azr.md §11, defect 9)."""
    return players.buffers[t].select_for_solver(cfg.batch_size, step, players.rng, cfg.solver_selection,
                                                keep=lambda task: solver_prompt_fits(cfg, players, task))


def solver_prompt_fits(cfg: AZRConfig, players: Players, task: CodeTask) -> bool:
    """Whether the task's solver prompt is within `max_prompt_tokens` and leaves the model room to answer."""
    limit = min(cfg.sampling.max_prompt_tokens, players.generator.context_length - 1)
    return players.prompt_tokens(rendered_solver_prompt(cfg, players, task)) <= limit


def rendered_solver_prompt(cfg: AZRConfig, players: Players, task: CodeTask) -> str:
    """The task's solver prompt as the policy reads it (`Players.render`)."""
    return players.render(solver_prompt(task, style=cfg.prompt_style))


def proposer_slots(cfg: AZRConfig, players: Players, types: list[TaskType]) -> list[ProposerSlot]:
    """B proposer slots per type, each with its prompt and (induction) the program it is about.

    References that make a prompt too long are dropped one at a time (the reference re-samples)."""
    slots = []
    abd_ded = [players.buffers[t] for t in (TaskType.ABDUCTION, TaskType.DEDUCTION) if t in players.buffers]
    for t in types:
        for _ in range(cfg.batch_size):
            if t is TaskType.INDUCTION:
                reference = sample_programs(abd_ded, players.rng)
                shown = [reference] if reference is not None else []
            else:
                reference = None
                k = cfg.code_io.num_references if cfg.references else 0
                shown = players.buffers[t].sample_references(k, players.rng, cfg.reference_weighting)
            slots.append(ProposerSlot(t, _fitting_prompt(cfg, players, t, shown), reference))
    return slots


def _fitting_prompt(cfg: AZRConfig, players: Players, t: TaskType, shown: list[CodeTask]) -> str:
    fewest = 1 if t is TaskType.INDUCTION else 0  # induction keeps the program it is about
    while True:
        prompt = players.render(proposer_prompt(t, shown, style=cfg.prompt_style, banned_keywords=cfg.code_io.banned_keywords,
                                                num_inputs=cfg.code_io.num_inputs))
        if len(shown) <= fewest or players.prompt_tokens(prompt) <= cfg.sampling.max_prompt_tokens:
            return prompt
        shown = shown[:-1]


def generate(cfg: AZRConfig, players: Players, prompts: list[str], max_new_tokens: int) -> list[Completion]:
    """One completion per prompt, at the rollout temperature, in one generator call."""
    if not prompts:
        return []
    params = SamplingParams(max_new_tokens=max_new_tokens, temperature=cfg.sampling.temperature, top_p=cfg.sampling.top_p)
    return [samples[0] for samples in players.generator.generate(prompts, params)]


def parse_or_none(cfg: AZRConfig, slot: ProposerSlot) -> Proposal | None:
    """The slot's completion as a proposal; None if it does not parse (or induction has no program)."""
    try:
        if slot.task_type is TaskType.INDUCTION:
            if slot.reference is None:
                return None
            return parse_proposal(slot.completion.text, slot.task_type, program=slot.reference.program,
                                  imports=slot.reference.imports, num_inputs=cfg.code_io.num_inputs)
        return parse_proposal(slot.completion.text, slot.task_type, num_inputs=cfg.code_io.num_inputs)
    except ParseError:
        return None


def validate(cfg: AZRConfig, players: Players, slots: list[ProposerSlot], step: int) -> None:
    """Validate every parsed proposal in one sandbox call and set each slot's valid task.

    A valid task the solver cannot read within the prompt limit counts as invalid (no learnability
    samples, no buffer entry)."""
    parsed = [s for s in slots if s.proposal is not None]
    validations = validate_proposals([s.proposal for s in parsed], players.sandbox, cfg.code_io, step)
    for slot, validation in zip(parsed, validations):
        slot.validation = validation
        if validation.valid and solver_prompt_fits(cfg, players, validation.task):
            slot.task = validation.task


def learnability_reward(cfg: AZRConfig, slot: ProposerSlot) -> float:
    """-1 if invalid or unformatted, else from the solve rate of its learnability samples (docs/spec/azr.md §7);
    samples the executor could not judge are left out."""
    scores = [a.verdict.score if a.verdict.judged else None for a in slot.learnability]
    return proposer_reward(slot.task is not None, format_ok(slot.completion.text), scores,
                           cfg.code_io.proposer_extreme_reward)


def apply_control(cfg: AZRConfig, sequences: list[TrainedSequence], rng: random.Random) -> list[TrainedSequence]:
    """The equal-compute controls of learning claims (see `AZRConfig.control`)."""
    if cfg.control == "constant_proposer_reward":
        return [replace(s, reward=0.5) if s.role is Role.PROPOSE and s.reward > -1 else s for s in sequences]
    if cfg.control == "shuffled_solver_rewards":
        by_type: dict[TaskType, list[int]] = defaultdict(list)
        for i, s in enumerate(sequences):
            if s.role is Role.SOLVE:
                by_type[s.task_type].append(i)
        out = list(sequences)
        for idx in by_type.values():
            rewards = [sequences[i].reward for i in idx]
            rng.shuffle(rewards)
            for i, r in zip(idx, rewards):
                out[i] = replace(sequences[i], reward=r)
        return out
    return sequences


def step_stats(types: list[TaskType], slots: list[ProposerSlot], solves: list[SolverAttempt],
               buffers: dict[TaskType, TaskBuffer]) -> dict[str, float]:
    """Per type: valid-proposal rate, solver accuracy on the drawn tasks, buffer size and diversity;
    and the solve rate of all learnability samples."""
    stats: dict[str, float] = {}
    for t in types:
        name = t.long_name
        mine = [s for s in slots if s.task_type is t]
        stats[f"propose/{name}/valid_rate"] = sum(s.task is not None for s in mine) / max(1, len(mine))
        solved = [a.verdict.correct for a in solves if a.task.type is t]
        if solved:
            stats[f"solve/{name}/accuracy"] = sum(solved) / len(solved)
        stats[f"buffer/{name}/size"] = float(len(buffers[t]))
        stats[f"buffer/{name}/distinct_programs"] = float(buffers[t].distinct_programs())
    learn = [a.verdict.score for s in slots for a in s.learnability]
    if learn:
        stats["propose/learnability_solve_rate"] = sum(learn) / len(learn)
    return stats


# ---------------------------------------------------------------- the update and the commit


def update_batch(sequences: Sequence[TrainedSequence], tokenizer: Tokenizer) -> RolloutBatch:
    """The step's sequences as one RolloutBatch keyed by (task type, role) for TRR++."""
    pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else tokenizer.eos_token_id
    return assemble_batch(
        prompt_ids=[tokenizer(s.prompt)["input_ids"] for s in sequences],
        completion_ids=[s.completion.token_ids for s in sequences],
        pad_id=pad,
        scores=[s.reward for s in sequences],
        old_logprobs=[s.completion.logprobs for s in sequences] if all(
            len(s.completion.logprobs) == len(s.completion.token_ids) for s in sequences
        ) else None,  # None: the trainer recomputes them
        keys=[(s.task_type.long_name, s.role.value) for s in sequences],
    )


def commit_step(store: RunStore, buffers: dict[TaskType, TaskBuffer], outcome: StepOutcome, step: int) -> None:
    """Valid proposals enter their buffers; judged solves count for their tasks; every trained
    sequence is kept as a rollout row."""
    for t, tasks in outcome.new_tasks.items():
        buffers[t].add(tasks, step=step)
    for attempt in outcome.solves:
        if attempt.verdict.judged and attempt.task.id is not None:
            buffers[attempt.task.type].record_solves(attempt.task, 1, attempt.verdict.score)
    store.add_rollouts(
        RolloutRecord(step, s.role.value, s.task_type.value, s.prompt, s.completion.text, s.reward, s.task_id)
        for s in outcome.sequences
    )
