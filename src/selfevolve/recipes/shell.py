"""The run shell every recipe shares: run directory, loop, checkpoints, resume, metrics, final model, report.

A recipe is a config class, a step, and a `RecipeRun` subclass that wires them into this shell:

    class MyConfig(BaseModel):          # needs: model, device, seed, threads, steps, checkpoint_every,
        ...                             # eval.every, and CHANGEABLE_ON_RESUME (what --resume --set may change)

    class MyRun(RecipeRun):
        title = "My recipe"
        config = MyConfig
        headlines = (Headline("eval/accuracy", "held-out accuracy"),)   # the report's headline figures
        plots = (Plot("accuracy", ("eval/accuracy", "train/accuracy")),)
        columns = (("reward", "reward/mean"),)                          # the live table
        def __init__(self, cfg, run_dir): ...   # load self.model, self.tokenizer, self.trainer and the data
        def step(self, step): ...               # one iteration, update included -> its metrics
        def evaluate(self, step): ...           # held-out metrics

    def run_my(cfg, run_dir, resume=False, overrides=(), origin=None):
        return run_recipe(MyRun, cfg, run_dir, resume, overrides, origin)

and its command is a typer function with the five shared options of `selfevolve.cli.runs` that
calls `start_or_resume(...)` (see `cli/azr.py`). A recipe that samples from a separate engine holding
its own copy of the weights (`generator: vllm`) sets `self.engine`; the shell loads the policy's
weights into it after every step (before that step's evaluation) and after a resume. Optional hooks: `start` (before step 1 of a new
run), `state`/`restore` (recipe state checkpointed with the trainer), `logged` (another metrics
sink), `finish` (exports), `report_tables`, `close`.

Run directory:

    config.yaml  run.json (preset, overrides, resumes)  metrics.jsonl  tensorboard/
    checkpoints/step_NNNNNN/  model/ (the final policy, save_pretrained)  report.html  + the recipe's files
    ranks/rank<k>/ (under torchrun: the other ranks' working copies)

The loop: seed python and torch with `cfg.seed`, build the recipe, evaluate the starting model
(step 0) and checkpoint it; then for each step: `step`, `evaluate` every `eval.every` steps and at
the last, log, checkpoint every `checkpoint_every` steps and at the last. Resume (also after
kill -9): the newest complete checkpoint is loaded, metrics logged after it are dropped, and the
recipe restores its own state; `--set` may change only the config's `CHANGEABLE_ON_RESUME` fields.
`time/elapsed` is the wall time spent on the logged steps, summed over sessions.

Multi-process launches (`torchrun --nproc-per-node N -m selfevolve azr ...`: WORLD_SIZE > 1) run the
recipe on every rank in step, with generation and sandbox work split over the ranks and one training
batch split by the trainer; rank 0 owns the run directory (see `recipes/ranks.py`).
"""

from __future__ import annotations

import random
import sys
import time
from abc import ABC, abstractmethod
from pathlib import Path
from typing import ClassVar

import torch
from pydantic import BaseModel
from rich.console import Console
from rich.live import Live
from rich.table import Table as LiveTable
from transformers.utils import logging as hf_logging

from selfevolve.recipes.ranks import working_dir
from selfevolve.recipes.rundir import RunDirError, load_latest, prepare, record_origin, save_checkpoint, truncate_jsonl
from selfevolve.report.html import Table, write_report
from selfevolve.report.run import Headline, Plot, run_report
from selfevolve.rl.distributed import barrier, from_rank0, init_distributed, rank, world_size
from selfevolve.store.metrics import MetricsLogger, read_metrics

console = Console(width=None if sys.stdout.isatty() else 140)  # logs keep the whole step table


