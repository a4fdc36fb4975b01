"""SFT of a model on its own SRA-MCTS data with TRL's `SFTTrainer` (docs/spec/sra_mcts.md §4; hyper-parameters are
unpublished, so all are `TrainConfig` values).

Each record of `sft.jsonl` becomes a prompt-completion pair: prompt = `question` (as a user message
through the chat template when the tokenizer has one, else the raw text and a newline), completion =
`solution`; the loss is on the completion only. With LoRA the adapters are merged into the saved
model, so `out/model` loads like any model directory (`selfevolve bench run --model out/model`).
"""

from __future__ import annotations

import json
import math
import shutil
from pathlib import Path

import torch

from selfevolve.config import dump_config
from selfevolve.llm.loading import load_model
from selfevolve.recipes.sra_mcts.config import TrainConfig
from selfevolve.recipes.trainer_args import checkpointing
from selfevolve.store.jsonl import read_jsonl


def read_sft(path: Path) -> list[dict]:
    """The records of an sft.jsonl (each needs string `question` and `solution`)."""
    if not path.is_file():
        raise ValueError(f"{path} does not exist; pass the sft.jsonl written by `selfevolve sra-mcts synth`")
    records = []
    for number, record, error in read_jsonl(path):
        if error is not None:
            raise ValueError(f"{path}:{number} {error}; pass the sft.jsonl written by `selfevolve sra-mcts synth`")
        if not (isinstance(record.get("question"), str) and isinstance(record.get("solution"), str)):
            raise ValueError(f"{path}:{number}: a record needs string fields `question` and `solution`")
        records.append(record)
    if not records:
        raise ValueError(f"{path} holds no records; the synthesis kept nothing (see its summary.json)")
    return records


def sft_pairs(records: list[dict], chat: bool) -> list[dict]:
    """Prompt-completion pairs in TRL's conversational form (`chat`) or as plain text."""
    if chat:
        return [{"prompt": [{"role": "user", "content": r["question"]}],
                 "completion": [{"role": "assistant", "content": r["solution"]}]} for r in records]
    return [{"prompt": r["question"] + "\n", "completion": r["solution"]} for r in records]


def train(data: Path, model: str, out: Path, cfg: TrainConfig, seed: int = 0, device: str | None = None) -> Path:
    """Fine-tune `model` on `data` into `out/model` (also `out/sft_log.jsonl`, `out/train_config.yaml`)."""
    from datasets import Dataset
    from peft import LoraConfig
    from trl import SFTConfig, SFTTrainer

    records = read_sft(data)
    policy, tokenizer = load_model(model, device=device, dtype=torch.float32 if device == "cpu" else None)
    out.mkdir(parents=True, exist_ok=True)
    dump_config(cfg, out / "train_config.yaml")
    steps = math.ceil(len(records) / cfg.batch_size) * cfg.epochs
    on_gpu = policy.device.type == "cuda"
    args = SFTConfig(
        output_dir=str(out / "trl"), num_train_epochs=cfg.epochs, per_device_train_batch_size=cfg.micro_batch_size,
        gradient_accumulation_steps=cfg.batch_size // cfg.micro_batch_size, learning_rate=cfg.peak_learning_rate,
        lr_scheduler_type=cfg.lr_scheduler, warmup_steps=math.ceil(cfg.warmup_ratio * steps), weight_decay=cfg.weight_decay,
        max_grad_norm=cfg.max_grad_norm, max_length=cfg.max_length, completion_only_loss=True,
        **checkpointing(cfg.gradient_checkpointing), save_strategy="no", logging_steps=1, report_to=[],
        seed=seed, use_cpu=not on_gpu, bf16=on_gpu, disable_tqdm=True, dataloader_num_workers=0,
    )
    lora = LoraConfig(r=cfg.lora_r, lora_alpha=cfg.lora_alpha, lora_dropout=cfg.lora_dropout,
                      target_modules=cfg.lora_target_modules, task_type="CAUSAL_LM") if cfg.lora else None
    dataset = Dataset.from_list(sft_pairs(records, chat=bool(getattr(tokenizer, "chat_template", None))))
    trainer = SFTTrainer(model=policy, args=args, train_dataset=dataset, processing_class=tokenizer, peft_config=lora)
    trainer.train()
    (out / "sft_log.jsonl").write_text("".join(json.dumps(r) + "\n" for r in trainer.state.log_history))
    trained = trainer.model.merge_and_unload() if cfg.lora else trainer.model
    model_dir = out / "model"
    shutil.rmtree(model_dir, ignore_errors=True)
    trained.save_pretrained(model_dir)
    tokenizer.save_pretrained(model_dir)
    shutil.rmtree(out / "trl", ignore_errors=True)
    return model_dir
