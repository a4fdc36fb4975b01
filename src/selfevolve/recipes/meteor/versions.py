"""Model directories that are written once: a new version goes to `<dir>.partial`, then is renamed.

The reference fine-tuned with the output directory set to the model it was loading from, so a
failed save destroyed the only copy (docs/spec/meteor.md §8.4). Here every trained model gets a new directory, a
directory is complete exactly when it exists under its final name, and none is ever replaced.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path

MANIFEST = "meteor.json"


def save_new(final: Path, write: Callable[[Path], None], manifest: dict) -> Path:
    """Call `write(partial)` to fill a new directory, add `manifest` (what it was trained from and on),
    then rename it to `final`. Refuses a `final` that exists."""
    if final.exists():
        raise FileExistsError(f"{final} already exists and model directories are never overwritten; "
                              f"remove it yourself or use another --out")
    partial = final.with_name(final.name + ".partial")
    shutil.rmtree(partial, ignore_errors=True)
    partial.parent.mkdir(parents=True, exist_ok=True)
    write(partial)
    (partial / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n")
    partial.rename(final)
    return final


def is_complete(path: Path) -> bool:
    return (path / MANIFEST).is_file() and not path.name.endswith(".partial")


def manifest(path: Path) -> dict:
    return json.loads((path / MANIFEST).read_text())


def versions(root: Path) -> list[Path]:
    """The complete versions `root/v001`, `root/v002`, ..., oldest first."""
    return sorted(p for p in root.glob("v[0-9][0-9][0-9]") if is_complete(p))


def next_version(root: Path) -> Path:
    done = versions(root)
    return root / f"v{int(done[-1].name[1:]) + 1 if done else 1:03d}"


def write_model(policy, tokenizer, directory: Path, log: list[dict]) -> None:
    """Save a trained model (in bf16 when it trained under bf16 autocast on a GPU, else as it is), its
    tokenizer, and its training log (`train_log.jsonl`)."""
    import torch

    policy.eval()
    if policy.device.type == "cuda" and torch.cuda.is_bf16_supported():
        policy.to(torch.bfloat16)
    policy.save_pretrained(directory)
    tokenizer.save_pretrained(directory)
    (directory / "train_log.jsonl").write_text("".join(json.dumps(r) + "\n" for r in log))
