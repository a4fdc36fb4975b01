"""Values across the sandbox boundary, parent side: test inputs out as Python source, results back as
tagged JSON (the format is described in `child.py`), decoded here with `json` — never `eval`.

Decoded values are builtins only (plus `Opaque` for objects that are not), so comparing them with
`==` runs no code a model wrote: an object whose `__eq__` always returns True arrives as
``Opaque(type, repr)`` and equals nothing but the same text.
"""

from __future__ import annotations

import ast
import json
import math
from dataclasses import dataclass
from typing import Any

_MAX_DECIMAL_BITS = 10_000  # the same bound as child.py: longer ints go as hex


@dataclass(frozen=True)
class Opaque:
    """An object with no builtin value, known only by its type name and repr text."""

    type_name: str
    text: str


class DecodeError(ValueError):
    """The job returned text that is not a measurement in the child's format."""


def measurement(output: str) -> tuple[float, str]:
    """One job output -> (seconds, tagged JSON text). The sandbox returns repr text, here the repr of the
    str `"<seconds>|<tagged JSON>"` that `_se_measure` built."""
    text = str_from_repr(output)
    head, sep, body = text.partition("|")
    try:
        seconds = float(head)
    except ValueError:
        raise DecodeError(f"not a measurement: {text[:80]!r}") from None
    if not sep:
        raise DecodeError(f"not a measurement: {text[:80]!r}")
    return seconds, body


def str_from_repr(output: str) -> str:
    """The str whose repr is `output` (one string literal: `literal_eval` of a single token)."""
    if output[:1] not in ("'", '"'):
        raise DecodeError(f"expected the repr of a str, got {output[:80]!r}")
    try:
        value = ast.literal_eval(output)
    except (ValueError, SyntaxError, MemoryError, RecursionError) as e:
        raise DecodeError(f"expected the repr of a str ({type(e).__name__})") from None
    if type(value) is not str:
        raise DecodeError(f"expected the repr of a str, got {type(value).__name__}")
    return value


def decode(text: str) -> Any:
    """Tagged JSON text -> value. Raises DecodeError when the text is not in the format."""
    try:
        return _untag(json.loads(text))
    except (ValueError, TypeError, KeyError, IndexError, RecursionError) as e:
        raise DecodeError(f"not tagged JSON ({type(e).__name__}: {e}): {text[:80]!r}") from None


def _untag(v: Any) -> Any:
    if isinstance(v, list):
        return [_untag(x) for x in v]
    if not isinstance(v, dict):
        return v
    if len(v) != 1:
        raise ValueError(f"a tag has one key, got {sorted(v)}")
    (tag, body), = v.items()
    if tag == "t":
        return tuple(_untag(x) for x in body)
    if tag == "d":
        return {_untag(k): _untag(x) for k, x in body}
    if tag == "s":
        return {_untag(x) for x in body}
    if tag == "f":
        return frozenset(_untag(x) for x in body)
    if tag == "i":
        return int(body, 16)
    if tag == "b":
        return bytes.fromhex(body)
    if tag == "c":
        return complex(body[0], body[1])
    if tag == "r":
        return Opaque(str(body[0]), str(body[1]))
    raise ValueError(f"unknown tag {tag!r}")


def to_source(v: Any) -> str:
    """Python source that rebuilds the builtin value `v` (a test input) in the job."""
    t = type(v)
    if v is None or t is bool or t is str or t is bytes:
        return repr(v)
    if t is int:
        return repr(v) if v.bit_length() <= _MAX_DECIMAL_BITS else hex(v)
    if t is float:
        return repr(v) if math.isfinite(v) else f"float({repr(v)!r})"
    if t is complex:
        return f"complex({to_source(v.real)}, {to_source(v.imag)})"
    if t is list:
        return "[" + ", ".join(to_source(x) for x in v) + "]"
    if t is tuple:
        inner = ", ".join(to_source(x) for x in v)
        return f"({inner},)" if len(v) == 1 else f"({inner})"
    if t is dict:
        return "{" + ", ".join(f"{to_source(k)}: {to_source(x)}" for k, x in v.items()) + "}"
    if t is set:
        return "{" + ", ".join(to_source(x) for x in v) + "}" if v else "set()"
    if t is frozenset:
        return f"frozenset({to_source(set(v))})"
    raise TypeError(f"cannot write a {t.__name__} as a test input; inputs must be builtin values")


def arguments_source(args: list | tuple) -> str:
    """An argument list (`f(<this>)`) for positional arguments `args`."""
    return ", ".join(to_source(a) for a in args)
