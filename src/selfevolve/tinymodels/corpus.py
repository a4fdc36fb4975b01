"""Corpus files for tiny-model pretraining: JSONL, one document per line as {"text": ...}."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Iterable


def read_corpus(path: str | Path) -> list[str]:
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"corpus file {path} not found; pass a JSONL file with one {{\"text\": ...}} per line")
    docs = []
    for lineno, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            docs.append(json.loads(line)["text"])
        except (json.JSONDecodeError, KeyError, TypeError) as e:
            raise ValueError(f"{path}:{lineno}: expected a JSON object with a \"text\" field ({e})") from None
    if not docs:
        raise ValueError(f"corpus file {path} holds no documents")
    return docs


def write_corpus(path: str | Path, docs: Iterable[str]) -> int:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    n = 0
    with path.open("w", encoding="utf-8") as f:
        for doc in docs:
            f.write(json.dumps({"text": doc}) + "\n")
            n += 1
    return n
