"""Supervised fine-tuning of the weak model with TRL's SFTTrainer, into a new model directory.

Examples are prompt-completion pairs (the prompt rendered exactly as the weak model is asked, see
`roles.render`); TRL appends EOS to the completion, pads with the tokenizer's pad token (load_model
sets pad = EOS where a tokenizer has none, as Llama-3's) and labels padding -100 (docs/spec/meteor.md §8.5: the
reference's `ignore_index` was the missing pad id). `loss_on="completion"` masks the prompt too;
`"all"` trains on every token, as the reference. Training is in float32 (bf16 autocast on GPUs).
"""

from __future__ import annotations

import shutil
from pathlib import Path

import torch

from selfevolve.llm.loading import load_model
from selfevolve.recipes.meteor.config import SFTConfig
from selfevolve.recipes.meteor.roles import Conversation, render, require_local
from selfevolve.recipes.meteor.versions import save_new, write_model
from selfevolve.recipes.trainer_args import checkpointing


def completion(prompt: str, answer: str) -> str:
    """The answer as it continues `prompt`: after a space when the prompt ends with a word or a colon."""
    return answer if not prompt or prompt[-1].isspace() else " " + answer.lstrip()


def sft_trainer(policy, tokenizer, examples: list[dict[str, str]], cfg: SFTConfig, output_dir: Path, seed: int):
    """TRL's SFTTrainer over prompt-completion `examples`, set up from `cfg` (no checkpoints of its own)."""
    from datasets import Dataset
    from trl import SFTConfig as TRLConfig
    from trl import SFTTrainer

    on_gpu = policy.device.type == "cuda"
    args = TRLConfig(
        output_dir=str(output_dir), num_train_epochs=cfg.epochs, per_device_train_batch_size=cfg.batch_size,
        gradient_accumulation_steps=cfg.gradient_accumulation_steps, learning_rate=cfg.learning_rate,
        weight_decay=cfg.weight_decay, adam_beta1=cfg.adam_betas[0], adam_beta2=cfg.adam_betas[1],
        adam_epsilon=cfg.adam_epsilon, max_length=cfg.max_length, completion_only_loss=cfg.loss_on == "completion",
        save_strategy="no", logging_steps=1, report_to=[], seed=seed, use_cpu=not on_gpu,
        bf16=on_gpu and torch.cuda.is_bf16_supported(), **checkpointing(False), disable_tqdm=True,
        dataloader_num_workers=0,
    )
    return SFTTrainer(model=policy, args=args, train_dataset=Dataset.from_list(examples), processing_class=tokenizer)


def fine_tune(model: str, examples: list[tuple[Conversation, str]], chat: bool, cfg: SFTConfig, out: Path, *,
              device: str | None = None, seed: int = 0, manifest: dict | None = None) -> Path:
    """Fine-tune `model` on (prompt conversation, answer) `examples` into the new directory `out` (see
    `versions.save_new`); prompts are rendered as the weak model is asked (`chat`: with its chat
    template). Returns `out`; `out/train_log.jsonl` holds TRL's log (loss per step)."""
    require_local(model, "fine-tuning")
    if not examples:
        raise ValueError("no examples to fine-tune on")

    def write(partial: Path) -> None:
        policy, tokenizer = load_model(model, device=device, dtype=torch.float32)
        prompts = [render(conversation, tokenizer, chat) for conversation, _ in examples]
        rows = [{"prompt": p, "completion": completion(p, answer)} for p, (_, answer) in zip(prompts, examples)]
        trainer = sft_trainer(policy, tokenizer, rows, cfg, partial / "trl", seed)
        trainer.train()
        shutil.rmtree(partial / "trl", ignore_errors=True)
        write_model(policy, tokenizer, partial, trainer.state.log_history)

    return save_new(out, write, {"base": model, "examples": len(examples), **(manifest or {})})
