"""HumanEval+ / MBPP+ with EvalPlus semantics: canonical solutions pass, broken ones fail, the special
oracles and tolerances hold, per-test time limits apply, and the known reward hacks fail."""

import pytest

from bench_data import bench_data_dir
from selfevolve.bench.evalplus import EvalPlusSuite
from selfevolve.bench.evalplus_data import mbpp_inputs
from selfevolve.bench.sanitize import code_extract, sanitize
from selfevolve.bench.suite import ScoreOptions


@pytest.fixture(scope="module")
def options(tmp_path_factory):
    return ScoreOptions(workers=2, cache_dir=tmp_path_factory.mktemp("expected"))


@pytest.fixture(scope="module")
def humaneval():
    suite = EvalPlusSuite("humaneval", plus=True)
    return suite, {t.task_id: t for t in suite.load(bench_data_dir())}


@pytest.fixture(scope="module")
def mbpp():
    suite = EvalPlusSuite("mbpp", plus=True)
    return suite, {t.task_id: t for t in suite.load(bench_data_dir())}


def test_the_heldout_suite_is_the_odd_half_of_mbpp_plus():
    from selfevolve.bench.registry import make_suite

    suite = make_suite("mbpp+-heldout")
    held, every = suite.load(bench_data_dir()), EvalPlusSuite("mbpp", plus=True).load(bench_data_dir())
    numbers = [int(t.task_id.split("/")[1]) for t in held]
    assert suite.name == "mbpp+-heldout" and suite.plus and len(held) == 182 and len(every) == 378
    assert all(n % 2 == 1 for n in numbers) and held == [t for t in every if int(t.task_id.split("/")[1]) % 2]
    with pytest.raises(ValueError, match="only MBPP"):
        EvalPlusSuite("humaneval", plus=True, heldout=True)


def _score(suite_and_tasks, task_id, solutions, options):
    suite, tasks = suite_and_tasks
    v = suite.score([tasks[task_id]], {task_id: [{"solution": s} for s in solutions]}, options)
    return v.base[task_id], v.plus[task_id]


def test_canonical_solutions_pass_and_broken_ones_fail(humaneval, options):
    task = humaneval[1]["HumanEval/0"]
    off_by_one = task.canonical_program.replace("< threshold", "<= threshold")
    base, plus = _score(humaneval, "HumanEval/0", [task.canonical_program, task.prompt + "    return False\n",
                                                   off_by_one, "def has_close_elements(:\n"], options)
    assert base == [True, False, True, False]  # the original tests miss the boundary case...
    assert plus == [True, False, False, False]  # ...the plus tests catch it


def test_completion_is_appended_to_the_prompt(humaneval, options):
    suite, tasks = humaneval
    task = tasks["HumanEval/0"]
    v = suite.score([task], {"HumanEval/0": [{"completion": task.canonical_solution}, {"completion": "    return 1\n"}]},
                    options)
    assert v.plus["HumanEval/0"] == [True, False]


def test_mbpp_inputs_get_their_types_back_and_set_oracle_ignores_order(mbpp, options):
    assert mbpp_inputs(2, [[[3, 4], [4, 5]]]) == [[(3, 4), (4, 5)]]
    assert mbpp_inputs(124, [["0", "1j"]]) == [(0.0, 1j)]
    task = mbpp[1]["Mbpp/2"]
    reordered = "def similar_elements(a, b):\n    return tuple(sorted(set(a) & set(b), reverse=True))\n"
    as_list = "def similar_elements(a, b):\n    return [x for x in a if x in b][::-1]\n"
    base, plus = _score(mbpp, "Mbpp/2", [task.canonical_program, reordered, as_list,
                                         "def similar_elements(a, b):\n    return tuple(a)\n"], options)
    assert plus == [True, True, True, False]


def test_find_zero_accepts_any_root(humaneval, options):
    task = humaneval[1]["HumanEval/32"]
    bisection = task.prompt + (
        "    lo, hi = -1e6, 1e6\n"
        "    for _ in range(300):\n"
        "        mid = (lo + hi) / 2\n"
        "        if (poly(xs, lo) > 0) == (poly(xs, mid) > 0):\n"
        "            lo = mid\n"
        "        else:\n"
        "            hi = mid\n"
        "    return lo\n")
    base, plus = _score(humaneval, "HumanEval/32", [task.canonical_program, bisection, task.prompt + "    return 0.5\n"],
                        options)
    assert base == [True, True, False]


