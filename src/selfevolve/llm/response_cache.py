"""An on-disk cache of HTTP generation responses, keyed by endpoint + request body."""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from pathlib import Path
from typing import Any


class ResponseCache:
    """One JSON file per request; writes are atomic, so concurrent writers never leave torn files."""

    def __init__(self, directory: str | os.PathLike):
        self.directory = Path(directory)
        self.directory.mkdir(parents=True, exist_ok=True)

    def _path(self, endpoint: str, payload: dict[str, Any]) -> Path:
        key = hashlib.sha256(json.dumps([endpoint, payload], sort_keys=True).encode()).hexdigest()
        return self.directory / f"{key}.json"

    def get(self, endpoint: str, payload: dict[str, Any]) -> dict[str, Any] | None:
        path = self._path(endpoint, payload)
        try:
            return json.loads(path.read_text())
        except (FileNotFoundError, json.JSONDecodeError):
            return None

    def put(self, endpoint: str, payload: dict[str, Any], response: dict[str, Any]) -> None:
        path = self._path(endpoint, payload)
        fd, tmp = tempfile.mkstemp(dir=self.directory, suffix=".tmp")
        with os.fdopen(fd, "w") as f:
            json.dump(response, f)
        os.replace(tmp, path)
