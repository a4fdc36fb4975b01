"""METEOR's training pieces on the shipped tiny-coder: pair batches and the hinge loss, labels and
padding, TRL's SFT and DPO, beam search and eval mode during generation (docs/spec/meteor.md §5; §8.3, §8.5)."""

from __future__ import annotations

import math

import pytest
import torch
from torch.utils.data import DataLoader

from selfevolve.llm.loading import load_model
from selfevolve.llm.transformers_backend import TransformersGenerator
from selfevolve.llm.types import SamplingParams
from selfevolve.recipes.meteor.beam import beam_search
from selfevolve.recipes.meteor.config import SelfTrainConfig, SFTConfig
from selfevolve.recipes.meteor.pairwise import IGNORE, collate_pairs, encode_pair, hinge_loss, sequence_nll, train_dpo, train_hinge
from selfevolve.recipes.meteor.prompts import user
from selfevolve.recipes.meteor.roles import Role
from selfevolve.recipes.meteor.sft import sft_trainer

PAIRS = [(f"Question: what is {i} + {i}?\nAnswer with reasoning:", f" {i} + {i} = {2 * i}.", f" It is {i}{i}, I think.")
         for i in range(6)]


@pytest.fixture()
def tiny():
    torch.manual_seed(0)
    return load_model("tiny-coder", device="cpu", dtype=torch.float32)


def encoded(tokenizer, max_length: int = 128):
    return [encode_pair(tokenizer, tokenizer(p)["input_ids"], c, r, max_length) for p, c, r in PAIRS]


def test_one_side_of_a_pair_alone_is_refused_where_the_reference_got_nan():
    # the reference's rows alternated positive/negative; a batch of one row gave an empty negative slice
    reference_like = torch.tensor([0.7])[::2] - torch.tensor([0.7])[1::2]
    assert math.isnan(torch.relu(reference_like).mean().item())
    with pytest.raises(ValueError, match="2B rows"):
        hinge_loss(torch.tensor([0.7]), margin=0.0)
    nll = torch.tensor([1.0, 2.0, 1.5, 1.0])  # preferred [1, 2], others [1.5, 1]
    assert hinge_loss(nll, 0.0).item() == pytest.approx(0.5)
    assert hinge_loss(nll, 1.0).item() == pytest.approx(1.25)


def test_pairs_stay_together_at_batch_size_1_with_shuffling_and_training_stays_finite(tiny):
    model, tokenizer = tiny
    pairs = encoded(tokenizer)
    loader = DataLoader(pairs, batch_size=1, shuffle=True, generator=torch.Generator().manual_seed(0),
                        collate_fn=lambda b: collate_pairs(b, tokenizer.pad_token_id))
    seen = []
    for batch in loader:
        assert batch["input_ids"].shape[0] == 2  # the preferred answer and the other one
        prompt = next(p.prompt for p in pairs if batch["input_ids"][0, : len(p.prompt)].tolist() == p.prompt)
        assert batch["input_ids"][1, : len(prompt)].tolist() == prompt
        seen.append(tuple(prompt))
    assert len(set(seen)) == len(pairs)
    before = [p.detach().clone() for p in model.parameters()]
    cfg = SelfTrainConfig(batch_pairs=1, gradient_accumulation_steps=2, learning_rate=1e-3, margin=5.0)  # a loss above 0
    log = train_hinge(model, tokenizer.pad_token_id, pairs, cfg, seed=0)
    assert len(log) == 3 and log[0]["loss"] > 0 and all(math.isfinite(e["loss"]) and e["loss"] >= 0 for e in log)
    assert [e["learning_rate"] for e in log] == pytest.approx([1e-3, 2e-3 / 3, 1e-3 / 3])  # linear decay to 0
    assert any(not torch.equal(b, p) for b, p in zip(before, model.parameters()))
    assert not model.training


