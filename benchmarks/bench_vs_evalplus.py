"""`selfevolve bench score` against EvalPlus 0.3.1's own `evalplus.evaluate` on the same samples.

Per task of HumanEval+ and MBPP+, three samples: the canonical solution, a mutant of it (the first
comparison, else arithmetic operator, else integer constant changed, by a fixed rule) and a stub that
returns None. Both scorers read the same samples file; the script compares every sample's base and plus
verdicts, lists each disagreement, and times the scoring of both (expected outputs computed beforehand
on both sides, so only scoring is timed; same machine, same run, 2 workers each).

EvalPlus runs from its own virtual environment, offline: HUMANEVAL_OVERRIDE_PATH / MBPP_OVERRIDE_PATH
point at unzipped copies of the dataset files, and its cache goes to a scratch folder.

With `--model-runs`, the samples are instead a model's own, from `selfevolve bench run` folders
(`OUT/humaneval+`, `OUT/mbpp+`): EvalPlus gets each raw response (after the response prefix, tabs as
four spaces, as its HF provider keeps them), sanitises it with its own `evalplus.sanitize`, and
evaluates that; the verdicts are compared with the run's `results.json`, and the sanitised programs
with ours.

    python3 -m venv /work/evalplus-venv && /work/evalplus-venv/bin/pip install evalplus==0.3.1
    nice -n 10 python benchmarks/bench_vs_evalplus.py --evalplus-python /work/evalplus-venv/bin/python \\
        --data-dir /work/shared/data/benchmarks
    python benchmarks/bench_vs_evalplus.py --evalplus-python ... --data-dir ... \\
        --model-runs runs/bench/humaneval+ runs/bench/mbpp+
"""

from __future__ import annotations

import argparse
import ast
import gzip
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

from selfevolve.bench.evalplus_data import FILES, load_tasks

KINDS = ("canonical", "mutant", "stub")
_SWAPS = {ast.Lt: ast.LtE, ast.LtE: ast.Lt, ast.Gt: ast.GtE, ast.GtE: ast.Gt, ast.Eq: ast.NotEq, ast.NotEq: ast.Eq,
          ast.In: ast.NotIn, ast.NotIn: ast.In, ast.Is: ast.IsNot, ast.IsNot: ast.Is,
          ast.Add: ast.Sub, ast.Sub: ast.Add, ast.Mult: ast.Add, ast.Div: ast.Mult, ast.FloorDiv: ast.Mult,
          ast.Mod: ast.FloorDiv, ast.Pow: ast.Mult, ast.BitAnd: ast.BitOr, ast.BitOr: ast.BitAnd}


def mutate(program: str, entry_point: str) -> str:
    """The program with one change inside the entry function: the first comparison or arithmetic operator
    swapped (< and <=, == and !=, in and not in, + and -, * to +, & and |, ...), else the first int constant plus one, bool negated
    or str with an "x" appended (docstrings included: then the mutant is the canonical solution)."""
    tree = ast.parse(program)
    entry = next((n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef) and n.name == entry_point), tree)
    for node in ast.walk(entry):
        if isinstance(node, ast.Compare) and type(node.ops[0]) in _SWAPS:
            node.ops[0] = _SWAPS[type(node.ops[0])]()
            return ast.unparse(tree)
        if isinstance(node, (ast.BinOp, ast.AugAssign)) and type(node.op) in _SWAPS:
            node.op = _SWAPS[type(node.op)]()
            return ast.unparse(tree)
    for node in ast.walk(entry):
        if isinstance(node, ast.Constant) and type(node.value) in (int, bool, str):
            node.value = {int: lambda v: v + 1, bool: lambda v: not v, str: lambda v: v + "x"}[type(node.value)](node.value)
            return ast.unparse(tree)
    return ast.unparse(tree) + "\n# unchanged: nothing to mutate\n"


def write_samples(dataset: str, data_dir: Path, out: Path) -> int:
    tasks = load_tasks(dataset, data_dir / FILES[dataset])
    with open(out, "w") as f:
        for t in tasks:
            stub = f"def {t.entry_point}(*args):\n    return None\n"
            for program in (t.canonical_program, mutate(t.canonical_program, t.entry_point), stub):
                f.write(json.dumps({"task_id": t.task_id, "solution": program}) + "\n")
    return len(tasks)


