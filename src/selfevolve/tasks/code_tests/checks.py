"""A test statement split into what runs in the sandbox and what is judged here.

A test is Python source run after the candidate program. Its top-level asserts are not executed as
asserts: their expressions are evaluated in the sandbox and their values come back as repr text, to
be judged in this process:

* `assert CALL == VALUE` with a literal VALUE (either side): CALL is evaluated, and its value must
  equal VALUE (type-strictly by default, `sandbox.compare`);
* `assert A == B` with neither side literal: both are evaluated and compared here;
* `assert not X` / any other `assert X`: X's truth value (`not not X`, a bool whatever X is) comes
  back and must be False / True.

Compared values that are not literals (an object whose `__eq__` always returns True, say) cannot be
parsed here, so such a test fails; so do dict and int subclasses (a `Counter`), even where `==` would
hold. A program could still forge the repr text of the expected value with its own `__repr__`; that
residual risk is the same as in the code-io verifier. Nothing the program does to `AssertionError` matters, and a program that
exits early (`sys.exit(0)`) never returns the values, so it fails too. Every other statement (imports,
assignments, loops, asserts nested in them) runs as written and must finish without an exception.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from typing import Literal

from selfevolve.sandbox.compare import parse_literal, values_equal

ENTRY = "_selfevolve_test"
_VALUES = "_selfevolve_values"

CheckKind = Literal["equal", "equal_pair", "truthy", "falsy"]


@dataclass(frozen=True)
class Check:
    """One top-level assert, judged here: `kind`, and for `equal` the expected literal's source."""

    kind: CheckKind
    expected: str = ""

    @property
    def n_values(self) -> int:
        return 2 if self.kind == "equal_pair" else 1


@dataclass(frozen=True)
class TestPlan:
    """`function`: source of `def _selfevolve_test()`, which runs the test and returns the asserts'
    values as one list; `checks`: how to judge them, in order."""

    function: str
    checks: tuple[Check, ...]


def plan_test(test: str) -> TestPlan:
    """The sandbox function and parent-side checks of one test (raises ValueError when it does not parse)."""
    try:
        tree = ast.parse(test)
    except SyntaxError as e:
        raise ValueError(f"test does not parse ({e.msg}, line {e.lineno}): {test[:120]!r}") from None
    body: list[ast.stmt] = [_assign(_VALUES, ast.List(elts=[], ctx=ast.Load()))]
    checks = []
    for node in tree.body:
        if isinstance(node, ast.Assert):
            check, exprs = _split_assert(node.test)
            checks.append(check)
            body += [_append(e) for e in exprs]
        else:
            body.append(node)
    body.append(ast.Return(ast.Name(_VALUES, ast.Load())))
    function = ast.FunctionDef(name=ENTRY, args=ast.arguments(posonlyargs=[], args=[], kwonlyargs=[], kw_defaults=[], defaults=[]),
                               body=body, decorator_list=[], returns=None, type_params=[])
    return TestPlan(ast.unparse(ast.fix_missing_locations(ast.Module([function], []))), tuple(checks))


def judge(plan: TestPlan, returned: str, equality: str = "strict") -> tuple[bool, str]:
    """(passed, reason) for the repr text the test function returned."""
    try:
        values = parse_literal(returned)
    except ValueError:
        return False, "nonliteral"  # some value is not a builtin literal (a custom object, a stand-in)
    expected_count = sum(c.n_values for c in plan.checks)
    if type(values) is not list or len(values) != expected_count:
        return False, "malformed"
    mode = "python" if equality == "python" else "strict"
    at = 0
    for check in plan.checks:
        got = values[at : at + check.n_values]
        at += check.n_values
        if not _holds(check, got, mode):
            return False, "wrong"
    return True, "passed"


def _holds(check: Check, got: list, mode: str) -> bool:
    if check.kind == "equal":
        return values_equal(parse_literal(check.expected), got[0], mode=mode)
    if check.kind == "equal_pair":
        return values_equal(got[0], got[1], mode=mode)
    return got[0] is (check.kind == "truthy")


def _split_assert(test: ast.expr) -> tuple[Check, list[ast.expr]]:
    if isinstance(test, ast.Compare) and len(test.ops) == 1 and isinstance(test.ops[0], ast.Eq):
        left, right = test.left, test.comparators[0]
        for computed, constant in ((left, right), (right, left)):
            if _is_literal(constant):
                return Check("equal", ast.unparse(constant)), [computed]
        return Check("equal_pair"), [left, right]
    if isinstance(test, ast.UnaryOp) and isinstance(test.op, ast.Not):
        return Check("falsy"), [_truth(test.operand)]
    return Check("truthy"), [_truth(test)]


def _truth(expr: ast.expr) -> ast.expr:
    """`not not expr`: the truth value as a plain bool, computed in the sandbox."""
    return ast.UnaryOp(ast.Not(), ast.UnaryOp(ast.Not(), expr))


def _is_literal(node: ast.expr) -> bool:
    try:
        parse_literal(ast.unparse(node))
    except ValueError:
        return False
    return True


def _assign(name: str, value: ast.expr) -> ast.stmt:
    return ast.Assign(targets=[ast.Name(name, ast.Store())], value=value)


def _append(expr: ast.expr) -> ast.stmt:
    call = ast.Call(func=ast.Attribute(ast.Name(_VALUES, ast.Load()), "append", ast.Load()), args=[expr], keywords=[])
    return ast.Expr(call)
