"""Our RL trainer vs TRL's GRPOTrainer: same tiny model, prompts, group size, lengths and optimiser, CPU.

Both start from the same warm-started toy policy (`selfevolve.rl.toy`: single-digit addition, char
vocabulary, 2-layer Qwen2 with hidden 64), run GRPO for the same number of steps with 16 prompts x 8
samples per step, at most 3 new tokens, T = 1.0, AdamW lr 3e-4 constant, no weight decay, grad clip
1.0, no KL, no gradient checkpointing, one optimiser update per step, and are scored by greedy held-out accuracy. Prints seconds
per step, CPU seconds per step (this process, all threads: steadier than wall time on a shared machine), tokens/s
(prompt + completion tokens trained on per second of wall time) and accuracy. Both sides run with the same
`torch.set_num_threads(--threads)`.

    nice python benchmarks/rl_vs_trl.py --steps 60 --threads 1
"""

from __future__ import annotations

import argparse
import copy
import os
import random
import tempfile
import time

os.environ.setdefault("HF_HUB_OFFLINE", "1")

import torch  # noqa: E402

from selfevolve.llm import SamplingParams, TransformersGenerator  # noqa: E402
from selfevolve.rl import RLConfig, Trainer, rollout, toy  # noqa: E402


PROMPTS, GROUP, MAX_NEW, LR = 16, 8, 3, 3e-4


def run_ours(model, tokenizer, steps: int, seed: int) -> tuple[float, float, int]:
    """Returns (wall seconds, CPU seconds of this process, tokens trained on)."""
    rng = random.Random(seed)
    torch.manual_seed(seed)
    config = RLConfig(advantage_estimator="grpo", learning_rate=LR, weight_decay=0.0, max_grad_norm=1.0,
                      micro_batch_size=PROMPTS * GROUP, seed=seed)
    trainer = Trainer(model, config)
    generator = TransformersGenerator(model, tokenizer, batch_size=PROMPTS * GROUP)
    tokens, started, cpu = 0, time.perf_counter(), time.process_time()
    for _ in range(steps):
        pairs = [rng.choice(toy.TRAIN) for _ in range(PROMPTS)]
        batch = rollout(generator, tokenizer, [toy.prompt(a, b) for a, b in pairs],
                        SamplingParams(n=GROUP, max_new_tokens=MAX_NEW), toy.reward).batch
        trainer.step(batch)
        tokens += int(batch.attention_mask.sum())
    return time.perf_counter() - started, time.process_time() - cpu, tokens


def run_trl(model, tokenizer, steps: int, seed: int) -> tuple[float, float, int]:
    from datasets import Dataset
    from transformers import PrinterCallback
    from trl import GRPOConfig, GRPOTrainer

    def reward(prompts, completions, **_):
        return [toy.reward(p, c) for p, c in zip(prompts, completions)]

    rng = random.Random(seed)
    prompts = [toy.prompt(*rng.choice(toy.TRAIN)) for _ in range(steps * PROMPTS)]
    with tempfile.TemporaryDirectory() as out:
        args = GRPOConfig(
            output_dir=out, per_device_train_batch_size=PROMPTS * GROUP, num_generations=GROUP,
            max_completion_length=MAX_NEW, temperature=1.0, learning_rate=LR, lr_scheduler_type="constant",
            weight_decay=0.0, max_grad_norm=1.0, beta=0.0, max_steps=steps, logging_steps=1, save_strategy="no",
            report_to="none", use_cpu=True, bf16=False, seed=seed, gradient_accumulation_steps=1,
            loss_type="dapo", scale_rewards="group", dataloader_num_workers=0, disable_tqdm=True, log_level="error",
            gradient_checkpointing=False,  # TRL's default is on; we do not recompute activations either
        )
        trainer = GRPOTrainer(model=model, reward_funcs=reward, args=args, processing_class=tokenizer,
                              train_dataset=Dataset.from_dict({"prompt": prompts}))
        trainer.remove_callback(PrinterCallback)
        started, cpu = time.perf_counter(), time.process_time()
        trainer.train()
        seconds, cpu_seconds = time.perf_counter() - started, time.process_time() - cpu
    tokens = int(max(x.get("num_tokens", 0) for x in trainer.state.log_history))
    return seconds, cpu_seconds, tokens


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--steps", type=int, default=60)
    parser.add_argument("--seeds", type=int, default=1)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    tokenizer = toy.char_tokenizer()
    print(f"load average at start: {os.getloadavg()}")
    rows = []
    for seed in range(args.seeds):
        warm = toy.tiny_policy(tokenizer, seed)
        toy.sft_warm_start(warm, tokenizer, toy.TRAIN, seed=seed)
        start_acc = toy.greedy_accuracy(warm, tokenizer, toy.HELD_OUT)
        for name, run in (("selfevolve", run_ours), ("trl", run_trl)):
            model = copy.deepcopy(warm)
            seconds, cpu, tokens = run(model, tokenizer, args.steps, seed)
            acc = toy.greedy_accuracy(model.eval(), tokenizer, toy.HELD_OUT)
            rows.append((name, seed, seconds / args.steps, tokens / seconds, start_acc, acc, cpu / args.steps))
            print(f"{name:10s} seed {seed}: {seconds / args.steps:.3f} s/step  {cpu / args.steps:.3f} CPU s/step  "
                  f"{tokens / seconds:8.0f} tokens/s  held-out {start_acc:.2f} -> {acc:.2f}  "
                  f"(torch threads {torch.get_num_threads()})", flush=True)
    print(f"load average at end: {os.getloadavg()}")
    for name in ("selfevolve", "trl"):
        mine = [r for r in rows if r[0] == name]
        print(f"{name:10s} mean: {sum(r[2] for r in mine) / len(mine):.3f} s/step  "
              f"{sum(r[6] for r in mine) / len(mine):.3f} CPU s/step  "
              f"{sum(r[3] for r in mine) / len(mine):8.0f} tokens/s  held-out {sum(r[5] for r in mine) / len(mine):.2f}")
    ours, trl = ([r for r in rows if r[0] == n] for n in ("selfevolve", "trl"))
    print(f"throughput ratio (ours / TRL): {sum(r[3] for r in ours) / sum(r[3] for r in trl):.2f}x")


if __name__ == "__main__":
    main()
