"""A self-play run around `azr.self_play_step`: set-up, seeding, resume, checkpoints, evaluation,
live progress, report and exports.

Run directory:
    config.yaml  store.sqlite  metrics.jsonl  tensorboard/  checkpoints/step_NNNNNN/  report.html
    tasks_<type>.jsonl (seed format)  tasks.parquet  model/ (the final policy, save_pretrained)

Resume (also after kill -9): the newest complete checkpoint is loaded (model, optimiser, scheduler,
RNG states, step) and the store is rolled back to its step, so buffers hold exactly the entries they
held when the checkpoint was taken. Checkpoints are written to `*.partial` and renamed when complete.
"""

from __future__ import annotations

import random
import sys
from dataclasses import dataclass
from pathlib import Path

import torch
from rich.console import Console
from rich.live import Live
from rich.table import Table

from selfevolve.eval.code_io import HELDOUT_TINY, load_tasks, sample_answers, score_answers, summarize, text_sampler
from selfevolve.llm.transformers_backend import TransformersGenerator
from selfevolve.recipes.azr.step import PhaseTimer, Players, commit_step, self_play_step, update_batch
from selfevolve.recipes.azr_config import AZRConfig
from selfevolve.recipes.models import load_policy
from selfevolve.recipes.rundir import load_latest, prepare, save_checkpoint, truncate_jsonl
from selfevolve.report.html import Report, Table as ReportTable, line_plot, write_report
from selfevolve.rl import Trainer
from selfevolve.sandbox import Sandbox
from selfevolve.store.db import RunStore
from selfevolve.store.export import export_parquet
from selfevolve.store.metrics import MetricsLogger, read_metrics
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

console = Console(width=None if sys.stdout.isatty() else 140)  # logs keep the whole step table


@dataclass
class Run:
    cfg: AZRConfig
    dir: Path
    players: Players
    trainer: Trainer
    store: RunStore
    logger: MetricsLogger


# ---------------------------------------------------------------- entry point


def run_azr(cfg: AZRConfig | None, run_dir: Path, resume: bool = False) -> Path:
    """Train (or resume) a self-play run in `run_dir`; returns the path of its HTML report."""
    cfg = prepare(AZRConfig, cfg, run_dir, resume)
    if cfg.threads:
        torch.set_num_threads(cfg.threads)
    random.seed(cfg.seed)
    torch.manual_seed(cfg.seed)
    model, tokenizer, reference = load_policy(cfg.model, cfg.device, cfg.rl)
    generator = TransformersGenerator(model, tokenizer, batch_size=cfg.sampling.generation_batch_size)
    store = RunStore(run_dir / "store.sqlite")
    buffers = {t: TaskBuffer(store, t) for t in TaskType}
    trainer = Trainer(model, cfg.rl, ref_model=reference)
    with Sandbox(cfg.code_io.sandbox_config(**({"workers": cfg.sandbox_workers} if cfg.sandbox_workers else {}))) as sandbox:
        players = Players(generator, tokenizer, sandbox, buffers, random.Random(cfg.seed))
        run = Run(cfg, run_dir, players, trainer, store, MetricsLogger(run_dir))
        try:
            start = _restore(run) if resume else _seed(run)
            _train(run, start)
        finally:
            run.logger.close()
    model.save_pretrained(run_dir / "model")
    tokenizer.save_pretrained(run_dir / "model")
    _export(run)
    report = write_azr_report(run_dir, store)
    store.close()
    return report


# ---------------------------------------------------------------- seeding and resume


def _seed(run: Run) -> int:
    """Fill the buffers before step 1 (entries tagged step 0) and evaluate the starting model."""
    cfg, p = run.cfg, run.players
    with console.status(f"seeding buffers ({cfg.seeding})"):
        triplets, induction = _seed_tasks(cfg, p)
    for t in (TaskType.ABDUCTION, TaskType.DEDUCTION):
        p.buffers[t].add(triplets[: cfg.seed_buffer_size], step=0)
    p.buffers[TaskType.INDUCTION].add(induction[: cfg.seed_buffer_size], step=0)
    console.print(f"seed buffers: {len(triplets)} triplets, {len(induction)} induction entries")
    _evaluate(run, 0)
    _checkpoint(run, 0)
    return 0


