"""Recipe configuration: a preset, then a YAML file, then `key=value` overrides, validated by pydantic.

Each recipe defines one pydantic model whose fields document their meaning and the paper's value.
This module only layers the sources and turns validation failures into messages that name the
field and the fix.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import TypeVar

import yaml
from pydantic import BaseModel, ValidationError

C = TypeVar("C", bound=BaseModel)


class ConfigError(ValueError):
    """A config that cannot be used; the message says which field and what to do."""


def preset_names(recipe: str) -> list[str]:
    """Names of the shipped presets of a recipe (files `configs/<recipe>_<name>.yaml`)."""
    prefix = f"{recipe}_"
    files = resources.files("selfevolve.configs").iterdir()
    return sorted(f.name[len(prefix) : -5] for f in files if f.name.startswith(prefix) and f.name.endswith(".yaml"))


def _preset_dict(recipe: str, preset: str) -> dict:
    path = resources.files("selfevolve.configs") / f"{recipe}_{preset}.yaml"
    if not path.is_file():
        raise ConfigError(f"unknown preset {preset!r} for {recipe}; choose one of {preset_names(recipe)}")
    return yaml.safe_load(path.read_text()) or {}


def _file_dict(path: Path) -> dict:
    if not path.is_file():
        raise ConfigError(f"config file {path} does not exist; pass the path of a YAML file")
    try:
        data = yaml.safe_load(path.read_text()) or {}
    except yaml.YAMLError as e:
        raise ConfigError(f"config file {path} is not valid YAML: {e}") from e
    if not isinstance(data, dict):
        raise ConfigError(f"config file {path} must hold a mapping of field: value, not {type(data).__name__}")
    return data


def _set_dotted(data: dict, key: str, value: object) -> None:
    *parents, leaf = key.split(".")
    node = data
    for p in parents:
        node = node.setdefault(p, {})
        if not isinstance(node, dict):
            raise ConfigError(f"override {key!r}: {p!r} is not a section")
    node[leaf] = value


def apply_overrides(data: dict, overrides: list[str]) -> dict:
    """Apply `section.field=value` strings; values are read as YAML (so 3, 0.5, true, [a, b] work)."""
    for item in overrides:
        key, sep, raw = item.partition("=")
        if not sep or not key:
            raise ConfigError(f"override {item!r} must look like field=value (e.g. trainer.lr=1e-6)")
        _set_dotted(data, key.strip(), yaml.safe_load(raw))
    return data


def _deep_merge(base: dict, extra: dict) -> dict:
    out = dict(base)
    for k, v in extra.items():
        out[k] = _deep_merge(out[k], v) if isinstance(v, dict) and isinstance(out.get(k), dict) else v
    return out


def load_config(
    cls: type[C], recipe: str, preset: str | None = None, path: Path | None = None, overrides: list[str] = ()
) -> C:
    """Build `cls` from a preset, a YAML file and overrides (later sources win)."""
    data: dict = _preset_dict(recipe, preset) if preset else {}
    if path is not None:
        data = _deep_merge(data, _file_dict(path))
    return validate_config(cls, apply_overrides(data, list(overrides)))


def validate_config(cls: type[C], data: dict) -> C:
    """`cls` from a plain mapping; a validation failure becomes a ConfigError naming each bad field."""
    try:
        return cls.model_validate(data)
    except ValidationError as e:
        raise ConfigError(_explain(e)) from e


def _explain(e: ValidationError) -> str:
    lines = ["invalid config:"]
    for err in e.errors():
        where = ".".join(str(p) for p in err["loc"]) or "(top level)"
        lines.append(f"  {where}: {err['msg']} (got {err.get('input')!r})")
    lines.append("fix the field in your YAML file or with `--set field=value`")
    return "\n".join(lines)


def dump_config(cfg: BaseModel, path: Path) -> None:
    path.write_text(yaml.safe_dump(cfg.model_dump(mode="json"), sort_keys=False))
