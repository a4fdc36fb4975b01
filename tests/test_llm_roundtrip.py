"""Build → pretrain a few steps → save → load by path → generate → log-probs match the training path."""

from __future__ import annotations

import json

import pytest
import torch

from selfevolve.llm import SamplingParams, TransformersGenerator, load_model, token_logprobs
from selfevolve.tinymodels.build import build_tiny
from selfevolve.tinymodels.corpus import write_corpus
from selfevolve.tinymodels.pretrain import PretrainConfig, pretrain

# fp32 on CPU: incremental (KV-cache, batched, left-padded) vs full recomputation differ by float
# rounding only; observed max |diff| ~1e-6, asserted with margin.
LOGPROB_TOL = 1e-4

PROMPTS = ["def f(x):", "def f(xs):\n    a = sorted(xs)\n    return a[::-1]\n# f([3, 1, 2]) ==", "x"]


def corpus_docs(n: int = 120) -> list[str]:
    return [f"def f(x):\n    return x * {i} + {i % 7}\n# f({i}) == {i * i + i % 7}" for i in range(n)]


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory):
    root = tmp_path_factory.mktemp("tiny")
    corpus = root / "corpus.jsonl"
    write_corpus(corpus, corpus_docs())
    out = build_tiny("nano", corpus, root / "model")
    pretrain(out, corpus, PretrainConfig(steps=3, batch_size=8, eval_every=2, save_every=2), show_progress=False)
    return out


@pytest.fixture(scope="module")
def generator(model_dir):
    model, tokenizer = load_model(model_dir, device="cpu", dtype=torch.float32)
    return TransformersGenerator(model, tokenizer, batch_size=4)


def recompute(generator, prompt_ids: list[list[int]], completions: list[list[int]]) -> list[torch.Tensor]:
    """Training-path log-probs of each completion, in one left-padded batch."""
    seqs = [p + c for p, c in zip(prompt_ids, completions)]
    width = max(map(len, seqs))
    ids = torch.full((len(seqs), width), generator.pad_id)
    mask = torch.zeros_like(ids)
    for i, s in enumerate(seqs):
        ids[i, width - len(s) :] = torch.tensor(s)
        mask[i, width - len(s) :] = 1
    with torch.no_grad():
        lp = token_logprobs(generator.model, ids, mask)
    return [lp[i, width - len(c) - 1 :] for i, c in enumerate(completions)]


@pytest.mark.parametrize(
    "params",
    [
        SamplingParams(n=3, max_new_tokens=24, temperature=1.0, seed=1),
        SamplingParams(n=2, max_new_tokens=24, temperature=0.7, top_p=0.9, top_k=20, seed=2),
        SamplingParams(n=1, max_new_tokens=16, temperature=0.0),
    ],
    ids=["t1", "t0.7-topp-topk", "greedy"],
)
def test_sampling_logprobs_match_training_logprobs(generator, params):
    results = generator.generate(PROMPTS, params)
    assert [len(r) for r in results] == [params.n] * len(PROMPTS)
    prompt_ids = [generator.encode(p) for p, outs in zip(PROMPTS, results) for _ in outs]
    completions = [c for outs in results for c in outs]
    assert len({len(p) for p in prompt_ids}) > 1  # prompts of different lengths → real left padding
    recomputed = recompute(generator, prompt_ids, [c.token_ids for c in completions])
    for c, lp in zip(completions, recomputed):
        assert len(c.token_ids) == len(c.logprobs) > 0
        assert torch.allclose(lp, torch.tensor(c.logprobs), atol=LOGPROB_TOL), (lp, c.logprobs)


def test_seed_reproduces_and_batching_does_not_change_greedy(generator, model_dir):
    params = SamplingParams(n=2, max_new_tokens=12, temperature=1.0, seed=7)
    first = generator.generate(PROMPTS, params)
    assert [[c.token_ids for c in o] for o in first] == [[c.token_ids for c in o] for o in generator.generate(PROMPTS, params)]
    greedy = SamplingParams(max_new_tokens=12, temperature=0.0)
    batched = [o[0].token_ids for o in generator.generate(PROMPTS, greedy)]
    one_by_one = [generator.generate([p], greedy)[0][0].token_ids for p in PROMPTS]
    assert batched == one_by_one


def test_stop_string_cuts_text_and_sets_finish_reason(generator):
    free = generator.generate(["def f(x):"], SamplingParams(max_new_tokens=20, temperature=0.0))[0][0]
    assert free.finish_reason in ("length", "stop") and len(free.token_ids) <= 20
    stop = free.text[3:5]
    stopped = generator.generate(["def f(x):"], SamplingParams(max_new_tokens=20, temperature=0.0, stop=(stop,)))[0][0]
    assert stopped.finish_reason == "stop"
    assert stopped.text == free.text[: free.text.find(stop)]
    assert stopped.token_ids == free.token_ids[: len(stopped.token_ids)]


def test_chat_uses_the_tokenizer_template(generator):
    outs = generator.chat([{"role": "user", "content": "hi"}], SamplingParams(n=2, max_new_tokens=5, seed=0))
    assert len(outs) == 2 and all(len(c.token_ids) <= 5 for c in outs)
    assert generator.render_chat([{"role": "user", "content": "hi"}]) == "User: hi\nAssistant:"


def test_pretrain_resumes_from_checkpoint_and_writes_artifacts(model_dir, tmp_path):
    corpus = tmp_path / "corpus.jsonl"
    write_corpus(corpus, corpus_docs())
    result = pretrain(model_dir, corpus, PretrainConfig(steps=5, batch_size=8, eval_every=2, save_every=2), show_progress=False)
    log = [json.loads(line) for line in (model_dir / "pretrain_log.jsonl").read_text().splitlines()]
    assert result.steps == 5 and [e["step"] for e in log] == [1, 2, 3, 4, 5]  # steps 1-3 came from the checkpoint
    assert (model_dir / "loss_curve.png").stat().st_size > 1000
    assert result.heldout_loss == log[-1]["heldout_loss"] and result.heldout_docs >= 1
