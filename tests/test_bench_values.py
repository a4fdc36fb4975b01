"""Values through a sandbox job and back: inputs as tagged JSON or source, results as tagged JSON,
decoded exactly."""

import json

import pytest

from selfevolve.bench import harness
from selfevolve.bench.execution import SuiteRunner, CallSuite, chunk_size
from selfevolve.bench.values import Opaque, decode, encode_arguments, measurement

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
    as_values = CallSuite("echo", program, harness.Call("echo"), [None] * len(VALUES), values=[[v] for v in VALUES])
    as_source = CallSuite("echo", program, harness.Call("echo"), [None] * len(VALUES),
                          sources=[_source(v) for v in VALUES])
    for result in runner.run([as_values, as_source]):
        assert result.ok, result.error
        back = [decode(measurement(o)[1]) for o in result.outputs]
        assert back == VALUES
        assert [type(b) for b in back] == [type(v) for v in VALUES]


def test_each_call_gets_fresh_arguments(runner):
    program = "def grow(xs):\n    xs.append(1)\n    return len(xs)\n"
    [result] = runner.run([CallSuite("fresh", program, harness.Call("grow"), [None] * 3, values=[[[0]]] * 3)])
    assert [decode(measurement(o)[1]) for o in result.outputs] == [2, 2, 2]


def test_subclasses_travel_as_their_builtin_value_and_objects_as_opaque(runner):
    program = ("from collections import Counter, OrderedDict, namedtuple\nP = namedtuple('P', 'x y')\n\n"
               "class Thing:\n    def __repr__(self):\n        return '[1, 2]'\n\n"
               "def make(kind):\n    return {'counter': Counter('aab'), 'ordered': OrderedDict(a=1), 'point': P(1, 2),"
               " 'thing': Thing()}[kind]\n")
    kinds = ["counter", "ordered", "point", "thing"]
    [result] = runner.run([CallSuite("sub", program, harness.Call("make"), [None] * 4, values=[[k] for k in kinds])])
    back = [decode(measurement(o)[1]) for o in result.outputs]
    assert back == [{"a": 2, "b": 1}, {"a": 1}, (1, 2), Opaque("Thing", "[1, 2]")]
    assert back[3] != [1, 2]


def test_large_outputs_move_to_the_large_sandbox(runner):
    program = "def big(n):\n    return 'x' * n\n"
    n = 2_000_000  # over the small sandbox's 1 MB per output
    [result] = runner.run([CallSuite("big", program, harness.Call("big"), [None], values=[[n]])])
    assert result.ok and decode(measurement(result.outputs[0])[1]) == "x" * n
    assert chunk_size(1_000_000) >= 700 and chunk_size(64_000_000) >= 10


def test_only_builtin_values_can_be_inputs():
    assert json.loads(encode_arguments([[float("nan"), 10**5000, (1,)]]))[0][1] == {"i": hex(10**5000)}
    with pytest.raises(TypeError, match="builtin values"):
        encode_arguments([[object()]])


def _source(v) -> str:
    """Argument source for the `sources` path (as CRUXEval answers arrive): repr, or an expression
    where repr is not valid source."""
    if isinstance(v, float) and v == float("inf"):
        return "float('inf')"
    if isinstance(v, int) and not isinstance(v, bool) and abs(v) > 10**4000:
        return hex(v)
    return repr(v)