def run_ours(dataset: str, samples: Path, out: Path, workers: int, cache: Path, data_dir: Path) -> float:
    env = {**os.environ, "SELFEVOLVE_CACHE_DIR": str(cache)}
    cmd = [sys.executable, "-m", "selfevolve", "bench", "score", dataset + "+", "--samples", str(samples),
           "--out", str(out), "--workers", str(workers), "--data-dir", str(data_dir)]
    start = time.perf_counter()
    subprocess.run(cmd, env=env, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - start


def run_evalplus(python: str, dataset: str, samples: Path, workers: int, data_copy: Path, cache: Path) -> float:
    result = Path(str(samples).replace(".jsonl", "_eval_results.json"))
    result.unlink(missing_ok=True)
    env = {**os.environ, "XDG_CACHE_HOME": str(cache), "HUMANEVAL_OVERRIDE_PATH": str(data_copy / "humaneval.jsonl"),
           "MBPP_OVERRIDE_PATH": str(data_copy / "mbpp.jsonl")}
    cmd = [python, "-m", "evalplus.evaluate", "--dataset", dataset, "--samples", str(samples), "--parallel", str(workers)]
    start = time.perf_counter()
    subprocess.run(cmd, env=env, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - start


def sanitize_with_evalplus(python: str, run: Path, work: Path, data_copy: Path) -> Path:
    """The run's raw responses as EvalPlus samples, sanitised by EvalPlus; returns the sanitised file."""
    raw = work / f"{run.name.rstrip('+')}_model_samples.jsonl"
    with open(raw, "w") as f:
        for line in open(run / "samples.jsonl"):
            record = json.loads(line)
            f.write(json.dumps({"task_id": record["task_id"], "solution": record["raw"].replace("\t", "    ")}) + "\n")
    env = {**os.environ, "HUMANEVAL_OVERRIDE_PATH": str(data_copy / "humaneval.jsonl"),
           "MBPP_OVERRIDE_PATH": str(data_copy / "mbpp.jsonl"), "XDG_CACHE_HOME": str(work / "evalplus-cache")}
    subprocess.run([python, "-m", "evalplus.sanitize", "--samples", str(raw)], env=env, check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return Path(str(raw).replace(".jsonl", "-sanitized.jsonl"))


def same_programs(run: Path, sanitized: Path) -> tuple[int, int]:
    """How many of our sanitised programs equal EvalPlus's, of all samples."""
    ours = [json.loads(line)["solution"] for line in open(run / "samples.jsonl")]
    theirs = [json.loads(line)["solution"] for line in open(sanitized)]
    return sum(a.strip() == b.strip() for a, b in zip(ours, theirs, strict=True)), len(ours)


def compare_model_run(python: str, run: Path, workers: int, work: Path, data_copy: Path) -> None:
    dataset = run.name.rstrip("+")
    sanitized = sanitize_with_evalplus(python, run, work, data_copy)
    equal, n = same_programs(run, sanitized)
    seconds = run_evalplus(python, dataset, sanitized, workers, data_copy, work / "evalplus-cache")
    agree, total, disagreements = compare(dataset, run / "results.json", sanitized, label="sample")
    print(f"\n## {run}: {n} model samples")
    print(f"sanitised programs identical to EvalPlus's: {equal}/{n}")
    print(f"verdicts agreeing: {agree}/{total} ({100 * agree / total:.2f}%); EvalPlus scored in {seconds:.1f} s")
    for line in disagreements:
        print("  disagreement:", line)


def compare(dataset: str, ours_path: Path, samples: Path, label: str | None = None) -> tuple[int, int, list[str]]:
    ours = json.loads(ours_path.read_text())["tasks"]
    theirs = json.loads(Path(str(samples).replace(".jsonl", "_eval_results.json")).read_text())["eval"]
    agree = total = 0
    disagreements = []
    for tid, rows in theirs.items():
        for k, row in enumerate(rows):
            their_base = row["base_status"] == "pass"
            their_plus = their_base and row["plus_status"] == "pass"
            mine = (ours[tid]["base"][k], ours[tid]["plus"][k])
            for split, a, b in (("base", mine[0], their_base), ("plus", mine[1], their_plus)):
                total += 1
                if a == b:
                    agree += 1
                else:
                    disagreements.append(f"{tid} {KINDS[k] if label is None else f'{label} {k}'} {split}: ours {'pass' if a else 'fail'}, "
                                         f"EvalPlus {'pass' if b else 'fail'} ({row['base_status']}/{row['plus_status']})")
    return agree, total, disagreements


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--evalplus-python", required=True, help="Python of a venv with evalplus==0.3.1")
    parser.add_argument("--data-dir", type=Path, required=True, help="benchmark data folder (holds evalplus/)")
    parser.add_argument("--work", type=Path, default=Path("/tmp/bench_vs_evalplus"))
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--datasets", nargs="+", default=["humaneval", "mbpp"])
    parser.add_argument("--model-runs", nargs="+", type=Path, default=[],
                        help="bench run folders (OUT/humaneval+, OUT/mbpp+) whose samples to compare instead")
    args = parser.parse_args()
    work = args.work
    data_copy = work / "data"
    data_copy.mkdir(parents=True, exist_ok=True)
    for dataset in ("humaneval", "mbpp"):
        with gzip.open(args.data_dir / FILES[dataset], "rb") as src, open(data_copy / f"{dataset}.jsonl", "wb") as dst:
            shutil.copyfileobj(src, dst)
    for run in args.model_runs:
        compare_model_run(args.evalplus_python, run, args.workers, work, data_copy)
    for dataset in [] if args.model_runs else args.datasets:
        samples = work / f"{dataset}_samples.jsonl"
        n_tasks = write_samples(dataset, args.data_dir, samples)
        n_samples = n_tasks * len(KINDS)
        ours_out = work / f"{dataset}_ours.json"
        # expected outputs first (not timed): each side computes and caches its own
        run_ours(dataset, samples, ours_out, args.workers, work / "ours-cache", args.data_dir)
        run_evalplus(args.evalplus_python, dataset, samples, args.workers, data_copy, work / "evalplus-cache")
        ours_s = run_ours(dataset, samples, ours_out, args.workers, work / "ours-cache", args.data_dir)
        theirs_s = run_evalplus(args.evalplus_python, dataset, samples, args.workers, data_copy, work / "evalplus-cache")
        agree, total, disagreements = compare(dataset, ours_out, samples)
        print(f"\n## {dataset}+: {n_tasks} tasks x {len(KINDS)} samples = {n_samples} samples")
        print(f"verdicts agreeing: {agree}/{total} ({100 * agree / total:.2f}%)")
        print(f"scoring time: selfevolve {ours_s:.1f} s ({n_samples / ours_s:.1f} samples/s), "
              f"EvalPlus 0.3.1 {theirs_s:.1f} s ({n_samples / theirs_s:.1f} samples/s)")
        for line in disagreements:
            print("  disagreement:", line)


if __name__ == "__main__":
    main()
