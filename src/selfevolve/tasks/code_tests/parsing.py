"""Text in: the program in a model's answer, and test sources split into single tests."""

from __future__ import annotations

import ast
import re

from selfevolve.sandbox.static import parse_untrusted

# A complete fenced block: ```python / ```py / ```python3 / ``` (no language), up to the closing fence.
_FENCE = re.compile(r"```[ \t]*(python3?|py)?[ \t]*\n(.*?)```", re.DOTALL | re.IGNORECASE)


def extract_code(answer: str) -> str | None:
    """The last complete fenced Python block of an answer (untagged blocks count), or None."""
    blocks = [m.group(2) for m in _FENCE.finditer(answer)]
    code = blocks[-1].strip("\n") if blocks else ""
    return code if code.strip() else None


def strip_main_guard(code: str) -> str:
    """`code` without its top-level `if __name__ == "__main__":` blocks (demo runs that read input or
    print examples are no part of the solution). Code that does not parse is returned as it is: the
    sandbox reports its syntax error."""
    try:
        tree = parse_untrusted(code)
    except (SyntaxError, ValueError, MemoryError, RecursionError):
        return code
    lines = code.splitlines(keepends=True)
    for node in reversed(tree.body):
        if isinstance(node, ast.If) and _is_main_test(node.test):
            del lines[node.lineno - 1 : node.end_lineno]
    return "".join(lines)


def _is_main_test(test: ast.expr) -> bool:
    if not (isinstance(test, ast.Compare) and len(test.ops) == 1 and isinstance(test.ops[0], ast.Eq)):
        return False
    sides = [test.left, test.comparators[0]]
    has_name = any(isinstance(s, ast.Name) and s.id == "__name__" for s in sides)
    has_main = any(isinstance(s, ast.Constant) and s.value == "__main__" for s in sides)
    return has_name and has_main


def split_tests(source: str) -> list[str]:
    """One test per top-level `assert` of `source`, each with the statements before it that are not
    asserts (imports, helper definitions) in front, so every test runs on its own:

        split_tests("import math\\nassert f(1) == 2\\nassert math.isclose(f(2), 3.0)")
        == ["import math\\nassert f(1) == 2", "import math\\nassert math.isclose(f(2), 3.0)"]
    """
    try:
        tree = ast.parse(source)
    except SyntaxError as e:
        raise ValueError(f"test source does not parse ({e.msg}, line {e.lineno}): {source[:120]!r}") from None
    setup: list[str] = []
    tests = []
    for node in tree.body:
        text = ast.get_source_segment(source, node) or ast.unparse(node)
        if isinstance(node, ast.Assert):
            tests.append("\n".join([*setup, text]))
        else:
            setup.append(text)
    return tests
