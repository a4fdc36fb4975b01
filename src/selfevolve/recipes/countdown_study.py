"""The priming study in miniature: conditions × seeds of (SFT priming, then RL), one report.

Study directory:

    config.yaml  summary.json  report.html
    <condition>/seed<k>/sft/model   the primed checkpoint (absent for "none"; <condition>/sft/ when
                                    priming.per_seed is false and one SFT serves every seed)
    <condition>/seed<k>/rl/         a `countdown_zero` run directory

A condition listed in `shuffled_control` is run a second time as `<condition>+shuffled`, with the
RL rewards shuffled across each step's rollouts (equal compute, no reward signal). Rerunning with
`resume` skips finished runs, continues unfinished RL runs from their checkpoints and redoes SFT
that did not finish. Held-out test problems are one fixed split, removed from RL and priming data.
"""

from __future__ import annotations

import io
import json
import shutil
import statistics
from pathlib import Path

import matplotlib.pyplot as plt
import torch
from rich.console import Console
from transformers import AutoTokenizer

from selfevolve.behaviors.types import BEHAVIORS
from selfevolve.llm.loading import resolve_model_path
from selfevolve.recipes.countdown_config import StudyConfig
from selfevolve.recipes.countdown_zero import run_countdown, split_problems
from selfevolve.recipes.priming import prime, priming_records
from selfevolve.recipes.rundir import checkpoints, prepare
from selfevolve.report.html import Figure, Report, Table, write_report
from selfevolve.store.metrics import read_metrics

SHUFFLED = "+shuffled"
console = Console()


def arms(cfg: StudyConfig) -> list[str]:
    """Condition labels in run order: the conditions, then the shuffled-reward controls."""
    return [*cfg.conditions, *(c + SHUFFLED for c in cfg.shuffled_control)]


def run_study(cfg: StudyConfig | None, out: Path, resume: bool = False) -> Path:
    """Run (or continue) every condition × seed; returns the study report's path."""
    cfg = prepare(StudyConfig, cfg, out, resume)
    if cfg.rl.torch_threads:  # SFT runs in this process before each RL run sets it again
        torch.set_num_threads(cfg.rl.torch_threads)
    _, test = split_problems(cfg.rl.data)
    for seed in cfg.seeds:  # seed-major: a study stopped early still covers every condition
        for arm in arms(cfg):
            _run_one(cfg, arm, seed, out / arm / f"seed{seed}", test)
    return write_study_report(out, cfg)


def _run_one(cfg: StudyConfig, arm: str, seed: int, where: Path, test) -> None:
    rl_dir = where / "rl"
    if (rl_dir / "report.html").is_file():
        return
    condition = arm.removesuffix(SHUFFLED)
    model = cfg.rl.model
    if condition != "none":
        sft_seed, sft_dir = (seed, where / "sft") if cfg.priming.per_seed else (0, where.parent / "sft")
        model = str(_primed(cfg, condition, sft_seed, sft_dir, test))
    rl = cfg.rl.model_copy(update={"model": model, "seed": seed,
                                   "control": "shuffled_rewards" if arm.endswith(SHUFFLED) else cfg.rl.control})
    console.rule(f"{arm} seed {seed}: RL")
    resume = bool(checkpoints(rl_dir)) if rl_dir.is_dir() else False
    if rl_dir.is_dir() and not resume:  # stopped before its first checkpoint: start it again
        shutil.rmtree(rl_dir)
    run_countdown(rl, rl_dir, resume=resume)


def _primed(cfg: StudyConfig, condition: str, seed: int, sft_dir: Path, test) -> Path:
    """The primed checkpoint, trained now unless an earlier run finished it (marked by `done`)."""
    if (sft_dir / "done").is_file():
        return sft_dir / "model"
    console.rule(f"{condition} seed {seed}: SFT priming")
    tokenizer = AutoTokenizer.from_pretrained(resolve_model_path(cfg.rl.model))
    count = lambda text: len(tokenizer(text, add_special_tokens=False)["input_ids"]) + 1  # noqa: E731 - + EOS
    records = priming_records(condition, cfg.priming, test, count)
    model_dir = prime(cfg.rl.model, records, cfg.priming, sft_dir, seed, cfg.rl.device)
    (sft_dir / "done").write_text("")
    return model_dir