class RecipeRun(ABC):
    """One recipe's live state during a run: its model, trainer and data, and the hooks the shell calls."""

    title: ClassVar[str]
    config: ClassVar[type[BaseModel]]
    headlines: ClassVar[tuple[Headline, ...]] = ()
    plots: ClassVar[tuple[Plot, ...]] = ()
    columns: ClassVar[tuple[tuple[str, str], ...]] = ()  # (header, metric key) of the live table

    model: object  # set by __init__: the policy, saved to model/ at the end
    tokenizer: object
    trainer: object  # selfevolve.rl.Trainer
    engine: object | None = None  # a VLLMGenerator whose weights follow trainer.policy (None: sampling uses the policy)

    def __init__(self, cfg, run_dir: Path):
        self.cfg = cfg
        self.dir = run_dir

    def start(self) -> None:
        """Before the starting model's evaluation of a new run (e.g. seed the task buffers)."""

    @abstractmethod
    def step(self, step: int) -> dict[str, float]:
        """One iteration, update included; returns its metrics."""

    @abstractmethod
    def evaluate(self, step: int) -> dict[str, float]:
        """Held-out metrics of the current policy."""

    def state(self) -> dict:
        """Recipe state to checkpoint with the trainer (e.g. a sampling RNG)."""
        return {}

    def restore(self, state: dict, step: int) -> None:
        """Return to checkpoint `step`; `state` is what `state()` returned then."""

    def logged(self, step: int, metrics: dict[str, float]) -> None:
        """Called after each metrics record is logged (e.g. to keep it in a run store too)."""

    def finish(self) -> None:
        """After the final model is saved: exports."""

    def report_tables(self, records: list[dict]) -> list[Table]:
        return []

    def close(self) -> None:
        """Release what `__init__` opened (sandbox, store)."""


def run_recipe(kind: type[RecipeRun], cfg: BaseModel | None, run_dir: Path, resume: bool = False,
               overrides: list[str] = (), origin: dict | None = None) -> Path:
    """Train (or resume) a run of `kind` in `run_dir`; returns the path of its HTML report.

    `cfg` is the new run's config (on resume: None for the saved one); `overrides` are `field=value`
    strings applied on top; `origin` says how the config was made (preset, file, overrides) for the report.
    """
    init_distributed()
    cfg, origin = from_rank0(lambda: _prepare(kind, cfg, run_dir, resume, overrides, origin))
    own_dir = working_dir(run_dir)
    console.quiet = rank() > 0  # one live table, rank 0's
    hf_logging.disable_progress_bar()
    if cfg.threads:
        torch.set_num_threads(cfg.threads)
    random.seed(cfg.seed)  # the same on every rank: their recipes make the same draws
    torch.manual_seed(cfg.seed)
    run = kind(cfg, own_dir)
    try:
        logger = _Logger(run, MetricsLogger(own_dir))
        try:
            start = _restore(run, logger, run_dir) if resume else _start(run, logger, run_dir)
            _train(run, logger, start, run_dir)
        finally:
            logger.close()
        _save_model(run, run_dir / "model")
        run.finish()
        report = write_run_report(run, origin) if rank() == 0 else run_dir / "report.html"
        barrier()
        return report
    finally:
        run.close()


def _prepare(kind: type[RecipeRun], cfg, run_dir: Path, resume: bool, overrides, origin) -> tuple[BaseModel, dict]:
    """The run's config and origin record, written to `run_dir` (on rank 0 only)."""
    cfg = prepare(kind.config, cfg, run_dir, resume, overrides, check=_check_launch)
    return cfg, record_origin(run_dir, origin, resume, overrides)


def _check_launch(cfg: BaseModel) -> None:
    if world_size() > 1 and getattr(cfg, "generator", None) == "vllm":
        raise RunDirError(
            f"generator=vllm under a {world_size()}-process launch: the vLLM engine is not distributed over ranks yet. "
            "Use generator=transformers (each rank samples its share from its policy), or launch one process"
        )


def _save_model(run: RecipeRun, path: Path) -> None:
    """The final policy in transformers' format, with its tokenizer; under FSDP the weights are gathered first."""
    sharded = getattr(run.trainer, "sharded", False)
    state = run.trainer.full_policy_state_dict() if sharded else None  # a collective under FSDP; rank 0 holds it
    if rank() == 0:
        if state is not None and run.trainer.policy is not run.model:  # PEFT: the LoRA layers sit inside run.model
            state = {name.removeprefix("base_model.model."): tensor for name, tensor in state.items()}
        run.model.save_pretrained(path, **({"state_dict": state} if state is not None else {}))
        run.tokenizer.save_pretrained(path)
    barrier()


