"""Every spec citation in the code, tests and docs resolves to a file and a section of docs/spec/.

A citation names the spec file, then sections, on one line: `docs/spec/azr.md §4`,
`docs/spec/azr.md §5.1-§5.4 and §6`, `docs/spec/azr.md §6; §11, defects 2-4`,
`docs/spec/sandbox_threats.md §2, classes 4, 19`. `§N` is the heading `## N.` of that file; `§N.M`, and
"defect / class / item M" after `§N`, are item M of that section's numbered list. A `§`, a numbered
defect or threat class with no spec file before it on its line, or the word "spec" in a file that names
no spec file (or several), leaves the reader guessing which spec is meant, so each fails here.
"""

from __future__ import annotations

import io
import re
import tokenize
from functools import cache
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SPEC_DIR = ROOT / "docs" / "spec"
SCANNED = ["src", "tests", "benchmarks", "docs", "README.md"]
SUFFIXES = {".py", ".md", ".yaml", ".yml", ".toml"}
SPECS = ["azr.md", "countdown_and_behaviors.md", "sra_mcts.md", "meteor.md", "sandbox_threats.md"]

NUMBERS = r"\d+(?:\s*[-–]\s*\d+)?(?:\s*(?:,|and)\s*\d+(?:\s*[-–]\s*\d+)?)*"
# one pattern, three kinds of token, read left to right along a line
TOKEN = re.compile(
    r"(?:docs/)?spec/(?P<file>[a-z_]+\.md)"
    r"|§(?P<section>\d+)(?:\.(?P<item>\d+))?"
    rf"|\b(?P<kind>defects?|threat class(?:es)?|class(?:es)?|items?)\s+(?P<numbers>{NUMBERS})",
    re.IGNORECASE,
)
# "spec" as a word of prose: not a path (docs/spec/), an identifier, code in a string (spec.loader, (spec)),
# or Python's import spec of a module
BARE_SPEC = re.compile(r"(?<![/\w])(?<!import )spec(?![/\w)]|\.\w|\s*=[^=])", re.IGNORECASE)


def scanned_files() -> list[Path]:
    files = []
    for name in SCANNED:
        path = ROOT / name
        candidates = [path] if path.is_file() else sorted(path.rglob("*"))
        files += [p for p in candidates if p.suffix in SUFFIXES and SPEC_DIR not in p.parents and p != Path(__file__)]
    return files


def prose(path: Path) -> str:
    """The text a reader sees as prose: comments and strings of Python files, all of other files."""
    text = path.read_text(encoding="utf-8")
    if path.suffix != ".py":
        return text
    kinds = {tokenize.COMMENT, tokenize.STRING, getattr(tokenize, "FSTRING_MIDDLE", tokenize.STRING)}
    tokens = tokenize.generate_tokens(io.StringIO(text).readline)
    return "\n".join(t.string for t in tokens if t.type in kinds)


@cache
def spec_sections(file: str) -> dict[int, set[int]]:
    """Section number -> the numbers of the numbered-list items in it, for docs/spec/`file`."""
    sections: dict[int, set[int]] = {}
    current = None
    for line in (SPEC_DIR / file).read_text(encoding="utf-8").splitlines():
        if heading := re.match(r"## (\d+)\. ", line):
            current = int(heading[1])
            sections[current] = set()
        elif current is not None and (item := re.match(r"\s*(\d+)\. ", line)):
            sections[current].add(int(item[1]))
    return sections


def line_problems(line: str) -> tuple[list[str], set[str]]:
    """What does not resolve on one line, and the spec files the line names."""
    problems: list[str] = []
    named: set[str] = set()
    file = section = None
    for token in TOKEN.finditer(line):
        if token["file"]:
            file, section = token["file"], None
            named.add(file)
            if not (SPEC_DIR / file).is_file():
                problems.append(f"docs/spec/{file} does not exist")
        elif token["section"]:
            section = int(token["section"])
            if file is None:
                problems.append(f"§ without a spec file before it: {line.strip()!r}")
            elif (SPEC_DIR / file).is_file() and section not in spec_sections(file):
                problems.append(f"{file} has no §{section}")
            elif token["item"] and (SPEC_DIR / file).is_file() and int(token["item"]) not in spec_sections(file)[section]:
                problems.append(f"{file} §{section} has no item {token['item']}")
        elif file is None or section is None:
            if re.match(r"defect|threat", token["kind"], re.IGNORECASE):
                problems.append(f"{token[0]!r} without a spec file and section (e.g. docs/spec/azr.md §11, defect 2)")
        elif (SPEC_DIR / file).is_file() and section in spec_sections(file):
            problems += [f"{file} §{section} has no item {n}" for n in re.findall(r"\d+", token["numbers"])
                         if int(n) not in spec_sections(file)[section]]
    return problems, named


def citation_problems(path: Path) -> list[str]:
    problems: list[str] = []
    named: set[str] = set()
    bare = False
    for line in prose(path).splitlines():
        line_bad, line_named = line_problems(line)
        problems += line_bad
        named |= line_named
        bare |= bool(BARE_SPEC.search(TOKEN.sub("", line)))
    if bare and len(named) != 1:
        problems.append(f"says 'spec' but names {len(named)} spec files {sorted(named)}; cite docs/spec/NAME.md")
    return problems


def test_the_specs_exist_with_numbered_sections():
    for name in SPECS:
        assert len(spec_sections(name)) >= 4, name
    assert spec_sections("azr.md")[11] == set(range(1, 11))  # the ten reference defects
    assert spec_sections("sandbox_threats.md")[2] == set(range(1, 28))  # the 27 threat classes


@pytest.mark.parametrize("path", scanned_files(), ids=lambda p: str(p.relative_to(ROOT)))
def test_spec_citations_resolve(path):
    assert citation_problems(path) == []


def test_the_check_catches_bad_citations(tmp_path):
    cases = {
        "spec §4: no file": "§ without a spec file",
        "docs/spec/azr.md §12": "has no §12",
        "docs/spec/azr.md §5.10": "§5 has no item 10",
        "docs/spec/azr.md §11, defect 11": "§11 has no item 11",
        "docs/spec/azr.md §4, §11 defects 2-12": "§11 has no item 12",
        "docs/spec/nope.md §1": "does not exist",
        "see the spec": "names 0 spec files",
        "as in reference defect 9": "without a spec file and section",
        "docs/spec/azr.md\n§4 on the next line": "§ without a spec file",
    }
    for text, problem in cases.items():
        bad = tmp_path / "bad.md"
        bad.write_text(text)
        assert any(problem in p for p in citation_problems(bad)), text
    good = tmp_path / "good.py"
    good.write_text('"""Parse (docs/spec/azr.md §5.1-§5.4 and §6; §11, defects 2-4); the spec wins."""\n'
                    "spec = None  # an identifier, found through the module's import spec: not citations\n")
    assert citation_problems(good) == []
