"""The code-with-tests family: extraction, test splitting, and verification in the real sandbox,
including the ways a program could fake passing (always-equal objects, early exit, patched asserts)."""

from __future__ import annotations

import pytest

from selfevolve.sandbox import Sandbox, SandboxConfig
from selfevolve.tasks.code_tests import (
    CodeTestsConfig,
    extract_code,
    judge,
    plan_test,
    split_tests,
    strip_main_guard,
    verify,
)

CONFIG = CodeTestsConfig(timeout=2.0)
TESTS = ["assert add(1, 2) == 3", "assert add(-1, 1) == 0", "import math\nassert math.isclose(add(0.5, 0.25), 0.75)"]


@pytest.fixture(scope="module")
def sandbox():
    with Sandbox(CONFIG.sandbox_config(workers=2)) as sb:
        yield sb


def check(sandbox, code, tests=TESTS, config=CONFIG):
    return verify([(code, tests)], sandbox, config)[0]


def test_extract_code_takes_the_last_complete_python_block():
    answer = "Plan.\n```python\ndef a():\n    return 1\n```\nthen\n```\ndef b():\n    return 2\n```\n```python\nunfinished"
    assert extract_code(answer) == "def b():\n    return 2"
    assert extract_code("no code here") is None
    assert extract_code("```python\n\n```") is None
    assert extract_code("```py\nx = 1\n```") == "x = 1"


def test_main_guard_is_removed_and_the_rest_kept():
    code = 'def f():\n    return 1\n\nif __name__ == "__main__":\n    print(f(input()))\nX = 2\n'
    assert strip_main_guard(code) == "def f():\n    return 1\n\nX = 2\n"
    assert strip_main_guard("def broken(:\n") == "def broken(:\n"


def test_split_tests_gives_one_test_per_assert_with_the_setup_in_front():
    source = "import math\nassert f(1) == 2\nx = 3\nassert math.isclose(f(x), 4.0)\n"
    assert split_tests(source) == ["import math\nassert f(1) == 2", "import math\nx = 3\nassert math.isclose(f(x), 4.0)"]
    with pytest.raises(ValueError, match="does not parse"):
        split_tests("assert f(1) ==")


def test_plan_judges_values_in_this_process():
    plan = plan_test("assert f(1) == (1, 2)\nassert not g()\nassert h(2) == h(3)")
    assert [c.kind for c in plan.checks] == ["equal", "falsy", "equal_pair"]
    assert judge(plan, "[(1, 2), False, 5, 5]") == (True, "passed")
    assert judge(plan, "[[1, 2], False, 5, 5]") == (False, "wrong")  # list is not tuple (type-strict)
    assert judge(plan, "[(1, 2), False, 5, 6]") == (False, "wrong")
    assert judge(plan, "[(1, 2), True, 5, 5]") == (False, "wrong")
    assert judge(plan, "[(1, 2), False, <X object>, 5]") == (False, "nonliteral")
    assert judge(plan, "[(1, 2)]") == (False, "malformed")


def test_correct_and_wrong_programs(sandbox):
    good = check(sandbox, "def add(a, b):\n    return a + b\n")
    assert good.verified and good.pass_rate == 1.0 and good.n_tests == 3
    half = check(sandbox, "def add(a, b):\n    return abs(a) + b\n")
    assert not half.verified and half.pass_rate == pytest.approx(2 / 3)
    assert [r.reason for r in half.results] == ["passed", "wrong", "passed"]


def test_type_strict_by_default_and_python_equality_on_request(sandbox):
    code = "def add(a, b):\n    return float(a + b)\n"
    assert [r.reason for r in check(sandbox, code).results][:2] == ["wrong", "wrong"]
    loose = CodeTestsConfig(timeout=2.0, equality="python")
    assert check(sandbox, code, config=loose).verified


def test_an_always_equal_object_cannot_pass(sandbox):
    code = (
        "class Anything:\n    def __eq__(self, other):\n        return True\n    def __bool__(self):\n        return True\n"
        "def add(a, b):\n    return Anything()\n"
    )
    tests = ["assert add(1, 2) == 3", "assert 3 == add(1, 2)", "assert add(1, 2) == add(5, 5)"]
    # its default repr carries an address, which the sandbox refuses; with a repr of its own, the text
    # is no literal, which the comparison refuses
    assert [r.reason for r in check(sandbox, code, tests).results] == ["runtime_error"] * 3
    named = code.replace("        return True\ndef add", "        return True\n    def __repr__(self):\n        return 'Anything()'\ndef add")
    assert [r.reason for r in check(sandbox, named, tests).results] == ["nonliteral"] * 3


