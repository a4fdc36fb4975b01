"""AZR's held-out sets: CRUXEval rows as code-io tasks, judged by the code-io verifier."""

from __future__ import annotations

import pytest

from selfevolve.recipes.azr.config import AZRConfig
from selfevolve.recipes.azr.heldout import heldout_tasks, load_set
from selfevolve.sandbox import Sandbox
from selfevolve.tasks.code_io import CodeIOConfig, CodeTask, TaskType, render_solver_completion, verify_answers

# sample_3 of CRUXEval: def f(text, value) appends value to text; input 'bcksrut', 'q' -> 'bcksrutq'


@pytest.fixture(scope="module")
def sandbox():
    with Sandbox(CodeIOConfig().sandbox_config(workers=2, timeout=5)) as sb:
        yield sb


def _answer(task: CodeTask, given: str) -> str:
    """A well-formatted solver completion answering `given` (an output for deduction, an input for abduction)."""
    if task.type is TaskType.DEDUCTION:
        return render_solver_completion(CodeTask(task.type, task.program, task.inputs, (given,)))
    return render_solver_completion(CodeTask(task.type, task.program, (given,), task.outputs))


def test_cruxeval_rows_become_deduction_and_abduction_tasks():
    o, i = load_set("cruxeval-o"), load_set("cruxeval-i")
    assert len(o) == len(i) == 800
    row = o["cruxeval-o/sample_3"]
    assert row.type is TaskType.DEDUCTION and i["cruxeval-i/sample_3"].type is TaskType.ABDUCTION
    assert row.program.startswith("def f(text, value):") and row.input == "'bcksrut', 'q'" and row.output == "'bcksrutq'"
    assert (i["cruxeval-i/sample_3"].program, i["cruxeval-i/sample_3"].inputs) == (row.program, row.inputs)


def test_cruxeval_verdicts_are_cruxevals_output_equality_and_any_preimage(sandbox):
    o, i = load_set("cruxeval-o")["cruxeval-o/sample_3"], load_set("cruxeval-i")["cruxeval-i/sample_3"]
    cases = [
        (o, "'bcksrutq'", True),          # O: the recorded output
        (o, '"bcksrutq"', True),          # the same value written otherwise
        (o, "'bcksrut'", False),
        (i, "'bcksrut', 'q'", True),      # I: the recorded input
        (i, "'bcksru', 'tq'", True),      # another input with f(input) == output counts, as in CRUXEval-I
        (i, "'bcksrut', 'x'", False),
    ]
    verdicts = verify_answers([t for t, _, _ in cases], [_answer(t, a) for t, a, _ in cases], sandbox, CodeIOConfig())
    assert [v.correct for v in verdicts] == [right for _, _, right in cases]


def test_eval_tasks_name_cruxeval_sets_limited_each_and_filtered_by_the_types_played():
    cfg = AZRConfig(eval={"tasks": ["cruxeval-o", "cruxeval-i"], "limit": 2})
    assert list(heldout_tasks(cfg)) == ["cruxeval-o/sample_0", "cruxeval-o/sample_1", "cruxeval-i/sample_0", "cruxeval-i/sample_1"]
    only_o = cfg.model_copy(update={"task_types": ["deduction", "induction"]})
    assert list(heldout_tasks(only_o)) == ["cruxeval-o/sample_0", "cruxeval-o/sample_1"]
    # one name is one set: the shipped set by name, as before
    tiny = AZRConfig(eval={"tasks": "heldout_tiny", "limit": 5})
    assert tiny.eval.tasks == ["heldout_tiny"] and len(heldout_tasks(tiny)) == 5
    with pytest.raises(ValueError, match="repeats task ids"):
        heldout_tasks(AZRConfig(eval={"tasks": ["cruxeval-o", "cruxeval-o"], "limit": 1}))
