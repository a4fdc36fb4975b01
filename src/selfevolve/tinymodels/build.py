"""`tiny build`: a tokenizer trained on the corpus plus a freshly initialised Qwen2 model."""

from __future__ import annotations

from pathlib import Path

import torch
from transformers import AutoModelForCausalLM

from selfevolve.tinymodels.corpus import read_corpus
from selfevolve.tinymodels.presets import get_preset, qwen2_config
from selfevolve.tinymodels.tokenizer import train_tokenizer


def build_tiny(preset_name: str, corpus: str | Path, out: str | Path, seed: int = 0) -> Path:
    """Write tokenizer + config + randomly initialised weights (safetensors) to `out`."""
    preset = get_preset(preset_name)
    out = Path(out)
    if out.exists() and any(out.iterdir()):
        raise FileExistsError(f"output directory {out} is not empty; pass a new --out directory")
    tokenizer = train_tokenizer(read_corpus(corpus), preset.vocab_size)
    config = qwen2_config(
        preset,
        vocab_size=len(tokenizer),
        bos_id=tokenizer.bos_token_id,
        eos_id=tokenizer.eos_token_id,
        pad_id=tokenizer.pad_token_id,
    )
    torch.manual_seed(seed)
    model = AutoModelForCausalLM.from_config(config)
    out.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(out)
    tokenizer.save_pretrained(out)
    return out
