"""Run directories shared by the recipes: `config.yaml`, checkpoints, and resume bookkeeping.

A checkpoint is `checkpoints/step_NNNNNN/`: the trainer's state plus `recipe.pt` (the step and any
recipe state, e.g. a sampling RNG). It is written to `step_NNNNNN.partial` and renamed when complete,
so a run killed mid-write (kill -9) resumes from the newest complete one; the two newest are kept.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import TypeVar

import torch
import yaml
from pydantic import BaseModel

from selfevolve.config import apply_overrides, dump_config
from selfevolve.store.metrics import read_metrics

C = TypeVar("C", bound=BaseModel)
KEEP = 2


class RunDirError(ValueError):
    """A run directory that cannot be started or resumed as asked."""


def prepare(cls: type[C], cfg: C | None, run_dir: Path, resume: bool, overrides: list[str] = ()) -> C:
    """The run's config: a new run writes `cfg` to config.yaml; a resumed one reads it back, with
    `overrides` applied (e.g. `steps=200` to extend a finished run)."""
    saved = run_dir / "config.yaml"
    if resume:
        if not saved.is_file():
            raise RunDirError(f"{run_dir} holds no run to resume (no config.yaml); start one with --out {run_dir}")
        cfg = cls.model_validate(apply_overrides(yaml.safe_load(saved.read_text()), list(overrides)))
        dump_config(cfg, saved)
        return cfg
    if saved.exists():
        raise RunDirError(f"{run_dir} already holds a run; continue it with --resume {run_dir} or pick another --out")
    run_dir.mkdir(parents=True, exist_ok=True)
    dump_config(cfg, saved)
    return cfg


def checkpoints(run_dir: Path) -> list[Path]:
    """Complete checkpoints, oldest first."""
    return sorted(p for p in (run_dir / "checkpoints").glob("step_*") if p.is_dir() and not p.name.endswith(".partial"))


def save_checkpoint(run_dir: Path, trainer, step: int, state: dict | None = None) -> Path:
    final = run_dir / "checkpoints" / f"step_{step:06d}"
    partial = final.with_name(final.name + ".partial")
    shutil.rmtree(partial, ignore_errors=True)
    trainer.save_checkpoint(partial)
    torch.save({"step": step, **(state or {})}, partial / "recipe.pt")
    partial.rename(final)
    for old in checkpoints(run_dir)[:-KEEP]:
        shutil.rmtree(old)
    return final


def load_latest(run_dir: Path, trainer) -> dict:
    """Restore the newest complete checkpoint into `trainer`; returns its recipe state (with `step`)."""
    ckpts = checkpoints(run_dir)
    if not ckpts:
        raise RunDirError(f"{run_dir} has no complete checkpoint yet; start it again with a fresh --out")
    trainer.load_checkpoint(ckpts[-1])
    return torch.load(ckpts[-1] / "recipe.pt", weights_only=False)


def truncate_jsonl(path: Path, step: int) -> None:
    """Drop records logged after `step` (they belong to work the resumed run redoes)."""
    if path.is_file():
        rows = [r for r in read_metrics(path) if r["step"] <= step]
        path.write_text("".join(json.dumps(r) + "\n" for r in rows))
