"""Stage 3, self-training by inference-compute contrast (docs/spec/meteor.md §4): per question the model gives a
low-compute answer (greedy) and a high-compute one (beam search, the paper; or sampling, the
reference code); one is preferred (`preference`), identical pairs are dropped, and the model is
trained on the pairs (hinge loss or DPO). Each turn starts from the previous turn's model.

Writes `turn_NN/pairs.jsonl` (per question: the record with `pair`), `turn_NN/model/` and
`summary.json`. Resume: finished questions are not redone, finished turns are kept.
"""

from __future__ import annotations

import shutil
from collections import Counter
from pathlib import Path

import torch
from rich.progress import Progress

from selfevolve.llm.loading import load_model
from selfevolve.llm.types import SamplingParams
from selfevolve.recipes.meteor.beam import beam_search
from selfevolve.recipes.meteor.config import CRITERIA, MeteorConfig
from selfevolve.recipes.meteor.errors import MeteorError
from selfevolve.recipes.meteor.judging import score_answers
from selfevolve.recipes.meteor.pairwise import encode_pair, train_dpo, train_hinge
from selfevolve.recipes.meteor.prompts import answer_prompt
from selfevolve.recipes.meteor.records import Pair, Record, StageLog, require, write_summary
from selfevolve.recipes.meteor.roles import Role, Roles, render, require_local
from selfevolve.recipes.meteor.seeding import seed_for
from selfevolve.recipes.meteor.sft import completion
from selfevolve.recipes.meteor.versions import is_complete, save_new, write_model


def self_train(records: list[Record], roles: Roles, cfg: MeteorConfig, out: Path, start: str | None = None) -> dict:
    """Run `self_train.turns` turns on `records` into `out`, from the weak model at `start` (default: --weak)."""
    require(records, ("question_content",), "self-training", "every question needs its content")
    model = start or roles.weak_model
    require_local(model, "self-training")
    turns = []
    for turn in range(1, cfg.self_train.turns + 1):
        turn_dir = out / f"turn_{turn:02d}"
        log = StageLog(turn_dir / "pairs.jsonl")
        done = log.done()
        todo = [r for r in records if r.id not in done]
        if todo:
            _write_pairs(todo, roles.weak(model), roles, cfg, turn, log)
        written = [r for r in log.read() if r.id in {q.id for q in records}]
        kept = [r for r in written if r.pair.chosen is not None]
        if kept and not is_complete(turn_dir / "model"):
            train_pairs(model, kept, cfg, turn_dir / "model", turn)
        if is_complete(turn_dir / "model"):
            model = str(turn_dir / "model")
        turns.append({"turn": turn, "questions": len(records), "resumed": len(records) - len(todo), "pairs": len(kept),
                      "dropped": dict(Counter(r.pair.reason for r in written if r.pair.chosen is None)),
                      "chosen": dict(Counter(r.pair.chosen for r in kept)), "model": model})
    summary = {"stage": "self_train", "turns": turns, "model": model}
    write_summary(out / "summary.json", summary)
    return summary


def _write_pairs(todo: list[Record], weak: Role, roles: Roles, cfg: MeteorConfig, turn: int, log: StageLog) -> None:
    """Contrast the questions in batches, appending each record as it is done (the weak model is freed after)."""
    with Progress(transient=True) as progress:
        task = progress.add_task(f"self-training turn {turn}", total=len(todo))
        for at in range(0, len(todo), cfg.self_train.batch_size):
            for record in contrast_batch(todo[at : at + cfg.self_train.batch_size], weak, roles, cfg, turn):
                log.append(record)
                progress.advance(task)


def contrast_batch(batch: list[Record], weak: Role, roles: Roles, cfg: MeteorConfig, turn: int) -> list[Record]:
    """The low- and high-compute answers of a batch of questions, and which one is preferred."""
    st = cfg.self_train
    prompts = [answer_prompt(r, cfg.prompts) for r in batch]
    low = weak.reply(prompts, SamplingParams(max_new_tokens=st.max_new_tokens, temperature=0.0))
    if st.high_compute == "beam":
        high = beam_search(weak, prompts, st.num_beams, st.max_new_tokens)
    else:
        high = weak.reply(prompts, SamplingParams(max_new_tokens=st.max_new_tokens, temperature=st.temperature,
                                                  top_p=st.top_p, seed=seed_for(cfg.seed, "high", turn, batch[0].id)))
    pairs = [_pair(lo, hi) for lo, hi in zip(low, high)]
    undecided = [i for i, p in enumerate(pairs) if p.reason == "undecided"]
    decided = prefer([batch[i] for i in undecided], [pairs[i] for i in undecided], weak, roles, cfg)
    for i, pair in zip(undecided, decided):
        pairs[i] = pair
    return [r.model_copy(update={"pair": p}) for r, p in zip(batch, pairs)]