def test_nll_is_over_answer_tokens_only_whatever_the_padding(tiny):
    model, tokenizer = tiny
    short, long = encoded(tokenizer)[0], encode_pair(tokenizer, tokenizer(PAIRS[1][0] * 3)["input_ids"], " x" * 20, " y", 256)
    alone = collate_pairs([short], tokenizer.pad_token_id)
    both = collate_pairs([short, long], tokenizer.pad_token_id)
    prompt, answer = len(short.prompt), len(short.chosen)
    assert alone["labels"][0, :prompt].eq(IGNORE).all() and alone["labels"][0, prompt : prompt + answer].tolist() == short.chosen
    padded = both["attention_mask"] == 0
    assert padded.any() and both["labels"][padded].eq(IGNORE).all()
    with torch.no_grad():
        nll_alone, nll_both = sequence_nll(model, alone), sequence_nll(model, both)
        assert nll_alone[0].item() == pytest.approx(nll_both[0].item(), abs=1e-5)
        assert nll_alone[1].item() == pytest.approx(nll_both[2].item(), abs=1e-5)
        ids = torch.tensor([short.prompt + short.chosen])
        logp = torch.log_softmax(model(ids).logits[0, :-1].float(), -1).gather(-1, ids[0, 1:, None]).squeeze(-1)
        assert nll_alone[0].item() == pytest.approx(-logp[prompt - 1 :].mean().item(), abs=1e-5)
    # with pad == EOS (Llama-3 style) the answer's own EOS keeps its label; only padding positions are masked
    eos_padded = collate_pairs([short, long], tokenizer.eos_token_id)
    assert eos_padded["labels"][0, prompt + answer - 1].item() == tokenizer.eos_token_id


def test_sft_masks_padding_always_and_the_prompt_unless_loss_on_all(tiny, tmp_path):
    model, tokenizer = tiny
    examples = [{"prompt": "Question: 1 + 1?\nAnswer:", "completion": " 2"},
                {"prompt": "Question: a much longer question about sums?\nAnswer:", "completion": " 1 + 1 = 2, so 2."}]
    for loss_on in ("completion", "all"):
        trainer = sft_trainer(model, tokenizer, examples, SFTConfig(loss_on=loss_on, batch_size=2), tmp_path / loss_on, 0)
        batch = trainer.data_collator([trainer.train_dataset[0], trainer.train_dataset[1]])
        labels, mask = batch["labels"], batch["attention_mask"]
        assert labels[mask == 0].eq(IGNORE).all() and (mask == 0).any()
        prompt_len = len(tokenizer(examples[0]["prompt"])["input_ids"])
        first = labels[0, :prompt_len]
        assert first.eq(IGNORE).all() if loss_on == "completion" else first.ne(IGNORE).all()
        assert labels[0][mask[0] == 1][-1].item() == tokenizer.eos_token_id  # TRL appends EOS to the answer


def test_dpo_through_trl_trains_the_model(tiny, tmp_path):
    model, tokenizer = tiny
    before = [p.detach().clone() for p in model.parameters()]
    rows = [{"prompt": p, "chosen": c, "rejected": r} for p, c, r in PAIRS[:2]]
    log = train_dpo(model, tokenizer, rows, SelfTrainConfig(loss="dpo", gradient_accumulation_steps=1, learning_rate=1e-3),
                    tmp_path / "trl", seed=0)
    losses = [entry["loss"] for entry in log if "loss" in entry]
    assert losses and all(math.isfinite(x) for x in losses)
    assert losses[0] == pytest.approx(math.log(2), abs=1e-3)  # the policy starts equal to its reference
    assert any(not torch.equal(b, p) for b, p in zip(before, model.parameters()))


def test_generation_and_beam_search_run_in_eval_mode_and_restore_the_mode(tiny):
    model, tokenizer = tiny
    modes = []
    hook = model.register_forward_pre_hook(lambda module, args: modes.append(module.training))
    model.train()
    role = Role("weak", TransformersGenerator(model, tokenizer, batch_size=8), chat=False)
    conversations = [user("def add(a, b):"), user("Question: sum a list\nAnswer:")]
    replies = role.reply(conversations, SamplingParams(max_new_tokens=6, temperature=1.0, seed=0))
    beams = beam_search(role, conversations, num_beams=3, max_new_tokens=6)
    hook.remove()
    assert modes and not any(modes) and model.training
    assert all(isinstance(r, str) for r in replies + beams)
    assert all(len(tokenizer(b, add_special_tokens=False)["input_ids"]) <= 7 for b in beams)
    assert role.reply([user("x " * 600)], SamplingParams(max_new_tokens=4)) == [None]  # does not fit: no reply
    assert beam_search(role, [user("x " * 600)], num_beams=2, max_new_tokens=4) == [None]
