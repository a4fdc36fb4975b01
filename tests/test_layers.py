"""Layers that hold: every import between selfevolve's top-level packages points down the table below.

`LAYERS` is the source of truth for the package layering (docs/architecture.md shows it and the
picture `docs/make_architecture_png.py` draws from these functions). Every `import` and `from ...
import` statement of every module under src/selfevolve is read with `ast`, function-local and
`TYPE_CHECKING` ones included, and checked against it. An import of a selfevolve module or name
that does not exist fails too (a stale path left by a move).
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from graphlib import CycleError, TopologicalSorter
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src" / "selfevolve"

_BELOW_RECIPES = {
    "config", "configs", "sandbox", "store", "report", "models", "llm", "tasks", "eval", "bench", "behaviors", "rl",
    "tinymodels",
}
# Top-level package (or module) -> the selfevolve top-level packages it may import. Lowest first.
# Packages not written yet (bench, models as a Python package) have their place already.
LAYERS: dict[str, set[str]] = {
    "config": set(),  # typed recipe configs: preset, YAML, overrides (pydantic)
    "configs": set(),  # preset YAML files, read as package data
    "sandbox": set(),  # runs untrusted Python; knows nothing about models or tasks
    "store": set(),  # run store (SQLite), exports, metrics.jsonl + TensorBoard
    "report": {"store"},  # HTML/PNG run reports
    "models": {"config"},  # registry models prepared offline
    "llm": {"models", "config"},  # one generation interface; model loading
    "tasks": {"sandbox", "store", "config"},  # verifiable task families
    "eval": {"tasks", "sandbox", "llm", "config"},  # held-out evaluation of task families
    "bench": {"tasks", "sandbox", "llm", "models", "store", "config"},  # standard benchmarks, pass@k
    "behaviors": {"tasks", "llm", "config"},  # cognitive-behaviour judges and trace synthesis
    "rl": {"llm", "store", "config"},  # advantages, losses, trainer, rollouts
    "tinymodels": {"llm", "models", "tasks", "eval", "sandbox", "config"},  # tiny-model training pipeline
    "recipes": set(_BELOW_RECIPES),  # the systems, composed from everything below
    "cli": _BELOW_RECIPES | {"recipes"},  # the typer app
    "__main__": {"cli"},  # `python -m selfevolve`
}
ROOT_PACKAGE = "__init__"  # selfevolve/__init__.py (the version); every import loads it first anyway


@dataclass(frozen=True)
class Import:
    """One imported selfevolve module, with the attribute taken from it (`from m import name`)."""

    file: Path
    line: int
    importer: str  # dotted module name of the file
    module: str  # dotted module imported (a submodule when `from pkg import submodule`)
    name: str | None = None  # the attribute imported from `module`, when it is not a module itself

    def where(self, root: Path) -> str:
        base = root.parent if self.file.is_relative_to(root) else root.parents[1]
        return f"{self.file.relative_to(base)}:{self.line}"


def module_name(root: Path, path: Path) -> str:
    parts = [root.name, *path.relative_to(root).with_suffix("").parts]
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def top_level(module: str) -> str:
    """`selfevolve.llm.types` -> `llm`; the package itself -> `__init__`."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else ROOT_PACKAGE


def module_path(root: Path, module: str) -> Path | None:
    """The file of a dotted module under `root` (package `__init__.py` or module `.py`), or None."""
    if module == root.name:
        return root / "__init__.py"
    rel = Path(*module.split(".")[1:])
    return next((p for p in (root / rel / "__init__.py", (root / rel).with_suffix(".py")) if p.is_file()), None)


