"""Decide, from the AST alone, whether answer text is a pure literal (docs/spec/azr.md §6; §11, defect 2).

The abduction answer is spliced into `f(<answer>)` by the reference, so `x) or True or f(x` scores.
Here the answer must parse as exactly one call `f(...)` whose arguments are literals, or
`dict/list/tuple/set/frozenset` calls over literals; the canonical text re-rendered from the AST
(never the raw model text) is what reaches the sandbox.
"""

from __future__ import annotations

import ast

from selfevolve.sandbox.static import parse_untrusted
from selfevolve.tasks.code_io.parsing import ParseError

_CONTAINER_CALLS = {"dict", "list", "tuple", "set", "frozenset"}
_MAX_NODES = 5_000


def literal_arguments(answer: str, max_chars: int = 10_000) -> str:
    """Canonical source of the argument list in `answer`, or ParseError('not_literal').

    Accepts `1, 'a'`, `[1, 2], k=3`, `dict(a=1)`, and the whole call written out (`f(1, 2)`).
    """
    if len(answer) > max_chars:
        raise ParseError("not_literal", f"answer longer than {max_chars} chars")
    call = _as_call(answer)
    parts = [ast.unparse(a) for a in call.args] + [f"{k.arg}={ast.unparse(k.value)}" for k in call.keywords]
    return ", ".join(parts)


def _as_call(answer: str) -> ast.Call:
    text = answer.strip()
    for source in (text, f"f({text})"):
        call = _single_call(source)
        if call is not None and _pure_call(call):
            return call
    raise ParseError("not_literal", "the input must be literal arguments only (no names, operators or calls)")


def _single_call(source: str) -> ast.Call | None:
    try:
        tree = parse_untrusted(source, mode="eval")
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None
    body = tree.body
    if isinstance(body, ast.Call) and isinstance(body.func, ast.Name) and body.func.id == "f":
        return body
    return None


def _pure_call(call: ast.Call) -> bool:
    if sum(1 for _ in ast.walk(call)) > _MAX_NODES:
        return False
    if any(k.arg is None for k in call.keywords):  # **kwargs
        return False
    return all(is_literal_node(a) for a in call.args) and all(is_literal_node(k.value) for k in call.keywords)


def is_literal_node(node: ast.AST) -> bool:
    """Literal constants and containers of them; signed numbers; `a+bj` complex; container calls."""
    if isinstance(node, ast.Constant):
        return node.value is not Ellipsis
    if isinstance(node, (ast.List, ast.Tuple, ast.Set)):
        return all(is_literal_node(e) for e in node.elts)
    if isinstance(node, ast.Dict):
        return all(k is not None and is_literal_node(k) for k in node.keys) and all(is_literal_node(v) for v in node.values)
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
        return _is_number(node.operand)
    if isinstance(node, ast.BinOp) and isinstance(node.op, (ast.Add, ast.Sub)):
        return _is_real(node.left) and isinstance(node.right, ast.Constant) and isinstance(node.right.value, complex)
    if isinstance(node, ast.Call):
        return _is_container_call(node)
    return False


def _is_container_call(node: ast.Call) -> bool:
    if not (isinstance(node.func, ast.Name) and node.func.id in _CONTAINER_CALLS):
        return False
    if any(k.arg is None for k in node.keywords):
        return False
    if node.func.id == "dict":
        ok_args = len(node.args) <= 1
    else:
        ok_args = len(node.args) <= 1 and not node.keywords
    return ok_args and all(is_literal_node(a) for a in node.args) and all(is_literal_node(k.value) for k in node.keywords)


def _is_number(node: ast.AST) -> bool:
    return isinstance(node, ast.Constant) and type(node.value) in (int, float, complex)


def _is_real(node: ast.AST) -> bool:
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
        node = node.operand
    return isinstance(node, ast.Constant) and type(node.value) in (int, float)
