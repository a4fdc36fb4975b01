"""The shipped AZR seed files as sandbox jobs, and the compatibility study over them.

Used by `selfevolve sandbox demo`, the throughput benchmark and docs/sandbox.md: every record is run
(in a sandbox with the family's settings, `CodeIOConfig().sandbox_config()`) and its fresh output
compared with the recorded one; each difference gets a reason. Importing the seeds as training tasks
is `seeds.import_seeds`.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from importlib import resources

from selfevolve.sandbox.compare import reprs_equal
from selfevolve.sandbox.types import Job, Result, Status

SEED_PACKAGE = "selfevolve.data.azr_seeds"


@dataclass(frozen=True)
class SeedRecord:
    file: str
    line: int
    job: Job
    recorded: list[str]


def seed_files() -> list[str]:
    return sorted(p.name for p in resources.files(SEED_PACKAGE).iterdir() if p.name.endswith(".jsonl"))


def load_seeds(files: list[str] | None = None) -> Iterator[SeedRecord]:
    """Both schemas: `input`/`output` (abduction/deduction) and `inputs`/`outputs` (induction)."""
    root = resources.files(SEED_PACKAGE)
    for name in files or seed_files():
        for n, line in enumerate(root.joinpath(name).read_text(encoding="utf-8").splitlines(), 1):
            if not line.strip():
                continue
            rec = json.loads(line)
            inputs = rec["inputs"] if "inputs" in rec else [rec["input"]]
            outputs = rec["outputs"] if "outputs" in rec else [rec["output"]]
            job = Job(id=f"{name}:{n}", program=rec["snippet"], inputs=list(inputs), imports=list(rec.get("imports", [])))
            yield SeedRecord(name, n, job, list(outputs))


def classify(seed: SeedRecord, result: Result) -> str:
    """Why a fresh run does or does not reproduce the recorded output (one reason per record)."""
    if result.status is Status.OK:
        if result.outputs == seed.recorded:
            return "reproduced exactly"
        pairs = list(zip(seed.recorded, result.outputs))
        if all(reprs_equal(r, o) for r, o in pairs):
            return "same value, recorded text not a repr (e.g. double quotes)"
        if any(r == "" for r, _ in pairs):
            return "recorded output empty ('')"
        if any(len(r) == 403 and "..." in r and len(o) > 400 for r, o in pairs):
            return "recorded output truncated to 400 chars"
        return "different output"
    if result.status is Status.RUNTIME_ERROR and "memory address" in result.error:
        return "output is not a value (memory address: generator/object)"
    if result.status is Status.NONDETERMINISTIC:
        return "nondeterministic (hash/set order or similar)"
    return f"{result.status.value}: {result.error.split(':')[0][:60]}"


def study(results: list[tuple[SeedRecord, Result]]) -> dict[str, Counter]:
    """Reason counts per seed file."""
    out: dict[str, Counter] = {}
    for seed, result in results:
        out.setdefault(seed.file, Counter())[classify(seed, result)] += 1
    return out
