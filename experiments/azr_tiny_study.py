"""Does tiny-preset self-play beat its starting checkpoint and an equal-compute control?

Runs `selfevolve azr --preset tiny` for each seed, once as is and once per control, then prints the
held-out accuracy (greedy, shipped held-out set) of the starting checkpoint and of each final
policy, per task type, with mean and spread over seeds, as a Markdown table for docs/results.md.

    python experiments/azr_tiny_study.py --seeds 0 1 2 --out runs/azr_study

`--jobs 2` runs two arms at once (each run uses one torch thread in the tiny preset); the minutes
per run it records are then those of a run sharing the machine, not the single-run wall time.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ARMS = {"self-play": [], "control: constant proposer reward": ["--set", "control=constant_proposer_reward"],
        "control: shuffled solver rewards": ["--set", "control=shuffled_solver_rewards"]}
KEYS = ("eval/abduction/accuracy", "eval/deduction/accuracy", "eval/induction/accuracy", "eval/all/accuracy")


def run_arm(out: Path, seed: int, extra: list[str], overrides: list[str]) -> tuple[dict, dict, float]:
    """Run one arm (or reuse a finished one); return (start metrics, final metrics, minutes)."""
    if not (out / "report.html").exists():
        cmd = [sys.executable, "-m", "selfevolve", "azr", "--out", str(out), "--set", f"seed={seed}", *extra]
        for o in overrides:
            cmd += ["--set", o]
        started = time.time()
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
        (out / "wall_minutes.txt").write_text(f"{(time.time() - started) / 60:.2f}\n")
    rows = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]
    evals = [r for r in rows if "eval/all/accuracy" in r]
    return evals[0], evals[-1], float((out / "wall_minutes.txt").read_text())


def fmt(values: list[float]) -> str:
    mean = statistics.fmean(values)
    spread = statistics.stdev(values) if len(values) > 1 else 0.0
    return f"{mean:.3f} ± {spread:.3f}"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    ap.add_argument("--out", type=Path, default=Path("runs/azr_study"))
    ap.add_argument("--arms", nargs="+", default=list(ARMS), choices=list(ARMS))
    ap.add_argument("--jobs", type=int, default=1, help="runs at once (default 1: wall times are a lone run's)")
    ap.add_argument("--set", dest="overrides", action="append", default=[], help="extra overrides for every run")
    args = ap.parse_args()

    jobs = [(arm, seed, args.out / f"{arm.split(':')[-1].strip().replace(' ', '_')}_s{seed}") for arm in args.arms for seed in args.seeds]
    with ThreadPoolExecutor(args.jobs) as pool:
        futures = [pool.submit(run_arm, out, seed, ARMS[arm], args.overrides) for arm, seed, out in jobs]
        for (arm, seed, out), future in zip(jobs, futures):
            print(f"{arm}, seed {seed} -> {out}", flush=True)
            future.result()
    results: dict[str, list[tuple[dict, dict, float]]] = {}
    for (arm, _, _), future in zip(jobs, futures):
        results.setdefault(arm, []).append(future.result())

    start = next(iter(results.values()))[0][0]
    print(f"\nseeds {args.seeds}; held-out greedy accuracy (mean ± stdev over seeds)\n")
    print("| policy | " + " | ".join(k.split("/")[1] for k in KEYS) + " | minutes/run |")
    print("|---" * (len(KEYS) + 2) + "|")
    print("| starting checkpoint | " + " | ".join(f"{start[k]:.3f}" for k in KEYS) + " | - |")
    for arm, runs in results.items():
        cells = [fmt([final[k] for _, final, _ in runs]) for k in KEYS]
        print(f"| {arm} | " + " | ".join(cells) + f" | {fmt([m for *_, m in runs])} |")
    for arm, runs in results.items():
        print(f"{arm} per seed (all): " + ", ".join(f"{final['eval/all/accuracy']:.3f}" for _, final, _ in runs))


if __name__ == "__main__":
    main()