def _seed_tasks(cfg: AZRConfig, p: Players):
    if cfg.seeding == "zero":
        return [zero_triplet()], [zero_induction()]
    if cfg.seeding == "file":
        records = [t for f in cfg.seed_files for t in read_seed_file(f)]
        kept = import_seeds(records, p.sandbox, cfg.code_io).tasks
        triplets = [t for t in kept if t.type is not TaskType.INDUCTION]
        return triplets or [zero_triplet()], [t for t in kept if t.type is TaskType.INDUCTION] or [zero_induction()]
    sample = text_sampler(p.generator, cfg.sampling.proposer_max_new_tokens, cfg.sampling.top_p)
    generate = lambda prompts: [c[0] for c in sample(prompts, 1, cfg.sampling.temperature)]  # noqa: E731
    triplets, induction = grow_seeds(
        generate, p.sandbox, config=cfg.code_io, target=cfg.seed_buffer_size, batch_size=cfg.batch_size,
        style=cfg.prompt_style, rng=p.rng,
    )
    return triplets, induction or [zero_induction()]


def _checkpoint(run: Run, step: int) -> None:
    save_checkpoint(run.dir, run.trainer, step, {"rng": run.players.rng.getstate()})


def _restore(run: Run) -> int:
    state = load_latest(run.dir, run.trainer)
    run.players.rng.setstate(state["rng"])
    step = state["step"]
    run.store.rollback_to(step)
    truncate_jsonl(run.dir / "metrics.jsonl", step)
    console.print(f"resumed {run.dir} at step {step} ({sum(len(b) for b in run.players.buffers.values())} buffered tasks)")
    return step


# ---------------------------------------------------------------- the loop


def _train(run: Run, start: int) -> None:
    cfg = run.cfg
    rows: list[dict] = []
    with Live(_table(rows), console=console, refresh_per_second=2) as live:
        for step in range(start + 1, cfg.steps + 1):
            timer = PhaseTimer()
            live.console.print(f"[dim]step {step}/{cfg.steps}: self-play[/dim]")
            outcome = self_play_step(cfg, run.players, step, timer)
            with timer("update"):
                metrics = run.trainer.step(update_batch(outcome.sequences, run.players.tokenizer)) if outcome.sequences else {}
            commit_step(run.store, run.players.buffers, outcome, step)
            metrics = {**metrics, **outcome.stats, **{f"time/{k}": v for k, v in timer.seconds.items()}}
            if cfg.eval.every and step % cfg.eval.every == 0 or step == cfg.steps:
                metrics.update(_evaluate(run, step, log=False))
            run.logger.log(step, metrics)
            run.store.add_metrics(step, metrics)
            if step % cfg.checkpoint_every == 0 or step == cfg.steps:
                _checkpoint(run, step)
            rows.append({"step": step, **metrics})
            live.update(_table(rows))


def _table(rows: list[dict]) -> Table:
    """The live per-step summary: rewards, valid-proposal and solve rates per type, held-out, timings."""
    table = Table(title="Absolute Zero self-play (valid = proposals, solve = solver accuracy; a/d/i = types)")
    cols = [("step", "step"), ("reward", "reward/mean"),
            *[(f"valid {t[0]}", f"propose/{t}/valid_rate") for t in ("abduction", "deduction", "induction")],
            *[(f"solve {t[0]}", f"solve/{t}/accuracy") for t in ("abduction", "deduction", "induction")],
            ("held-out", "eval/all/accuracy"), ("gen s", "time/generation"), ("box s", "time/sandbox"),
            ("upd s", "time/update")]
    for name, _ in cols:
        table.add_column(name, justify="right", no_wrap=True)
    for r in rows[-15:]:
        table.add_row(*[_fmt(r.get(key)) for _, key in cols])
    return table


def _fmt(v) -> str:
    if v is None:
        return "-"
    return f"{v:.2f}" if isinstance(v, float) else str(v)


# ---------------------------------------------------------------- evaluation, exports, report


EVAL_SEED = 1234


def heldout_tasks(cfg: AZRConfig) -> dict:
    tasks = load_tasks(HELDOUT_TINY if cfg.eval.tasks == "heldout_tiny" else cfg.eval.tasks)
    allowed = {TaskType.parse(t) for t in cfg.task_types}
    tasks = {k: t for k, t in tasks.items() if t.type in allowed}
    return dict(list(tasks.items())[: cfg.eval.limit]) if cfg.eval.limit else tasks


