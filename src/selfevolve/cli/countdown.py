"""`selfevolve countdown`: score completions, generate problems, solve a problem."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Optional

import typer
from rich.console import Console

from selfevolve.cli.runs import config_option, out_option, preset_option, resume_option, set_option, start_or_resume
from selfevolve.tasks.countdown import (
    PRESETS,
    generate_problems,
    problem_from_record,
    score,
    solve,
)
from selfevolve.store.jsonl import read_jsonl, write_jsonl

app = typer.Typer(help="Countdown: reach a target with + - * / using each number once.", no_args_is_help=True)
console = Console(stderr=True)


def _score_line(record: dict, mode: str) -> dict:
    if not isinstance(record.get("completion"), str):
        raise ValueError("record needs a string field `completion` (the text after the prompt)")
    problem = problem_from_record(record)
    reward, verdict = score(record["completion"], problem, mode=mode, prompt=record.get("prompt"))
    return {**record, "reward": reward, "verdict": verdict.value}


@app.command("score")
def score_cmd(
    file: Path = typer.Argument(..., exists=True, dir_okay=False, help="JSONL with nums, target, completion."),
    out: Optional[Path] = typer.Option(None, "-o", "--out", help="Write records with reward and verdict here."),
    compat: bool = typer.Option(False, "--compat", help="Reproduce TinyZero's reward, loopholes included."),
) -> None:
    """Score model completions; prints the mean reward.

    Example: selfevolve countdown score outputs.jsonl -o scored.jsonl

    Malformed lines are reported and written back with verdict "malformed" and reward 0,
    so every input record is accounted for.
    """
    mode = "tinyzero_compat" if compat else "hardened"
    scored, rewards, malformed = [], [], 0
    for number, record, error in read_jsonl(file):
        if error is None:
            try:
                scored.append(_score_line(record, mode))
                rewards.append(scored[-1]["reward"])
                continue
            except (ValueError, TypeError) as exc:
                error = str(exc)
        malformed += 1
        console.print(f"[yellow]{file}:{number}: {error}[/yellow]")
        scored.append({**(record or {}), "line": number, "reward": 0.0, "verdict": "malformed", "error": error})
    if out is not None:
        write_jsonl(scored, out)
    mean = sum(rewards) / len(rewards) if rewards else 0.0
    typer.echo(f"scored {len(rewards)} records, {malformed} malformed; mean reward {mean:.4f} ({mode})")


@app.command("generate")
def generate_cmd(
    n: int = typer.Option(..., "-n", min=0, help="Number of problems."),
    seed: int = typer.Option(42, "--seed", help="Random seed (problems are reproducible from it)."),
    out: Path = typer.Option(..., "-o", "--out", help="Output JSONL ({target, nums, solution})."),
    preset: str = typer.Option("priming", "--preset", help=f"One of {sorted(PRESETS)}."),
) -> None:
    """Generate solvable problems.

    Example: selfevolve countdown generate -n 1000 --seed 42 -o tasks.jsonl --preset priming
    """
    if preset not in PRESETS:
        raise typer.BadParameter(f"unknown preset {preset!r}; choose one of {sorted(PRESETS)}.")
    problems = generate_problems(n, seed, preset)
    write_jsonl((p.to_record() for p in problems), out)
    typer.echo(f"wrote {len(problems)} problems to {out}")


@app.command("solve")
def solve_cmd(
    nums: str = typer.Argument(..., help='Numbers, e.g. "3,7,25,50" or "[3, 7, 25, 50]".'),
    target: int = typer.Argument(..., help="Target value."),
    limit: Optional[int] = typer.Option(None, "--limit", help="Print at most this many solutions."),
) -> None:
    """List every solution (distinct up to reordering/regrouping of + and *).

    Example: selfevolve countdown solve 4,4,10,10 24
    """
    try:
        values = [int(v) for v in json.loads(nums if nums.strip().startswith("[") else f"[{nums}]")]
    except (ValueError, TypeError) as exc:
        raise typer.BadParameter(f"NUMS must be comma-separated integers like 3,7,25,50 ({exc}).") from exc
    solutions = solve(values, target, limit=limit)
    for expression in solutions:
        typer.echo(expression)
    typer.echo(f"{len(solutions)} solution(s)", err=True)


@app.command("train")
def train_cmd(
    preset: Optional[str] = preset_option("countdown"),
    config: Optional[Path] = config_option(),
    set_: list[str] = set_option("steps=20 --set rl.learning_rate=1e-5"),
    out: Optional[Path] = out_option("countdown"),
    resume: Optional[Path] = resume_option(),
) -> None:
    """R1-Zero-style RL on Countdown from a base model (GRPO, or PPO with a critic), with held-out evaluation.

    Examples:

      selfevolve countdown train                                   # tiny-countdown, GRPO, CPU

      selfevolve countdown train --preset tiny-ppo --out runs/cd-ppo

      selfevolve countdown train --resume runs/countdown --set steps=60

      selfevolve countdown train --preset qwen2.5-3b --set model=/path/to/Qwen2.5-3B
    """
    from selfevolve.recipes.countdown.config import CountdownConfig
    from selfevolve.recipes.countdown.run import run_countdown

    start_or_resume("countdown", CountdownConfig, run_countdown, preset, config, set_, out, resume)


@app.command("study")
def study_cmd(
    preset: Optional[str] = preset_option("countdown-study"),
    config: Optional[Path] = config_option(),
    set_: list[str] = set_option("seeds=[0] --set rl.steps=10"),
    out: Optional[Path] = out_option("countdown-study"),
    resume: Optional[Path] = resume_option(),
) -> None:
    """The priming study in miniature: per condition and seed, SFT on synthetic traces (none: no SFT), then RL.

    Writes a report with accuracy and behaviour curves per condition (mean ± sd over seeds) and a summary table.

    Examples:

      selfevolve countdown study --out runs/study                  # 5 conditions x 3 seeds on CPU

      selfevolve countdown study --set 'conditions=\\[none, all_strategies]' --set 'seeds=\\[0]'

      selfevolve countdown study --resume runs/study               # finished runs are kept

      selfevolve countdown study --resume runs/study --set 'seeds=\\[0, 1, 2, 3]'
    """
    from selfevolve.recipes.countdown.config import StudyConfig
    from selfevolve.recipes.countdown.study import run_study

    start_or_resume("countdown-study", StudyConfig, run_study, preset, config, set_, out, resume)
