"""The SRA-MCTS study's tables (docs/results.md) from the evaluations `sra_mcts_study.sh` left in DIR.

    python experiments/sra_mcts_study_table.py DIR

Per suite: each fine-tuned arm's greedy pass@1 (plus tests; base tests in brackets) per seed, the mean and
sample standard deviation over seeds, and the verdicts it gained and lost against no fine-tuning, per seed,
then pooled over seeds with the two-sided exact sign test's p (seeds share their data: not independent).
"""

from __future__ import annotations

import json
import statistics
import sys
from math import comb
from pathlib import Path

SUITES = ("humaneval+", "mbpp+-heldout")
ARMS = ("sra", "cot", "nonl")  # nonl: the "without natural language" ablation


def load(path: Path) -> dict | None:
    return json.loads(path.read_text()) if path.is_file() else None


def sign_test(gained: int, lost: int) -> float:
    """Two-sided exact sign test: how likely a split this uneven is when each change is a fair coin."""
    n = gained + lost
    tail = sum(comb(n, i) for i in range(min(gained, lost) + 1)) / 2**n
    return min(1.0, 2 * tail)


def verdicts(results: dict) -> dict[str, bool]:
    return {task: v["correct"][0] for task, v in results["tasks"].items()}


def suite_table(root: Path, suite: str) -> str:
    none = load(root / "eval_none" / suite / "results.json")
    if none is None:
        return f"{suite}: no evaluation of the base model yet\n"
    base = verdicts(none)
    lines = [f"### {suite} ({len(base)} tasks)", "",
             "| arm | per seed: pass@1 plus (base) | mean ± sd (plus) | gained / lost vs none, per seed |",
             "|---|---|---|---|",
             f"| none | {100 * none['metrics']['pass@1']:.1f} ({100 * none['metrics']['base_pass@1']:.1f}) | — | — |"]
    for arm in ARMS:
        runs = sorted(root.glob(f"eval_{arm}_s*/{suite}/results.json"))
        if not runs:
            continue
        scores, cells, changes = [], [], []  # changes: (gained, lost) per seed
        for path in runs:
            results = json.loads(path.read_text())
            plus, base_rate = results["metrics"]["pass@1"], results["metrics"]["base_pass@1"]
            scores.append(100 * plus)
            seed = path.parts[-3].rsplit("_s", 1)[1]
            cells.append(f"s{seed} {100 * plus:.1f} ({100 * base_rate:.1f})")
            mine = verdicts(results)
            changes.append((sum(mine[t] and not base[t] for t in base), sum(base[t] and not mine[t] for t in base)))
        gained, lost = map(sum, zip(*changes))
        spread = f"{statistics.mean(scores):.1f} ± {statistics.stdev(scores):.1f}" if len(scores) > 1 else "—"
        per_seed = ", ".join(f"{g} / {l}" for g, l in changes)
        pooled = f"pooled {gained} / {lost}, p = {sign_test(gained, lost):.2f}"
        lines.append(f"| {arm} | {', '.join(cells)} | {spread} | {per_seed} ({pooled}) |")
    return "\n".join(lines) + "\n"


def main(root: Path) -> None:
    print("\n".join(suite_table(root, suite) for suite in SUITES))


if __name__ == "__main__":
    main(Path(sys.argv[1]))
