"""AZR's held-out tasks (`eval.tasks`): the shipped set, task files, and CRUXEval as code-io tasks.

The paper validates on CRUXEval-O and CRUXEval-I during training (docs/spec/azr.md §10). A CRUXEval
row is a program `f`, an input and the recorded output, which is a code-io triplet, so each row becomes
one task of the family and is asked and judged like every other held-out task (`eval.code_io`):

* `cruxeval-o` (predict the output): a deduction task, program and input shown, the output asked;
  right when the answer is a literal equal to the recorded output.
* `cruxeval-i` (predict an input): an abduction task, program and output shown, an input asked;
  right when `f(answer)` runs in the sandbox and its result equals the recorded output.

The prompt is the family's solver prompt (`prompt_style`), not CRUXEval's few-shot `[ANSWER]`
prompt, so the numbers are CRUXEval's verdicts on AZR's own question format; `selfevolve bench`
runs CRUXEval with its own prompts (docs/azr.md, "Held-out evaluation").
"""

from __future__ import annotations

from selfevolve.bench.cruxeval import CruxEvalSuite, CruxTask
from selfevolve.eval.code_io import HELDOUT_TINY, load_tasks
from selfevolve.recipes.azr.config import AZRConfig
from selfevolve.tasks.code_io import CodeTask, TaskType

CRUXEVAL = {"cruxeval-o": ("output", TaskType.DEDUCTION), "cruxeval-i": ("input", TaskType.ABDUCTION)}


def heldout_tasks(cfg: AZRConfig) -> dict[str, CodeTask]:
    """The tasks of every set in `eval.tasks` whose type the run plays, the first `eval.limit` of each."""
    allowed = {TaskType.parse(t) for t in cfg.task_types}
    tasks: dict[str, CodeTask] = {}
    for name in cfg.eval.tasks:
        kept = [(k, t) for k, t in load_set(name).items() if t.type in allowed][: cfg.eval.limit]
        clashes = sorted(k for k, _ in kept if k in tasks)
        if clashes:
            raise ValueError(f"eval.tasks: set {name!r} repeats task ids of an earlier set ({clashes[:3]}); "
                             "name each set once and give task files distinct ids")
        tasks.update(kept)
    return tasks


def load_set(name: str) -> dict[str, CodeTask]:
    """One held-out set by name: 'heldout_tiny', 'cruxeval-o', 'cruxeval-i', or a JSONL file of task records."""
    if name == "heldout_tiny":
        return load_tasks(HELDOUT_TINY)
    if name in CRUXEVAL:
        mode, _ = CRUXEVAL[name]
        return {f"{name}/{row.task_id}": cruxeval_task(row, name) for row in CruxEvalSuite(mode).load(None)}
    return load_tasks(name)


def cruxeval_task(row: CruxTask, name: str) -> CodeTask:
    """A CRUXEval row as the code-io task of `name` (deduction for -O, abduction for -I)."""
    _, kind = CRUXEVAL[name]
    return CodeTask(kind, row.code, (row.input,), (row.output,))
