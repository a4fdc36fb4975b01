"""Static checks before anything runs: parse, banned modules and names, the entry-function rule.

These are early refusals and task-validity rules (a family passes what its prompt forbids), not a
security control: a banned-word list can always be bypassed, and the process isolation in
`zygote`/`runner` is what contains code.
"""

from __future__ import annotations

import ast
import warnings
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from selfevolve.sandbox.runner import HARD_BANNED_MODULES
from selfevolve.sandbox.types import Status

# What is unsafe for every task: the modules the child refuses at run time whatever the config says
# (process creation, raw memory, sockets, signals, rlimits). Refusing them here too gives the verdict
# before any process starts. Task families add their own rules by passing a longer list (the code-io
# family passes the list of docs/spec/azr.md §5.5, `selfevolve.tasks.code_io.config.BANNED_KEYWORDS`). An entry
# matches itself and everything beneath it.
DEFAULT_BANNED_MODULES: tuple[str, ...] = HARD_BANNED_MODULES
# Names and attributes that only serve dynamic imports or introspection escapes (docs/spec/sandbox_threats.md §2, classes 4, 19).
DEFAULT_BANNED_NAMES: tuple[str, ...] = (
    "__import__", "__subclasses__", "__globals__", "__builtins__", "__code__",
    "f_back", "f_globals", "f_locals", "breakpoint",
)
# Dynamic import machinery is always refused: it would make any module list meaningless.
ALWAYS_BANNED_MODULES: tuple[str, ...] = ("importlib",)


@dataclass(frozen=True)
class Problem:
    """Why a job is rejected before running: `status` is syntax_error or unsafe."""

    status: Status
    reason: str


def check_job(program: str, inputs: Sequence[str], imports: Sequence[str] = (), entry: str = "f",
              banned_modules: Iterable[str] = DEFAULT_BANNED_MODULES,
              banned_names: Iterable[str] = DEFAULT_BANNED_NAMES,
              reject_multiple_functions: bool = False) -> Problem | None:
    """All static checks for one job; None when it may run."""
    return analyse_job(program, inputs, imports, entry, banned_modules, banned_names, reject_multiple_functions)[0]


def analyse_job(program: str, inputs: Sequence[str], imports: Sequence[str] = (), entry: str = "f",
                banned_modules: Iterable[str] = DEFAULT_BANNED_MODULES,
                banned_names: Iterable[str] = DEFAULT_BANNED_NAMES,
                reject_multiple_functions: bool = False) -> tuple[Problem | None, list[str]]:
    """`check_job`'s verdict plus `imported_modules` of imports + program, from one parse and one walk
    of each tree (the walk dominates the parent's cost per job)."""
    banned = tuple(banned_modules) + ALWAYS_BANNED_MODULES
    names = frozenset(banned_names)
    trees: list[ast.AST] = []
    for i, line in enumerate(imports):
        tree, problem = _parse(line, f"imports[{i}]")
        if problem:
            return problem, []
        if not all(isinstance(n, (ast.Import, ast.ImportFrom)) for n in tree.body):
            return Problem(Status.UNSAFE, f"imports[{i}] is not an import statement: {line[:80]!r}"), []
        trees.append(tree)
    tree, problem = _parse(program, "program")
    if problem:
        return problem, []
    trees.append(tree)
    problem = _entry_problem(tree, entry, reject_multiple_functions)
    if problem:
        return problem, []
    code_nodes = [list(ast.walk(t)) for t in trees]
    walked = list(code_nodes)
    for i, text in enumerate(inputs):
        call, problem = _parse_call_args(text, i)
        if problem:
            return problem, []
        walked.append(list(ast.walk(call)))
    reason = _first_unsafe(walked, banned, names)
    return (Problem(Status.UNSAFE, reason) if reason else None), _modules_in(code_nodes)


def unsafe_reason(trees: Sequence[ast.AST], banned_modules: Iterable[str] = DEFAULT_BANNED_MODULES,
                  banned_names: Iterable[str] = DEFAULT_BANNED_NAMES) -> str | None:
    """The first rule the code breaks, or None. `trees` share one namespace (imports + program)."""
    banned = tuple(banned_modules) + ALWAYS_BANNED_MODULES
    return _first_unsafe([list(ast.walk(t)) for t in trees], banned, frozenset(banned_names))


def imported_modules(sources: Sequence[str]) -> list[str]:
    """Absolute module names the code imports (for `from x import y` also `x.y`, which may be a module)."""
    walked = []
    for source in sources:
        try:
            walked.append(list(ast.walk(parse_untrusted(source))))
        except (SyntaxError, ValueError, MemoryError, RecursionError):
            continue
    return _modules_in(walked)


def _first_unsafe(walked: Sequence[list[ast.AST]], banned: tuple[str, ...], names: frozenset[str]) -> str | None:
    """`walked`: the nodes of each tree, in `ast.walk` order; imports bind before any use is checked."""
    bindings: dict[str, str] = {}  # local name -> dotted module path it was imported as
    for nodes in walked:
        for node in nodes:
            reason = _import_reason(node, banned, bindings)
            if reason:
                return reason
    local_names = _bound_names(walked)
    for nodes in walked:
        for node in nodes:
            reason = _use_reason(node, banned, names, bindings, local_names)
            if reason:
                return reason
    return None


