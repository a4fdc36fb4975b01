"""Values across the sandbox boundary, parent side: test inputs out and results back as tagged JSON
(the format is described in `child.py`), decoded here with `json` — never `eval`.

Decoded values are builtins only (plus `Opaque` for objects that are not), so comparing them with
`==` runs no code a model wrote: an object whose `__eq__` always returns True arrives as
``Opaque(type, repr)`` and equals nothing but the same text.
"""

from __future__ import annotations

import ast
import json
import math
import re
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


_PLAIN_REPR = re.compile(r"'(?:[ -&(-\[\]-~]|\\[\\'])*'" + r'|"(?:[ !#-\[\]-~]|\\\\)*"')
_ESCAPE = re.compile(r"\\(.)")


def str_from_repr(output: str) -> str:
    """The str whose repr is `output`. The usual case, printable ASCII with only `\\\\` and `\\'`
    escapes (what our own results look like), is unescaped directly; anything else goes through
    `literal_eval` of the single string token."""
    if _PLAIN_REPR.fullmatch(output):
        return _ESCAPE.sub(r"\1", output[1:-1])
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


def encode(v: Any) -> Any:
    """A builtin value (a test input) -> its tagged-JSON form (json.dumps it); `child._se_decode` reverses it."""
    t = type(v)
    if v is None or t is bool or t is str or t is float:
        return v
    if t is int:
        return v if v.bit_length() <= _MAX_DECIMAL_BITS else {"i": hex(v)}
    if t is list:
        return [encode(x) for x in v]
    if t is tuple:
        return {"t": [encode(x) for x in v]}
    if t is dict:
        return {"d": [[encode(k), encode(x)] for k, x in v.items()]}
    if t is set:
        return {"s": [encode(x) for x in v]}
    if t is frozenset:
        return {"f": [encode(x) for x in v]}
    if t is bytes:
        return {"b": v.hex()}
    if t is complex:
        return {"c": [v.real, v.imag]}
    raise TypeError(f"cannot send a {t.__name__} as a test input; inputs must be builtin values")


def encode_arguments(argument_lists: list) -> str:
    """Tagged JSON text of a list of argument lists (the `_SE_INPUTS` of a job)."""
    return json.dumps([[encode(a) for a in args] for args in argument_lists], allow_nan=True)
