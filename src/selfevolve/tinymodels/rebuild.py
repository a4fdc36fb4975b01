"""Rebuild a shipped tiny model from scratch: corpus → build → pretrain → held-out eval → export + card.

    python -m selfevolve.tinymodels.rebuild tiny-countdown      (or: selfevolve tiny rebuild tiny-countdown)

Every stage is idempotent inside the work directory (default `runs/tiny/<name>/`), and pretraining
resumes from its checkpoint, so an interrupted rebuild is finished by running the same command again.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import torch

from selfevolve.llm.loading import SHIPPED_DIR, load_model
from selfevolve.tinymodels.build import build_tiny
from selfevolve.tinymodels.card import write_card
from selfevolve.tinymodels.corpus import write_corpus
from selfevolve.tinymodels.pretrain import pretrain
from selfevolve.tinymodels.recipes import RECIPES, Recipe, get_recipe
from selfevolve.llm.transformers_backend import TransformersGenerator

EXPORT_FILES = ("config.json", "generation_config.json", "tokenizer.json", "tokenizer_config.json", "chat_template.jinja", "loss_curve.png")


def rebuild(name: str, work_dir: str | Path | None = None, out_dir: str | Path | None = None, show_progress: bool = True) -> Path:
    recipe = get_recipe(name)
    work = Path(work_dir or Path("runs/tiny") / name)
    work.mkdir(parents=True, exist_ok=True)
    corpus = work / "corpus.jsonl"
    if not corpus.is_file():
        _log(f"writing corpus ({recipe.corpus_docs} documents)")
        write_corpus(corpus, recipe.make_corpus(recipe.corpus_docs, recipe.seed))
    model_dir = work / "model"
    if not (model_dir / "config.json").is_file():
        _log(f"building {recipe.preset} model")
        build_tiny(recipe.preset, corpus, model_dir, seed=recipe.seed)
    started = time.time()
    result = pretrain(model_dir, corpus, recipe.pretrain, show_progress=show_progress)
    _log(f"pretrained to step {result.steps} (held-out loss {result.heldout_loss:.3f}) in {time.time() - started:.0f} s")
    accuracy = evaluate(model_dir, recipe)
    _log(f"held-out accuracy: {json.dumps(accuracy)}")
    out = Path(out_dir or SHIPPED_DIR / name)
    export(model_dir, out)
    write_card(out, recipe, result, accuracy)
    return out


def evaluate(model_dir: Path, recipe: Recipe) -> dict[str, float]:
    """Held-out task accuracy, sampled at T=1 (as the RL papers report step 0) and greedy."""
    model, tokenizer = load_model(model_dir, device="cpu", dtype=torch.float32)
    generator = TransformersGenerator(model, tokenizer, batch_size=64)
    return recipe.evaluate(generator)


def export(model_dir: Path, out: Path) -> None:
    """Weights in fp16 safetensors (half the size; loading upcasts to fp32 on CPU) plus tokenizer files."""
    from transformers import AutoModelForCausalLM

    out.mkdir(parents=True, exist_ok=True)
    model = AutoModelForCausalLM.from_pretrained(model_dir, dtype=torch.float16)
    model.save_pretrained(out)
    for f in EXPORT_FILES:
        if (model_dir / f).is_file():
            (out / f).write_bytes((model_dir / f).read_bytes())


def _log(message: str) -> None:
    print(f"[rebuild] {message}", file=sys.stderr, flush=True)


def main(argv: list[str] | None = None) -> None:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1 or args[0] not in RECIPES:
        raise SystemExit(f"usage: python -m selfevolve.tinymodels.rebuild NAME   (NAME: {', '.join(RECIPES)})")
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()
    print(rebuild(args[0]))


if __name__ == "__main__":
    main()