def _pair(low: str | None, high: str | None) -> Pair:
    """A pair before the preference: dropped now when it cannot be a pair, else 'undecided'."""
    low_text, high_text = (low or "").strip(), (high or "").strip()
    if low is None or high is None:
        return Pair(low=low_text, high=high_text, chosen=None, reason="no_room")
    if not low_text or not high_text:
        return Pair(low=low_text, high=high_text, chosen=None, reason="empty")
    if low_text == high_text:
        return Pair(low=low_text, high=high_text, chosen=None, reason="identical")
    return Pair(low=low_text, high=high_text, chosen=None, reason="undecided")


def prefer(records: list[Record], pairs: list[Pair], weak: Role, roles: Roles, cfg: MeteorConfig) -> list[Pair]:
    """Each pair with its preferred answer, by `self_train.preference` (ties and unreadable judgments dropped)."""
    rule = cfg.self_train.preference
    if rule == "high_compute":
        return [p.model_copy(update={"chosen": "high", "reason": rule}) for p in pairs]
    if rule == "longer":
        sizes = [(weak.count_tokens(p.low), weak.count_tokens(p.high)) for p in pairs]
    else:
        sizes = _judge_means(records, pairs, roles.judge(), cfg)
    decided = []
    for pair, (low, high) in zip(pairs, sizes):
        if low is None or high is None:
            decided.append(pair.model_copy(update={"reason": "unparsed"}))
        elif low == high:
            decided.append(pair.model_copy(update={"reason": "tie"}))
        else:
            decided.append(pair.model_copy(update={"chosen": "high" if high > low else "low", "reason": rule}))
    return decided


def _judge_means(records: list[Record], pairs: list[Pair], judge: Role, cfg: MeteorConfig) -> list[tuple[float | None, float | None]]:
    """(low, high) mean criteria scores per pair; judged in both orders with position swap, and
    averaged; None when a judgment is unreadable."""
    ev = cfg.evaluate
    orders = [(0, 1), (1, 0)] if ev.position_swap else [(0, 1)]
    items = [(r, [(p.low, p.high)[i] for i in order]) for r, p in zip(records, pairs) for order in orders]
    judged = score_answers(judge, items, ev.judge.params(), ev.judge_retries)
    means = []
    for k in range(len(pairs)):
        totals = [0.0, 0.0]
        readable = True
        for order, j in zip(orders, judged[k * len(orders) : (k + 1) * len(orders)]):
            if j.value is None:
                readable = False
                break
            for shown, answer in enumerate(order):
                totals[answer] += sum(j.value[shown][c] for c in CRITERIA)
        means.append((totals[0], totals[1]) if readable else (None, None))
    return means


def train_pairs(model: str, kept: list[Record], cfg: MeteorConfig, out: Path, turn: int) -> Path:
    """Train `model` on the kept pairs into the new directory `out`; prompts are rendered as the weak
    model is asked."""
    st = cfg.self_train
    seed = seed_for(cfg.seed, "train", turn)
    chat = cfg.prompts.chat_template

    def write(partial: Path) -> None:
        policy, tokenizer = load_model(model, device=cfg.roles.device, dtype=torch.float32)
        prompts = [render(answer_prompt(r, cfg.prompts), tokenizer, chat) for r in kept]
        texts = [(p, completion(p, chosen), completion(p, other)) for p, (chosen, other) in zip(prompts, map(_sides, kept))]
        if st.loss == "dpo":
            log = train_dpo(policy, tokenizer, [{"prompt": p, "chosen": c, "rejected": r} for p, c, r in texts], st,
                            partial / "trl", seed)
            shutil.rmtree(partial / "trl", ignore_errors=True)
        else:
            encoded = [encode_pair(tokenizer, tokenizer(p, add_special_tokens=not chat)["input_ids"], c, r, st.max_length)
                       for p, c, r in texts]
            fitting = [e for e in encoded if e is not None]
            if not fitting:
                raise MeteorError(f"no prompt leaves room for an answer within self_train.max_length={st.max_length}; raise it")
            log = train_hinge(policy, tokenizer.pad_token_id, fitting, st, seed)
        write_model(policy, tokenizer, partial, log)

    return save_new(out, write, {"base": model, "stage": "self_train", "turn": turn, "loss": st.loss,
                                 "trained_on": [r.id for r in kept]})


def _sides(record: Record) -> tuple[str, str]:
    """(preferred answer, other answer) of a kept pair."""
    pair = record.pair
    return (pair.high, pair.low) if pair.chosen == "high" else (pair.low, pair.high)
