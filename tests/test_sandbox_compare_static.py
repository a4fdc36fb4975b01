"""Parent-side comparison and static checks: pure functions, no processes."""

import pytest

from selfevolve.sandbox.compare import parse_literal, reprs_equal, values_equal
from selfevolve.sandbox.static import analyse_job, check_job, imported_modules
from selfevolve.sandbox.types import Status
from selfevolve.tasks.code_io.config import BANNED_KEYWORDS


@pytest.mark.parametrize("gold,pred,strict,python", [
    ("(1, 2)", "[1, 2]", False, False),
    ("True", "1", False, True),
    ("1", "1.0", False, True),
    ("{1, 2, 3}", "{3, 2, 1}", True, True),
    ("{'a': [1, (2,)], 'b': None}", "{'b': None, 'a': [1, (2,)]}", True, True),
    ("{1: 'x'}", "{True: 'x'}", False, True),
    ("0.1", "0.1", True, True),
    ("0.30000000000000004", "0.3", False, False),
    ("'a'", '"a"', True, True),
])
def test_reprs_equal_modes(gold, pred, strict, python):
    assert reprs_equal(gold, pred) is strict
    assert reprs_equal(gold, pred, mode="python") is python


def test_float_tolerance_is_opt_in():
    assert not values_equal([0.1 + 0.2], [0.3])
    assert values_equal([0.1 + 0.2], [0.3], float_tol=1e-9)
    assert not values_equal([1], [1.0], float_tol=1e-9)


def test_nonliteral_reprs_only_match_as_text_when_allowed():
    assert not reprs_equal("<A object>", "<A object>")
    assert reprs_equal("<A object>", "<A object>", allow_nonliteral=True)
    assert not reprs_equal("1", "<A object>", allow_nonliteral=True)


def test_always_equal_object_never_equals():
    class AlwaysEqual:
        def __eq__(self, other):
            return True
    with pytest.raises(ValueError, match="literal types only"):
        values_equal(AlwaysEqual(), 1)
    assert not values_equal(AlwaysEqual(), 1, mode="python")
    assert not reprs_equal("1", repr(AlwaysEqual()))


def test_str_subclass_cannot_fake_its_text():
    class Evil(str):
        def __eq__(self, other):
            return True
        __hash__ = str.__hash__
        def strip(self, *a):
            return "42"
    assert not reprs_equal("42", Evil("'wrong'"))
    assert not reprs_equal("<x>", Evil("<y>"), allow_nonliteral=True)


def test_parse_literal_refuses_code_and_huge_input():
    for text in ("__import__('os').system('true')", "f(1)", "1 if True else 2"):
        with pytest.raises(ValueError, match="not a Python literal"):
            parse_literal(text)
    with pytest.raises(ValueError, match="too long"):
        parse_literal("1" * 2_000_000)
    with pytest.raises(ValueError, match="deeper"):
        parse_literal("[" * 500 + "]" * 500)
    assert parse_literal("set()") == set()


@pytest.mark.parametrize("pred", ["...", "[1, 2, ...]", "{'a': ...}", "(1, (...,))"])
def test_ellipsis_is_not_a_literal_and_never_matches(pred):
    """`ast.literal_eval` accepts `...`; a model abbreviating an answer with it once crashed a whole
    AZR run in the strict comparison. It must be refused as a literal and score as a mismatch."""
    with pytest.raises(ValueError, match="not a Python literal"):
        parse_literal(pred)
    assert not reprs_equal("[1, 2, 3]", pred)
    assert not reprs_equal("[1, 2, 3]", pred, mode="python")


