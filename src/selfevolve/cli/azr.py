"""`selfevolve azr`: Absolute Zero self-play, the main job."""

from __future__ import annotations

from pathlib import Path

import typer

from selfevolve.cli.errors import usage_exit
from selfevolve.config import ConfigError, load_config


def azr(
    preset: str = typer.Option("tiny", help="Shipped preset: tiny (CPU, default), qwen2.5-coder-3b, qwen2.5-coder-7b."),
    config: Path | None = typer.Option(None, "--config", "-c", help="YAML file layered over the preset."),
    out: Path = typer.Option(Path("runs/azr"), "--out", "-o", help="Run directory (config, store, checkpoints, report)."),
    resume: Path | None = typer.Option(None, help="Continue the run in this directory from its newest checkpoint."),
    set_: list[str] = typer.Option([], "--set", "-s", help="Override a field, e.g. --set steps=20 --set rl.learning_rate=1e-5."),
) -> None:
    """Absolute Zero self-play: one model proposes code tasks, solves them, and learns from both.

    Examples:

      selfevolve azr                                  # tiny preset on CPU, ~10 minutes

      selfevolve azr --set seed=1 --out runs/azr-s1

      selfevolve azr --resume runs/azr                # after Ctrl-C or kill -9

      selfevolve azr --preset qwen2.5-coder-7b --set model=/path/to/Qwen2.5-Coder-7B
    """
    from selfevolve.recipes.azr_config import AZRConfig
    from selfevolve.recipes.azr_run import run_azr
    from selfevolve.recipes.rundir import RunDirError

    try:
        if resume is not None:
            report = run_azr(None, resume, resume=True)
        else:
            cfg = load_config(AZRConfig, "azr", preset, config, set_)
            report = run_azr(cfg, out)
    except (ConfigError, RunDirError) as e:
        raise usage_exit(e) from e
    typer.echo(f"report: {report}")
