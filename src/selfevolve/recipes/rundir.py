"""Run directories shared by the recipes: `config.yaml`, what may change on resume, and checkpoints.

A checkpoint is `checkpoints/step_NNNNNN/`: the trainer's state plus `recipe.pt` (the step and any
recipe state, e.g. a sampling RNG). It is written to `step_NNNNNN.partial` and renamed when complete,
so a run killed mid-write (kill -9) resumes from the newest complete one; the two newest are kept.

A resumed run continues the saved one, so only the fields its config class lists in
`CHANGEABLE_ON_RESUME` may change (length, cadence, resources); a change to any other field is
refused with the field's name and the reason, before anything is loaded.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Callable, TypeVar

import torch
import yaml
from pydantic import BaseModel

from selfevolve.config import ConfigError, apply_overrides, dump_config, validate_config
from selfevolve.rl.distributed import barrier, rank
from selfevolve.store.metrics import read_metrics

C = TypeVar("C", bound=BaseModel)
KEEP = 2


class RunDirError(ValueError):
    """A run directory that cannot be started or resumed as asked."""


def prepare(cls: type[C], cfg: C | None, run_dir: Path, resume: bool, overrides: list[str] = (),
            check: Callable[[C], None] = lambda cfg: None) -> C:
    """The run's config, written to `run_dir/config.yaml`.

    A new run takes `cfg`; a resumed run takes the saved config, or `cfg` when given. Either way
    `overrides` (`field=value`) are applied on top, e.g. `steps=200` to extend a finished run; on
    resume, fields outside `cls.CHANGEABLE_ON_RESUME` must keep their saved values. `check` may refuse
    the final config (by raising) before anything is written.
    """
    saved_path = run_dir / "config.yaml"
    if resume:
        if not saved_path.is_file():
            raise RunDirError(f"{run_dir} holds no run to resume (no config.yaml); start one with --out {run_dir}")
        saved = validate_config(cls, yaml.safe_load(saved_path.read_text()))
        wanted = (cfg or saved).model_dump(mode="json")
        cfg = validate_config(cls, apply_overrides(wanted, list(overrides)))
        check_resume_changes(saved, cfg, cls.CHANGEABLE_ON_RESUME)
        check(cfg)
        dump_config(cfg, saved_path)
        return cfg
    if saved_path.exists():
        raise RunDirError(f"{run_dir} already holds a run; continue it with --resume {run_dir} or pick another --out")
    if overrides:
        cfg = validate_config(cls, apply_overrides(cfg.model_dump(mode="json"), list(overrides)))
    check(cfg)
    run_dir.mkdir(parents=True, exist_ok=True)
    dump_config(cfg, saved_path)
    return cfg


def record_origin(run_dir: Path, origin: dict | None, resume: bool, overrides: list[str] = ()) -> dict:
    """`run.json`: how the run was made (`origin`: preset, config file, overrides, as the command
    line gave them) and the overrides of each resume. Returns the record."""
    path = run_dir / "run.json"
    record = json.loads(path.read_text()) if path.is_file() else {**(origin or {}), "resumes": []}
    if resume:
        record["resumes"].append(list(overrides))
    path.write_text(json.dumps(record, indent=1))
    return record


_FIXED_BECAUSE = {
    "eval": "the evaluations already logged used the saved value, so the run's first and last held-out "
            "figures would no longer measure the same thing",
}
_FIXED_BY_DEFAULT = ("what the run did so far used the saved value, and a resumed run continues that run "
                     "rather than starting a different one")


def check_resume_changes(saved: BaseModel, wanted: BaseModel, changeable: tuple[str, ...]) -> None:
    """Raise ConfigError naming the first changed field that is not in `changeable` (dotted paths;
    a section name covers all its fields) and why it must keep its saved value."""
    before, after = _leaves(saved.model_dump(mode="json")), _leaves(wanted.model_dump(mode="json"))
    for field in dict.fromkeys([*before, *after]):
        if before.get(field) == after.get(field) or any(field == c or field.startswith(c + ".") for c in changeable):
            continue
        sections = field.split(".")[:-1]
        why = next((_FIXED_BECAUSE[s] for s in sections if s in _FIXED_BECAUSE), _FIXED_BY_DEFAULT)
        raise ConfigError(
            f"cannot change {field} when resuming (saved {before.get(field)!r}, asked {after.get(field)!r}): {why}. "
            f"Fields that may change on resume: {', '.join(changeable)}. To change {field}, start a new run with --out."
        )


def _leaves(data: dict, prefix: str = "") -> dict[str, object]:
    """A nested mapping as {dotted path: value}."""
    flat: dict[str, object] = {}
    for key, value in data.items():
        if isinstance(value, dict):
            flat.update(_leaves(value, f"{prefix}{key}."))
        else:
            flat[f"{prefix}{key}"] = value
    return flat


def checkpoints(run_dir: Path) -> list[Path]:
    """Complete checkpoints, oldest first."""
    return sorted(p for p in (run_dir / "checkpoints").glob("step_*") if p.is_dir() and not p.name.endswith(".partial"))


def save_checkpoint(run_dir: Path, trainer, step: int, state: dict | None = None) -> Path:
    """Checkpoint `step`: the trainer's state and `state` (the recipe's, the same on every rank). Under a
    multi-process launch every rank calls it (the trainer gathers its tensors); rank 0 writes all but each
    rank's RNG file, and marks it complete once every rank's is in."""
    final = run_dir / "checkpoints" / f"step_{step:06d}"
    partial = final.with_name(final.name + ".partial")
    if rank() == 0:
        shutil.rmtree(partial, ignore_errors=True)
    barrier()
    trainer.save_checkpoint(partial)
    barrier()
    if rank() == 0:
        torch.save({"step": step, **(state or {})}, partial / "recipe.pt")
        partial.rename(final)
        for old in checkpoints(run_dir)[:-KEEP]:
            shutil.rmtree(old)
    barrier()
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
