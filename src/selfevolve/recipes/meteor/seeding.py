"""Sampling seeds derived from the run's seed, the step and the batch's first question, so a rerun
of a stage from scratch draws the same samples (and an endpoint may cache them)."""

from __future__ import annotations

import zlib


def seed_for(seed: int, *keys: object) -> int:
    return zlib.crc32("\x1f".join(map(str, (seed, *keys))).encode()) & 0x7FFFFFFF
