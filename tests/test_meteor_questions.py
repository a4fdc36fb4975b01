"""METEOR question sets: the shipped MBPP+ pool (even tasks only), METEOR's JSON format, JSONL records,
the hold-out split, and the resumable stage file."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest

from selfevolve.recipes.meteor.code_checks import check_answers, open_sandbox
from selfevolve.recipes.meteor.errors import RecordError
from selfevolve.recipes.meteor.questions import load_questions, mbpp_heldout_questions, mbpp_pool, shipped_path, split_holdout
from selfevolve.recipes.meteor.records import Record, StageLog

MBPP_PLUS = Path(__file__).resolve().parents[1] / "src/selfevolve/data/benchmarks/evalplus/MbppPlus-v0.2.0.jsonl.gz"


def test_shipped_mbpp_set_is_exactly_the_even_pool_and_rebuilds_from_it():
    shipped = load_questions(["mbpp"])
    with gzip.open(MBPP_PLUS, "rt") as f:
        tasks = {json.loads(line)["task_id"]: json.loads(line) for line in f}
    numbers = [int(task_id.split("/")[1]) for task_id in tasks]
    assert [int(r.id.split("/")[1]) for r in shipped] == [n for n in numbers if n % 2 == 0]  # no odd (held-out) task
    assert len(shipped) == 196 and shipped == mbpp_pool()  # the file is what the documented builder makes
    first = shipped[0]
    assert first.id == "Mbpp/2" and first.question_content.startswith("Write a function to find the shared elements")
    assert first.tests[0] == "import math\nassert similar_elements((3, 4, 5, 6),(5, 7, 4, 10)) == (4, 5)"
    assert shipped_path("mbpp").read_text().count("\n") == 196
    # the reference solutions pass their tests, Mbpp/120's `math.isclose` without an import of its own included
    chosen = [r for r in shipped if r.id in ("Mbpp/2", "Mbpp/82", "Mbpp/120")]
    answers = [f"```python\n{tasks[r.id]['canonical_solution']}\n```" for r in chosen]
    with open_sandbox(2) as sandbox:
        assert [c.passed for c in check_answers(answers, [r.tests for r in chosen], sandbox)] == [True] * 3


def test_shipped_heldout_set_is_exactly_the_odd_tasks_and_never_meets_the_pool():
    held, pool = load_questions(["mbpp-heldout"]), load_questions(["mbpp"])
    with gzip.open(MBPP_PLUS, "rt") as f:
        numbers = [int(json.loads(line)["task_id"].split("/")[1]) for line in f]
    assert [int(r.id.split("/")[1]) for r in held] == [n for n in numbers if n % 2 == 1]
    assert held == mbpp_heldout_questions() and len(held) + len(pool) == len(numbers) == 378
    assert not {r.id for r in held} & {r.id for r in pool}
    assert all(r.tests for r in held)


def test_meteor_json_files_give_records_with_the_domain_from_the_file_name(tmp_path):
    ml = tmp_path / "ML.json"
    ml.write_text(json.dumps([{"title": "Overfitting", "question_content": "Why does my model overfit?", "tags": ["x"]},
                              {"title": "", "question_content": "What is a ROC curve?"}]))
    records = load_questions([ml])
    assert [(r.id, r.domain, r.question_title) for r in records] == [("ML/0", "ML", "Overfitting"), ("ML/1", "ML", "")]
    assert records[0].question == "Overfitting\n\nWhy does my model overfit?" and records[1].question == "What is a ROC curve?"
    assert load_questions([ml], domain="machine learning")[0].domain == "machine learning"
    with pytest.raises(RecordError, match="appears twice"):
        load_questions([ml, ml])
    (tmp_path / "bad.json").write_text(json.dumps([{"title": "no content"}]))
    with pytest.raises(RecordError, match="item 0 needs a non-empty string `question_content`"):
        load_questions([tmp_path / "bad.json"])


def test_jsonl_records_are_validated_with_the_line_named(tmp_path):
    good = tmp_path / "qs.jsonl"
    good.write_text('{"id": "a", "question_content": "Sum a list.", "tests": ["assert f([1]) == 1"]}\n')
    [record] = load_questions([good])
    assert record.domain == "qs" and record.tests == ["assert f([1]) == 1"]
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"id": "a", "question_content": "ok"}\n{"id": "b", "question": "the reference field name"}\n')
    with pytest.raises(RecordError, match=r"bad.jsonl:2: field question_content: Field required"):
        load_questions([bad])
    with pytest.raises(RecordError, match="does not exist"):
        load_questions([tmp_path / "missing.jsonl"])


def test_holdout_is_a_fixed_draw_and_never_overlaps_training():
    records = [Record(id=str(i), domain="d", question_content=f"q{i}") for i in range(20)]
    train, held = split_holdout(records, 5, seed=3)
    assert len(held) == 5 and len(train) == 15 and not {r.id for r in train} & {r.id for r in held}
    assert split_holdout(records, 5, seed=3) == (train, held)
    with pytest.raises(RecordError, match="leaves no question"):
        split_holdout(records, 20, seed=0)


def test_stage_log_keeps_finished_lines_and_drops_a_line_cut_by_a_kill(tmp_path):
    path = tmp_path / "records.jsonl"
    log = StageLog(path)
    log.append(Record(id="a", domain="d", question_content="q", answer="x"))
    with path.open("a") as f:
        f.write('{"id": "b", "domain": "d", "question_con')  # killed mid-write
    log = StageLog(path)
    assert [r.id for r in log.read()] == ["a"] and log.done() == {"a"}
    log.append(Record(id="b", domain="d", question_content="q"))
    assert [r.id for r in StageLog(path).read()] == ["a", "b"]
    path.write_text(path.read_text().replace('"answer":"x"', '"answer":5'))
    with pytest.raises(RecordError, match="records.jsonl:1 is not a valid Record"):
        StageLog(path).read()