@pytest.mark.parametrize("program,reason", [
    ("import os\ndef f(x):\n    return os.path.join(x)", "os.path"),
    ("from os import path\ndef f(x):\n    return 1", "os.path"),
    ("import os as o\ndef f(x):\n    return o.environ", "os.environ"),
    ("import sys\ndef f(x):\n    sys.exit(0)", "sys.exit"),
    ("from datetime import datetime\ndef f(x):\n    return 1", "datetime"),
    ("import random.x\ndef f(x):\n    return 1", "random"),
])
def test_task_rules_reject_with_the_code_io_list(program, reason):
    """AZR's banned list is the code-io family's rule, passed explicitly; the sandbox default lacks it."""
    problem = check_job(program, ["1"], banned_modules=BANNED_KEYWORDS)
    assert problem is not None and problem.status is Status.UNSAFE and reason in problem.reason
    assert check_job(program, ["1"]) is None


@pytest.mark.parametrize("program,reason", [
    ("import subprocess\ndef f(x):\n    return subprocess.run(['true'])", "subprocess"),
    ("from ctypes import CDLL\ndef f(x):\n    return 1", "ctypes"),
    ("import socket as s\ndef f(x):\n    return s.socket()", "socket"),
    ("import multiprocessing.pool\ndef f(x):\n    return 1", "multiprocessing"),
    ("import signal\ndef f(x):\n    return signal.SIGALRM", "signal"),
    ("def f(x):\n    return __import__('o' + 's')", "__import__"),
    ("import importlib\ndef f(x):\n    return importlib.import_module('os')", "importlib"),
    ("def f(x):\n    return ().__class__.__base__.__subclasses__()", "__subclasses__"),
    ("def f(x):\n    return getattr((), '__subclasses__')", "__subclasses__"),
    ("def f(x):\n    return input()", "input()"),
    ("def g(x):\n    return x", "def f"),
])
def test_static_rejects(program, reason):
    """The sandbox default refuses what is unsafe for every task."""
    problem = check_job(program, ["1"])
    assert problem is not None and problem.status is Status.UNSAFE and reason in problem.reason


@pytest.mark.parametrize("program", [
    "def f(x):\n    def helper(y):\n        return y\n    class Box:\n        pass\n    return helper(x)",
    "import os\ndef f(x):\n    return os.sep",
    "def parse_input(s):\n    return s\ndef f(x):\n    return parse_input(x)",
    "def input(s):\n    return s\ndef f(x):\n    return input(x)",
    "import collections\ndef f(time):\n    return time",
])
def test_static_accepts(program):
    assert check_job(program, ["1"]) is None


def test_static_syntax_and_injection():
    assert check_job("def f(x) return", ["1"]).status is Status.SYNTAX_ERROR
    assert check_job("def f(x):\n    return x", ["x) or True or f(x"]).status is Status.SYNTAX_ERROR
    assert check_job("def f(x):\n    return x", ["1"], imports=["x = 1"]).status is Status.UNSAFE


@pytest.mark.parametrize("program,inputs,imports", [
    ("import collections.abc as cabc\nfrom heapq import heappush, heappop\ndef f(x):\n    import re\n    return x", ["1"], []),
    ("def f(x):\n    return sorted(x)", ["[3, 1]", "[2]"], ["from typing import List", "import math"]),
    ("import os\ndef f(x):\n    return os.path.join(x)", ["1"], []),
    ("def f(x):\n    return x", ["x) or True or f(x"], ["import math"]),
    ("def g(x):\n    return x", ["1"], []),
])
def test_analyse_job_is_check_job_plus_imported_modules(program, inputs, imports):
    """The pool uses analyse_job (one parse, one walk): its verdict must be check_job's, and for jobs
    that may run its modules must be imported_modules' (they are pre-loaded in the child)."""
    problem, modules = analyse_job(program, inputs, imports)
    assert problem == check_job(program, inputs, imports)
    if problem is None:
        assert modules == imported_modules([*imports, program])


def test_model_written_literals_raise_no_syntax_warnings():
    """`0x1for` or `1_a` in a deduction answer must not print SyntaxWarnings into the trainer's log."""
    import warnings

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for text in ("1if 2 else 3", "[0x1for x in y]", "1_a"):
            with pytest.raises(ValueError):
                parse_literal(text)
    assert not [w for w in caught if issubclass(w.category, SyntaxWarning)]
