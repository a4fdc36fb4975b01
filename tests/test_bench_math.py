"""Math suites: gold answers as Qwen2.5-Math reads them, AZR/Qwen answer extraction, math-verify grading,
and the grader's outside timeout on an answer that would compute for ever."""

import time

import pytest

from bench_data import bench_data_dir
from selfevolve.bench.mathsets import MathSuite, extract_azr, extract_qwen, last_boxed
from selfevolve.bench.suite import ScoreOptions

pytest.importorskip("math_verify")

from selfevolve.bench.mathgrade import MathGrader  # noqa: E402


def test_boxed_and_answer_tag_extraction():
    assert last_boxed("a \\boxed{1} then \\boxed{\\frac{1}{2}} end") == "\\boxed{\\frac{1}{2}}"
    assert last_boxed("\\boxed{unclosed") is None
    assert extract_azr("<think>..</think> <answer>The area is \\boxed{42}.</answer>") == "\\boxed{42}"
    assert extract_azr("<answer> 7 </answer>") == "7"
    assert extract_azr("no tags but \\boxed{3}") == "\\boxed{3}"
    assert extract_azr("nothing here") == ""
    assert extract_qwen("so the answer is \\boxed{\\sqrt{2}}.") == "\\sqrt{2}"
    assert extract_qwen("we get 12 apples and 5 pears") == "5"


FIRST_RECORD = {  # set -> (field of its first record, what it holds)
    "math500": ("question", "Convert the point $(0,3)$"),  # the start of the question
    "gsm8k": ("answer", "18"),
    "amc23": ("answer", "27"),  # stored as 27.0
    "minerva": ("answer", "1.6"),  # the last \\boxed of the reference solution
    "olympiadbench": ("answer", "2"),
}


@pytest.mark.parametrize("name", FIRST_RECORD)
def test_gold_answer_of_each_set(name):
    from selfevolve.bench.data import DataNotFound

    data = bench_data_dir()
    try:
        first = MathSuite(name).load(data)[0]
    except DataNotFound:  # the package ships math500 and gsm8k only
        pytest.skip(f"{name} is not in {data}: point SELFEVOLVE_BENCH_DATA at the benchmark data folder")
    field, expected = FIRST_RECORD[name]
    value = getattr(first, field)
    assert value.startswith(expected) if field == "question" else value == expected


def test_missing_data_names_the_flag(tmp_path, monkeypatch):
    from selfevolve.bench.data import DataNotFound

    monkeypatch.delenv("SELFEVOLVE_BENCH_DATA", raising=False)
    with pytest.raises(DataNotFound, match="--data-dir"):
        MathSuite("aime24").load(tmp_path)


def test_math_verify_grades_equivalent_forms():
    with MathGrader(timeout=20) as grader:
        assert grader.grade_all([("\\frac{1}{2}", "0.5"), ("5", "\\boxed{5}"), ("\\left( 3, \\frac{\\pi}{2} \\right)",
                                 "(3, \\pi/2)"), ("5", "6"), ("5", "")]) == [True, True, True, False, False]


def test_a_looping_answer_is_timed_out_not_hung():
    with MathGrader(timeout=2) as grader:
        start = time.monotonic()
        assert grader.grade("3", "9^{9^{9^{9}}}") is False  # SymPy would compute this for ever
        assert grader.timeouts == 1
        assert time.monotonic() - start < 60  # far less in practice; only "it came back" is checked
        assert grader.grade("3", "3") is True  # a fresh worker takes the next answer


def test_suite_scores_completions():
    suite = MathSuite("math500")
    tasks = suite.load(bench_data_dir())[:2]
    samples = {t.task_id: [{"completion": f"<think>x</think> <answer>\\boxed{{{t.answer}}}</answer>"},
                           {"completion": "<answer>-1</answer>"}] for t in tasks}
    v = suite.score(tasks, samples, ScoreOptions(math_timeout=20))
    assert v.correct == {t.task_id: [True, False] for t in tasks}
    assert suite.prompt(tasks[0], "chat").text.endswith(f"User: {tasks[0].question}\nAssistant:")
