"""Every model available by name: the shipped tiny models and the registry models, with where each stands."""

from __future__ import annotations

import json
import math
import struct
from dataclasses import dataclass
from pathlib import Path

from selfevolve.models.errors import PackageMissingError
from selfevolve.models.paths import is_prepared, prepared_dir
from selfevolve.models.registry import REGISTRY, RegistryModel
from selfevolve.models.shipped import SHIPPED_DIR, shipped_models
from selfevolve.models.sources import locate_parts


@dataclass(frozen=True)
class ModelEntry:
    name: str
    params: int
    size_bytes: int  # on disk: the directory when there is one, else the GGUF the registry package holds
    licence: str
    source: str
    status: str  # shipped | prepared | not prepared | not installed
    path: Path | None  # the directory load_model uses; None until prepared


def catalog() -> list[ModelEntry]:
    return [*(_shipped_entry(name) for name in shipped_models()), *(_registry_entry(m) for m in REGISTRY.values())]


def _shipped_entry(name: str) -> ModelEntry:
    directory = SHIPPED_DIR / name
    return ModelEntry(
        name=name,
        params=sum(_safetensors_params(f) for f in directory.glob("*.safetensors")),
        size_bytes=_dir_bytes(directory),
        licence="MIT",
        source=f"trained here (`selfevolve tiny rebuild {name}`)",
        status="shipped",
        path=directory,
    )


def _registry_entry(model: RegistryModel) -> ModelEntry:
    if is_prepared(model.name):
        status, path, size = "prepared", prepared_dir(model.name), _dir_bytes(prepared_dir(model.name))
    else:
        path, size = None, model.gguf_bytes
        try:
            locate_parts(model)
            status = "not prepared"
        except PackageMissingError:
            status = "not installed"
    return ModelEntry(model.name, model.params, size, model.licence, f"PyPI {_packages(model)} (GGUF)", status, path)


def _packages(model: RegistryModel) -> str:
    """`a==1`, or `a-part1 … a-part6 ==1` for a run of parts that share a version."""
    first, last = model.parts[0], model.parts[-1]
    if len(model.parts) > 2 and all(p.version == first.version for p in model.parts):
        return f"{first.distribution} … {last.distribution} =={first.version}"
    return ", ".join(model.requirements)


def _safetensors_params(path: Path) -> int:
    """Parameter count from a safetensors header (8-byte length, then JSON), without loading tensors."""
    with path.open("rb") as f:
        (length,) = struct.unpack("<Q", f.read(8))
        header = json.loads(f.read(length))
    return sum(math.prod(t["shape"]) for key, t in header.items() if key != "__metadata__")


def _dir_bytes(directory: Path) -> int:
    return sum(f.stat().st_size for f in directory.rglob("*") if f.is_file())
