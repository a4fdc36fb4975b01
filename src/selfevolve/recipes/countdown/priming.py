"""SFT priming (docs/spec/countdown_and_behaviors.md §8): fine-tune a base model on synthetic behaviour traces, then RL from it.

Each `prime_data` record becomes a prompt-completion pair for TRL's `SFTTrainer`: prompt = the
priming query + "\\n<think>", completion = the rest of the trace, to which TRL appends EOS; the loss
is on the completion only (`completion_only_loss`). Splitting after `<think>` makes the SFT prompt end
exactly as the RL base prompt does, so the tokens the primed model learns to continue from are those
it sees in RL. Checkpoints are written each epoch; RL starts from `start_epoch`'s (spec: 4 of 5).
TRL's defaults of bf16 autocast and activation checkpointing are turned off on CPU: together they made
tiny-model SFT about 10x slower there.
"""

from __future__ import annotations

import json
import math
import shutil
from collections.abc import Callable
from pathlib import Path

import torch

from selfevolve.behaviors.conditions import prime_data
from selfevolve.llm.loading import load_model
from selfevolve.recipes.countdown.config import PrimingConfig
from selfevolve.recipes.countdown.run import problem_key
from selfevolve.recipes.trainer_args import checkpointing
from selfevolve.tasks.countdown import CountdownProblem

THINK = "<think>"


def priming_records(
    condition: str, cfg: PrimingConfig, exclude: list[CountdownProblem], count_tokens: Callable[[str], int] | None = None
) -> list[dict]:
    """`cfg.train_records` traces of a condition whose problems are not in `exclude` (the test split) and,
    with `cfg.max_completion_tokens`, whose completions fit that many tokens by `count_tokens`."""
    held = {problem_key(p) for p in exclude}
    fits = lambda r: cfg.max_completion_tokens is None or count_tokens(r["completion"]) <= cfg.max_completion_tokens  # noqa: E731
    if cfg.max_completion_tokens is not None and count_tokens is None:
        raise ValueError("max_completion_tokens needs count_tokens (the model's tokenizer)")
    wanted, drawn = cfg.train_records, cfg.train_records
    while True:
        records = [r for r in prime_data(condition, drawn, cfg.data_seed)
                   if (tuple(sorted(r["nums"])), r["target"]) not in held and fits(r)]
        if len(records) >= wanted or drawn > 64 * wanted:
            break
        drawn *= 2
    if len(records) < wanted:
        raise ValueError(f"only {len(records)} priming traces of {condition!r} avoid the test split and fit "
                         f"max_completion_tokens; lower train_records or raise max_completion_tokens")
    return records[:wanted]


def sft_pairs(records: list[dict]) -> list[dict[str, str]]:
    """Prompt-completion pairs split after `<think>` (see the module docstring)."""
    pairs = []
    for r in records:
        if not r["completion"].startswith(THINK):
            raise ValueError(f"priming completion must start with {THINK}: {r['completion'][:40]!r}")
        pairs.append({"prompt": r["query"] + "\n" + THINK, "completion": r["completion"][len(THINK):]})
    return pairs


def prime(model: str, records: list[dict], cfg: PrimingConfig, out: Path, seed: int, device: str | None = None) -> Path:
    """SFT `model` on `records` into `out`; returns the directory of the `start_epoch` model (loadable by name).

    Also writes `out/sft_log.jsonl` (TRL's loss log) and `out/priming.jsonl` (the records used).
    """
    from datasets import Dataset
    from trl import SFTConfig, SFTTrainer

    policy, tokenizer = load_model(model, device=device, dtype=torch.float32 if device == "cpu" else None)
    out.mkdir(parents=True, exist_ok=True)
    (out / "priming.jsonl").write_text("".join(json.dumps(r) + "\n" for r in records))
    steps_per_epoch = -(-len(records) // cfg.batch_size)
    args = SFTConfig(
        output_dir=str(out / "trl"), num_train_epochs=cfg.epochs, per_device_train_batch_size=cfg.micro_batch_size,
        gradient_accumulation_steps=cfg.batch_size // cfg.micro_batch_size, learning_rate=cfg.learning_rate,
        adam_beta1=cfg.adam_betas[0], adam_beta2=cfg.adam_betas[1], weight_decay=cfg.weight_decay,
        lr_scheduler_type="cosine", warmup_steps=math.ceil(cfg.warmup_ratio * steps_per_epoch * cfg.epochs), max_grad_norm=cfg.max_grad_norm,
        max_length=cfg.max_length, completion_only_loss=True, **checkpointing(cfg.gradient_checkpointing),
        save_strategy="epoch", save_only_model=True, logging_steps=1, report_to=[], seed=seed,
        use_cpu=policy.device.type == "cpu", bf16=policy.device.type == "cuda", disable_tqdm=True,
        dataloader_num_workers=0,
    )
    trainer = SFTTrainer(model=policy, args=args, train_dataset=Dataset.from_list(sft_pairs(records)), processing_class=tokenizer)
    trainer.train()
    (out / "sft_log.jsonl").write_text("".join(json.dumps(r) + "\n" for r in trainer.state.log_history))
    chosen = out / "trl" / f"checkpoint-{steps_per_epoch * cfg.start_epoch}"
    if not (chosen / "config.json").is_file():
        raise RuntimeError(f"SFT wrote no checkpoint at {chosen}; found {sorted(p.name for p in (out / 'trl').iterdir())}")
    model_dir = out / "model"
    shutil.rmtree(model_dir, ignore_errors=True)
    shutil.copytree(chosen, model_dir, ignore=shutil.ignore_patterns("*.pt", "*.pth", "trainer_state.json", "rng_state*"))
    tokenizer.save_pretrained(model_dir)
    shutil.rmtree(out / "trl")
    return model_dir
