"""Size presets for our tiny Qwen2-architecture models.

Sizes were chosen by measurement on a 2-core shared CPU (see docs/models.md): `nano` for tests,
`micro` for quick experiments, `small` for the shipped models (a pretraining run of ≤ ~15 minutes).
"""

from __future__ import annotations

from dataclasses import dataclass

from transformers import Qwen2Config


@dataclass(frozen=True)
class SizePreset:
    hidden_size: int
    num_hidden_layers: int
    num_attention_heads: int
    num_key_value_heads: int
    intermediate_size: int
    max_position_embeddings: int
    vocab_size: int  # target vocabulary of the tokenizer trained by `tiny build`


PRESETS: dict[str, SizePreset] = {
    "nano": SizePreset(64, 2, 4, 2, 192, 512, 512),
    "micro": SizePreset(128, 4, 4, 2, 384, 512, 1024),
    "small": SizePreset(192, 6, 6, 2, 576, 768, 2048),
}


def get_preset(name: str) -> SizePreset:
    if name not in PRESETS:
        raise ValueError(f"unknown size preset {name!r}; choose one of {', '.join(PRESETS)}")
    return PRESETS[name]


def qwen2_config(preset: SizePreset, vocab_size: int, bos_id: int, eos_id: int, pad_id: int) -> Qwen2Config:
    """A Qwen2 config for `preset` with tied embeddings (they dominate the parameter count here)."""
    return Qwen2Config(
        vocab_size=vocab_size,
        hidden_size=preset.hidden_size,
        intermediate_size=preset.intermediate_size,
        num_hidden_layers=preset.num_hidden_layers,
        num_attention_heads=preset.num_attention_heads,
        num_key_value_heads=preset.num_key_value_heads,
        max_position_embeddings=preset.max_position_embeddings,
        rope_theta=10000.0,
        tie_word_embeddings=True,
        bos_token_id=bos_id,
        eos_token_id=eos_id,
        pad_token_id=pad_id,
    )
