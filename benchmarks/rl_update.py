"""The trainer's update on real AZR batches: what trimming padding and skipping prompt logits save.

An AZR step trains proposer rows (long prompts with references, long proposals) and solver rows
(short prompts, answers of a few dozen tokens) in one batch. The trainer sorts each rank's rows by
length and trims every micro-batch to the width its own rows need (`RolloutBatch.trimmed`), and asks
the model for the completion's logits only (`logits_to_keep`). Three arms:
- ours: both;
- logits at every position: trimmed, but `Trainer.skip_prompt_logits` off (session 3's trainer);
- baseline: also every micro-batch padded to the widest row of the whole batch (`trimmed` replaced
  by the identity; session 1's trainer).
All run the same rollouts (read back from an AZR run's store), the same model and optimiser, in the
same process, alternating.

    python -m selfevolve azr --out runs/azr            # any finished or partial run
    nice python benchmarks/rl_update.py --run runs/azr --steps 6 --threads 1
"""

from __future__ import annotations

import argparse
import copy
import os
import statistics
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")

import torch  # noqa: E402

from selfevolve.llm.loading import load_model  # noqa: E402
from selfevolve.rl import RLConfig, Trainer, assemble_batch  # noqa: E402
from selfevolve.rl.batch import RolloutBatch  # noqa: E402
from selfevolve.store.db import RunStore  # noqa: E402


def batches(run: Path, tokenizer, steps: int) -> list[RolloutBatch]:
    with RunStore(run / "store.sqlite") as store:
        rows = [store.rollouts(step) for step in range(1, steps + 1)]
    rows = [r for r in rows if r]
    if not rows:
        raise SystemExit(f"{run}/store.sqlite has no rollouts; run `selfevolve azr --out {run}` first")
    return [assemble_batch([tokenizer(r.prompt)["input_ids"] for r in step],
                           [tokenizer(r.completion, add_special_tokens=False)["input_ids"] for r in step],
                           tokenizer.pad_token_id, scores=[r.reward for r in step],
                           keys=[(r.task_type, r.role) for r in step]) for step in rows]


def timed_steps(model, data: list[RolloutBatch], micro: int, skip_prompt_logits: bool) -> list[float]:
    trainer = Trainer(copy.deepcopy(model), RLConfig(advantage_estimator="trr_pp", learning_rate=1e-4, micro_batch_size=micro))
    trainer.skip_prompt_logits = skip_prompt_logits
    seconds = []
    for batch in data:
        started = time.perf_counter()
        trainer.step(batch)
        seconds.append(time.perf_counter() - started)
    return seconds


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--run", type=Path, default=Path("runs/azr"))
    ap.add_argument("--model", default="tiny-coder")
    ap.add_argument("--steps", type=int, default=6, help="AZR steps whose rollouts are replayed")
    ap.add_argument("--micro", type=int, default=16, help="micro-batch size (the tiny preset's)")
    ap.add_argument("--threads", type=int, default=1)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    model, tokenizer = load_model(args.model, device="cpu", dtype=torch.float32)
    data = batches(args.run, tokenizer, args.steps)
    real = sum(int(b.attention_mask.sum()) for b in data)
    padded = sum(b.input_ids.numel() for b in data)
    print(f"{len(data)} batches, {sum(map(len, data))} rows; real tokens {real:,} of {padded:,} padded ({real / padded:.0%})")

    trimmed = RolloutBatch.trimmed
    arms = {  # name: (trim micro-batches, skip prompt logits)
        "trimmed, completion logits only (ours)": (True, True),
        "trimmed, logits at every position": (True, False),
        "padded to the batch, logits at every position (baseline)": (False, False),
    }
    results = {name: [] for name in arms}
    for _ in range(2):  # alternate, so every arm sees the same machine load
        for name, (trim, skip) in arms.items():
            RolloutBatch.trimmed = trimmed if trim else (lambda self: self)
            results[name] += timed_steps(model, data, args.micro, skip)
    RolloutBatch.trimmed = trimmed
    print("| update | s/step (median) | s/step (mean) |\n|---|---|---|")
    for name, secs in results.items():
        print(f"| {name} | {statistics.median(secs):.2f} | {statistics.fmean(secs):.2f} |")


if __name__ == "__main__":
    main()
