"""EvalPlus's code sanitiser (`evalplus/sanitize.py`, 0.3.1), written over Python's `ast` instead of
tree-sitter, with the same rules:

1. `code_extract`: of all spans of two or more consecutive lines that parse, keep the one with the
   most non-blank lines (the first such span wins ties). Markdown fences and prose fall away.
2. From that span keep, in this order: every top-level import, then every top-level class, function
   (only if it contains a `return`) and simple assignment (`x = ...`, `x: T = ...`), the first
   definition of each name only, and of those only the ones the entry point reaches through the
   names it uses.
3. If nothing is left, the extracted span itself.

Quirks kept on purpose, since scores are compared with EvalPlus's: decorated definitions,
`from __future__` imports, `if __name__ == "__main__":` blocks and other top-level statements are
dropped, and a function without any `return` is dropped.
"""

from __future__ import annotations

import ast
import io
import keyword
import tokenize
import warnings


def sanitize(code: str, entrypoint: str | None = None) -> str:
    extracted = code_extract(code)
    kept = _keep_definitions(extracted, entrypoint).strip()
    return kept if kept else extracted


def code_extract(text: str) -> str:
    lines = text.split("\n")
    nonblank = [1 if line.strip() else 0 for line in lines]
    prefix = [0]
    for flag in nonblank:
        prefix.append(prefix[-1] + flag)
    best, best_count = (0, 0), 0
    if len(lines) >= 2 and _parses(text):
        # the whole text parses: the first span holding every non-blank line is lines[0 : last + 1]
        last = max((i for i, flag in enumerate(nonblank) if flag), default=0)
        return "\n".join(lines[: max(last, 1) + 1])
    for i in range(len(lines)):
        if prefix[len(lines)] - prefix[i] <= best_count:
            break  # no span starting here or later can hold more non-blank lines
        for j in range(i + 1, len(lines)):
            count = prefix[j + 1] - prefix[i]
            if count > best_count and _parses("\n".join(lines[i : j + 1])):
                best, best_count = (i, j), count
    return "\n".join(lines[best[0] : best[1] + 1])


def _parses(source: str) -> bool:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ast.parse(source)
        return True
    except (SyntaxError, ValueError, MemoryError, RecursionError):
        return False


def _keep_definitions(code: str, entrypoint: str | None) -> str:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            tree = ast.parse(code)
    except (SyntaxError, ValueError, MemoryError, RecursionError):
        return ""
    lines = code.split("\n")
    imports: list[str] = []
    definitions: list[tuple[str | None, str]] = []  # (name, source)
    seen: set[str | None] = set()
    for node in tree.body:
        source = _segment(lines, node)
        if isinstance(node, ast.Import) or (isinstance(node, ast.ImportFrom) and node.module != "__future__"):
            imports.append(source)
            continue
        name = _definition_name(node)
        if name is _NOT_A_DEFINITION or name in seen:
            continue
        seen.add(name)
        definitions.append((name, source))
    if entrypoint:
        uses = {name: _identifiers(source) for name, source in definitions}
        reachable = _reachable(entrypoint, uses)
        definitions = [(name, source) for name, source in definitions if name in reachable]
    return "\n".join(imports + [source for _, source in definitions])


_NOT_A_DEFINITION = object()


def _definition_name(node: ast.stmt):
    """The name a kept top-level statement defines (None for an assignment to something other than a
    plain name), or _NOT_A_DEFINITION for a statement EvalPlus drops."""
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and not node.decorator_list:
        return node.name if any(isinstance(n, ast.Return) for n in ast.walk(node)) else _NOT_A_DEFINITION
    if isinstance(node, ast.ClassDef) and not node.decorator_list:
        return node.name
    if isinstance(node, ast.Assign):
        target = node.targets[0]
        return target.id if isinstance(target, ast.Name) else None
    if isinstance(node, ast.AnnAssign):
        return node.target.id if isinstance(node.target, ast.Name) else None
    return _NOT_A_DEFINITION


def _segment(lines: list[str], node: ast.stmt) -> str:
    """The node's exact source text (lines are split on \\n only, like the byte offsets EvalPlus uses)."""
    first, last = node.lineno - 1, node.end_lineno - 1
    if first == last:
        return _cut(lines[first], node.col_offset, node.end_col_offset)
    head = _cut(lines[first], node.col_offset, None)
    tail = _cut(lines[last], 0, node.end_col_offset)
    return "\n".join([head, *lines[first + 1 : last], tail])


def _cut(line: str, start: int, end: int | None) -> str:
    """Slice by UTF-8 byte offsets (ast's column offsets are in bytes)."""
    data = line.encode("utf-8")
    return data[start:end].decode("utf-8", errors="replace")


def _identifiers(source: str) -> set[str]:
    """Every identifier in `source`, as tree-sitter's `identifier` nodes: names, attributes, parameters,
    and the names inside f-string replacement fields (which the tokenizer leaves inside one token)."""
    names: set[str] = set()
    try:
        for tok in tokenize.generate_tokens(io.StringIO(source).readline):
            if tok.type == tokenize.NAME and not keyword.iskeyword(tok.string):
                names.add(tok.string)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            tree = ast.parse(source)
    except (tokenize.TokenError, SyntaxError, ValueError, MemoryError, RecursionError):
        return names
    for node in ast.walk(tree):
        if isinstance(node, ast.JoinedStr):
            names.update(n.id for n in ast.walk(node) if isinstance(n, ast.Name))
    return names


def _reachable(entrypoint: str, uses: dict) -> set:
    seen, queue = {entrypoint}, [entrypoint]
    while queue:
        for name in uses.get(queue.pop(0), ()):
            if name not in seen:
                seen.add(name)
                queue.append(name)
    return seen
