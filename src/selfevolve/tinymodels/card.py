"""The model card (README.md) written next to each shipped tiny model."""

from __future__ import annotations

from pathlib import Path

from selfevolve.tinymodels.presets import get_preset


def write_card(out: Path, recipe, result, accuracy: dict[str, float]) -> None:
    preset = get_preset(recipe.preset)
    weights = sum(p.stat().st_size for p in out.glob("*.safetensors"))
    cfg = recipe.pretrain
    acc_lines = "\n".join(f"| {k} | {v:.3f} |" if isinstance(v, float) else f"| {k} | {v} |" for k, v in accuracy.items())
    text = f"""# {recipe.name}

A tiny Qwen2-architecture causal LM trained from scratch on CPU by `selfevolve`; a *starting point*
for the RL recipes, not a capable model.

Rebuild from scratch with the same recipe (figures vary a little with library versions and thread count):

    OMP_NUM_THREADS=1 nice python -m selfevolve.tinymodels.rebuild {recipe.name}

## Corpus
{recipe.description}

{recipe.corpus_docs} synthetic documents (seed {recipe.seed}); {result.heldout_docs} held out for the loss below.

## Model
Preset `{recipe.preset}`: hidden {preset.hidden_size}, {preset.num_hidden_layers} layers,
{preset.num_attention_heads} heads ({preset.num_key_value_heads} KV heads), MLP {preset.intermediate_size},
context {preset.max_position_embeddings} tokens, tied embeddings; byte-level BPE tokenizer trained on the corpus
(target vocabulary {preset.vocab_size}). Weights stored as fp16 safetensors ({weights / 1e6:.2f} MB).

## Pretraining
{result.steps} steps × {cfg.batch_size} documents, AdamW lr {cfg.lr} (warm-up {cfg.warmup_steps}, cosine to lr/10),
weight decay {cfg.weight_decay}, grad clip 1.0.

| figure | value |
|---|---|
| final train loss (mean of last 20 steps) | {result.train_loss:.3f} |
| held-out loss | {result.heldout_loss:.3f} |

Loss curve: `loss_curve.png`.

## Held-out task accuracy
Measured by `selfevolve.tinymodels.rebuild` on a held-out task set (code: `data/code_io/heldout_tiny.jsonl`, whose programs are excluded from the corpus; Countdown: 200 problems from a separate seed): one completion per
task, sampled at temperature 1 (`t1`, as the RL papers report step 0) or greedy, stopped at `</answer>`.

| figure | value |
|---|---|
{acc_lines}
"""
    (out / "README.md").write_text(text)
