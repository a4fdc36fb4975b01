"""SRA-MCTS search batched across problems against one tree at a time, on the same problems, in one run.

The models are opened once (the engine start is outside every timing). Then the same synthesis runs
into fresh directories: `--batched N` problems with the preset's `concurrent_problems` (the model
decodes the requests of all open trees together; with vLLM, continuously: a search goes on as soon as
its own replies are back), and the first `--single K` of those problems with `concurrent_problems=1`
(the reference's way: one tree, so each call holds only that tree's few prompts). `--lockstep` adds
the batched problems once more with `continuous_batching=false` (each phase's requests as one call
that waits for its longest reply), to show what continuous batching adds. Searches sample at the
preset's temperatures, so the arms do not make the same trees; the comparison is throughput:
generated tokens per second and problems per hour.

    .venv-vllm/bin/python benchmarks/sra_mcts_batching.py --problems pool.jsonl --batched 16 --single 16 \\
        --lockstep --set generator=vllm --out runs/sra_batching
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from selfevolve.config import load_config
from selfevolve.recipes.sra_mcts.config import SRAMCTSConfig
from selfevolve.recipes.sra_mcts.run import open_models, synth


def timed_synth(cfg: SRAMCTSConfig, out: Path, roles) -> dict:
    """Synthesise into `out` with `roles` (already open); wall time and the run's usage counts."""
    started = time.perf_counter()
    synth(cfg, out, models=roles, progress=False)
    seconds = time.perf_counter() - started
    summary = json.loads((out / "summary.json").read_text())
    return {
        "problems": summary["problems"], "wall_s": round(seconds, 1), "model_calls": summary["model_calls"],
        "generated_tokens": summary["generated_tokens"], "kept": summary["status"].get("kept", 0),
        "tokens_per_s": round(summary["generated_tokens"] / seconds, 1),
        "problems_per_hour": round(3600 * summary["problems"] / seconds, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--preset", default="cpu")
    parser.add_argument("--problems", required=True, help="JSONL problem file (e.g. from `selfevolve sra-mcts problems mbpp`).")
    parser.add_argument("--batched", type=int, default=16, help="Problems searched with the preset's concurrency.")
    parser.add_argument("--single", type=int, default=4, help="The first K of them searched one tree at a time.")
    parser.add_argument("--lockstep", action="store_true", help="Also search the batched problems with continuous_batching=false.")
    parser.add_argument("--set", dest="overrides", action="append", default=[], help="Config override key=value.")
    parser.add_argument("--out", type=Path, required=True, help="A new directory for the runs and results.json.")
    args = parser.parse_args()
    if args.single > args.batched:
        parser.error("--single must not exceed --batched: the one-at-a-time arm reuses the batched arm's first problems")

    base = [f"problems={args.problems}", *args.overrides]
    batched = load_config(SRAMCTSConfig, "sra_mcts", args.preset, None, [*base, f"limit={args.batched}"])
    single = batched.model_copy(update={"limit": args.single, "concurrent_problems": 1})
    opened = time.perf_counter()
    roles = open_models(batched)
    results = {"config": batched.model_dump(), "engine_start_s": round(time.perf_counter() - opened, 1)}
    arms = {"batched": batched, "one_at_a_time": single}
    if args.lockstep:
        arms["batched_lockstep"] = batched.model_copy(update={"continuous_batching": False})
    for name, cfg in arms.items():
        results[name] = timed_synth(cfg, args.out / name, roles)
        (args.out / "results.json").write_text(json.dumps(results, indent=1) + "\n")  # each arm kept as it ends
    for name in [name for name in arms if name != "one_at_a_time"]:
        results[f"speedup_{name}"] = {
            measure: round(results[name][measure] / results["one_at_a_time"][measure], 2)
            for measure in ("tokens_per_s", "problems_per_hour")}
    (args.out / "results.json").write_text(json.dumps(results, indent=1) + "\n")
    print(json.dumps({k: v for k, v in results.items() if k != "config"}, indent=1))


if __name__ == "__main__":
    main()
