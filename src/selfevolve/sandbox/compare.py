"""Compare values that crossed the sandbox boundary as repr text, in the parent, without eval.

The child only ever sends repr strings. Here we turn them back into values with
``ast.literal_eval`` (after a size and depth guard) and compare them:

* ``strict`` (default): same type at every level (``bool`` != ``int`` != ``float``,
  ``tuple`` != ``list``), sets and dict keys order-free, floats exact unless ``float_tol`` is set.
* ``python``: plain ``==`` of the parsed values (reproduces the reference: ``1 == 1.0``).

Objects with a custom ``__eq__`` can never reach this code: literal parsing only produces builtin
types, so an always-equal object from a model is just a non-literal repr.
"""

from __future__ import annotations

import ast
import math
from typing import Any, Literal

from selfevolve.sandbox.static import parse_untrusted

Mode = Literal["strict", "python"]

MAX_LITERAL_CHARS = 1_000_000
MAX_LITERAL_DEPTH = 100
_LITERAL_TYPES = (int, float, complex, bool, str, bytes, type(None), list, tuple, set, frozenset, dict)


def parse_literal(text: str, max_chars: int = MAX_LITERAL_CHARS, max_depth: int = MAX_LITERAL_DEPTH) -> Any:
    """Parse a Python literal (what ``repr`` of a builtin value gives) without evaluating code.

    Raises ``ValueError`` naming the problem when the text is too long, nested too deeply,
    or not a literal.
    """
    if not isinstance(text, str):
        raise ValueError(f"parse_literal expects str, got {type(text).__name__}")
    text = str.__str__(text)  # an exact str: a subclass could override strip() or __eq__
    if len(text) > max_chars:
        raise ValueError(f"literal too long: {len(text)} chars > max_chars={max_chars}")
    if _bracket_depth(text) > max_depth:
        raise ValueError(f"literal nested deeper than max_depth={max_depth}")
    try:
        tree = parse_untrusted(text.strip(), mode="eval")
        if any(isinstance(node, ast.Constant) and node.value is Ellipsis for node in ast.walk(tree)):
            # literal_eval accepts `...`, but no repr of a builtin value contains it: a model writing
            # `[1, 2, ...]` is abbreviating, and the value would have no strict comparison
            raise ValueError("'...' (Ellipsis) is not a value a repr can contain")
        return ast.literal_eval(tree)
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError) as e:
        raise ValueError(f"not a Python literal ({type(e).__name__}: {e}): {text[:80]!r}") from None


def _bracket_depth(text: str) -> int:
    """Upper bound on nesting depth (brackets inside strings count too; that only errs on the safe side)."""
    depth = deepest = 0
    for ch in text:
        if ch in "([{":
            depth += 1
            deepest = max(deepest, depth)
        elif ch in ")]}":
            depth -= 1
    return deepest


def values_equal(a: Any, b: Any, mode: Mode = "strict", float_tol: float | None = None) -> bool:
    """Equality of two parsed literal values.

    ``float_tol`` (strict mode only) accepts floats with ``math.isclose(rel_tol=abs_tol=float_tol)``
    in sequences and dict values; set members and dict keys are always compared exactly.
    """
    if mode == "python":
        return _python_eq(a, b)
    if mode != "strict":
        raise ValueError(f"unknown equality mode {mode!r}; use 'strict' or 'python'")
    try:
        if float_tol is None:
            return _canon(a) == _canon(b)
        return _close(a, b, float_tol)
    except RecursionError:
        raise ValueError("values nested too deeply to compare") from None


def reprs_equal(gold: str, pred: str, mode: Mode = "strict", allow_nonliteral: bool = False,
                float_tol: float | None = None) -> bool:
    """Do two repr strings denote the same value? Non-literal reprs match only as identical text,
    and only when ``allow_nonliteral``; otherwise they never match."""
    try:
        a, b = parse_literal(gold), parse_literal(pred)
    except ValueError:
        return allow_nonliteral and type(gold) is str and type(pred) is str and str.__eq__(gold, pred)
    return values_equal(a, b, mode=mode, float_tol=float_tol)


def _python_eq(a: Any, b: Any) -> bool:
    if not (isinstance(a, _LITERAL_TYPES) and isinstance(b, _LITERAL_TYPES)):
        return False
    try:
        return bool(a == b)
    except RecursionError:
        raise ValueError("values nested too deeply to compare") from None


def _canon(v: Any) -> tuple:
    """A hashable, type-tagged form: two values are strictly equal iff their canonical forms are ==."""
    t = type(v)
    if t is list or t is tuple:
        return (t.__name__, tuple(_canon(x) for x in v))
    if t is set or t is frozenset:
        return (t.__name__, frozenset(_canon(x) for x in v))
    if t is dict:
        return ("dict", frozenset((_canon(k), _canon(x)) for k, x in v.items()))
    if t is float and math.isnan(v):
        return ("float", "nan")
    if t not in _LITERAL_TYPES:
        raise ValueError(f"strict comparison supports literal types only, got {t.__name__}")
    return (t.__name__, v)


def _close(a: Any, b: Any, tol: float) -> bool:
    ta, tb = type(a), type(b)
    if ta is not tb:
        return False
    if ta is float:
        return (math.isnan(a) and math.isnan(b)) or math.isclose(a, b, rel_tol=tol, abs_tol=tol)
    if ta is list or ta is tuple:
        return len(a) == len(b) and all(_close(x, y, tol) for x, y in zip(a, b))
    if ta is dict:
        ka = {_canon(k): x for k, x in a.items()}
        kb = {_canon(k): x for k, x in b.items()}
        return ka.keys() == kb.keys() and all(_close(ka[k], kb[k], tol) for k in ka)
    return _canon(a) == _canon(b)
