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
TYPES = ("abduction", "deduction", "induction", "all")
METRICS = {"accuracy": "greedy", "accuracy_t1": "mean of the eval.samples answers at T=1"}


def run_arm(out: Path, seed: int, extra: list[str], overrides: list[str]) -> tuple[dict, dict, float]:
    """Run one arm (or reuse a finished one); return (start metrics, final metrics, minutes).

    The final metrics also hold `own/<type>/first|last`: the solver's accuracy on its own buffer's
    tasks during training, averaged over the first and the last quarter of the steps."""
    if not (out / "report.html").exists():
        cmd = [sys.executable, "-m", "selfevolve", "azr", "--out", str(out), "--set", f"seed={seed}", *extra]
        for o in overrides:
            cmd += ["--set", o]
        started = time.time()
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
        (out / "wall_minutes.txt").write_text(f"{(time.time() - started) / 60:.2f}\n")
    rows = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]
    evals = [r for r in rows if "eval/all/accuracy" in r]
    steps = [r for r in rows if "solve/abduction/accuracy" in r]
    quarter = max(1, len(steps) // 4)
    own = {f"own/{t}/{part}": statistics.fmean(r[f"solve/{t}/accuracy"] for r in chunk)
           for t in TYPES[:3] for part, chunk in (("first", steps[:quarter]), ("last", steps[-quarter:]))}
    return evals[0], {**evals[-1], **own}, float((out / "wall_minutes.txt").read_text())


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
        results: dict[str, list[tuple[dict, dict, float]]] = {}
        for (arm, seed, out), future in zip(jobs, futures):
            print(f"{arm}, seed {seed} -> {out}", flush=True)
            results.setdefault(arm, []).append(future.result())

    start = next(iter(results.values()))[0][0]
    for metric, label in METRICS.items():
        keys = [f"eval/{t}/{metric}" for t in TYPES]
        if keys[-1] in start:
            table(results, start, keys, f"seeds {args.seeds}; held-out accuracy, {label} (mean ± stdev over seeds)")
    print("\nsolver accuracy on its own buffer's tasks during training, first -> last quarter of the steps\n")
    for arm, runs in results.items():
        print(f"- {arm}: " + "; ".join(
            f"{t} {fmt([f[f'own/{t}/first'] for _, f, _ in runs])} -> {fmt([f[f'own/{t}/last'] for _, f, _ in runs])}"
            for t in TYPES[:3]))


def table(results: dict, start: dict, keys: list[str], title: str) -> None:
    print(f"\n{title}\n")
    print("| policy | " + " | ".join(k.split("/")[1] for k in keys) + " | minutes/run |")
    print("|---" * (len(keys) + 2) + "|")
    print("| starting checkpoint | " + " | ".join(f"{start[k]:.3f}" for k in keys) + " | - |")
    for arm, runs in results.items():
        cells = [fmt([final[k] for _, final, _ in runs]) for k in keys]
        print(f"| {arm} | " + " | ".join(cells) + f" | {fmt([m for *_, m in runs])} |")
    for arm, runs in results.items():
        print(f"{arm} per seed (all): " + ", ".join(f"{final[keys[-1]]:.3f}" for _, final, _ in runs))


if __name__ == "__main__":
    main()
