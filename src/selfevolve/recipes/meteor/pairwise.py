"""Training on preference pairs: the reference's hinge loss over per-sequence NLL, written here, and DPO
through TRL's DPOTrainer.

Hinge (docs/spec/meteor.md §5): L = mean over pairs of max(0, NLL(y+|x) - NLL(y-|x) + m), NLL the mean over the
answer's tokens of -log p (prompt and padding masked; the reference averaged over every position,
padding included). One dataset item is one pair and the collator puts both of its answers in the
same batch: rows [0, B) the preferred answers, rows [B, 2B) the other answers of the same pairs. The
reference fed positives and negatives as separate alternating rows, so with batch size 1 and
shuffling a batch held one side only, its negative slice was empty and the loss NaN (docs/spec/meteor.md §8.3).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import partial

import torch
import torch.nn.functional as F
from torch.utils.data import DataLoader

from selfevolve.recipes.meteor.config import SelfTrainConfig
from selfevolve.recipes.trainer_args import checkpointing

IGNORE = -100


@dataclass(frozen=True)
class PairExample:
    """Token ids of one pair: the prompt, the preferred answer and the other one (each answer ends with EOS)."""

    prompt: list[int]
    chosen: list[int]
    rejected: list[int]


def encode_pair(tokenizer, prompt_ids: list[int], chosen: str, rejected: str, max_length: int) -> PairExample | None:
    """The pair's ids, answers cut to fit `max_length` with the prompt; None when the prompt leaves no room."""
    room = max_length - len(prompt_ids)
    if room < 2:
        return None
    eos = tokenizer.eos_token_id

    def answer(text: str) -> list[int]:
        return (tokenizer(text, add_special_tokens=False)["input_ids"] + [eos])[:room]

    return PairExample(list(prompt_ids), answer(chosen), answer(rejected))


def collate_pairs(pairs: Sequence[PairExample], pad_id: int) -> dict[str, torch.Tensor]:
    """A batch of B pairs as 2B right-padded rows: input_ids, attention_mask, and labels (-100 on the
    prompt and the padding)."""
    if not pairs:
        raise ValueError("collate_pairs needs at least one pair")
    rows = [(p.prompt, p.chosen) for p in pairs] + [(p.prompt, p.rejected) for p in pairs]
    width = max(len(prompt) + len(answer) for prompt, answer in rows)
    input_ids = torch.full((len(rows), width), pad_id, dtype=torch.long)  # [2B, T]
    labels = torch.full((len(rows), width), IGNORE, dtype=torch.long)  # [2B, T]
    attention_mask = torch.zeros((len(rows), width), dtype=torch.long)  # [2B, T]
    for i, (prompt, answer) in enumerate(rows):
        n = len(prompt) + len(answer)
        input_ids[i, :n] = torch.tensor(prompt + answer)
        labels[i, len(prompt) : n] = torch.tensor(answer)
        attention_mask[i, :n] = 1
    return {"input_ids": input_ids, "attention_mask": attention_mask, "labels": labels}


def sequence_nll(model, batch: dict[str, torch.Tensor]) -> torch.Tensor:
    """[R] mean NLL of each row's labelled tokens (its answer) given everything before them."""
    logits = model(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"]).logits[:, :-1].float()  # [R, T-1, V]
    targets = batch["labels"][:, 1:]  # [R, T-1]
    mask = targets != IGNORE
    token_nll = F.cross_entropy(logits.transpose(1, 2), targets.clamp(min=0), reduction="none")  # [R, T-1]
    return (token_nll * mask).sum(-1) / mask.sum(-1)


def hinge_loss(nll: torch.Tensor, margin: float) -> torch.Tensor:
    """mean over pairs of max(0, NLL(y+) - NLL(y-) + margin), `nll` [2B] laid out as `collate_pairs` does."""
    pairs = nll.shape[0] // 2
    if pairs == 0 or nll.shape[0] != 2 * pairs:
        raise ValueError(f"a pair batch has 2B rows (B preferred, then B others), got {nll.shape[0]}")
    return torch.relu(nll[:pairs] - nll[pairs:] + margin).mean()


def train_hinge(policy, pad_id: int, pairs: list[PairExample], cfg: SelfTrainConfig, seed: int) -> list[dict]:
    """Train `policy` in place with the hinge loss (AdamW with a linear decay to 0, shuffled pairs, gradient
    accumulation); returns the log, one entry per optimizer step."""
    loader = DataLoader(pairs, batch_size=cfg.batch_pairs, shuffle=True, generator=torch.Generator().manual_seed(seed),
                        collate_fn=partial(collate_pairs, pad_id=pad_id))
    optimizer = torch.optim.AdamW(policy.parameters(), lr=cfg.learning_rate, weight_decay=cfg.weight_decay)
    batches, accumulate = len(loader), cfg.gradient_accumulation_steps
    steps = cfg.epochs * -(-batches // accumulate)
    schedule = torch.optim.lr_scheduler.LinearLR(optimizer, 1.0, 0.0, total_iters=steps)  # the Trainer's default decay
    device = policy.device
    autocast = torch.autocast("cuda", dtype=torch.bfloat16, enabled=device.type == "cuda")
    policy.train()
    log, window = [], []
    for epoch in range(cfg.epochs):
        for i, batch in enumerate(loader, 1):
            window_size = min(accumulate, batches - (i - 1) // accumulate * accumulate)  # the epoch's last may be short
            with autocast:
                loss = hinge_loss(sequence_nll(policy, {k: v.to(device) for k, v in batch.items()}), cfg.margin)
            (loss / window_size).backward()
            window.append(loss.item())
            if len(window) == window_size:
                norm = torch.nn.utils.clip_grad_norm_(policy.parameters(), cfg.max_grad_norm)
                optimizer.step()
                optimizer.zero_grad(set_to_none=True)
                log.append({"epoch": epoch + i / batches, "loss": sum(window) / len(window), "grad_norm": float(norm),
                            "learning_rate": schedule.get_last_lr()[0]})
                schedule.step()
                window = []
    policy.eval()
    return log


def train_dpo(policy, tokenizer, pairs: list[dict[str, str]], cfg: SelfTrainConfig, output_dir, seed: int) -> list[dict]:
    """Train `policy` in place with TRL's DPO (sigmoid loss, summed log-probs, the reference model = a frozen
    copy of `policy` as it starts); `pairs` are {prompt, chosen, rejected} texts. Returns TRL's log."""
    from datasets import Dataset
    from trl import DPOConfig, DPOTrainer

    on_gpu = policy.device.type == "cuda"
    args = DPOConfig(
        output_dir=str(output_dir), beta=cfg.beta, loss_type=["sigmoid"], learning_rate=cfg.learning_rate,
        num_train_epochs=cfg.epochs, per_device_train_batch_size=cfg.batch_pairs,
        gradient_accumulation_steps=cfg.gradient_accumulation_steps, weight_decay=cfg.weight_decay,
        max_grad_norm=cfg.max_grad_norm, max_length=cfg.max_length, save_strategy="no", logging_steps=1, report_to=[],
        seed=seed, use_cpu=not on_gpu, bf16=on_gpu and torch.cuda.is_bf16_supported(), **checkpointing(False),
        disable_tqdm=True, dataloader_num_workers=0,
    )
    trainer = DPOTrainer(model=policy, args=args, train_dataset=Dataset.from_list(pairs), processing_class=tokenizer)
    trainer.train()
    policy.eval()
    return list(trainer.state.log_history)