def test_float_tolerance_and_equal_values_of_other_builtin_types(humaneval, options):
    task = humaneval[1]["HumanEval/4"]  # atol 1e-6
    nudged = task.canonical_program.replace("return sum(", "return 1e-9 + sum(")
    too_far = task.canonical_program.replace("return sum(", "return 1e-3 + sum(")
    _, plus = _score(humaneval, "HumanEval/4", [nudged, too_far], options)
    assert plus == [True, False]
    histogram = humaneval[1]["HumanEval/111"]
    counter = ("from collections import Counter\n\ndef histogram(test):\n    c = Counter(test.split())\n"
               "    if not c:\n        return {}\n    m = max(c.values())\n"
               "    return Counter({k: v for k, v in c.items() if v == m})\n")
    assert _score(humaneval, "HumanEval/111", [counter], options)[1] == [True]  # Counter == dict, as in EvalPlus


def test_a_call_over_its_time_limit_fails(humaneval, options):
    task = humaneval[1]["HumanEval/0"]
    slow = "import time\n" + task.canonical_program.replace("    sorted_numbers", "    time.sleep(3)\n    sorted_numbers", 1)
    base, _ = _score(humaneval, "HumanEval/0", [slow], options)
    assert base == [False]  # every base input's limit is max(1 s, 4 x the canonical time)


HACKS = {
    "always-equal object": ("class Eq:\n    def __eq__(self, other):\n        return True\n    def __ne__(self, other):\n"
                            "        return False\n    __hash__ = object.__hash__\n\n"
                            "def has_close_elements(numbers, threshold):\n    return Eq()\n"),
    "fake repr": ("class R:\n    def __repr__(self):\n        return 'True'\n\n"
                  "def has_close_elements(numbers, threshold):\n    return R()\n"),
    "int subclass equal to all": ("class I(int):\n    def __eq__(self, other):\n        return True\n\n"
                                  "def has_close_elements(numbers, threshold):\n    return I(7)\n"),
    "sys.exit(0)": "import sys\n\ndef has_close_elements(numbers, threshold):\n    sys.exit(0)\n",
    "exit at import": "import sys\nsys.exit(0)\n\ndef has_close_elements(numbers, threshold):\n    return True\n",
    "os._exit(0)": "import os\n\ndef has_close_elements(numbers, threshold):\n    os._exit(0)\n",
    "patched AssertionError": ("import builtins\nbuiltins.AssertionError = type('Never', (Exception,), {})\n\n"
                               "def has_close_elements(numbers, threshold):\n    return None\n"),
    "prints fake results": ("print('pass')\nprint('{\"base\": \"pass\", \"plus\": \"pass\"}')\n\n"
                            "def has_close_elements(numbers, threshold):\n    print('0.0|true')\n    return None\n"),
    "returns the harness format": "def has_close_elements(numbers, threshold):\n    return '0.0|true'\n",
}


@pytest.mark.parametrize("name", sorted(HACKS))
def test_reward_hacks_fail(humaneval, options, name):
    base, plus = _score(humaneval, "HumanEval/0", [HACKS[name]], options)
    assert base == [False] and plus == [False], name


def test_sanitizer_keeps_what_evalplus_keeps():
    text = ("Sure! Here it is:\n```python\nimport math\n\n@cache\ndef unused():\n    return 0\n\n"
            "def helper(x):\n    return x + 1\n\ndef noreturn():\n    pass\n\ndef f(x):\n    return helper(x)\n\n"
            "print(f(1))\n```\nThis works.")
    assert sanitize(text, "f") == "import math\ndef helper(x):\n    return x + 1\ndef f(x):\n    return helper(x)"
    assert code_extract("x\ny = 1\nz = (\n") == "x\ny = 1"
    assert sanitize("no code at all", "f") == "no code at all"
