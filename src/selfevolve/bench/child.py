"""Source that runs INSIDE a sandbox job, around a benchmark program. The parent never imports it as
code to run; `harness.program` reads this file as text and puts it before the program under test.

What it does, in the job process:

* silences the program: stdout/stderr go to a sink (EvalPlus's `swallow_io`), stdin reads fail;
* `_se_arguments(i)` rebuilds test i's arguments from the tagged JSON the parent put in the program
  (`_SE_INPUTS`), fresh for every call (EvalPlus deep-copies them);
* `_se_measure(limit, fn, args, post)` calls the entry point once, times the call, fails the job when
  the call took longer than `limit` seconds (EvalPlus's per-test limit; the job's own wall-clock limit,
  enforced from outside by the sandbox, bounds the calls that never return), and returns the value as
  `"<seconds>|<tagged JSON>"`.

Tagged JSON encodes builtin values exactly and without the int-string limit: JSON numbers, strings,
booleans, null and lists stand for themselves; every JSON object is a tag: ``{"t": [...]}`` tuple,
``{"d": [[k, v], ...]}`` dict, ``{"s": [...]}`` set, ``{"f": [...]}`` frozenset, ``{"b": hex}`` bytes,
``{"c": [re, im]}`` complex, ``{"i": hex}`` int too long for decimal text, ``{"r": [type, repr]}``
any other object. Subclasses of builtins (Counter, OrderedDict, namedtuple, IntEnum) are encoded as
their builtin value, which is what `==` compares them by. `values.decode` reverses this in the parent.

Nothing here can be trusted once the program has run: the program may patch any of it. Tampering can
at most evade the per-test limit; the outputs are compared in the parent, and the sandbox's own limits
hold. Names start with `_se_` to stay out of the program's way.
"""

import json as _se_json
import sys as _se_sys
import time as _se_time

_se_clock = _se_time.perf_counter
_se_dumps = _se_json.JSONEncoder(ensure_ascii=True, allow_nan=True, separators=(",", ":")).encode
_se_type = type
_se_isinstance = isinstance
_SE_MAX_DECIMAL_BITS = 10_000  # about 3,000 digits; Python refuses int <-> str beyond 4,300 digits


class _SeSink:
    """Write-only stream: what the program prints is dropped (EvalPlus swallows it too)."""

    def write(self, text):
        return len(text)

    def flush(self):
        return None

    def isatty(self):
        return False

    def read(self, *args):
        raise OSError("stdin is not readable in a benchmark test")

    readline = readlines = read


def _se_encode(v):
    t = _se_type(v)
    if v is None or t is bool or t is str or t is float:
        return v
    if t is int:
        return v if v.bit_length() <= _SE_MAX_DECIMAL_BITS else {"i": hex(v)}
    if t is list:
        return [_se_encode(x) for x in v]
    if t is tuple:
        return {"t": [_se_encode(x) for x in v]}
    if t is dict:
        return {"d": [[_se_encode(k), _se_encode(x)] for k, x in v.items()]}
    if t is set:
        return {"s": [_se_encode(x) for x in v]}
    if t is frozenset:
        return {"f": [_se_encode(x) for x in v]}
    if t is bytes:
        return {"b": v.hex()}
    if t is complex:
        return {"c": [v.real, v.imag]}
    return _se_encode_other(v)


def _se_encode_other(v):
    """A subclass of a builtin is encoded as its builtin value; anything else as its type and repr."""
    for base, convert in _SE_BASES:
        if _se_isinstance(v, base):
            return _se_encode(convert(v))
    return {"r": [_se_type(v).__name__, repr(v)]}


_SE_BASES = (
    (int, int.__int__), (float, float.__float__), (str, str.__str__), (bytes, bytes),
    (complex, complex), (list, lambda v: list(list.__iter__(v))), (tuple, lambda v: tuple(tuple.__iter__(v))),
    (dict, lambda v: dict(dict.items(v))), (set, lambda v: set(set.__iter__(v))),
    (frozenset, lambda v: frozenset(frozenset.__iter__(v))),
)


def _se_decode(v):
    """Tagged JSON (parsed) -> a fresh value: each call gets its own copy of its arguments."""
    if _se_type(v) is list:
        return [_se_decode(x) for x in v]
    if _se_type(v) is not dict:
        return v
    (tag, body), = v.items()
    if tag == "t":
        return tuple(_se_decode(x) for x in body)
    if tag == "d":
        return {_se_decode(k): _se_decode(x) for k, x in body}
    if tag == "s":
        return {_se_decode(x) for x in body}
    if tag == "f":
        return frozenset(_se_decode(x) for x in body)
    if tag == "i":
        return int(body, 16)
    if tag == "b":
        return bytes.fromhex(body)
    if tag == "c":
        return complex(body[0], body[1])
    raise ValueError(f"unknown tag {tag!r} in a test input")


_se_parsed_inputs = []


def _se_arguments(index):
    """The argument list of test `index`, from the job's `_SE_INPUTS` (tagged JSON text)."""
    if not _se_parsed_inputs:
        _se_parsed_inputs.append(_se_json.loads(_SE_INPUTS))
    return [_se_decode(a) for a in _se_parsed_inputs[0][index]]


def _se_measure(limit, fn, args, post=None):
    start = _se_clock()
    out = fn(*args)
    spent = _se_clock() - start
    if limit is not None and spent > limit:
        raise TimeoutError(f"the call took {spent:.3f} s, over its limit of {limit:.3f} s")
    if post is not None:
        out = post(out)
    return repr(spent) + "|" + _se_dumps(_se_encode(out))


def input(prompt=""):
    """The program's `input()`: stdin is not readable in a test (EvalPlus gives a write-only stdin).
    A function of the program, so that a call in code that never runs passes the sandbox's static check."""
    raise OSError("stdin is not readable in a benchmark test")


def _se_not_none(out):
    """EvalPlus's expected value for MBPP tasks whose outputs are checked for `is not None` only."""
    return out is not None


def _se_bool_or_not_none(out):
    """The candidate's side of the same oracle: a bool is compared as it is, anything else as `is not None`."""
    return out if _se_type(out) is bool else out is not None


def _se_list_if_tuple(out):
    """LiveCodeBench does not penalise a tuple where the expected value is a list."""
    return list(out) if _se_isinstance(out, tuple) else out


_se_sys.stdout = _se_sys.stderr = _se_sys.stdin = _SeSink()
# EvalPlus and CRUXEval exec the program in an empty dict, where `__name__` is the builtins module's:
# an `if __name__ == "__main__":` block does not run there, nor here.
__name__ = "builtins"
