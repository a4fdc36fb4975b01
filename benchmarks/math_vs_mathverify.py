"""`selfevolve bench` math verdicts against math-verify's own, on a model's answers.

For every sample of one or more `selfevolve bench run` folders of math suites (`OUT/gsm8k`,
`OUT/math500`, ...), three verdicts:

* ours: `results.json` (AZR's extraction, then math-verify in a killable worker process);
* direct: math-verify called here, in this process, on the same extracted answer (so any difference
  is the worker, its timeout or its protocol);
* whole: math-verify's own extraction on the whole response (`parse(response)`, its default
  configuration), as a user who never heard of AZR's template would grade.

Differences from `direct` are defects; differences from `whole` are listed with both extracted answers,
because they come from the protocols (AZR reads the `<answer>` block, math-verify the last math it finds).

    python benchmarks/math_vs_mathverify.py runs/bench/gsm8k runs/bench/math500
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from math_verify import parse, verify

from selfevolve.bench.mathgrade import verify_answer
from selfevolve.bench.mathsets import EXTRACTORS, MathSuite


def gold_answers(suite: str, data_dir: Path | None) -> dict[str, str]:
    return {task.task_id: task.answer for task in MathSuite(suite).load(data_dir)}


def whole_response_verdict(gold: str, response: str) -> bool:
    gold_parsed, answer_parsed = parse(f"${gold}$"), parse(response)
    return bool(gold_parsed and answer_parsed and verify(gold_parsed, answer_parsed))


def compare_run(run: Path, data_dir: Path | None) -> None:
    settings = json.loads((run / "run.json").read_text())
    gold = gold_answers(settings["suite"], data_dir)
    ours = json.loads((run / "results.json").read_text())["tasks"]
    extract = EXTRACTORS[settings.get("math_template") or "azr"]
    n = same_direct = same_whole = 0
    differences = []
    for line in open(run / "samples.jsonl"):
        record = json.loads(line)
        tid, k, response = record["task_id"], record["index"], record["completion"]
        our_verdict = ours[tid]["correct"][k]
        direct = verify_answer(gold[tid], extract(response))
        whole = whole_response_verdict(gold[tid], response)
        n += 1
        same_direct += our_verdict == direct
        same_whole += our_verdict == whole
        if our_verdict != direct:
            differences.append(f"{tid} #{k} DIRECT: ours {our_verdict}, in-process {direct}")
        if our_verdict != whole:
            found = parse(response)
            differences.append(f"{tid} #{k} whole response: ours {our_verdict} (extracted {extract(response)!r}), "
                               f"math-verify {whole} (parsed {[str(x) for x in found][:2]}), gold {gold[tid]!r}")
    print(f"\n## {run}: {n} samples, {sum(sum(v['correct']) for v in ours.values())} correct by ours")
    print(f"same as math-verify on the same extracted answer: {same_direct}/{n}")
    print(f"same as math-verify's own extraction of the whole response: {same_whole}/{n}")
    for line in differences:
        print("  ", line)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("runs", nargs="+", type=Path, help="bench run folders of math suites")
    parser.add_argument("--data-dir", type=Path, default=None, help="for the suites not shipped (AIME, AMC, ...)")
    args = parser.parse_args()
    for run in args.runs:
        compare_run(run, args.data_dir)


if __name__ == "__main__":
    main()
