"""The batched sampling loop's bookkeeping: rows that finish at different steps (EOS, stop string,
length), prompts of different lengths, and dropping finished rows from the batch mid-way."""

from __future__ import annotations

import pytest
import torch
from transformers.cache_utils import Cache

from selfevolve.llm import SamplingParams, TransformersGenerator, token_logprobs
from selfevolve.rl import toy

# one- and two-digit answers, prompts of 4 and 5 tokens ("3+4=", "13+4="): rows end at different steps
PROMPTS = ["3+4=", "13+4=", "1+2=", "9+9=", "15+7=", "0+0="]


@pytest.fixture(scope="module")
def generator():
    tokenizer = toy.char_tokenizer()
    model = toy.tiny_policy(tokenizer, seed=0)
    toy.sft_warm_start(model, tokenizer, toy.TRAIN, steps=60, seed=0)  # learns "digits, then EOS"
    return TransformersGenerator(model.eval(), tokenizer, batch_size=64)


def recomputed_logprobs(generator, prompt: str, completion_ids: list[int]) -> torch.Tensor:
    ids = torch.tensor([generator.encode(prompt) + completion_ids])
    with torch.no_grad():
        return token_logprobs(generator.model, ids, torch.ones_like(ids))[0, -len(completion_ids) :]


def test_rows_finishing_at_different_steps_keep_their_own_ids_logprobs_and_reasons(generator, monkeypatch):
    eos = generator.tokenizer.eos_token_id
    kept = []  # batch sizes of each KV-cache row selection: the prompt pass copied to all rows, then drops
    select = Cache.batch_select_indices
    monkeypatch.setattr(Cache, "batch_select_indices", lambda cache, idx: (kept.append(len(idx)), select(cache, idx))[1])
    params = SamplingParams(n=8, max_new_tokens=3, temperature=1.0, seed=3)
    results = generator.generate(PROMPTS, params)
    assert kept[0] == 48  # 6 distinct prompts passed once each, then copied to their 8 samples
    assert kept[1:] and all(0 < k <= 24 for k in kept[1:])  # finished rows dropped once at least half had finished
    lengths, reasons = set(), set()
    for prompt, outs in zip(PROMPTS, results):
        for c in outs:
            assert 1 <= len(c.token_ids) == len(c.logprobs) <= 3
            assert eos not in c.token_ids[:-1]  # nothing is produced after the finishing token
            assert c.finish_reason == ("stop" if c.token_ids[-1] == eos else "length")
            assert c.text == generator.tokenizer.decode(c.token_ids, skip_special_tokens=True)
            lp = recomputed_logprobs(generator, prompt, c.token_ids)
            assert torch.allclose(lp, torch.tensor(c.logprobs), atol=1e-4), (prompt, c, lp)
            lengths.add(len(c.token_ids))
            reasons.add(c.finish_reason)
    assert len(lengths) > 1 and reasons == {"stop", "length"}  # the batch really was ragged


def test_greedy_batch_equals_one_prompt_at_a_time(generator):
    greedy = SamplingParams(max_new_tokens=3, temperature=0.0)
    batched = [o[0] for o in generator.generate(PROMPTS, greedy)]
    alone = [generator.generate([p], greedy)[0][0] for p in PROMPTS]
    assert [(c.token_ids, c.finish_reason) for c in batched] == [(c.token_ids, c.finish_reason) for c in alone]
    for b, a in zip(batched, alone):
        assert b.logprobs == pytest.approx(a.logprobs, abs=1e-4)


def test_stop_string_ends_only_the_rows_that_produce_it(generator):
    eos = generator.tokenizer.eos_token_id
    free = [o[0] for o in generator.generate(PROMPTS, SamplingParams(max_new_tokens=3, temperature=0.0))]
    stopped = [o[0] for o in generator.generate(PROMPTS, SamplingParams(max_new_tokens=3, temperature=0.0, stop=("1",)))]
    assert any("1" in f.text for f in free) and any("1" not in f.text for f in free)
    for f, s in zip(free, stopped):
        if "1" in f.text:  # cut at the token completing the stop string, which is kept in the ids
            assert s.finish_reason == "stop" and s.text == f.text[: f.text.find("1")]
            assert s.token_ids == f.token_ids[: len(s.token_ids)] and s.token_ids[-1] != eos
            assert generator.tokenizer.decode(s.token_ids).endswith("1")
        else:
            assert (s.token_ids, s.finish_reason, s.text) == (f.token_ids, f.finish_reason, f.text)


def test_dropping_finished_rows_does_not_change_what_the_others_sample(generator):
    params = SamplingParams(n=8, max_new_tokens=3, temperature=1.0, seed=5)
    finishing = [c for outs in generator.generate(PROMPTS, params) for c in outs]
    endless = TransformersGenerator(generator.model, generator.tokenizer, batch_size=64)
    endless.eos_ids = set()  # no row ends early, so none is ever dropped
    free = [c for outs in endless.generate(PROMPTS, params) for c in outs]
    assert any(len(c.token_ids) < 3 for c in finishing)
    assert [c.token_ids for c in finishing] == [f.token_ids[: len(c.token_ids)] for c, f in zip(finishing, free)]
