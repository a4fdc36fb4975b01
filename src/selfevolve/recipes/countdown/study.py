"""The priming study in miniature: conditions × seeds of (SFT priming, then RL), one report.

Study directory:

    config.yaml  run.json  summary.json  report.html
    <condition>/seed<k>/sft/model   the primed checkpoint (absent for "none"; <condition>/sft/ when
                                    priming.per_seed is false and one SFT serves every seed)
    <condition>/seed<k>/rl/         a Countdown run directory (`countdown.run`)

A condition listed in `shuffled_control` is run a second time as `<condition>+shuffled`, with the
RL rewards shuffled across each step's rollouts (equal compute, no reward signal). Rerunning with
`resume` skips finished runs, continues unfinished RL runs from their checkpoints and redoes SFT
that did not finish; `--set` may then add conditions, seeds or controls (`StudyConfig.CHANGEABLE_ON_RESUME`). Held-out test problems are one fixed split, removed from RL and priming data.
"""

from __future__ import annotations

import json
import shutil
import statistics
from pathlib import Path

import torch
from transformers import AutoTokenizer

from selfevolve.behaviors.types import BEHAVIORS
from selfevolve.llm.loading import resolve_model_path
from selfevolve.recipes.countdown.config import StudyConfig
from selfevolve.recipes.countdown.priming import prime, priming_records
from selfevolve.recipes.countdown.run import run_countdown, split_problems
from selfevolve.recipes.rundir import checkpoints, prepare, record_origin
from selfevolve.recipes.shell import console
from selfevolve.report.html import Figure, Report, Table, write_report
from selfevolve.report.plots import finish, new_axes
from selfevolve.report.run import duration, origin_facts, signed
from selfevolve.store.metrics import read_metrics

SHUFFLED = "+shuffled"


def arms(cfg: StudyConfig) -> list[str]:
    """Condition labels in run order: the conditions, then the shuffled-reward controls."""
    return [*cfg.conditions, *(c + SHUFFLED for c in cfg.shuffled_control)]


def run_study(cfg: StudyConfig | None, out: Path, resume: bool = False, overrides: list[str] = (),
              origin: dict | None = None) -> Path:
    """Run (or continue) every condition × seed; returns the study report's path."""
    cfg = prepare(StudyConfig, cfg, out, resume, overrides)
    origin = record_origin(out, origin, resume, overrides)
    if cfg.rl.threads:  # SFT runs in this process before each RL run sets it again
        torch.set_num_threads(cfg.rl.threads)
    _, test = split_problems(cfg.rl.data)
    for seed in cfg.seeds:  # seed-major: a study stopped early still covers every condition
        for arm in arms(cfg):
            _run_one(cfg, arm, seed, out / arm / f"seed{seed}", test)
    return write_study_report(out, cfg, origin)


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
    curves = {arm: c for arm in arms(cfg) if (c := _curves(out, arm, cfg.seeds, key))}
    if not curves:
        return None
    fig, ax = new_axes()
    for arm, curve in curves.items():
        steps = sorted(curve)
        means, sds = zip(*(_mean_sd(curve[s]) for s in steps))
        ax.plot(steps, means, marker="o", markersize=4, label=arm)
        ax.fill_between(steps, [m - s for m, s in zip(means, sds)], [m + s for m, s in zip(means, sds)], alpha=0.15)
    return finish(fig, ax, title, "RL step")


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


def _headline(rows: list[dict]) -> list[dict]:
    """Per condition, test accuracy at the first and last evaluation (mean ± sd over seeds) and the change of the mean."""
    shown = []
    for r in rows:
        row = {"condition": r["condition"]}
        for name, label in (("accuracy_t1", "T=1"), ("accuracy_greedy", "greedy")):
            if f"{name} start" in r:
                (m0, s0), (m1, s1) = r[f"{name} start"], r[f"{name} end"]
                row |= {f"{label} start": f"{m0:.3f} ± {s0:.3f}", f"{label} end": f"{m1:.3f} ± {s1:.3f}",
                        f"{label} change": signed(m1 - m0)}
        shown.append(row | {"seeds": r.get("seeds"), "last step": r.get("last step")})
    return shown


def write_study_report(out: Path, cfg: StudyConfig, origin: dict | None = None) -> Path:
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
    facts = {"model": cfg.rl.model, **origin_facts(origin or {}), "conditions": ", ".join(arms(cfg)),
             "seeds": ", ".join(map(str, cfg.seeds)), "RL steps per run": cfg.rl.steps,
             "RL wall time, all runs": duration(_rl_seconds(out, cfg))}
    notes = []
    if cfg.shuffled_control:
        notes.append(f"Conditions ending in {SHUFFLED} are controls: the same RL with rewards shuffled across each "
                     "step's rollouts. A condition's change must clear its control's to count as learning.")
    report = Report(
        title=f"Countdown priming study: {out.name}", facts=facts, notes=notes,
        headline=Table("Headline figures: test accuracy, first → last evaluation, mean ± sd over seeds", _headline(rows)),
        figures=[f for f in figures if f is not None],
        tables=[Table("All figures, first and last evaluation, mean ± sd over seeds", shown)],
        config=(out / "config.yaml").read_text(),
    )
    return write_report(report, out / "report.html")


def _rl_seconds(out: Path, cfg: StudyConfig) -> float:
    """Wall seconds of the RL runs (their last `time/elapsed`), summed; SFT priming is not included."""
    total = 0.0
    for arm in arms(cfg):
        for seed in cfg.seeds:
            records = read_metrics(out / arm / f"seed{seed}" / "rl" / "metrics.jsonl")
            total += records[-1].get("time/elapsed", 0.0) if records else 0.0
    return total
