"""Held-out evaluation of the AZR tiny preset: how the generation batch size sets its time.

The evaluation decodes 300 held-out tasks greedily and 4 answers per task at T = 1 (1,500 answers).
A decoding batch runs until its longest answer ends, and on a model as small as tiny-coder a
decoding step costs about the same for 32 rows as for 128, so fewer, larger batches finish sooner.
Arms, same model, same tasks, same process, alternating: generation batch sizes 32 (the preset until
session 4: the baseline), 64, 128 (the preset now) and 256. Verification is not timed (it is the
same for all arms).

    nice python benchmarks/heldout_eval.py --threads 2 --repeats 2
"""

from __future__ import annotations

import argparse
import platform
import statistics
import time

import torch

from selfevolve.eval.code_io import HELDOUT_TINY, load_tasks
from selfevolve.llm import SamplingParams, TransformersGenerator, load_model
from selfevolve.tasks.code_io import solver_prompt

RUNS = {"greedy": (1, 0.0), "4 at T=1": (4, 1.0)}  # the preset's eval: greedy, then eval.samples = 4


def timed_eval(generator: TransformersGenerator, prompts: list[str]) -> dict[str, tuple[float, int]]:
    """Seconds and generated tokens of each of the evaluation's two generation calls."""
    out = {}
    for label, (n, temperature) in RUNS.items():
        start = time.perf_counter()
        answers = generator.generate(prompts, SamplingParams(n=n, max_new_tokens=256, temperature=temperature, seed=1234))
        out[label] = (time.perf_counter() - start, sum(len(c.token_ids) for cs in answers for c in cs))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--batches", type=int, nargs="+", default=[32, 64, 128, 256])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=2)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    model, tokenizer = load_model("tiny-coder", device="cpu", dtype=torch.float32)
    prompts = [solver_prompt(t, style="compact") for t in load_tasks(HELDOUT_TINY).values()]
    print(f"# {platform.processor() or platform.machine()}, torch {torch.__version__}, {args.threads} threads, "
          f"{len(prompts)} tasks")
    seconds: dict[int, list[dict]] = {b: [] for b in args.batches}
    for _ in range(args.repeats):
        for batch in args.batches:
            seconds[batch].append(timed_eval(TransformersGenerator(model, tokenizer, batch_size=batch), prompts))
            print(batch, seconds[batch][-1], flush=True)
    print("\n| generation batch | greedy s | 4 at T=1 s | total s (median) | tokens at T=1 |\n|---|---|---|---|---|")
    for batch, runs in seconds.items():
        greedy = statistics.median(r["greedy"][0] for r in runs)
        sampled = statistics.median(r["4 at T=1"][0] for r in runs)
        total = statistics.median(r["greedy"][0] + r["4 at T=1"][0] for r in runs)
        print(f"| {batch} | {greedy:.1f} | {sampled:.1f} | {total:.1f} | {runs[0]['4 at T=1'][1]:,} |")


if __name__ == "__main__":
    main()
