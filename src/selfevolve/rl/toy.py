"""A toy verifiable task for the learning test, the TRL benchmark and demos: "3+4=" -> "7".

A character-level tokenizer (digits, '+', '=', EOS, PAD), a tiny Qwen2 policy, and a supervised
warm start on *noisy* answers: with probability `off_by_one` the target is a+b+1. The warm-started
model thus puts much of its mass on a systematic error that a reward can remove, and the skill
("do not add one") is shared across problems, so it shows on held-out problems too.
"""

from __future__ import annotations

import random

import torch
from tokenizers import Tokenizer, decoders, models, pre_tokenizers
from transformers import PreTrainedTokenizerFast, Qwen2Config, Qwen2ForCausalLM

EOS, PAD = "<eos>", "<pad>"
CHARS = "0123456789+="

ALL_PAIRS = [(a, b) for a in range(10) for b in range(10)]
HELD_OUT = ALL_PAIRS[2::5]  # 20 problems never used for RL
TRAIN = [p for p in ALL_PAIRS if p not in HELD_OUT]  # 80 problems


def char_tokenizer() -> PreTrainedTokenizerFast:
    """One token per character of CHARS, plus EOS and PAD; prompts are left-padded."""
    vocab = {c: i for i, c in enumerate(CHARS)} | {EOS: len(CHARS), PAD: len(CHARS) + 1}
    tok = Tokenizer(models.WordLevel(vocab, unk_token=PAD))
    tok.pre_tokenizer = pre_tokenizers.Split("", behavior="isolated")
    tok.decoder = decoders.Fuse()
    fast = PreTrainedTokenizerFast(tokenizer_object=tok, eos_token=EOS, pad_token=PAD)
    fast.padding_side = "left"
    return fast


def tiny_policy(tokenizer: PreTrainedTokenizerFast, seed: int = 0, hidden: int = 64, layers: int = 2) -> Qwen2ForCausalLM:
    torch.manual_seed(seed)
    config = Qwen2Config(
        vocab_size=len(tokenizer), hidden_size=hidden, intermediate_size=4 * hidden, num_hidden_layers=layers,
        num_attention_heads=4, num_key_value_heads=4, max_position_embeddings=32, tie_word_embeddings=True,
        eos_token_id=tokenizer.eos_token_id, pad_token_id=tokenizer.pad_token_id, bos_token_id=tokenizer.eos_token_id,
    )
    return Qwen2ForCausalLM(config).float()


def prompt(a: int, b: int) -> str:
    return f"{a}+{b}="


def reward(prompt_text: str, completion: str, context=None) -> float:
    """1.0 when the completion is exactly the sum, else 0.0 (a verifiable reward)."""
    a, b = prompt_text.rstrip("=").split("+")
    return float(completion.strip() == str(int(a) + int(b)))


def sft_warm_start(model, tokenizer, pairs, steps: int = 150, off_by_one: float = 0.6, lr: float = 3e-3, seed: int = 0) -> None:
    """Teach the answer format on noisy targets (a+b+1 with probability `off_by_one`)."""
    rng = random.Random(seed)
    optimizer = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=0.0)
    eos = tokenizer.eos_token_id
    model.train()
    for _ in range(steps):
        batch = [rng.choice(pairs) for _ in range(32)]
        texts = [prompt(a, b) + str(a + b + (rng.random() < off_by_one)) for a, b in batch]
        ids = [tokenizer(t)["input_ids"] + [eos] for t in texts]
        width = max(map(len, ids))
        input_ids = torch.full((len(ids), width), tokenizer.pad_token_id)
        labels = torch.full((len(ids), width), -100)
        for i, row in enumerate(ids):
            input_ids[i, : len(row)] = torch.tensor(row)
            labels[i, 4 : len(row)] = torch.tensor(row[4:])  # loss on the answer and EOS only
        loss = model(input_ids=input_ids, labels=labels).loss
        loss.backward()
        optimizer.step()
        optimizer.zero_grad()


@torch.no_grad()
def greedy_accuracy(model, tokenizer, pairs) -> float:
    """Fraction of `pairs` whose greedy completion (up to 3 tokens) is exactly the sum."""
    ids = torch.tensor([tokenizer(prompt(a, b))["input_ids"] for a, b in pairs])  # all prompts are 4 tokens
    out = model.generate(input_ids=ids, attention_mask=torch.ones_like(ids), max_new_tokens=3, do_sample=False,
                         pad_token_id=tokenizer.pad_token_id, eos_token_id=tokenizer.eos_token_id)
    texts = tokenizer.batch_decode(out[:, ids.shape[1]:], skip_special_tokens=True)
    return sum(reward(prompt(a, b), t) for (a, b), t in zip(pairs, texts)) / len(pairs)
