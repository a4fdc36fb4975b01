"""Absolute Zero self-play (spec `azr.md` §4): one model proposes code tasks and solves them.

`self_play_step` is the whole iteration, top to bottom:

    solver tasks drawn from the buffers (before this step's proposals exist)
    -> proposer prompts (K references) -> generate -> parse -> validate in the sandbox
    -> n learnability solves per valid proposal and one solve per solver task -> verify in the sandbox
    -> rewards -> one TRR++ update over the (task type, role) groups
       (optionally the learnability solves are trained too: `train_on_learnability_samples`)
    -> valid proposals enter the buffers; rollouts, metrics and timings go to the store

Everything else here is set-up, checkpoints and evaluation around that function.
"""

from __future__ import annotations

import random
import time
from collections import defaultdict
from contextlib import contextmanager
from dataclasses import dataclass, field, replace

import torch

from selfevolve.llm.types import Completion, SamplingParams
from selfevolve.recipes.azr.config import AZRConfig
from selfevolve.rl.rollout import assemble_batch
from selfevolve.store.db import Rollout, RunStore
from selfevolve.tasks.code_io import (
    CodeTask,
    ParseError,
    Proposal,
    TaskBuffer,
    TaskType,
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

EXECUTOR_FAILURES = {"sandbox_error"}  # learnability samples the executor could not judge are excluded (spec §7)


@dataclass
class Sequence_:
    """One trained sequence: what was asked, what came back, its reward and its (task, role) key."""

    prompt: str
    completion: Completion
    reward: float
    task_type: TaskType
    role: str  # "propose" | "solve"
    task_id: int | None = None


@dataclass
class StepOutcome:
    sequences: list[Sequence_]
    new_tasks: dict[TaskType, list[CodeTask]]
    solves: list[tuple[CodeTask, float]]  # (buffer task, score) of this step's solver attempts
    stats: dict[str, float] = field(default_factory=dict)


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


@dataclass
class Players:
    """What a step needs besides the config: the policy's sampler, the sandbox, the buffers."""

    generator: object  # selfevolve.llm.Generator
    tokenizer: object
    sandbox: object  # selfevolve.sandbox.Sandbox
    buffers: dict[TaskType, TaskBuffer]
    rng: random.Random


def _params(cfg: AZRConfig, max_new: int) -> SamplingParams:
    return SamplingParams(max_new_tokens=max_new, temperature=cfg.sampling.temperature, top_p=cfg.sampling.top_p)


# ---------------------------------------------------------------- the iteration


def self_play_step(cfg: AZRConfig, p: Players, step: int, timer: PhaseTimer) -> StepOutcome:
    types = [TaskType.parse(t) for t in cfg.task_types]
    solver_tasks = {t: select_solver_tasks(cfg, p, t, step) for t in types}

    # Proposer: K references from the type's own buffer (induction: one existing program).
    prompts, refs = build_proposer_prompts(cfg, p, types)
    with timer("generation"):
        proposals_out = p.generator.generate([x for _, x in prompts], _params(cfg, cfg.sampling.proposer_max_new_tokens))
    proposer_texts = [c[0] for c in proposals_out]
    parsed = [parse_or_none(c.text, t, ref, cfg) for (t, _), c, ref in zip(prompts, proposer_texts, refs)]
    with timer("sandbox"):
        validations = validate_proposals([x for x in parsed if x is not None], p.sandbox, cfg.code_io, step)
    # a valid task the solver cannot read within the prompt limit counts as invalid (no samples, no buffer entry)
    valid_tasks = [t if t is not None and solver_prompt_fits(cfg, p, t) else None
                   for t in _align(parsed, validations)]  # [len(prompts)] CodeTask or None

    # Solver: n learnability samples per valid proposal + one sample per solver task, generated in
    # one call so that they share decoding batches.
    learn_tasks = [t for t in valid_tasks if t is not None]
    solve_list = [task for t in types for task in solver_tasks[t]]
    n_learn = cfg.code_io.learnability_samples
    asked = [t for t in learn_tasks for _ in range(n_learn)] + solve_list
    prompt_of = {id(t): solver_prompt(t, style=cfg.prompt_style) for t in learn_tasks + solve_list}
    with timer("generation"):
        answers = p.generator.generate(
            [prompt_of[id(t)] for t in asked], _params(cfg, cfg.sampling.solver_max_new_tokens)
        ) if asked else []
    answered = [(t, cs[0]) for t, cs in zip(asked, answers)]
    learn_pairs, solve_pairs = answered[: len(learn_tasks) * n_learn], answered[len(learn_tasks) * n_learn :]
    with timer("sandbox"):
        verdicts = verify_answers(
            [t for t, _ in learn_pairs + solve_pairs], [c.text for _, c in learn_pairs + solve_pairs], p.sandbox, cfg.code_io
        )
    learn_verdicts, solve_verdicts = verdicts[: len(learn_pairs)], verdicts[len(learn_pairs) :]

    # Rewards.
    rates = [learn_verdicts[i * n_learn : (i + 1) * n_learn] for i in range(len(learn_tasks))]
    rate_of = {id(t): [None if v.reason in EXECUTOR_FAILURES else v.score for v in vs] for t, vs in zip(learn_tasks, rates)}
    sequences: list[Sequence_] = []
    if cfg.train_proposer:
        for (t, prompt), c, task in zip(prompts, proposer_texts, valid_tasks):
            scores = rate_of.get(id(task), []) if task is not None else []
            r = proposer_reward(task is not None, format_ok(c.text), scores, cfg.code_io.proposer_extreme_reward)
            sequences.append(Sequence_(prompt, c, r, t, "propose"))
    trained = list(zip(solve_pairs, solve_verdicts))
    if cfg.train_on_learnability_samples:
        trained += zip(learn_pairs, learn_verdicts)
    for (task, c), v in trained:
        r = solver_reward(format_ok(c.text), v.correct)
        sequences.append(Sequence_(prompt_of[id(task)], c, r, task.type, "solve", task.id))
    sequences = apply_control(cfg, sequences, p.rng)

    new_tasks = {t: [x for (tt, _), x in zip(prompts, valid_tasks) if tt is t and x is not None] for t in types}
    solves = [(task, v.score) for (task, _), v in zip(solve_pairs, solve_verdicts) if v.reason not in EXECUTOR_FAILURES]
    stats = step_stats(types, prompts, valid_tasks, rates, solve_pairs, solve_verdicts, p.buffers)
    return StepOutcome(sequences, new_tasks, solves, stats)


def select_solver_tasks(cfg: AZRConfig, p: Players, t: TaskType, step: int) -> list[CodeTask]:
    """B tasks of type t from its buffer, drawn before this step's proposals are added; prompts over
    the length limit are dropped and the batch refilled (spec defect 9)."""
    return p.buffers[t].select_for_solver(cfg.batch_size, step, p.rng, cfg.solver_selection,
                                          keep=lambda task: solver_prompt_fits(cfg, p, task))


def solver_prompt_fits(cfg: AZRConfig, p: Players, task: CodeTask) -> bool:
    """Whether the task's solver prompt is within `max_prompt_tokens` and leaves the model room to answer."""
    limit = min(cfg.sampling.max_prompt_tokens, getattr(p.generator, "context_length", float("inf")) - 1)
    return len(p.tokenizer(solver_prompt(task, style=cfg.prompt_style))["input_ids"]) <= limit


def build_proposer_prompts(cfg: AZRConfig, p: Players, types: list[TaskType]):
    """B proposer prompts per type, as ((type, prompt) list, reference-program list).

    References that make a prompt too long are dropped one at a time (the reference re-samples)."""
    prompts, refs = [], []
    abd_ded = [p.buffers[t] for t in (TaskType.ABDUCTION, TaskType.DEDUCTION) if t in p.buffers]
    for t in types:
        for _ in range(cfg.batch_size):
            if t is TaskType.INDUCTION:
                ref = sample_programs(abd_ded, p.rng)
                shown = [ref] if ref is not None else []
            else:
                ref = None
                k = cfg.code_io.num_references if cfg.references else 0
                shown = p.buffers[t].sample_references(k, p.rng, cfg.reference_weighting)
            prompt = _fitting_prompt(cfg, p, t, shown)
            prompts.append((t, prompt))
            refs.append(ref)
    return prompts, refs


def _fitting_prompt(cfg: AZRConfig, p: Players, t: TaskType, shown: list[CodeTask]) -> str:
    while True:
        prompt = proposer_prompt(t, shown, style=cfg.prompt_style, banned_keywords=cfg.code_io.banned_keywords,
                                 num_inputs=cfg.code_io.num_inputs)
        if len(shown) <= (1 if t is TaskType.INDUCTION else 0) or len(p.tokenizer(prompt)["input_ids"]) <= cfg.sampling.max_prompt_tokens:
            return prompt
        shown = shown[:-1]


def parse_or_none(text: str, t: TaskType, ref: CodeTask | None, cfg: AZRConfig) -> Proposal | None:
    try:
        if t is TaskType.INDUCTION:
            if ref is None:
                return None
            return parse_proposal(text, t, program=ref.program, imports=ref.imports, num_inputs=cfg.code_io.num_inputs)
        return parse_proposal(text, t, num_inputs=cfg.code_io.num_inputs)
    except ParseError:
        return None


def _align(parsed: list[Proposal | None], validations) -> list[CodeTask | None]:
    """Map validations (one per parsed proposal) back onto all proposer slots."""
    it = iter(validations)
    out = []
    for x in parsed:
        v = next(it) if x is not None else None
        out.append(v.task if v is not None and v.valid else None)
    return out


def apply_control(cfg: AZRConfig, sequences: list[Sequence_], rng: random.Random) -> list[Sequence_]:
    """The equal-compute controls of learning claims (see `AZRConfig.control`)."""
    if cfg.control == "constant_proposer_reward":
        return [replace(s, reward=0.5) if s.role == "propose" and s.reward > -1 else s for s in sequences]
    if cfg.control == "shuffled_solver_rewards":
        by_type: dict[TaskType, list[int]] = defaultdict(list)
        for i, s in enumerate(sequences):
            if s.role == "solve":
                by_type[s.task_type].append(i)
        out = list(sequences)
        for idx in by_type.values():
            rewards = [sequences[i].reward for i in idx]
            rng.shuffle(rewards)
            for i, r in zip(idx, rewards):
                out[i] = replace(sequences[i], reward=r)
        return out
    return sequences


def step_stats(types, prompts, valid_tasks, rates, solve_pairs, solve_verdicts, buffers) -> dict[str, float]:
    stats: dict[str, float] = {}
    for t in types:
        name = t.long_name
        mine = [v for (tt, _), v in zip(prompts, valid_tasks) if tt is t]
        stats[f"propose/{name}/valid_rate"] = sum(v is not None for v in mine) / max(1, len(mine))
        solved = [v.correct for (task, _), v in zip(solve_pairs, solve_verdicts) if task.type is t]
        if solved:
            stats[f"solve/{name}/accuracy"] = sum(solved) / len(solved)
        stats[f"buffer/{name}/size"] = float(len(buffers[t]))
        stats[f"buffer/{name}/distinct_programs"] = float(buffers[t].distinct_programs())
    learn = [v.score for vs in rates for v in vs]
    if learn:
        stats["propose/learnability_solve_rate"] = sum(learn) / len(learn)
    return stats


# ---------------------------------------------------------------- the update


def update_batch(sequences: list[Sequence_], tokenizer):
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
        keys=[(s.task_type.long_name, s.role) for s in sequences],
    )


def commit_step(store: RunStore, buffers: dict[TaskType, TaskBuffer], outcome: StepOutcome, step: int) -> None:
    """Valid proposals enter their buffers; every trained sequence is kept as a rollout row."""
    for t, tasks in outcome.new_tasks.items():
        buffers[t].add(tasks, step=step)
    for task, score in outcome.solves:
        if task.id is not None:
            buffers[task.type].record_solves(task, 1, score)
    store.add_rollouts(
        Rollout(step, s.role, s.task_type.value, s.prompt, s.completion.text, s.reward, s.task_id)
        for s in outcome.sequences
    )


def seeded_torch(seed: int) -> None:
    random.seed(seed)
    torch.manual_seed(seed)
