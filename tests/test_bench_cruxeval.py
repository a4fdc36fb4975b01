"""CRUXEval: CRUXEval's answer extraction, literal comparison for O, sandboxed f(input) for I, and the
hacks that must not score."""

import pytest

from bench_data import bench_data_dir
from selfevolve.bench.cruxeval import CruxEvalSuite, call_arguments, extract_input_answer, extract_output_answer
from selfevolve.bench.suite import ScoreOptions


@pytest.fixture(scope="module")
def tasks():
    return {t.task_id: t for t in CruxEvalSuite("output").load(bench_data_dir())}


def test_extraction_follows_cruxeval():
    assert extract_output_answer('assert f("hi") == "bhihia"\n', cot=False) == '"bhihia"'
    assert extract_output_answer("thinking... [ANSWER]\nassert f(1) == [1, 2]\n", cot=True) == "[1, 2]"
    assert extract_input_answer('assert f("ba", "nana") == "banana"', cot=False) == 'f("ba", "nana")'
    assert extract_input_answer("so [ANSWER]\nassert f(16) == 17", cot=True) == "f(16)"
    assert call_arguments('f("ba", k=2)') == "'ba', k=2"
    assert call_arguments("f(1) or True") is None
    assert call_arguments("g(1)") is None


def test_prompt_holds_code_and_input(tasks):
    task = tasks["sample_0"]
    text = CruxEvalSuite("output", cot=True).prompt(task, "chat").text
    assert text.endswith(f"[PYTHON]\n{task.code}\nassert f({task.input}) == ??\n[/PYTHON]\n[THOUGHT]\n")
    assert CruxEvalSuite("input").prompt(task, "base").stop == ("[/ANSWER]",)


def test_output_prediction_compares_literals(tasks):
    task = tasks["sample_0"]  # output [(4, 1), (4, 1), (4, 1), (4, 1), (2, 3), (2, 3)]
    suite = CruxEvalSuite("output")
    answers = [f"assert f({task.input}) == {task.output}", "assert f(x) == [(4, 1)]",
               # an expression, not a literal: never evaluated, so wrong (the prompt asks for a literal)
               "assert f(x) == [(4, 1)] * 4 + [(2, 3)] * 2",
               f"assert f(x) == {task.output}  # a comment, ignored as by CRUXEval's exec"]
    v = suite.score([task], {task.task_id: [{"completion": a} for a in answers]}, ScoreOptions())
    assert v.correct[task.task_id] == [True, False, False, True]


def test_input_prediction_runs_f_in_the_sandbox(tasks):
    task = tasks["sample_0"]
    suite = CruxEvalSuite("input")
    answers = [
        f"assert f({task.input}) == {task.output}",
        "assert f([1, 1, 1, 1, 3, 3]) == x",  # another input with the same output
        "assert f([1, 2]) == x",
        "assert f([1]) or True == x",  # injection: not one call of f
        "assert f(__import__('os')._exit(0)) == x",
        "assert f(exit(0)) == x",
        "no assertion at all",
    ]
    v = suite.score([task], {task.task_id: [{"completion": a} for a in answers]}, ScoreOptions())
    assert v.correct[task.task_id] == [True, True, False, False, False, False, False]


def test_input_prediction_rejects_an_always_equal_object():
    from selfevolve.bench.cruxeval import CruxTask

    task = CruxTask("t", "def f(x):\n    return x", "1", "1")
    hack = ("assert f(type('E', (), {'__eq__': lambda s, o: True, '__hash__': lambda s: 0, "
            "'__repr__': lambda s: '1'})()) == 1")
    v = CruxEvalSuite("input").score([task], {"t": [{"completion": hack}, {"completion": "assert f(1) == 1"}]},
                                     ScoreOptions())
    assert v.correct["t"] == [False, True]
