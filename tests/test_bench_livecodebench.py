"""LiveCodeBench from a small folder in the official format: both test kinds, the compressed private
tests (unpickled without globals), LiveCodeBench's comparisons, and hacks."""

import base64
import json
import os
import pickle
import zlib

import pytest

from selfevolve.bench.livecodebench import LiveCodeBenchSuite, decode_tests, extract_code, stdout_matches
from selfevolve.bench.suite import ScoreOptions


def _packed(tests: list[dict]) -> str:
    return base64.b64encode(zlib.compress(pickle.dumps(json.dumps(tests)))).decode()


ROWS = [
    {"question_title": "Two Sum", "question_content": "Return the indices of the two numbers that add up to target.",
     "platform": "leetcode", "question_id": "lc-1", "contest_id": "w1", "contest_date": "2024-09-01T00:00:00",
     "starter_code": "class Solution:\n    def twoSum(self, nums: List[int], target: int) -> List[int]:\n        ",
     "difficulty": "easy", "metadata": json.dumps({"func_name": "twoSum"}),
     "public_test_cases": json.dumps([{"input": "[2, 7, 11, 15]\n9", "output": "[0, 1]", "testtype": "functional"}]),
     "private_test_cases": _packed([{"input": "[3, 2, 4]\n6", "output": "[1, 2]", "testtype": "functional"},
                                    {"input": "[3, 3]\n6", "output": "[0, 1]", "testtype": "functional"}])},
    {"question_title": "Mean", "question_content": "Read N and N integers; print their sum and their mean.",
     "platform": "atcoder", "question_id": "abc-1", "contest_id": "abc1", "contest_date": "2024-07-01T00:00:00",
     "starter_code": "", "difficulty": "easy", "metadata": "{}",
     "public_test_cases": json.dumps([{"input": "3\n1 2 3\n", "output": "6\n2.0\n", "testtype": "stdin"}]),
     "private_test_cases": json.dumps([{"input": "2\n5 6\n", "output": "11\n5.50\n", "testtype": "stdin"}])},
]

TWO_SUM = ("class Solution:\n    def twoSum(self, nums, target):\n        seen = {}\n"
           "        for i, x in enumerate(nums):\n            if target - x in seen:\n"
           "                return (seen[target - x], i)\n            seen[x] = i\n")
MEAN = "n = int(input())\nxs = list(map(int, input().split()))\nprint(sum(xs))\nprint(sum(xs) / n)\n"
MEAN_MAIN = ("import sys\n\ndef main():\n    data = sys.stdin.read().split()\n    xs = list(map(int, data[1:]))\n"
             "    print(sum(xs))\n    print(sum(xs) / len(xs))\n    exit()\n\nif __name__ == '__main__':\n    main()\n")


@pytest.fixture
def suite_and_tasks(tmp_path):
    folder = tmp_path / "livecodebench"
    folder.mkdir()
    (folder / "test.jsonl").write_text("".join(json.dumps(r) + "\n" for r in ROWS))
    suite = LiveCodeBenchSuite()
    return suite, {t.task_id: t for t in suite.load(tmp_path)}


def _score(suite_and_tasks, task_id, codes):
    suite, tasks = suite_and_tasks
    v = suite.score([tasks[task_id]], {task_id: [{"solution": c} for c in codes]}, ScoreOptions())
    return v.correct[task_id]


def test_rows_load_with_all_tests_and_date_filter(suite_and_tasks, tmp_path):
    _, tasks = suite_and_tasks
    assert tasks["lc-1"].func_name == "twoSum" and len(tasks["lc-1"].inputs) == 3
    assert tasks["abc-1"].func_name is None and len(tasks["abc-1"].inputs) == 2
    assert [t.task_id for t in LiveCodeBenchSuite(start_date="2024-08-01").load(tmp_path)] == ["lc-1"]


def test_functional_tests(suite_and_tasks):
    wrong = TWO_SUM.replace("return (seen[target - x], i)", "return [i, seen[target - x]]")
    eq = ("class E:\n    def __eq__(self, o):\n        return True\n\n"
          "class Solution:\n    def twoSum(self, nums, target):\n        print('[0, 1]')\n        return E()\n")
    main_block = TWO_SUM + "\nif __name__ == '__main__':\n    print(Solution().twoSum([1], int(input())))\n"
    assert _score(suite_and_tasks, "lc-1", [TWO_SUM, wrong, eq, "class Solution:\n    pass\n", main_block]) == [
        True, False, False, False, True]  # LiveCodeBench never runs a __main__ block of a functional solution


def test_stdin_tests(suite_and_tasks):
    exits_early = "import sys\nsys.exit(0)\n" + MEAN
    hard_exit = "import os\nprint(6)\nprint(2.0)\nos._exit(0)\n"
    assert _score(suite_and_tasks, "abc-1", [MEAN, MEAN_MAIN, MEAN.replace("sum(xs))", "sum(xs) + 1)", 1),
                                             exits_early, hard_exit, "print(6)\nprint(2.0)\n"]) == [
        True, True, False, False, False, False]


def test_output_comparison_and_code_extraction():
    assert stdout_matches("11\n5.5\n", "11\n5.50\n")  # lines of numbers compare as Decimals
    assert not stdout_matches("11\n5.5 1\n", "11\n5.50\n")
    assert stdout_matches("  a b \n\n", "a b")
    assert extract_code("text\n```python\nx = 1\n```\nmore\n```python\ny = 2\n```\n") == "y = 2"
    assert extract_code("no fence") == ""


def test_private_tests_are_unpickled_without_globals(tmp_path):
    class Boom:
        def __reduce__(self):
            return (os.system, ("touch " + str(tmp_path / "pwned"),))

    evil = base64.b64encode(zlib.compress(pickle.dumps(Boom()))).decode()
    with pytest.raises(pickle.UnpicklingError, match="refused"):
        decode_tests(evil)
    assert not (tmp_path / "pwned").exists()
    assert decode_tests(ROWS[0]["private_test_cases"])[0]["output"] == "[1, 2]"
