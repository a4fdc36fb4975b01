"""`selfevolve azr`: Absolute Zero self-play, the main job."""

from __future__ import annotations

from pathlib import Path

from selfevolve.cli.runs import config_option, out_option, preset_option, resume_option, set_option, start_or_resume


def azr(
    preset: str | None = preset_option("azr"),
    config: Path | None = config_option(),
    set_: list[str] = set_option("steps=20 --set rl.learning_rate=1e-5"),
    out: Path | None = out_option("azr"),
    resume: Path | None = resume_option(),
) -> None:
    """Absolute Zero self-play: one model proposes code tasks, solves them, and learns from both.

    Examples:

      selfevolve azr                                  # tiny preset on CPU, ~10 minutes

      selfevolve azr --set seed=1 --out runs/azr-s1

      selfevolve azr --resume runs/azr                # after Ctrl-C or kill -9

      selfevolve azr --resume runs/azr --set steps=60 # extend a finished run

      selfevolve azr --preset qwen2.5-coder-7b --set model=/path/to/Qwen2.5-Coder-7B
    """
    from selfevolve.recipes.azr.config import AZRConfig
    from selfevolve.recipes.azr.run import run_azr

    start_or_resume("azr", AZRConfig, run_azr, preset, config, set_, out, resume)
