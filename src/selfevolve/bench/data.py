"""Where benchmark data comes from: the one place that resolves a data file.

`dataset_path(rel)` looks first in the package (`selfevolve/data/benchmarks/<rel>`, the sets we may
redistribute), then in the user's data directory (`--data-dir`, or the `SELFEVOLVE_BENCH_DATA`
environment variable). `rel` follows the layout of the shared benchmark folder, e.g.
``evalplus/HumanEvalPlus-v0.1.10.jsonl.gz`` or ``math/aime24/test.jsonl``.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import os
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent.parent / "data" / "benchmarks"
DATA_DIR_ENV = "SELFEVOLVE_BENCH_DATA"
CACHE_DIR_ENV = "SELFEVOLVE_CACHE_DIR"


class DataNotFound(FileNotFoundError):
    """A benchmark file is in neither the package nor the data directory; the message says how to fix it."""


def dataset_path(rel: str, data_dir: str | os.PathLike | None = None) -> Path:
    """The file (or folder) `rel`: the package's copy, else the one under `data_dir` (default:
    $SELFEVOLVE_BENCH_DATA)."""
    data_dir = data_dir if data_dir is not None else os.environ.get(DATA_DIR_ENV)
    candidates = [PACKAGE_DIR / rel] + ([Path(data_dir).expanduser() / rel] if data_dir else [])
    for path in candidates:
        if path.exists():
            return path
    where = " or ".join(str(p) for p in candidates)
    raise DataNotFound(
        f"benchmark file {rel} not found (looked in {where}); pass --data-dir DIR (or set {DATA_DIR_ENV}) "
        f"with DIR/{rel} in the layout of the benchmark data folder (see docs/bench.md, 'Data')"
    )


def read_jsonl(path: Path) -> list[dict]:
    """Every JSON object of a .jsonl or .jsonl.gz file (blank lines skipped)."""
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt", encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def cache_dir() -> Path:
    """Where computed artefacts (EvalPlus expected outputs) are kept: $SELFEVOLVE_CACHE_DIR, else
    $XDG_CACHE_HOME/selfevolve/bench, else ~/.cache/selfevolve/bench."""
    if os.environ.get(CACHE_DIR_ENV):
        return Path(os.environ[CACHE_DIR_ENV]).expanduser()
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return base / "selfevolve" / "bench"