def modules(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*.py") if "__pycache__" not in p.parts)


def packages(root: Path) -> set[str]:
    """Top-level packages and modules that hold Python code (data-only folders are not packages)."""
    return {top_level(module_name(root, p)) for p in modules(root)} - {ROOT_PACKAGE}


def imports_of(root: Path, path: Path) -> list[Import]:
    """Every selfevolve import in a file, at any depth (function-local ones included). Files outside
    `root` (tests, benchmarks) are named by their path; their relative imports are not ours."""
    importer = module_name(root, path) if path.is_relative_to(root) else str(path)
    is_package = path.name == "__init__.py"
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            found += [Import(path, node.lineno, importer, a.name) for a in node.names if _ours(root, a.name)]
        elif isinstance(node, ast.ImportFrom):
            base = _absolute(importer, is_package, node.module, node.level)
            if not _ours(root, base):
                continue
            for alias in node.names:
                sub = f"{base}.{alias.name}"
                if alias.name != "*" and module_path(root, sub) is not None:
                    found.append(Import(path, node.lineno, importer, sub))
                else:
                    found.append(Import(path, node.lineno, importer, base, alias.name))
    return found


def _ours(root: Path, module: str) -> bool:
    return module == root.name or module.startswith(root.name + ".")


def _absolute(importer: str, is_package: bool, module: str | None, level: int) -> str:
    if level == 0:
        return module or ""
    base = importer.split(".") if is_package else importer.split(".")[:-1]
    base = base[: len(base) - (level - 1)]
    return ".".join(base + ([module] if module else []))


def all_imports(root: Path = SRC) -> list[Import]:
    """Every selfevolve import of every module, by file and line."""
    return sorted((imp for path in modules(root) for imp in imports_of(root, path)), key=lambda i: (i.file, i.line))


def package_graph(root: Path = SRC) -> dict[str, set[str]]:
    """Top-level package -> the other top-level packages it actually imports (the root left out)."""
    graph: dict[str, set[str]] = {p: set() for p in packages(root)}
    for imp in all_imports(root):
        src, dst = top_level(imp.importer), top_level(imp.module)
        if src != dst and ROOT_PACKAGE not in (src, dst):
            graph.setdefault(src, set()).add(dst)
    return graph


def layer_violations(root: Path = SRC, layers: dict[str, set[str]] = LAYERS) -> list[str]:
    """One line per import that the table does not allow (or that involves a package not in it)."""
    out = []
    for imp in all_imports(root):
        src, dst = top_level(imp.importer), top_level(imp.module)
        if src == dst or dst == ROOT_PACKAGE:
            continue
        if src not in layers or dst not in layers:
            unknown = src if src not in layers else dst
            out.append(f"{imp.where(root)}: package {unknown!r} has no place in LAYERS (tests/test_layers.py); add it")
        elif dst not in layers[src]:
            allowed = ", ".join(sorted(layers[src])) or "nothing"
            out.append(f"{imp.where(root)}: {imp.importer} imports {imp.module}, but {src} may import only: {allowed}")
    return out


def stale_imports(root: Path = SRC, files: list[Path] | None = None) -> list[str]:
    """One line per import of a selfevolve module that does not exist, or of a name its module lacks,
    in `files` (default: the package's own modules)."""
    out = []
    bound: dict[str, set[str] | None] = {}
    imports = all_imports(root) if files is None else [imp for f in files for imp in imports_of(root, f)]
    for imp in imports:
        path = module_path(root, imp.module)
        if path is None:
            out.append(f"{imp.where(root)}: {imp.module} does not exist")
            continue
        if imp.name is None or imp.name == "*":
            continue
        if imp.module not in bound:
            bound[imp.module] = top_level_names(path)
        names = bound[imp.module]
        if names is not None and imp.name not in names:
            out.append(f"{imp.where(root)}: {imp.module} has no {imp.name!r}")
    return out


def top_level_names(path: Path) -> set[str] | None:
    """Names a module binds at its top level (also inside top-level if/try/with/for blocks); None when
    it can provide any name (a module `__getattr__` or a star import)."""
    names: set[str] = set()
    todo = list(ast.parse(path.read_text(encoding="utf-8")).body)
    while todo:
        node = todo.pop()
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            if any(a.name == "*" for a in node.names):
                return None
            names |= {a.asname or a.name.split(".")[0] for a in node.names}
        elif isinstance(node, (ast.Assign, ast.AnnAssign, ast.AugAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            names |= {n.id for t in targets for n in ast.walk(t) if isinstance(n, ast.Name)}
        elif isinstance(node, (ast.If, ast.Try, ast.With, ast.For, ast.While)):
            for field in ("body", "orelse", "finalbody"):
                todo += getattr(node, field, [])
            todo += [s for h in getattr(node, "handlers", []) for s in h.body]
    return None if "__getattr__" in names else names


def layer_order(layers: dict[str, set[str]] = LAYERS) -> list[str]:
    """The packages lowest first (raises graphlib.CycleError when the table is not a DAG)."""
    return list(TopologicalSorter(layers).static_order())


# ---------------------------------------------------------------- the checks


def test_layer_table_is_a_dag():
    unknown = {dst for deps in LAYERS.values() for dst in deps} - set(LAYERS)
    assert not unknown, f"LAYERS names packages without a row of their own: {sorted(unknown)}"
    try:
        layer_order()
    except CycleError as e:
        pytest.fail(f"LAYERS has a cycle: {' -> '.join(e.args[1])}")


def test_every_package_has_a_layer():
    missing = sorted(packages(SRC) - set(LAYERS))
    assert not missing, f"packages without a place in LAYERS (tests/test_layers.py): {missing}; add them"


def test_imports_point_down_the_layers():
    problems = layer_violations()
    assert not problems, "imports against the layer table:\n" + "\n".join(problems)


def test_imports_name_modules_that_exist():
    problems = stale_imports()
    assert not problems, "imports of selfevolve modules or names that do not exist:\n" + "\n".join(problems)


def test_tests_benchmarks_and_scripts_import_modules_that_exist():
    repo = SRC.parents[1]
    files = sorted(p for d in ("tests", "benchmarks", "experiments", "docs") for p in (repo / d).rglob("*.py"))
    problems = stale_imports(SRC, files)
    assert not problems, "imports of selfevolve modules or names that do not exist:\n" + "\n".join(problems)


# ---------------------------------------------------------------- the checker itself, on a made-up package


def _package(tmp_path: Path, files: dict[str, str]) -> Path:
    root = tmp_path / "selfevolve"
    for rel, text in {"__init__.py": "", **files}.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)
    return root


def test_checker_finds_function_local_and_relative_upward_imports(tmp_path):
    root = _package(tmp_path, {
        "sandbox/__init__.py": "",
        "sandbox/pool.py": "def start():\n    from selfevolve.cli import app\n    return app\n",
        "sandbox/types.py": "from ..llm import x\n",
        "llm/__init__.py": "x = 1\n",
        "cli/__init__.py": "from selfevolve import sandbox\nfrom . import helpers\napp = 1\n",
        "cli/helpers.py": "",
    })
    layers = {"sandbox": set(), "llm": set(), "cli": {"sandbox", "llm"}}
    found = layer_violations(root, layers)
    assert [line.split(": ")[0] for line in found] == ["selfevolve/sandbox/pool.py:2", "selfevolve/sandbox/types.py:1"]
    assert "sandbox may import only: nothing" in found[0]
    assert package_graph(root) == {"sandbox": {"cli", "llm"}, "llm": set(), "cli": {"sandbox"}}


def test_checker_finds_stale_modules_and_names(tmp_path):
    root = _package(tmp_path, {
        "tasks/__init__.py": "from selfevolve.tasks.kinds import Kind\n",
        "tasks/kinds.py": "import enum\nclass Kind(enum.Enum):\n    A = 1\nif True:\n    B = 2\n",
        "eval/__init__.py": (
            "from selfevolve.tasks import Kind, Gone\nfrom selfevolve.tasks.kinds import B\n"
            "import selfevolve.tasks.moved\nfrom selfevolve.old import thing\n"
        ),
    })
    assert stale_imports(root) == [
        "selfevolve/eval/__init__.py:1: selfevolve.tasks has no 'Gone'",
        "selfevolve/eval/__init__.py:3: selfevolve.tasks.moved does not exist",
        "selfevolve/eval/__init__.py:4: selfevolve.old does not exist",
    ]
    assert layer_violations(root, {"tasks": set(), "eval": {"tasks"}}) == [
        "selfevolve/eval/__init__.py:4: package 'old' has no place in LAYERS (tests/test_layers.py); add it"
    ]


def test_a_cycle_in_the_table_is_reported():
    with pytest.raises(CycleError):
        layer_order({"a": {"b"}, "b": {"c"}, "c": {"a"}})
