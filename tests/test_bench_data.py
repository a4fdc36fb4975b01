"""The shipped benchmark files are the published bytes: checked against SHA256SUMS (in the package and,
where this checkout sits beside it, the project's shared copy) and parsed record by record."""

from __future__ import annotations

import gzip
import hashlib
import json
from importlib import resources
from pathlib import Path

import pytest

DATA = Path(str(resources.files("selfevolve") / "data" / "benchmarks"))
SHARED_SUMS = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "benchmarks" / "SHA256SUMS"
# file -> (records, its licence file, the licence that file grants)
SETS = {
    "cruxeval/cruxeval.jsonl": (800, "cruxeval/LICENSE-cruxeval", "MIT License"),
    "humaneval/HumanEval.jsonl.gz": (164, "humaneval/LICENSE-human-eval", "MIT License"),
    "evalplus/HumanEvalPlus-v0.1.10.jsonl.gz": (164, "evalplus/LICENSE-humanevalplus_release", "Apache License"),
    "evalplus/HumanEvalPlus-Mini-v0.1.10.jsonl.gz": (164, "evalplus/LICENSE-humanevalplus_release", "Apache License"),
    "evalplus/MbppPlus-v0.2.0.jsonl.gz": (378, "evalplus/LICENSE-mbppplus_release", "Apache License"),
    "math/math500/test.jsonl": (500, "math/LICENSE-prm800k", "MIT License"),
    "math/gsm8k/test.jsonl": (1319, "math/LICENSE-grade-school-math", "MIT License"),
}
NOT_SHIPPED = ("aime24", "aime25", "amc23", "minerva_math", "olympiadbench")  # licence caveats: see README.md


def _sums(path: Path) -> dict[str, str]:
    """`relative path -> sha256` from a `sha256sum` listing (paths written as `./dir/file`)."""
    pairs = (line.split(maxsplit=1) for line in path.read_text().splitlines() if line.strip())
    return {name.removeprefix("./"): digest for digest, name in pairs}


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_every_listed_file_has_its_checksum():
    sums = _sums(DATA / "SHA256SUMS")
    assert set(SETS) <= set(sums)
    for name, digest in sums.items():
        assert _sha256(DATA / name) == digest, name


def test_nothing_unlisted_is_shipped():
    shipped = {p.relative_to(DATA).as_posix() for p in DATA.rglob("*") if p.is_file() and "__pycache__" not in p.parts}
    assert shipped - {"SHA256SUMS", "README.md"} == set(_sums(DATA / "SHA256SUMS"))


@pytest.mark.parametrize("name", sorted(SETS))
def test_each_set_ships_with_its_licence(name):
    _, licence, grant = SETS[name]
    assert grant in (DATA / licence).read_text()


@pytest.mark.parametrize("name", sorted(SETS))
def test_records_parse_and_count(name):
    count = SETS[name][0]
    raw = (DATA / name).read_bytes()
    lines = (gzip.decompress(raw) if name.endswith(".gz") else raw).decode().splitlines()
    records = [json.loads(line) for line in lines if line.strip()]
    assert len(records) == count and all(isinstance(r, dict) for r in records)


def test_sets_with_licence_caveats_are_not_shipped():
    assert not [name for name in NOT_SHIPPED if (DATA / "math" / name).exists()]


def test_checksums_agree_with_the_shared_copy():
    if not SHARED_SUMS.is_file():
        pytest.skip(f"no shared benchmark copy at {SHARED_SUMS} (only on the project's work machines)")
    shared = _sums(SHARED_SUMS)
    ours = _sums(DATA / "SHA256SUMS")
    assert {name: shared.get(name) for name in ours} == ours
