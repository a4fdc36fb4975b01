"""The tiny models shipped inside this package (trained here by `selfevolve tiny rebuild`)."""

from __future__ import annotations

from pathlib import Path

SHIPPED_DIR = Path(__file__).resolve().parent


def shipped_models() -> list[str]:
    """Names of the tiny models shipped in the package (`tiny-coder`, `tiny-countdown`)."""
    return sorted(p.name for p in SHIPPED_DIR.iterdir() if (p / "config.json").is_file())
