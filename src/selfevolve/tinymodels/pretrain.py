"""`tiny pretrain`: next-token training of a built tiny model on a JSONL corpus; resumable.

Each step draws `batch_size` documents with a generator seeded by (seed, step), so a resumed run sees
exactly the batches an uninterrupted run would. Checkpoints (weights, optimizer, log) go to
`DIR/checkpoint/`; the final weights replace those in `DIR`, with `loss_curve.png` and
`pretrain_log.jsonl` beside them.
"""

from __future__ import annotations

import json
import math
import random
from dataclasses import asdict, dataclass
from pathlib import Path

import torch
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn
from transformers import AutoModelForCausalLM, AutoTokenizer

from selfevolve.llm.loading import resolve_model_path
from selfevolve.tinymodels.corpus import read_corpus


@dataclass(frozen=True)
class PretrainConfig:
    steps: int = 1000
    batch_size: int = 16
    lr: float = 2e-3  # peak AdamW learning rate (tiny models tolerate a high one)
    warmup_steps: int = 50  # linear warm-up, then cosine decay to lr / 10
    weight_decay: float = 0.1
    eval_every: int = 100  # held-out loss interval (steps)
    save_every: int = 200  # checkpoint interval (steps)
    heldout_fraction: float = 0.05
    seed: int = 0


@dataclass(frozen=True)
class PretrainResult:
    steps: int
    train_loss: float
    heldout_loss: float
    heldout_docs: int
    train_docs: int


def pretrain(model_dir: str | Path, corpus: str | Path, config: PretrainConfig, show_progress: bool = True) -> PretrainResult:
    model_dir = Path(resolve_model_path(model_dir))
    tokenizer = AutoTokenizer.from_pretrained(model_dir)
    ckpt = model_dir / "checkpoint"
    model = AutoModelForCausalLM.from_pretrained(ckpt if (ckpt / "state.json").is_file() else model_dir, dtype=torch.float32)
    train, heldout = _split(_tokenize(read_corpus(corpus), tokenizer, model.config.max_position_embeddings), config)
    opt = torch.optim.AdamW(model.parameters(), lr=config.lr, betas=(0.9, 0.95), weight_decay=config.weight_decay)
    step, log = _resume(ckpt, opt)
    pad = tokenizer.pad_token_id
    model.train()
    with _progress(show_progress) as progress:
        task = progress.add_task("pretraining", total=config.steps, completed=step, loss=float("nan"))
        while step < config.steps:
            batch = _batch(train, pad, random.Random(config.seed * 1_000_003 + step).sample(range(len(train)), min(config.batch_size, len(train))))
            for group in opt.param_groups:
                group["lr"] = _lr(step, config)
            loss = model(**batch).loss
            opt.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            opt.step()
            step += 1
            entry = {"step": step, "train_loss": loss.item()}
            if step % config.eval_every == 0 or step == config.steps:
                entry["heldout_loss"] = heldout_loss(model, heldout, pad)
            log.append(entry)
            progress.update(task, completed=step, loss=entry["train_loss"])
            if step % config.save_every == 0 or step == config.steps:
                _checkpoint(model, opt, ckpt, step, log, config)
    model.save_pretrained(model_dir)
    _write_log(model_dir, log)
    plot_loss_curve(log, model_dir / "loss_curve.png")
    last_eval = next(e["heldout_loss"] for e in reversed(log) if "heldout_loss" in e)
    recent = [e["train_loss"] for e in log[-20:]]
    return PretrainResult(step, sum(recent) / len(recent), last_eval, len(heldout), len(train))


def _tokenize(docs: list[str], tokenizer, max_len: int) -> list[list[int]]:
    eos = tokenizer.eos_token_id
    return [(tokenizer(d, add_special_tokens=False)["input_ids"] + [eos])[:max_len] for d in docs]


def _split(docs: list[list[int]], config: PretrainConfig) -> tuple[list[list[int]], list[list[int]]]:
    order = list(range(len(docs)))
    random.Random(config.seed).shuffle(order)
    n_held = max(1, int(len(docs) * config.heldout_fraction))
    if len(docs) <= n_held:
        raise ValueError(f"corpus has {len(docs)} documents; need more than {n_held} to keep a held-out split")
    return [docs[i] for i in order[n_held:]], [docs[i] for i in order[:n_held]]


def _batch(docs: list[list[int]], pad: int, idx: list[int]) -> dict[str, torch.Tensor]:
    """Right-padded batch; padding is masked out of attention and loss."""
    width = max(len(docs[i]) for i in idx)
    ids = torch.full((len(idx), width), pad, dtype=torch.long)
    mask = torch.zeros_like(ids)
    for row, i in enumerate(idx):
        ids[row, : len(docs[i])] = torch.tensor(docs[i])
        mask[row, : len(docs[i])] = 1
    return {"input_ids": ids, "attention_mask": mask, "labels": ids.masked_fill(mask == 0, -100)}


@torch.no_grad()
def heldout_loss(model, docs: list[list[int]], pad: int, batch_size: int = 32) -> float:
    """Token-weighted mean next-token loss over `docs`."""
    was_training = model.training
    model.eval()
    total, count = 0.0, 0
    for start in range(0, len(docs), batch_size):
        batch = _batch(docs, pad, list(range(start, min(start + batch_size, len(docs)))))
        n = int((batch["labels"][:, 1:] != -100).sum())
        total += model(**batch).loss.item() * n
        count += n
    model.train(was_training)
    return total / count


def _lr(step: int, config: PretrainConfig) -> float:
    if step < config.warmup_steps:
        return config.lr * (step + 1) / config.warmup_steps
    progress = (step - config.warmup_steps) / max(1, config.steps - config.warmup_steps)
    return config.lr * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * min(1.0, progress))))


def _checkpoint(model, opt, ckpt: Path, step: int, log: list[dict], config: PretrainConfig) -> None:
    ckpt.mkdir(exist_ok=True)
    model.save_pretrained(ckpt)
    torch.save(opt.state_dict(), ckpt / "optimizer.pt")
    (ckpt / "state.json").write_text(json.dumps({"step": step, "log": log, "config": asdict(config)}))


def _resume(ckpt: Path, opt) -> tuple[int, list[dict]]:
    state_file = ckpt / "state.json"
    if not state_file.is_file():
        return 0, []
    state = json.loads(state_file.read_text())
    opt.load_state_dict(torch.load(ckpt / "optimizer.pt"))
    return state["step"], state["log"]


def _write_log(model_dir: Path, log: list[dict]) -> None:
    with (model_dir / "pretrain_log.jsonl").open("w") as f:
        for entry in log:
            f.write(json.dumps(entry) + "\n")


def plot_loss_curve(log: list[dict], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 4))
    ax.plot([e["step"] for e in log], [e["train_loss"] for e in log], label="train", alpha=0.6)
    held = [e for e in log if "heldout_loss" in e]
    ax.plot([e["step"] for e in held], [e["heldout_loss"] for e in held], "o-", label="held-out")
    ax.set_xlabel("step")
    ax.set_ylabel("next-token loss (nats)")
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=80)
    plt.close(fig)


def _progress(show: bool) -> Progress:
    return Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        TextColumn("{task.completed}/{task.total} loss {task.fields[loss]:.3f}"),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        disable=not show,
    )
