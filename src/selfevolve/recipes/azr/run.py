"""A self-play run: `step.self_play_step` in the shared run shell (`recipes/shell.py`), with seeding,
held-out evaluation, the run store and exports.

Run directory (besides the shell's files):
    store.sqlite  tasks_<type>.jsonl (seed format)  tasks.parquet

Resume: besides the shell's checkpoint, the proposer/solver RNG is restored and the store is rolled
back to the checkpoint's step, so buffers hold exactly the entries they held when it was taken.
"""

from __future__ import annotations

import random
from contextlib import ExitStack
from pathlib import Path
from typing import Callable

from selfevolve.eval.code_io import sample_answers, score_answers, summarize, text_sampler
from selfevolve.recipes.azr.config import AZRConfig
from selfevolve.recipes.azr.heldout import heldout_tasks
from selfevolve.recipes.azr.step import PhaseTimer, Players, commit_step, self_play_step, update_batch
from selfevolve.recipes.models import load_policy, rollout_generator
from selfevolve.recipes.ranks import sharded_runner
from selfevolve.recipes.shell import RecipeRun, console, run_recipe
from selfevolve.report.html import Table
from selfevolve.report.run import Headline, Plot
from selfevolve.rl import Trainer
from selfevolve.sandbox import Sandbox
from selfevolve.store.db import RunStore
from selfevolve.store.export import export_parquet
from selfevolve.tasks.code_io import (
    TaskBuffer,
    TaskTable,
    TaskType,
    grow_seeds,
    import_seeds,
    read_seed_file,
    write_seed_file,
    zero_induction,
    zero_triplet,
)

TYPES = ("abduction", "deduction", "induction")
ROLES = ("propose", "solve")
EVAL_SEED = 1234


def run_azr(cfg: AZRConfig | None, run_dir: Path, resume: bool = False, overrides: list[str] = (),
            origin: dict | None = None) -> Path:
    """Train (or resume) a self-play run in `run_dir`; returns the path of its HTML report."""
    return run_recipe(AZRRun, cfg, run_dir, resume, overrides, origin)


class AZRRun(RecipeRun):
    title = "Absolute Zero self-play"
    config = AZRConfig
    headlines = tuple(
        Headline(f"eval/{t}/accuracy{suffix}", f"held-out accuracy, {'all types' if t == 'all' else t} ({mode})")
        for suffix, mode in (("", "greedy"), ("_t1", "T=1, mean of eval.samples answers")) for t in ("all", *TYPES)
    )
    plots = (
        Plot("held-out accuracy (greedy)", tuple(f"eval/{t}/accuracy" for t in (*TYPES, "all"))),
        Plot("held-out accuracy (mean of eval.samples answers at T=1)", tuple(f"eval/{t}/accuracy_t1" for t in (*TYPES, "all"))),
        Plot("reward per (type, role)", (*(f"reward/mean/{t}/{r}" for t in TYPES for r in ROLES), "reward/mean")),
        Plot("advantage spread per (type, role)", tuple(f"advantage/std/{t}/{r}" for t in TYPES for r in ROLES)),
        Plot("valid-proposal rate", tuple(f"propose/{t}/valid_rate" for t in TYPES)),
        Plot("solve rates", (*(f"solve/{t}/accuracy" for t in TYPES), "propose/learnability_solve_rate")),
        Plot("buffer size and diversity (distinct programs)", tuple(f"buffer/{t}/{m}" for t in TYPES for m in ("size", "distinct_programs"))),
        Plot("seconds per step by phase", ("time/generation", "time/sandbox", "time/update", "time/eval")),
    )
    columns = (
        ("reward", "reward/mean"),
        *((f"valid {t[0]}", f"propose/{t}/valid_rate") for t in TYPES),
        *((f"solve {t[0]}", f"solve/{t}/accuracy") for t in TYPES),
        ("held-out", "eval/all/accuracy"), ("gen s", "time/generation"), ("box s", "time/sandbox"), ("upd s", "time/update"),
    )

    def __init__(self, cfg: AZRConfig, run_dir: Path):
        super().__init__(cfg, run_dir)
        self.model, self.tokenizer, reference = load_policy(cfg.model, cfg.device, cfg.rl)
        generator = rollout_generator(cfg.generator, cfg.model, self.model, self.tokenizer,
                                      cfg.sampling.generation_batch_size, cfg.vllm)
        self.engine = generator if cfg.generator == "vllm" else None
        self._resources = ExitStack()
        self.store = self._resources.enter_context(RunStore(run_dir / "store.sqlite"))
        buffers = {t: TaskBuffer(self.store, t) for t in TaskType}
        self.trainer = Trainer(self.model, cfg.rl, ref_model=reference)
        sandbox = sharded_runner(self._resources.enter_context(
            Sandbox(cfg.code_io.sandbox_config(**({"workers": cfg.sandbox_workers} if cfg.sandbox_workers else {})))))
        self.players = Players(generator, self.tokenizer, sandbox, buffers, random.Random(cfg.seed), cfg.chat_template)

    # ------------------------------------------------------------ the shell's hooks

    def start(self) -> None:
        """Fill the buffers before step 1 (entries tagged step 0)."""
        cfg, p = self.cfg, self.players
        with console.status(f"seeding buffers ({cfg.seeding})"):
            triplets, induction = seed_tasks(cfg, p)
        for t in (TaskType.ABDUCTION, TaskType.DEDUCTION):
            p.buffers[t].add(triplets[: cfg.seed_buffer_size], step=0)
        p.buffers[TaskType.INDUCTION].add(induction[: cfg.seed_buffer_size], step=0)
        console.print(f"seed buffers: {len(triplets)} triplets, {len(induction)} induction entries")

    def step(self, step: int) -> dict[str, float]:
        timer = PhaseTimer()
        outcome = self_play_step(self.cfg, self.players, step, timer)
        with timer("update"):
            metrics = self.trainer.step(update_batch(outcome.sequences, self.tokenizer)) if outcome.sequences else {}
        commit_step(self.store, self.players.buffers, outcome, step)
        return {**metrics, **outcome.stats, **{f"time/{k}": v for k, v in timer.seconds.items()}}

    def evaluate(self, step: int) -> dict[str, float]:
        timer = PhaseTimer()
        with timer("eval"), console.status(f"held-out evaluation at step {step}"):
            metrics = evaluate_generator(self.players.generator, heldout_tasks(self.cfg), self.players.sandbox, self.cfg,
                                         self.players.render)
        metrics["time/eval"] = timer.seconds["eval"]
        console.print(f"step {step} held-out: " + ", ".join(
            f"{k.removeprefix('eval/')} {v:.3f}" for k, v in metrics.items() if k.startswith("eval/")))
        return metrics

    def state(self) -> dict:
        return {"rng": self.players.rng.getstate()}

    def restore(self, state: dict, step: int) -> None:
        self.players.rng.setstate(state["rng"])
        self.store.rollback_to(step)
        console.print(f"buffers at step {step}: {sum(len(b) for b in self.players.buffers.values())} tasks")

    def logged(self, step: int, metrics: dict[str, float]) -> None:
        self.store.add_metrics(step, metrics)

    def finish(self) -> None:
        for t, buf in self.players.buffers.items():
            write_seed_file(self.dir / f"tasks_{t.long_name}.jsonl", buf.tasks())
        export_parquet(self.store, "tasks", self.dir / "tasks.parquet")

    def report_tables(self, records: list[dict]) -> list[Table]:
        samples = [
            {"step": r["step"], "type": r["buffer"], "program": r["program"], "inputs": r["inputs"], "outputs": r["outputs"],
             "message": r["message"], "solve rate": (r["solved"] / r["attempts"]) if r["attempts"] else None}
            for r in TaskTable(self.store).newest(30)
        ]
        return [Table("Sample proposed tasks (newest first)", samples)]

    def close(self) -> None:
        self._resources.close()


