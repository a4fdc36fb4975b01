"""Values through a sandbox job and back: inputs as source, results as tagged JSON, decoded exactly."""

import pytest

from selfevolve.bench import harness
from selfevolve.bench.execution import SuiteRunner, CallSuite, chunk_size
from selfevolve.bench.values import Opaque, arguments_source, decode, measurement, to_source

VALUES = [
    None, True, 0, -7, 10**5000, -(10**5000), 1.5, float("inf"), -0.0, "é\n'\"", b"\x00\xff", 2 - 3j,
    [1, [2, (3,)]], (), (1,), {"a": 1, (1, 2): [3], 4: {5}}, {1, 2}, set(), frozenset({3}),
]


@pytest.fixture(scope="module")
def runner():
    with SuiteRunner(workers=2) as r:
        yield r


def test_every_builtin_value_round_trips(runner):
    program = "def echo(x):\n    return x\n"
    suite = CallSuite("echo", program, harness.Call("echo"), [arguments_source([v]) for v in VALUES], [None] * len(VALUES))
    [result] = runner.run([suite])
    assert result.ok, result.error
    back = [decode(measurement(o)[1]) for o in result.outputs]
    assert back == VALUES
    assert [type(b) for b in back] == [type(v) for v in VALUES]


def test_subclasses_travel_as_their_builtin_value_and_objects_as_opaque(runner):
    program = ("from collections import Counter, OrderedDict, namedtuple\nP = namedtuple('P', 'x y')\n\n"
               "class Thing:\n    def __repr__(self):\n        return '[1, 2]'\n\n"
               "def make(kind):\n    return {'counter': Counter('aab'), 'ordered': OrderedDict(a=1), 'point': P(1, 2),"
               " 'thing': Thing()}[kind]\n")
    kinds = ["counter", "ordered", "point", "thing"]
    [result] = runner.run([CallSuite("sub", program, harness.Call("make"), [repr(k) for k in kinds], [None] * 4)])
    back = [decode(measurement(o)[1]) for o in result.outputs]
    assert back == [{"a": 2, "b": 1}, {"a": 1}, (1, 2), Opaque("Thing", "[1, 2]")]
    assert back[3] != [1, 2]


def test_large_outputs_move_to_the_large_sandbox(runner):
    program = "def big(n):\n    return 'x' * n\n"
    n = 2_000_000  # over the small sandbox's 1 MB per output
    [result] = runner.run([CallSuite("big", program, harness.Call("big"), [str(n)], [None])])
    assert result.ok and decode(measurement(result.outputs[0])[1]) == "x" * n
    assert chunk_size(1_000_000) >= 700 and chunk_size(64_000_000) >= 10


def test_source_of_values_that_repr_cannot_write():
    assert to_source(float("nan")) == "float('nan')"
    assert to_source(set()) == "set()"
    assert eval(to_source(10**5000)) == 10**5000  # hex: no int-string limit
    with pytest.raises(TypeError, match="builtin values"):
        to_source(object())
