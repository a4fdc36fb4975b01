"""Generation tokens/s of the shipped tiny models on CPU at batch 1, 16 and 64.

Ours: `TransformersGenerator` (batched, left padding, KV cache, our sampling loop).
Baselines, same run, same prompts, same max_new_tokens, sampling at T=1:
  * hf-sequential: plain `model.generate` from transformers, one prompt per call (no batching);
  * hf-batched: `model.generate` on the whole left-padded batch.
Tokens counted are those actually generated up to and including EOS (models may stop early).

    nice .venv/bin/python benchmarks/generation.py [--models tiny-coder tiny-countdown] [--max-new-tokens 64]
"""

from __future__ import annotations

import argparse
import platform
import time

import torch

from selfevolve.llm import SamplingParams, TransformersGenerator, load_model

BATCHES = (1, 16, 64)


def prompts_for(model_name: str, n: int) -> list[str]:
    """Prompts in each model's own task format (held-out tasks, never training documents)."""
    if model_name == "tiny-countdown":
        from selfevolve.tinymodels.corpora.countdown import heldout_problems
        from selfevolve.tasks.countdown import render_prompt

        return [render_prompt(p, "base") for p in heldout_problems(n, seed=99)]
    from selfevolve.eval.code_io import HELDOUT_TINY, load_tasks
    from selfevolve.tasks.code_io import solver_prompt

    tasks = list(load_tasks(HELDOUT_TINY).values())
    return [solver_prompt(tasks[i % len(tasks)], style="compact") for i in range(n)]


def ours(generator: TransformersGenerator, prompts: list[str], max_new: int) -> int:
    outs = generator.generate(prompts, SamplingParams(max_new_tokens=max_new, temperature=1.0, seed=0))
    return sum(len(o[0].token_ids) for o in outs)


def hf_generate(model, tokenizer, prompts: list[str], max_new: int) -> int:
    batch = tokenizer(prompts, return_tensors="pt", padding=True)
    out = model.generate(
        **batch, max_new_tokens=max_new, do_sample=True, temperature=1.0, top_p=1.0, top_k=0,
        pad_token_id=tokenizer.pad_token_id,
    )
    new = out[:, batch["input_ids"].shape[1] :]
    return sum(_length_to_eos(row.tolist(), tokenizer.eos_token_id) for row in new)


def _length_to_eos(ids: list[int], eos: int) -> int:
    return ids.index(eos) + 1 if eos in ids else len(ids)


def timed(fn) -> tuple[int, float]:
    start = time.perf_counter()
    tokens = fn()
    return tokens, time.perf_counter() - start


def bench_model(name: str, max_new: int) -> list[tuple]:
    torch.manual_seed(0)
    model, tokenizer = load_model(name, device="cpu", dtype=torch.float32)
    rows = []
    for batch in BATCHES:
        prompts = prompts_for(name, batch)
        gen = TransformersGenerator(model, tokenizer, batch_size=batch)
        ours(gen, prompts[:1], 4)  # warm-up
        candidates = {
            "ours (TransformersGenerator)": lambda: ours(gen, prompts, max_new),
            "hf-sequential (model.generate per prompt)": lambda: sum(hf_generate(model, tokenizer, [p], max_new) for p in prompts),
            "hf-batched (model.generate, left-padded)": lambda: hf_generate(model, tokenizer, prompts, max_new),
        }
        for label, fn in candidates.items():
            tokens, seconds = timed(fn)
            rows.append((name, batch, label, tokens, seconds, tokens / seconds))
            print(f"{name:15s} batch {batch:3d} {label:45s} {tokens:6d} tok {seconds:7.2f} s {tokens / seconds:8.1f} tok/s", flush=True)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--models", nargs="+", default=["tiny-coder", "tiny-countdown"])
    parser.add_argument("--max-new-tokens", type=int, default=64)
    args = parser.parse_args()
    print(f"# machine: {platform.processor() or platform.machine()}, torch {torch.__version__}, {torch.get_num_threads()} threads, CPU only")
    rows = [r for name in args.models for r in bench_model(name, args.max_new_tokens)]
    print("\n| model | batch | generator | tokens | seconds | tokens/s |\n|---|---|---|---|---|---|")
    for name, batch, label, tokens, seconds, rate in rows:
        print(f"| {name} | {batch} | {label} | {tokens} | {seconds:.2f} | {rate:.1f} |")


if __name__ == "__main__":
    main()
