"""The options every recipe command shares, and the one way they start or resume a run.

A recipe command is a typer function with these five options that calls `start_or_resume`:

    def my(preset=preset_option("my"), config=config_option(), set_=set_option("steps=20"),
           out=out_option("my"), resume=resume_option()):
        from selfevolve.recipes.my import MyConfig, run_my
        start_or_resume("my", MyConfig, run_my, preset, config, set_, out, resume)

A new run is built from the preset, the YAML file and the `--set` overrides (later wins). A resumed
run reads its saved config.yaml and applies `--set` to it; fields the recipe does not allow to
change on resume are refused with the field's name and the reason.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import typer

from selfevolve.cli.errors import usage_exit
from selfevolve.config import ConfigError, load_config, preset_names

DEFAULT_PRESET = "tiny"


def preset_option(recipe: str):
    return typer.Option(None, help=f"Shipped preset: one of {', '.join(preset_names(recipe))} (default {DEFAULT_PRESET}).")


def config_option():
    return typer.Option(None, "--config", "-c", help="YAML file layered over the preset.")


def set_option(example: str):
    return typer.Option(
        [], "--set", "-s",
        help=f"Override a field, e.g. --set {example}. With --resume it changes the saved config; a field the run "
             "must keep (model, seed, trainer settings...) is refused by name.",
    )


def out_option(recipe: str):
    return typer.Option(None, "--out", "-o", help=f"Run directory for a new run (default runs/{recipe}).")


def resume_option():
    return typer.Option(None, help="Continue the run in this directory from its newest checkpoint (after Ctrl-C, "
                                   "kill -9, or to extend it with --set steps=N).")


def start_or_resume(recipe: str, config_cls: type, run: Callable[..., Path], preset: str | None, config: Path | None,
                    overrides: list[str], out: Path | None, resume: Path | None) -> None:
    """Start a new run of `recipe` in `out`, or resume the one in `resume`; prints the report's path.

    `run(cfg, run_dir, resume=False, overrides=(), origin=None)` is the recipe's run function.
    """
    from selfevolve.recipes.rundir import RunDirError

    try:
        if resume is not None:
            given = [name for name, value in (("--preset", preset), ("--config", config), ("--out", out)) if value]
            if given:
                raise ConfigError(f"{' and '.join(given)} do not apply with --resume: the run's saved config.yaml is "
                                  "used and the run stays in its directory; change fields with --set")
            report = run(None, resume, resume=True, overrides=list(overrides))
        else:
            preset = preset or DEFAULT_PRESET
            cfg = load_config(config_cls, recipe, preset, config, overrides)
            origin = {"preset": preset, "config_file": str(config) if config else None, "overrides": list(overrides)}
            report = run(cfg, out or Path("runs") / recipe, origin=origin)
    except (ConfigError, RunDirError) as e:
        raise usage_exit(e) from e
    if os.environ.get("RANK", "0") == "0":  # under torchrun, said by rank 0 alone
        typer.echo(f"report: {report}")
