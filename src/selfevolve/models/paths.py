"""Where prepared registry models live: `SELFEVOLVE_HOME/models/NAME/`."""

from __future__ import annotations

import os
from pathlib import Path


def selfevolve_home() -> Path:
    """`$SELFEVOLVE_HOME`, else the user cache directory (`$XDG_CACHE_HOME/selfevolve`, `~/.cache/selfevolve`)."""
    if home := os.environ.get("SELFEVOLVE_HOME"):
        return Path(home).expanduser()
    cache = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(cache).expanduser() / "selfevolve"


def models_home() -> Path:
    return selfevolve_home() / "models"


def prepared_dir(name: str) -> Path:
    """The directory `selfevolve models prepare NAME` writes (it may not exist yet)."""
    return models_home() / name


def is_prepared(name: str) -> bool:
    """True once prepare has finished: it renames a complete directory into place, so existence suffices."""
    return (prepared_dir(name) / "config.json").is_file()
