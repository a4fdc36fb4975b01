"""`selfevolve eval code-io` / `convert-seeds`, the shipped held-out set, and seed import."""

import json
from pathlib import Path

from typer.testing import CliRunner

from selfevolve.cli.eval import app
from selfevolve.eval.code_io import HELDOUT_TINY, load_tasks, sample_answers, summarize
from selfevolve.tasks.code_io.prompts import render_solver_completion
from selfevolve.tasks.code_io.types import TaskType

SEEDS = Path(__file__).resolve().parents[1] / "src" / "selfevolve" / "data" / "azr_seeds"


def test_heldout_set_has_100_tasks_per_type():
    tasks = load_tasks(HELDOUT_TINY)
    counts = {k: sum(t.type is k for t in tasks.values()) for k in TaskType}
    assert counts == {TaskType.ABDUCTION: 100, TaskType.DEDUCTION: 100, TaskType.INDUCTION: 100}
    assert all(len(t.inputs) == 10 and t.split == 5 for t in tasks.values() if t.type is TaskType.INDUCTION)


def test_scoring_an_answers_file(tmp_path):
    tasks = dict(list(load_tasks(HELDOUT_TINY).items())[:12])
    ids = list(tasks)
    answers = [{"id": i, "completion": render_solver_completion(tasks[i])} for i in ids[:9]]
    answers += [{"id": ids[9], "completion": "no tags"}, {"id": ids[10], "completion": "</think><answer>```output\n'nope'\n```</answer>"}]
    (tmp_path / "t.jsonl").write_text("".join(json.dumps({"id": i, **_rec(tasks[i])}) + "\n" for i in ids))
    (tmp_path / "a.jsonl").write_text("".join(json.dumps(a) + "\n" for a in answers))
    res = CliRunner().invoke(app, ["code-io", "--tasks", str(tmp_path / "t.jsonl"), "--answers", str(tmp_path / "a.jsonl"), "-o", str(tmp_path / "v.jsonl")])
    assert res.exit_code == 0, res.output
    verdicts = [json.loads(x) for x in (tmp_path / "v.jsonl").read_text().splitlines()]
    assert [v["correct"] for v in verdicts] == [True] * 9 + [False, False]
    assert verdicts[9]["reason"] == "format" and "accuracy" in res.output
    assert summarize(verdicts)["all"].correct == 9


def _rec(task):
    from selfevolve.eval.code_io import task_to_eval_record

    rec = task_to_eval_record("x", task)
    rec.pop("id")
    return rec


def test_sampling_with_a_seed_is_reproducible():
    from selfevolve.cli.eval import _sample

    tasks = dict(list(load_tasks(HELDOUT_TINY).items())[:4])

    def answers(seed: int) -> list[tuple[str, str]]:
        return _sample(tasks, "tiny-coder", None, 3, 1.0, 24, "compact", "cpu", seed, batch_size=8)

    assert answers(5) == answers(5)
    assert answers(5) != answers(6)


def test_cli_rejects_ambiguous_sources(tmp_path):
    (tmp_path / "t.jsonl").write_text("")
    res = CliRunner().invoke(app, ["code-io", "--tasks", str(tmp_path / "t.jsonl")])
    assert res.exit_code != 0 and "exactly one of" in res.output


def test_sample_answers_uses_the_injected_generator():
    tasks = dict(list(load_tasks(HELDOUT_TINY).items())[:3])
    seen = []

    def generate(prompts, n, temperature):
        seen.append((len(prompts), n, temperature))
        return [[f"c{k}" for k in range(n)] for _ in prompts]

    out = sample_answers(tasks, generate, n=2)
    assert seen == [(3, 2, 0.0)] and len(out) == 6 and out[0] == (next(iter(tasks)), "c0")


def test_convert_seeds_reports_reasons(tmp_path):
    res = CliRunner().invoke(app, ["convert-seeds", str(SEEDS / "llama_64_seed_io.jsonl"), "-o", str(tmp_path / "s.jsonl"), "--markdown"])
    assert res.exit_code == 0, res.output
    records = [json.loads(x) for x in (tmp_path / "s.jsonl").read_text().splitlines()]
    total_row = next(line for line in res.output.splitlines() if line.startswith("| total"))
    ok = int(total_row.split("|")[3])
    assert total_row.split("|")[2].strip() == "64" and len(records) == 2 * ok and ok >= 50
