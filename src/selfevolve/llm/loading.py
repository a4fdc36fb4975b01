"""Resolve a model name (local directory, shipped tiny model, prepared registry model, or cached hub id) and load it offline."""

from __future__ import annotations

import json
import os
from pathlib import Path

import torch
from safetensors import SafetensorError
from transformers import AutoModelForCausalLM, AutoTokenizer
from transformers.utils import logging as hf_logging

from selfevolve.llm.errors import ModelLoadError
from selfevolve.models import REGISTRY, SHIPPED_DIR, is_prepared, prepared_dir, shipped_models


def resolve_model_path(name_or_path: str | os.PathLike) -> str:
    """A local directory for `name_or_path`, or the hub id itself when it is cached.

    Offline always: a hub id that is not already cached fails at once; nothing is downloaded.
    """
    text = str(name_or_path)
    path = Path(text).expanduser()
    if path.is_dir():
        _check_model_dir(path)
        return str(path)
    if (SHIPPED_DIR / text / "config.json").is_file():
        return str(SHIPPED_DIR / text)
    if text in REGISTRY:
        return _prepared_registry_model(text)
    if path.exists():
        raise ModelLoadError(f"{text} is a file, not a model directory; pass the directory holding config.json")
    if text.count("/") == 1 and not text.startswith((".", "/", "~")) and _hub_cached(text):
        return text
    shipped = ", ".join(shipped_models()) or "none built"
    raise ModelLoadError(
        f"model {text!r} is not a local directory, not a shipped model ({shipped}), not a registry model "
        f"({', '.join(REGISTRY)}), and not in the Hugging Face cache; we never download. Download it "
        f"elsewhere and pass its local directory (e.g. `huggingface-cli download {text} --local-dir DIR`, "
        f"then load DIR)."
    )


def _prepared_registry_model(name: str) -> str:
    if not is_prepared(name):
        raise ModelLoadError(
            f"registry model {name!r} is not prepared yet (no {prepared_dir(name)}); run "
            f"`{REGISTRY[name].install}` and then `selfevolve models prepare {name}`"
        )
    try:
        _check_model_dir(prepared_dir(name))
    except ModelLoadError as e:
        raise ModelLoadError(f"{e}; for this registry model run `selfevolve models prepare {name} --force`") from None
    return str(prepared_dir(name))


def _hub_cached(repo_id: str) -> bool:
    from huggingface_hub import try_to_load_from_cache

    return isinstance(try_to_load_from_cache(repo_id, "config.json"), str)


def _check_model_dir(path: Path) -> None:
    config = path / "config.json"
    if not config.is_file():
        raise ModelLoadError(f"{path} has no config.json; pass a Hugging Face model directory (save_pretrained output)")
    try:
        json.loads(config.read_text())
    except json.JSONDecodeError as e:
        raise ModelLoadError(f"{config} is not valid JSON ({e}); rebuild or re-download the model directory") from None
    if not any(path.glob("*.safetensors")) and not any(path.glob("*.bin")):
        raise ModelLoadError(f"{path} holds no weights (*.safetensors or *.bin); re-save the model into it")
    if not any((path / f).is_file() for f in ("tokenizer.json", "tokenizer_config.json", "tokenizer.model")):
        raise ModelLoadError(f"{path} holds no tokenizer files; save the tokenizer into the same directory")


def default_device() -> str:
    return "cuda" if torch.cuda.is_available() else "cpu"


def default_dtype(device: str) -> torch.dtype:
    """bf16 on GPUs that support it, fp32 elsewhere (CPU bf16 matmuls are slow and imprecise)."""
    if device.startswith("cuda") and torch.cuda.is_bf16_supported():
        return torch.bfloat16
    return torch.float32


def load_model(name_or_path: str | os.PathLike, device: str | None = None, dtype: torch.dtype | str | None = None):
    """Load `(model, tokenizer)` in eval mode; the tokenizer pads on the left and has a pad token."""
    path = resolve_model_path(name_or_path)
    hf_logging.disable_progress_bar()  # callers show their own progress; tiny shards load instantly
    device = device or default_device()
    if isinstance(dtype, str):
        if not isinstance(getattr(torch, dtype, None), torch.dtype):
            raise ValueError(f"unknown dtype {dtype!r}; use float32, bfloat16 or float16")
        dtype = getattr(torch, dtype)
    dtype = dtype or default_dtype(device)
    try:
        tokenizer = AutoTokenizer.from_pretrained(path)
        model = AutoModelForCausalLM.from_pretrained(path, dtype=dtype)
    except (OSError, ValueError, KeyError, RuntimeError, SafetensorError) as e:
        raise ModelLoadError(
            f"could not load model from {path}: {e}. The directory looks corrupt or incomplete; "
            f"rebuild it (tiny models: `selfevolve tiny rebuild NAME`; registry models: "
            f"`selfevolve models prepare NAME --force`) or re-download it."
        ) from e
    tokenizer.padding_side = "left"
    if tokenizer.pad_token_id is None:
        tokenizer.pad_token = tokenizer.eos_token
    return model.to(device).eval(), tokenizer