def seed_tasks(cfg: AZRConfig, p: Players):
    """(triplets, induction entries) for the initial buffers, by `cfg.seeding`."""
    if cfg.seeding == "zero":
        return [zero_triplet()], [zero_induction()]
    if cfg.seeding == "file":
        records = [t for f in cfg.seed_files for t in read_seed_file(f)]
        kept = import_seeds(records, p.sandbox, cfg.code_io).tasks
        triplets = [t for t in kept if t.type is not TaskType.INDUCTION]
        return triplets or [zero_triplet()], [t for t in kept if t.type is TaskType.INDUCTION] or [zero_induction()]
    sample = text_sampler(p.generator, cfg.sampling.proposer_max_new_tokens, cfg.sampling.top_p)
    generate = lambda prompts: [c[0] for c in sample([p.render(x) for x in prompts], 1, cfg.sampling.temperature)]  # noqa: E731
    triplets, induction = grow_seeds(
        generate, p.sandbox, config=cfg.code_io, target=cfg.seed_buffer_size, batch_size=cfg.batch_size,
        style=cfg.prompt_style, rng=p.rng,
    )
    return triplets, induction or [zero_induction()]


# ---------------------------------------------------------------- held-out evaluation


def evaluate_generator(generator, tasks: dict, sandbox, cfg: AZRConfig,
                       render: Callable[[str], str] | None = None) -> dict[str, float]:
    """Accuracy per task type on held-out tasks: greedy (`eval/<type>/accuracy`) and, with
    `eval.samples` = k, the mean over k answers sampled at T=1 (`accuracy_t1`) and pass@k. The
    sampling seed is fixed, so two checkpoints are compared on the same random numbers. `render`
    turns a solver prompt into the policy's text (`Players.render`; None = the prompt as it is)."""
    sample = text_sampler(generator, cfg.eval.max_new_tokens, cfg.sampling.top_p, seed=EVAL_SEED)

    def generate(prompts: list[str], n: int, temperature: float) -> list[list[str]]:
        return sample([render(p) for p in prompts] if render else prompts, n, temperature)

    runs = [("", 1, 0.0)] + ([("_t1", cfg.eval.samples, 1.0)] if cfg.eval.samples else [])
    metrics = {}
    for suffix, n, temperature in runs:
        answers = sample_answers(tasks, generate, n=n, temperature=temperature, style=cfg.prompt_style)
        for kind, s in summarize(score_answers(tasks, answers, sandbox, cfg.code_io)).items():
            metrics[f"eval/{kind}/accuracy{suffix}"] = s.accuracy
            if temperature > 0:
                metrics[f"eval/{kind}/pass@{n}"] = s.pass_at_n
    return metrics
