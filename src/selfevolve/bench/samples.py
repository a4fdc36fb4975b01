"""samples.jsonl: one JSON object per sample, appended batch by batch so that a killed run loses at
most the batch it was writing.

Each batch is written with one `write`, then flushed and fsynced. A run killed during that write can
leave a torn last line (no newline at its end); `repair` cuts it off before a resume appends more.
"""

from __future__ import annotations

import json
import os
from collections import Counter
from pathlib import Path

from selfevolve.store.jsonl import read_jsonl


class SamplesFileError(ValueError):
    """A samples file that cannot be read; the message names the line and the fix."""


def append(path: Path, records: list[dict]) -> None:
    """Append records as lines, durably (flush + fsync) before returning."""
    data = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records).encode("utf-8")
    with open(path, "ab") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())


def repair(path: Path) -> int:
    """Cut a torn last line (one without its newline) off the file; returns the bytes removed."""
    if not path.exists():
        return 0
    data = path.read_bytes()
    if not data or data.endswith(b"\n"):
        return 0
    keep = data.rfind(b"\n") + 1
    with open(path, "r+b") as f:
        f.truncate(keep)
        f.flush()
        os.fsync(f.fileno())
    return len(data) - keep


def read(path: Path) -> list[dict]:
    """Every record, in file order. Each must be a JSON object with a string `task_id`."""
    records = []
    for number, record, error in read_jsonl(path):
        if error is not None:
            raise SamplesFileError(f"{path}:{number} {error}; one JSON object per line is expected")
        if not isinstance(record.get("task_id"), str):
            raise SamplesFileError(f"{path}:{number} has no string `task_id`; each line needs task_id and "
                                   f"solution or completion (EvalPlus's samples format)")
        records.append(record)
    return records


def by_task(records: list[dict]) -> dict[str, list[dict]]:
    """Records grouped per task, each group in file order."""
    groups: dict[str, list[dict]] = {}
    for r in records:
        groups.setdefault(r["task_id"], []).append(r)
    return groups


def done_counts(records: list[dict]) -> Counter:
    """Samples already present per task; a (task, index) pair written twice is an error."""
    seen: set[tuple[str, int]] = set()
    for r in records:
        key = (r["task_id"], r.get("index"))
        if key in seen:
            raise SamplesFileError(f"sample {key} appears twice in the samples file; it was not written by one run")
        seen.add(key)
    return Counter(r["task_id"] for r in records)