class _Logger:
    """Logs a step's metrics with the wall time spent so far (`time/elapsed`), to every sink."""

    def __init__(self, run: RecipeRun, metrics: MetricsLogger):
        self.run, self.metrics = run, metrics
        self.before = 0.0  # wall seconds of earlier sessions
        self.started = time.perf_counter()

    def log(self, step: int, metrics: dict[str, float]) -> None:
        metrics["time/elapsed"] = self.before + time.perf_counter() - self.started
        self.metrics.log(step, metrics)
        self.run.logged(step, metrics)

    def close(self) -> None:
        self.metrics.close()


def _start(run: RecipeRun, logger: _Logger, home: Path) -> int:
    run.start()
    logger.log(0, run.evaluate(0))
    _checkpoint(run, home, 0)
    return 0


def _restore(run: RecipeRun, logger: _Logger, home: Path) -> int:
    state = load_latest(home, run.trainer)
    step = state.pop("step")
    truncate_jsonl(run.dir / "metrics.jsonl", step)
    logger.before = max((r.get("time/elapsed", 0.0) for r in read_metrics(run.dir / "metrics.jsonl")), default=0.0)
    run.restore(state, step)
    _sync_engine(run)
    console.print(f"resumed {run.dir} at step {step}")
    return step


def _sync_engine(run: RecipeRun) -> float:
    """Load the policy's current weights into the run's generation engine, if it has one; the seconds it took."""
    if run.engine is None:
        return 0.0
    started = time.perf_counter()
    run.engine.load_weights(run.trainer.policy)
    return time.perf_counter() - started


def _checkpoint(run: RecipeRun, home: Path, step: int) -> None:
    """A checkpoint in `home` (rank 0's run directory), written by every rank together."""
    save_checkpoint(home, run.trainer, step, run.state())


def _train(run: RecipeRun, logger: _Logger, start: int, home: Path) -> None:
    cfg = run.cfg
    rows: list[dict] = []
    with Live(_table(run, rows), console=console, refresh_per_second=2) as live:
        for step in range(start + 1, cfg.steps + 1):
            live.console.print(f"[dim]step {step}/{cfg.steps}[/dim]")
            metrics = run.step(step)
            if run.engine is not None:
                metrics["time/weight_sync"] = _sync_engine(run)
            if cfg.eval.every and step % cfg.eval.every == 0 or step == cfg.steps:
                metrics.update(run.evaluate(step))
            logger.log(step, metrics)
            if step % cfg.checkpoint_every == 0 or step == cfg.steps:
                _checkpoint(run, home, step)
            rows.append({"step": step, **metrics})
            live.update(_table(run, rows))
            if not console.is_terminal:  # a log file gets no live updates: one line per step
                live.console.print("  ".join(f"{name} {_fmt(metrics.get(key))}" for name, key in run.columns))


def _table(run: RecipeRun, rows: list[dict]) -> LiveTable:
    """The live per-step summary of the last 15 steps, in the recipe's columns."""
    table = LiveTable(title=run.title)
    cols = [("step", "step"), *run.columns]
    for name, _ in cols:
        table.add_column(name, justify="right", no_wrap=True)
    for r in rows[-15:]:
        table.add_row(*[_fmt(r.get(key)) for _, key in cols])
    return table


def _fmt(v) -> str:
    if v is None:
        return "-"
    return f"{v:.2f}" if isinstance(v, float) else str(v)


def write_run_report(run: RecipeRun, origin: dict) -> Path:
    records = read_metrics(run.dir / "metrics.jsonl")
    report = run_report(
        f"{run.title}: {run.dir.name}", run.cfg.model_dump(mode="json"), (run.dir / "config.yaml").read_text(),
        origin, records, run.headlines, run.plots, run.report_tables(records),
    )
    return write_report(report, run.dir / "report.html")
