"""Verifying solver answers: 10,000 answers of a realistic mix, batched vs one sandbox call per answer.

Mix (over the shipped held-out tasks, equal thirds per type): 35% correct, 40% wrong (abduction: an
input of another task, often a type error; deduction: another task's output; induction: another
task's program), 25% malformed (no <answer>, non-literal or injected text). Every induction answer
carries a unique comment so identical-text dedup cannot help it.

Baseline ("serial"): the reference's pattern, one `Sandbox.run` call (one job) per answer, on the
first `--baseline-n` answers; both paths must give the same verdicts there.

    python benchmarks/verify_answers.py --workers 2
"""

from __future__ import annotations

import argparse
import os
import random
import time

from selfevolve.eval.code_io import HELDOUT_TINY, load_tasks
from selfevolve.sandbox import Sandbox
from selfevolve.tasks.code_io.config import CodeIOConfig
from selfevolve.tasks.code_io.prompts import render_solver_completion
from selfevolve.tasks.code_io.types import CodeTask, TaskType
from selfevolve.tasks.code_io.verification import verify_answers


def make_mix(n: int, seed: int) -> list[tuple[CodeTask, str]]:
    rng = random.Random(seed)
    by_type = {k: [t for t in load_tasks(HELDOUT_TINY).values() if t.type is k] for k in TaskType}
    out = []
    for i in range(n):
        kind = list(TaskType)[i % 3]
        task, other = rng.choice(by_type[kind]), rng.choice(by_type[kind])
        roll = rng.random()
        if roll < 0.35:
            text = render_solver_completion(task, thought="trace")
        elif roll < 0.75:
            text = render_solver_completion(other, thought="guess")
        else:
            text = rng.choice(["I think it is 3", "</think><answer>```input\nx) or True or f(x\n```</answer>",
                               "</think><answer>```output\n[i for i in range(3)]\n```</answer>", "</think><answer></answer>"])
        if kind is TaskType.INDUCTION and "```python" in text:
            text = text.replace("\n```\n</answer>", f"\n# sample {i}\n```\n</answer>")
        out.append((task, text))
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=10_000)
    ap.add_argument("--baseline-n", type=int, default=1_000)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    mix = make_mix(args.n, args.seed)
    tasks, texts = [t for t, _ in mix], [c for _, c in mix]
    print(f"machine: {os.cpu_count()} cpus; sandbox workers={args.workers}; answers={args.n}")
    with Sandbox(CodeIOConfig().sandbox_config(workers=args.workers)) as sb:
        verify_answers(tasks[:30], texts[:30], sb)  # warm the zygotes
        t0 = time.perf_counter()
        verdicts = verify_answers(tasks, texts, sb)
        batched = time.perf_counter() - t0
        m = args.baseline_n
        t0 = time.perf_counter()
        serial = [verify_answers([t], [c], sb)[0] for t, c in zip(tasks[:m], texts[:m])]
        serial_s = time.perf_counter() - t0
    same = [a.reason for a in verdicts[:m]] == [b.reason for b in serial]
    correct = sum(v.correct for v in verdicts)
    print(f"batched (this toolkit): {args.n} answers in {batched:.2f} s = {args.n / batched:,.0f} answers/s; {correct} correct")
    print(f"serial baseline (one sandbox call per answer): {m} answers in {serial_s:.2f} s = {m / serial_s:,.0f} answers/s")
    print(f"speed-up: {(args.n / batched) / (m / serial_s):.1f}x; verdicts identical on the baseline subset: {same}")


if __name__ == "__main__":
    main()