def test_truth_asserts_check_truth_values_whatever_the_object(sandbox):
    code = "import re\ndef starts_a(text):\n    return re.match('a', text)\n"
    tests = ["assert starts_a('abc')", "assert not starts_a('bcd')", "assert starts_a('bcd')", "assert not starts_a('abc')"]
    assert [r.reason for r in check(sandbox, code, tests).results] == ["passed", "passed", "wrong", "wrong"]


def test_exiting_early_cannot_pass(sandbox):
    for exit_call in ("import sys\nsys.exit(0)", "exit(0)", "raise SystemExit"):
        code = f"def add(a, b):\n    return -7\n{exit_call}\n"
        result = check(sandbox, code)
        assert result.pass_rate == 0.0 and {r.reason for r in result.results} == {"runtime_error"}, exit_call


def test_patching_assertion_error_changes_nothing(sandbox):
    rebound = "AssertionError = type('Quiet', (Exception,), {})\ndef add(a, b):\n    return -7\n"
    assert check(sandbox, rebound).pass_rate == 0.0
    patched = "import builtins\nbuiltins.AssertionError = Exception\ndef add(a, b):\n    return -7\n"
    assert {r.reason for r in check(sandbox, patched).results} == {"unsafe"}


def test_statements_other_than_top_level_asserts_run_as_written(sandbox):
    code = "def add(a, b):\n    return a + b\n"
    tests = ["for i in range(3):\n    assert add(i, 1) == i + 1", "x = add(1, 1)\nassert x == 2", "add('a', 1)"]
    result = check(sandbox, code, tests)
    assert [r.reason for r in result.results] == ["passed", "passed", "runtime_error"]


def test_timeouts_missing_code_and_syntax_errors(sandbox):
    slow = "def add(a, b):\n    while True:\n        pass\n"
    fast = CodeTestsConfig(timeout=0.5)
    assert {r.reason for r in check(sandbox, slow, ["assert add(1, 2) == 3"], fast).results} == {"timeout"}
    assert [r.reason for r in check(sandbox, None).results] == ["no_code"] * 3
    assert {r.reason for r in check(sandbox, "def add(a, b) return 1").results} == {"syntax_error"}


def test_common_standard_library_modules_are_allowed_and_unsafe_ones_refused(sandbox):
    code = (
        "import math, heapq, bisect, string, re\nfrom collections import Counter\nfrom functools import lru_cache\n"
        "from itertools import accumulate\nfrom typing import List\nimport sys\nsys.setrecursionlimit(10000)\n"
        "def add(a: float, b: float) -> float:\n    return list(accumulate([a, b]))[-1] + 0 * len(Counter(string.digits))\n"
    )
    assert check(sandbox, code).verified
    assert {r.reason for r in check(sandbox, "import os\ndef add(a, b):\n    return a + b\n").results} == {"unsafe"}


def test_a_sandbox_without_the_family_bans_is_refused():
    with Sandbox(SandboxConfig(workers=1)) as plain:
        with pytest.raises(ValueError, match="sandbox_config"):
            verify([("def add(a, b):\n    return a + b", TESTS)], plain, CONFIG)


def test_one_sandbox_call_for_a_batch_and_identical_jobs_once():
    class Counting:
        def __init__(self, inner):
            self.inner, self.calls, self.jobs = inner, 0, 0
            self.config = inner.config

        def run(self, jobs):
            self.calls += 1
            self.jobs += len(jobs)
            return self.inner.run(jobs)

    with Sandbox(CONFIG.sandbox_config(workers=1)) as sb:
        counting = Counting(sb)
        code = "def add(a, b):\n    return a + b\n"
        out = verify([(code, TESTS), (code, TESTS), ("def add(a, b):\n    return 0\n", TESTS[:1]), (None, TESTS)], counting, CONFIG)
    assert counting.calls == 1 and counting.jobs == 4
    assert [v.pass_rate for v in out] == [1.0, 1.0, 0.0, 0.0]
