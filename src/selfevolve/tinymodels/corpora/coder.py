"""tiny-coder's corpus: synthetic Python tasks in the COMPACT proposer and solver formats of code_io.

Programs come from `selfevolve.tasks.code_io.synth_programs`, executed in the sandbox (gold outputs
are repr text from real runs), excluding every program of the shipped held-out set. Each task gives
one solver document (prompt + ideal completion) and one proposer document: abduction/deduction
proposers see 0-2 other tasks as references and "propose" this one; induction proposers see this
task's program and give its 10 inputs and message.
"""

from __future__ import annotations

import random

from selfevolve.eval.code_io import heldout_programs
from selfevolve.tasks.code_io import (
    CodeIOConfig,
    CodeTask,
    TaskType,
    proposer_prompt,
    render_proposer_completion,
    render_solver_completion,
    solver_prompt,
    synth_programs,
)

MAX_REFERENCES = 1  # each reference adds ~100 tokens; tiny-model training time is the budget


def documents(tasks: list[CodeTask], rng: random.Random) -> list[str]:
    same_kind = {t: [x for x in tasks if x.type is t] for t in TaskType}
    docs = []
    for task in tasks:
        docs.append(solver_prompt(task, style="compact") + render_solver_completion(task))
        if task.type is TaskType.INDUCTION:
            refs = [task]
        else:
            pool = same_kind[task.type]
            refs = [r for r in rng.sample(pool, min(len(pool), rng.randint(0, MAX_REFERENCES) + 1)) if r is not task]
            refs = refs[:MAX_REFERENCES]
        docs.append(proposer_prompt(task.type, refs, style="compact") + render_proposer_completion(task))
    rng.shuffle(docs)
    return docs


SYNTH_CHUNK = 400  # tasks per synth_programs call; one call for thousands of tasks is much slower


def corpus(n_docs: int, seed: int) -> list[str]:
    """About `n_docs` documents (two per synthesised task), tasks deduplicated by program and input."""
    from selfevolve.sandbox import Sandbox

    excluded = heldout_programs()
    tasks: dict[tuple[str, tuple[str, ...]], CodeTask] = {}
    with Sandbox(CodeIOConfig().sandbox_config()) as sandbox:
        for chunk in range(0, n_docs // 2, SYNTH_CHUNK):
            for t in synth_programs(SYNTH_CHUNK, seed * 1_000 + chunk, runner=sandbox, exclude=excluded):
                tasks.setdefault((t.program, t.inputs), t)
    return documents(list(tasks.values())[: n_docs // 2], random.Random(seed))