def _modules_in(walked: Sequence[list[ast.AST]]) -> list[str]:
    names: list[str] = []
    for nodes in walked:
        for node in nodes:
            if isinstance(node, ast.Import):
                names += [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names += [node.module] + [f"{node.module}.{a.name}" for a in node.names if a.name != "*"]
    return list(dict.fromkeys(names))


def is_banned(path: str, banned: Iterable[str]) -> str | None:
    """The banned entry that `path` equals or lies beneath (``os.path.join`` under ``os.path``)."""
    for entry in banned:
        if path == entry or path.startswith(entry + "."):
            return entry
    return None


def parse_untrusted(source: str, mode: str = "exec") -> ast.AST:
    """`ast.parse` for model-written text: its SyntaxWarnings (e.g. `1if x`) say nothing to the
    person running the trainer, so they are not printed; SyntaxError still propagates."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SyntaxWarning)
        return ast.parse(source, mode=mode)


def _parse(source: str, what: str) -> tuple[ast.Module | None, Problem | None]:
    try:
        return parse_untrusted(source), None
    except SyntaxError as e:
        return None, Problem(Status.SYNTAX_ERROR, f"{what}: SyntaxError: {e.msg} (line {e.lineno})")
    except (ValueError, MemoryError, RecursionError) as e:
        return None, Problem(Status.SYNTAX_ERROR, f"{what}: {type(e).__name__}: {e}")


def _parse_call_args(text: str, i: int) -> tuple[ast.AST | None, Problem | None]:
    """An input must be exactly one argument list: `x) or True or f(x` is rejected (threat 21)."""
    try:
        tree = parse_untrusted(f"__entry__({text}\n)", mode="eval")
    except (SyntaxError, ValueError, MemoryError, RecursionError) as e:
        return None, Problem(Status.SYNTAX_ERROR, f"inputs[{i}] is not an argument list: {type(e).__name__}")
    body = tree.body
    if not (isinstance(body, ast.Call) and isinstance(body.func, ast.Name) and body.func.id == "__entry__"):
        return None, Problem(Status.SYNTAX_ERROR, f"inputs[{i}] is not a single argument list: {text[:80]!r}")
    return tree, None


def _entry_problem(tree: ast.Module, entry: str, reject_multiple_functions: bool) -> Problem | None:
    """The entry must be a top-level `def`; nested defs and helper classes are allowed."""
    top_defs = [n for n in tree.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))]
    if not any(isinstance(n, ast.FunctionDef) and n.name == entry for n in top_defs):
        return Problem(Status.UNSAFE, f"no top-level function `def {entry}(...)` in the program")
    if reject_multiple_functions and len(top_defs) > 1:
        return Problem(Status.UNSAFE, f"{len(top_defs)} top-level functions; only `{entry}` is allowed")
    return None


def _import_reason(node: ast.AST, banned: tuple[str, ...], bindings: dict[str, str]) -> str | None:
    if isinstance(node, ast.Import):
        for alias in node.names:
            hit = is_banned(alias.name, banned)
            if hit:
                return f"imports banned module {alias.name!r} (banned: {hit})"
            bindings[alias.asname or alias.name.split(".")[0]] = alias.name if alias.asname else alias.name.split(".")[0]
    elif isinstance(node, ast.ImportFrom):
        module = "." * node.level + (node.module or "")
        hit = is_banned(module, banned)
        if hit:
            return f"imports from banned module {module!r} (banned: {hit})"
        for alias in node.names:
            if alias.name == "*":
                under = [b for b in banned if b.startswith(module + ".")]
                if under:
                    return f"`from {module} import *` would bind banned {under[0]!r}"
                continue
            path = f"{module}.{alias.name}"
            hit = is_banned(path, banned)
            if hit:
                return f"imports banned name {path!r} (banned: {hit})"
            bindings[alias.asname or alias.name] = path
    return None


def _use_reason(node: ast.AST, banned: tuple[str, ...], names: frozenset[str], bindings: dict[str, str],
                local_names: frozenset[str]) -> str | None:
    if isinstance(node, ast.Name) and node.id in names:
        return f"uses banned name {node.id!r}"
    if isinstance(node, ast.Attribute):
        if node.attr in names:
            return f"uses banned attribute {node.attr!r}"
        path = _dotted(node, bindings)
        hit = path and is_banned(path, banned)
        if hit:
            return f"uses banned name {path!r} (banned: {hit})"
    if isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value in names:
        return f"uses banned name {node.value!r} as a string"
    if (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "input"
            and "input" not in local_names):
        return "calls builtin input()"
    return None


def _dotted(node: ast.Attribute, bindings: dict[str, str]) -> str | None:
    """`os.path.join` -> 'os.path.join' when `os` was imported (resolving `as` aliases)."""
    parts = []
    cur: ast.AST = node
    while isinstance(cur, ast.Attribute):
        parts.append(cur.attr)
        cur = cur.value
    if not isinstance(cur, ast.Name) or cur.id not in bindings:
        return None
    return ".".join([bindings[cur.id], *reversed(parts)])


def _bound_names(walked: Sequence[list[ast.AST]]) -> frozenset[str]:
    """Every name the code itself defines (defs, classes, parameters, assignment targets)."""
    out: set[str] = set()
    for nodes in walked:
        for node in nodes:
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                out.add(node.name)
            elif isinstance(node, ast.arg):
                out.add(node.arg)
            elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
                out.add(node.id)
    return frozenset(out)