# ---------------------------------------------------------------- the report


def _curves(out: Path, arm: str, seeds: list[int], key: str) -> dict[int, list[float]]:
    """step -> values over the seeds that logged `key` at that step."""
    curves: dict[int, list[float]] = {}
    for seed in seeds:
        for r in read_metrics(out / arm / f"seed{seed}" / "rl" / "metrics.jsonl"):
            if key in r:
                curves.setdefault(r["step"], []).append(r[key])
    return curves


def _mean_sd(values: list[float]) -> tuple[float, float]:
    return statistics.fmean(values), statistics.stdev(values) if len(values) > 1 else 0.0


def band_plot(out: Path, cfg: StudyConfig, key: str, title: str) -> Figure | None:
    """Mean over seeds per condition, shaded ± one standard deviation."""
    fig, ax = plt.subplots(figsize=(6.4, 3.6), dpi=100)
    drawn = 0
    for arm in arms(cfg):
        curves = _curves(out, arm, cfg.seeds, key)
        if not curves:
            continue
        steps = sorted(curves)
        means, sds = zip(*(_mean_sd(curves[s]) for s in steps))
        ax.plot(steps, means, marker="o", markersize=3, label=arm)
        ax.fill_between(steps, [m - s for m, s in zip(means, sds)], [m + s for m, s in zip(means, sds)], alpha=0.15)
        drawn += 1
    if not drawn:
        plt.close(fig)
        return None
    ax.set_title(title)
    ax.set_xlabel("RL step")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7)
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    plt.close(fig)
    return Figure(title, buf.getvalue())


def summarize(out: Path, cfg: StudyConfig) -> list[dict]:
    """Per condition: first and last evaluation (mean ± sd over seeds) of accuracy and behaviours."""
    rows = []
    for arm in arms(cfg):
        row: dict = {"condition": arm}
        for key in ("eval/accuracy_greedy", "eval/accuracy_t1", *(f"eval/behavior/{b}" for b in BEHAVIORS),
                    "eval/response_chars_t1"):
            curves = _curves(out, arm, cfg.seeds, key)
            if not curves:
                continue
            first, last = min(curves), max(curves)
            name = key.removeprefix("eval/")
            row[f"{name} start"] = _mean_sd(curves[first])
            row[f"{name} end"] = _mean_sd(curves[last])
            row["seeds"], row["last step"] = len(curves[last]), last
        rows.append(row)
    return rows


def write_study_report(out: Path, cfg: StudyConfig) -> Path:
    rows = summarize(out, cfg)
    (out / "summary.json").write_text(json.dumps(rows, indent=1))
    shown = [{k: (f"{v[0]:.3f} ± {v[1]:.3f}" if isinstance(v, tuple) else v) for k, v in r.items()} for r in rows]
    figures = [
        band_plot(out, cfg, "eval/accuracy_t1", "test accuracy, 1 sample at T=1 (mean ± sd over seeds)"),
        band_plot(out, cfg, "eval/accuracy_greedy", "test accuracy, greedy (mean ± sd over seeds)"),
        band_plot(out, cfg, "train/accuracy", "training-rollout accuracy (mean ± sd over seeds)"),
        *(band_plot(out, cfg, f"eval/behavior/{b}", f"{b} per test completion (rules, T=1)") for b in BEHAVIORS),
        band_plot(out, cfg, "eval/response_chars_t1", "test response length, chars (T=1)"),
    ]
    report = Report(
        title=f"Countdown priming study: {out.name}",
        summary={"conditions": arms(cfg), "seeds": cfg.seeds, "config": (out / "config.yaml").read_text()},
        figures=[f for f in figures if f is not None],
        tables=[Table("Summary: first → last evaluation, mean ± sd over seeds", shown)],
    )
    return write_report(report, out / "report.html")