def evaluate_generator(generator, tasks: dict, sandbox, cfg: AZRConfig) -> dict[str, float]:
    """Accuracy per task type on held-out tasks: greedy (`eval/<type>/accuracy`) and, with
    `eval.samples` = k, the mean over k answers sampled at T=1 (`accuracy_t1`) and pass@k. The
    sampling seed is fixed, so two checkpoints are compared on the same random numbers."""
    generate = text_sampler(generator, cfg.eval.max_new_tokens, cfg.sampling.top_p, seed=EVAL_SEED)
    runs = [("", 1, 0.0)] + ([("_t1", cfg.eval.samples, 1.0)] if cfg.eval.samples else [])
    metrics = {}
    for suffix, n, temperature in runs:
        answers = sample_answers(tasks, generate, n=n, temperature=temperature, style=cfg.prompt_style)
        for kind, s in summarize(score_answers(tasks, answers, sandbox, cfg.code_io)).items():
            metrics[f"eval/{kind}/accuracy{suffix}"] = s.accuracy
            if temperature > 0:
                metrics[f"eval/{kind}/pass@{n}"] = s.pass_at_n
    return metrics


def _evaluate(run: Run, step: int, log: bool = True) -> dict[str, float]:
    timer = PhaseTimer()
    with timer("eval"), console.status(f"held-out evaluation at step {step}"):
        metrics = evaluate_generator(run.players.generator, heldout_tasks(run.cfg), run.players.sandbox, run.cfg)
    metrics["time/eval"] = timer.seconds["eval"]
    console.print(f"step {step} held-out: " + ", ".join(f"{k.removeprefix('eval/')} {v:.3f}" for k, v in metrics.items() if k.startswith("eval/")))
    if log:
        run.logger.log(step, metrics)
        run.store.add_metrics(step, metrics)
    return metrics


def _export(run: Run) -> None:
    for t, buf in run.players.buffers.items():
        write_seed_file(run.dir / f"tasks_{t.long_name}.jsonl", buf.tasks())
    export_parquet(run.store, "tasks", run.dir / "tasks.parquet")


def write_azr_report(run_dir: Path, store: RunStore) -> Path:
    records = read_metrics(run_dir / "metrics.jsonl")
    types = ("abduction", "deduction", "induction")
    roles = ("propose", "solve")
    plots = [
        line_plot(records, [f"eval/{t}/accuracy" for t in (*types, "all")], "held-out accuracy (greedy)"),
        line_plot(records, [f"eval/{t}/accuracy_t1" for t in (*types, "all")], "held-out accuracy (mean of eval.samples answers at T=1)"),
        line_plot(records, [f"reward/mean/{t}/{r}" for t in types for r in roles] + ["reward/mean"], "reward per (type, role)"),
        line_plot(records, [f"advantage/std/{t}/{r}" for t in types for r in roles], "advantage spread per (type, role)"),
        line_plot(records, [f"propose/{t}/valid_rate" for t in types], "valid-proposal rate"),
        line_plot(records, [f"solve/{t}/accuracy" for t in types] + ["propose/learnability_solve_rate"], "solve rates"),
        line_plot(records, [f"buffer/{t}/{m}" for t in types for m in ("size", "distinct_programs")],
                  "buffer size and diversity (distinct programs)"),
        line_plot(records, ["time/generation", "time/sandbox", "time/update", "time/eval"], "seconds per step by phase"),
    ]
    samples = [
        {"step": r["step"], "type": r["buffer"], "program": r["program"], "inputs": r["inputs"], "outputs": r["outputs"],
         "message": r["message"], "solve rate": (r["solved"] / r["attempts"]) if r["attempts"] else None}
        for r in TaskTable(store).newest(30)
    ]
    last = records[-1] if records else {}
    report = Report(
        title=f"Absolute Zero self-play: {run_dir.name}",
        summary={"steps": last.get("step"), **{k: v for k, v in last.items() if k.startswith("eval/")},
                 "config": (run_dir / "config.yaml").read_text()},
        figures=[f for f in plots if f is not None],
        tables=[ReportTable("Sample proposed tasks (newest first)", samples)],
    )
    return write_report(report, run_dir / "report.html")
