"""Peak memory of one trainer step on a real vocabulary: completion-only logits vs logits at every position.

The RL loss needs the log-probs of the completion's tokens only, but a causal LM by default returns
logits at every position: [B, P+T, V] floats, which for a 152k vocabulary and a long prompt dwarf
everything else in the step. The trainer asks for the last T+1 positions (`logits_to_keep`) when the
model supports it (`Trainer.skip_prompt_logits`). Each arm runs in a fresh process on a randomly
initialised model with Qwen2.5-Coder-3B's vocabulary and width but one thin layer (the layers do not
change the logits' size) and a frozen embedding, one TRR++ step on rows with AZR-like shapes: long prompts, short answers.
Peak resident memory is read from the kernel (`ru_maxrss`) after the step, minus the resident size
just before it.

    python benchmarks/rl_logits_memory.py [--rows 4] [--prompt 384] [--completion 64]
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys

ARMS = {"completion logits only (ours)": True, "logits at every position (baseline)": False}


def one_step(rows: int, prompt: int, completion: int, skip: bool) -> dict:
    import psutil
    import torch
    from transformers import Qwen2Config, Qwen2ForCausalLM

    from selfevolve.rl import RLConfig, Trainer, assemble_batch

    torch.manual_seed(0)
    torch.set_num_threads(1)
    config = Qwen2Config(vocab_size=151_936, hidden_size=2048, intermediate_size=256, num_hidden_layers=1,
                         num_attention_heads=16, num_key_value_heads=2, tie_word_embeddings=True)
    model = Qwen2ForCausalLM(config)
    # frozen (tied) embedding: no gradient or Adam state for the 311M-parameter matrix, so the peak is
    # the forward and backward pass, not the optimiser
    model.model.embed_tokens.weight.requires_grad_(False)
    trainer = Trainer(model, RLConfig(advantage_estimator="trr_pp", learning_rate=1e-6, micro_batch_size=rows))
    trainer.skip_prompt_logits = skip
    gen = torch.Generator().manual_seed(0)

    def random_ids(n: int) -> list[int]:
        return torch.randint(3, config.vocab_size, (n,), generator=gen).tolist()

    batch = assemble_batch([random_ids(prompt) for _ in range(rows)], [random_ids(completion) for _ in range(rows)], 0,
                           scores=[float(i % 2) for i in range(rows)], keys=[("deduction", "solve")] * rows)
    before = psutil.Process().memory_info().rss
    trainer.step(batch)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # Linux: KiB
    return {"peak_gib": peak / 2**30, "step_gib": (peak - before) / 2**30}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rows", type=int, default=4)
    ap.add_argument("--prompt", type=int, default=384, help="prompt tokens per row")
    ap.add_argument("--completion", type=int, default=64, help="completion tokens per row")
    ap.add_argument("--arm", choices=["skip", "full"], help=argparse.SUPPRESS)  # the child process's job
    args = ap.parse_args()
    if args.arm:
        print(json.dumps(one_step(args.rows, args.prompt, args.completion, args.arm == "skip")))
        return
    print(f"{args.rows} rows x ({args.prompt} prompt + {args.completion} completion tokens), vocabulary 151,936, width 2048")
    print("| logits | peak RSS (GiB) | added by the step (GiB) |\n|---|---|---|")
    for name, skip in ARMS.items():
        out = subprocess.run([sys.executable, __file__, "--arm", "skip" if skip else "full", "--rows", str(args.rows),
                              "--prompt", str(args.prompt), "--completion", str(args.completion)],
                             check=True, capture_output=True, text=True).stdout
        r = json.loads(out.strip().splitlines()[-1])
        print(f"| {name} | {r['peak_gib']:.2f} | {r['step_gib']:.2f} |")


if __name__ == "__main__":
    main()
