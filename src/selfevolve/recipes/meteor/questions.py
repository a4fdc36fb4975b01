"""Question sets: METEOR's own JSON files, JSONL records (with tests), the shipped MBPP+ pool.

* METEOR's format: a `.json` file holding a list of objects with `title` and `question_content`
  (the reference's Stack Overflow files, one per domain). The domain is `--domain` or the file name
  (`ML.json` -> `ML`); ids are `<file stem>/<index>`.
* JSONL (`.jsonl`): one `Record` per line with at least `id` and `question_content`; `domain`
  defaults as above, `question_title` to '', and `tests` (a list of Python test sources, one assert
  each) makes the question checkable by running code.
* `mbpp` names the shipped set `data/meteor/mbpp_even.jsonl` (see its README): the MBPP+ tasks with
  an even number, the same synthesis pool as SRA-MCTS; `mbpp-heldout` (`mbpp_odd.jsonl`) the odd ones,
  held out of every stage, for `evaluate`.
"""

from __future__ import annotations

import json
import random
from importlib import resources
from pathlib import Path

from pydantic import ValidationError

from selfevolve.recipes.meteor.errors import RecordError
from selfevolve.recipes.meteor.records import Record, check_unique
from selfevolve.recipes.sra_mcts.problems import mbpp_heldout, mbpp_synthesis_pool
from selfevolve.store.jsonl import read_jsonl

SHIPPED = {"mbpp": "mbpp_even.jsonl", "mbpp-heldout": "mbpp_odd.jsonl"}
MBPP_DOMAIN = "Python programming"


def shipped_path(name: str) -> Path:
    return Path(str(resources.files("selfevolve") / "data" / "meteor" / SHIPPED[name]))


def load_questions(sources: list[str | Path], domain: str | None = None) -> list[Record]:
    """The records of every source file (or shipped name), in order; ids must be unique across them."""
    if not sources:
        raise RecordError("no question file given; pass --questions FILE (METEOR .json, .jsonl) or --questions mbpp")
    records = [r for source in sources for r in _load_one(source, domain)]
    check_unique(records, " + ".join(str(s) for s in sources))
    return records


def _load_one(source: str | Path, domain: str | None) -> list[Record]:
    path = shipped_path(str(source)) if str(source) in SHIPPED else Path(source)
    if not path.is_file():
        raise RecordError(f"question file {path} does not exist; pass a METEOR .json file, a .jsonl of records, "
                          f"or a shipped set: {', '.join(SHIPPED)}")
    if path.suffix not in (".json", ".jsonl"):
        raise RecordError(f"{path}: unknown question format; use METEOR's .json (a list of {{title, question_content}}) "
                          f"or .jsonl records")
    records = (_meteor_json if path.suffix == ".json" else _jsonl)(path, domain or path.stem)
    if not records:
        raise RecordError(f"{path} holds no questions")
    return records


def _meteor_json(path: Path, domain: str) -> list[Record]:
    try:
        items = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as e:
        raise RecordError(f"{path} is not valid JSON ({e})") from None
    if not isinstance(items, list):
        raise RecordError(f"{path} must hold a JSON list of {{\"title\", \"question_content\"}} objects")
    records = []
    for index, item in enumerate(items):
        if not isinstance(item, dict) or not isinstance(item.get("question_content"), str) or not item["question_content"].strip():
            raise RecordError(f"{path}: item {index} needs a non-empty string `question_content`")
        title = item.get("title", "")
        if not isinstance(title, str):
            raise RecordError(f"{path}: item {index} has a `title` that is not a string")
        records.append(Record(id=f"{path.stem}/{index}", domain=domain, question_title=title,
                              question_content=item["question_content"]))
    return records


def _jsonl(path: Path, domain: str) -> list[Record]:
    records = []
    for number, row, error in read_jsonl(path):
        if error is not None:
            raise RecordError(f"{path}:{number} {error}; each line must be a JSON object with id and question_content")
        try:
            records.append(Record.model_validate({"domain": domain, **row}))
        except ValidationError as e:
            err = e.errors()[0]
            where = ".".join(str(p) for p in err["loc"])
            raise RecordError(f"{path}:{number}: field {where}: {err['msg']}; see the record format in docs/meteor.md") from None
    return records


def split_holdout(records: list[Record], holdout: int, seed: int) -> tuple[list[Record], list[Record]]:
    """(train, held out): `holdout` records drawn by `seed`, both in file order."""
    if holdout >= len(records) and records:
        raise RecordError(f"evaluate.holdout={holdout} leaves no question of {len(records)} to train on; lower it")
    held = set(random.Random(seed).sample(range(len(records)), holdout))
    return ([r for i, r in enumerate(records) if i not in held], [r for i, r in enumerate(records) if i in held])


# ---------------------------------------------------------------- the shipped MBPP+ pool


def mbpp_pool() -> list[Record]:
    """The MBPP+ synthesis pool of SRA-MCTS (the even tasks; `recipes.sra_mcts.problems`) as METEOR records:
    question = the prompt without its docstring quotes, tests = MBPP's asserts, one each, `import math` in front."""
    return _records(mbpp_synthesis_pool())


def mbpp_heldout_questions() -> list[Record]:
    """The odd MBPP+ tasks, held out of synthesis and training, as records like `mbpp_pool`'s."""
    return _records(mbpp_heldout())


def _records(problems: list[dict]) -> list[Record]:
    return [Record(id=p["id"], domain=MBPP_DOMAIN, question_content=p["question"], tests=p["tests"]) for p in problems]


def write_records(records: list[Record], path: Path) -> None:
    path.write_text("".join(r.model_dump_json(exclude_defaults=True) + "\n" for r in records), encoding="utf-8")
