"""The synthesis run under scripted models: batching across problems, resume, execution-verified
filtering, the SFT records, separate role models, problem files and the MBPP+ split."""

from __future__ import annotations

import gzip
import json
import re
from pathlib import Path

import pytest

from scripted import (
    CRITIC, JUDGE, PROPOSE, REFLECT, TRANSLATE, ScriptedModel, StreamingScriptedModel, phase_counts, phase_of, steps_of,
)
from selfevolve.bench.evalplus_data import is_mbpp_pool_task
from selfevolve.config import ConfigError, load_config, preset_names
from selfevolve.llm.open import ChatModel
from selfevolve.recipes.sra_mcts.config import SRAMCTSConfig
from selfevolve.recipes.sra_mcts.prompts import INSTRUCTIONS
from selfevolve.recipes.sra_mcts.problems import (
    default_mbpp_plus_path,
    mbpp_synthesis_pool,
    read_problems,
    shipped_path,
)
from selfevolve.recipes.sra_mcts.run import ROLES, synth
from selfevolve.recipes.sra_mcts.store import ProblemTable
from selfevolve.recipes.sra_mcts.tree import Node
from selfevolve.store.db import RunStore

GOOD = "Steps done.\n```python\ndef f():\n    return 1\n```"
BAD = "Steps done.\n```python\ndef f():\n    return 2\n```"


def tie_step(prompt, k):
    return f"Next step: idea {'xyz'[k]}{len(steps_of(prompt)) + 1} for the task"


def tie_score(prompt, k):
    last = steps_of(prompt)[-1]
    return "Score: 5" if " z" in last else "Score: 7"  # x and y tie at every level: the problem's RNG decides


def scripted(translate=GOOD, judge="<solved>", fail_after=None, reflect="Analysis: go on.", streaming=False) -> ScriptedModel:
    rules = [(CRITIC, tie_score), (REFLECT, reflect), (PROPOSE, tie_step), (JUDGE, judge), (TRANSLATE, translate)]
    return StreamingScriptedModel(rules) if streaming else ScriptedModel(rules, fail_after=fail_after)


def write_problems(path: Path, records: list[dict]) -> str:
    path.write_text("".join(json.dumps(r) + "\n" for r in records))
    return str(path)


def six_problems(tmp_path) -> str:
    return write_problems(tmp_path / "problems.jsonl", [{"id": f"q{i}", "question": f"Problem number {i}: add numbers."} for i in range(6)])


def cfg_for(problems: str, **changes) -> SRAMCTSConfig:
    base = {"model": "scripted", "problems": problems, "data": {"min_plan_words": 0}}
    return SRAMCTSConfig.model_validate(_merge(base, changes))


def _merge(base: dict, extra: dict) -> dict:
    out = dict(base)
    for k, v in extra.items():
        out[k] = _merge(out[k], v) if isinstance(v, dict) and isinstance(out.get(k), dict) else v
    return out


def same_model(model) -> dict[str, ChatModel]:
    chat = ChatModel(model)
    return {role: chat for role in ROLES}


def stored(out: Path) -> list[dict]:
    with RunStore(out / "store.sqlite") as store:
        return ProblemTable(store).rows()


def sft(out: Path) -> list[dict]:
    return [json.loads(line) for line in (out / "sft.jsonl").read_text().splitlines()]


def test_batched_search_builds_the_same_trees_as_one_at_a_time(tmp_path):
    problems = six_problems(tmp_path)
    one, many = scripted(), scripted()
    synth(cfg_for(problems, concurrent_problems=1), tmp_path / "one", models=same_model(one), progress=False)
    synth(cfg_for(problems, concurrent_problems=6), tmp_path / "many", models=same_model(many), progress=False)
    rows_one, rows_many = stored(tmp_path / "one"), stored(tmp_path / "many")
    assert [r["tree"] for r in rows_one] == [r["tree"] for r in rows_many]
    assert rows_one == rows_many and sft(tmp_path / "one") == sft(tmp_path / "many")
    # the ties really were broken per problem: not every problem expanded the same first child
    second_round = {next(s for s, c in Node.from_dict(r["tree"]).children.items() if c.children) for r in rows_one}
    assert len(second_round) > 1
    # one generate call per phase for all six problems: the first is the six roots' reflections
    assert phase_counts(many)[0] == ("reflect", 6)
    assert len(many.calls) < len(one.calls) / 4  # a call per phase per sweep, not per problem
    assert sum(len(p) for p, _ in many.calls) == sum(len(p) for p, _ in one.calls) == sum(r["model_calls"] for r in rows_one)


def test_continuous_batching_builds_the_same_trees_as_one_at_a_time(tmp_path):
    """A streaming model's replies come back out of order (long ones later); each search goes on as soon
    as its own are back, so requests of different phases and problems share the batch, and the trees
    are still those of one tree at a time. With continuous_batching=false it is served in lockstep."""
    problems = six_problems(tmp_path)
    one, streaming, lockstep = scripted(), scripted(streaming=True), scripted(streaming=True)
    synth(cfg_for(problems, concurrent_problems=1), tmp_path / "one", models=same_model(one), progress=False)
    synth(cfg_for(problems, concurrent_problems=6), tmp_path / "cont", models=same_model(streaming), progress=False)
    synth(cfg_for(problems, concurrent_problems=6, continuous_batching=False), tmp_path / "lock",
          models=same_model(lockstep), progress=False)
    assert stored(tmp_path / "one") == stored(tmp_path / "cont") == stored(tmp_path / "lock")
    assert sft(tmp_path / "one") == sft(tmp_path / "cont")
    assert streaming.calls == [] and lockstep.batches == [] and len(lockstep.calls) > 0
    assert any(len({phase_of(p) for p in batch}) > 1 for batch in streaming.batches)  # phases overlap
    assert sum(len(b) for b in streaming.batches) > 0 and streaming.submitted == sum(len(p) for p, _ in one.calls)


def test_a_killed_run_resumes_and_runs_every_problem_exactly_once(tmp_path):
    problems = six_problems(tmp_path)
    synth(cfg_for(problems, concurrent_problems=2), tmp_path / "whole", models=same_model(scripted()), progress=False)
    out = tmp_path / "killed"
    with pytest.raises(RuntimeError, match="scripted crash"):
        synth(cfg_for(problems, concurrent_problems=2), out, models=same_model(scripted(fail_after=40)), progress=False)
    partial = stored(out)
    assert 0 < len(partial) < 6 and not (out / "sft.jsonl").exists()
    resumed = scripted()
    synth(None, out, resume=True, models=same_model(resumed), progress=False)
    rows = stored(out)
    assert sorted(r["problem_id"] for r in rows) == [f"q{i}" for i in range(6)]
    assert [r for r in rows if r["problem_id"] in {p["problem_id"] for p in partial}] == partial  # kept, not redone
    asked = {m.group(1) for prompts, _ in resumed.calls for p in prompts if (m := re.search(r"Problem number (\d)", p))}
    assert asked == {r["problem_id"][1] for r in rows} - {p["problem_id"][1] for p in partial}
    assert rows == stored(tmp_path / "whole") and sft(out) == sft(tmp_path / "whole")


def test_resume_extends_a_run_and_a_fresh_run_refuses_an_old_directory(tmp_path):
    from selfevolve.recipes.rundir import RunDirError

    problems = six_problems(tmp_path)
    out = tmp_path / "run"
    synth(cfg_for(problems, limit=2), out, models=same_model(scripted()), progress=False)
    with pytest.raises(RunDirError, match="--resume"):
        synth(cfg_for(problems), out, models=same_model(scripted()), progress=False)
    more = scripted()
    synth(None, out, resume=True, overrides=["limit=3"], models=same_model(more), progress=False)
    assert [r["problem_id"] for r in stored(out)] == ["q0", "q1", "q2"] and len(sft(out)) == 3
    assert all("Problem number 2" in p for prompts, _ in more.calls for p in prompts)
    with pytest.raises(ConfigError, match="cannot change seed"):  # the search's random draws must stay the saved run's
        synth(None, out, resume=True, overrides=["seed=7"], models=same_model(scripted()), progress=False)


def test_tests_decide_what_is_kept_and_the_fields_are_recorded(tmp_path):
    problems = write_problems(tmp_path / "p.jsonl", [
        {"id": "right", "question": "Return one.", "tests": ["assert f() == 1", "assert f() + 1 == 2"]},
        {"id": "wrong", "question": "Return two.", "tests": ["assert f() == 2"]},
        {"id": "free", "question": "Explain recursion."},
    ])
    out = tmp_path / "run"
    synth(cfg_for(problems), out, models=same_model(scripted()), progress=False)
    rows = {r["problem_id"]: r for r in stored(out)}
    assert (rows["right"]["status"], rows["right"]["verified"], rows["right"]["pass_rate"], rows["right"]["n_tests"]) == ("kept", 1, 1.0, 2)
    assert (rows["wrong"]["status"], rows["wrong"]["reason"], rows["wrong"]["verified"]) == ("dropped", "tests_failed", 0)
    assert (rows["free"]["status"], rows["free"]["verified"], rows["free"]["n_tests"]) == ("kept", None, None)
    records = {r["id"]: r for r in sft(out)}
    assert set(records) == {"right", "free"}
    assert (records["right"]["verified"], records["right"]["pass_rate"], records["right"]["n_tests"]) == (True, 1.0, 2)
    assert records["free"]["verified"] is None and "pass_rate" not in records["free"]
    summary = json.loads((out / "summary.json").read_text())
    assert summary["with_tests"] == 2 and summary["verified"] == 1 and summary["status"] == {"kept": 2, "dropped": 1}


def test_critic_replies_without_a_score_are_counted_per_problem(tmp_path):
    """A reply without `Score: n` is valued 5 (docs/spec/sra_mcts.md §3's default, also a real score); the count
    says which."""
    def half_scored(prompt, k):  # plans whose last step is "idea z..." get no score
        return "I cannot say." if " z" in steps_of(prompt)[-1] else "Score: 7"

    rules = [(CRITIC, half_scored), (REFLECT, "Analysis: go on."), (PROPOSE, tie_step), (JUDGE, "<solved>"), (TRANSLATE, GOOD)]
    out = tmp_path / "run"
    synth(cfg_for(six_problems(tmp_path)), out, models=same_model(ScriptedModel(rules)), progress=False)
    rows = stored(out)
    for row in rows:
        values = [n["V"] for n in descendants(row["tree"])]
        assert row["critic_replies"] > row["critic_unscored"] > 0
        assert row["critic_unscored"] <= values.count(5.0)  # each unscored plan is a node valued 5 (backups may move it)
    summary = json.loads((out / "summary.json").read_text())
    assert summary["critic_unscored"] == sum(r["critic_unscored"] for r in rows)
    assert summary["critic_replies"] == sum(r["critic_replies"] for r in rows)


def descendants(node: dict) -> list[dict]:
    return [c for child in node["children"] for c in (child, *descendants(child))]


def test_a_store_made_before_the_critic_counts_gains_their_columns(tmp_path):
    import sqlite3

    path = tmp_path / "store.sqlite"
    with RunStore(path) as store:
        ProblemTable(store)
    with sqlite3.connect(path) as db:  # as the table was before the counts existed
        db.execute("ALTER TABLE sra_mcts_problems DROP COLUMN critic_replies")
        db.execute("ALTER TABLE sra_mcts_problems DROP COLUMN critic_unscored")
    with RunStore(path) as store:
        table = ProblemTable(store)
        table.add({"problem_id": "q", "position": 0, "method": "cot", "status": "kept", "reason": "", "plan": "",
                   "answer": "a", "accurate": None, "finish": None, "verified": None, "pass_rate": None, "n_tests": None,
                   "record": None, "tree": None, "model_calls": 1, "generated_tokens": 3, "critic_replies": 0,
                   "critic_unscored": 0})
        assert [(r["problem_id"], r["critic_unscored"]) for r in table.rows()] == [("q", 0)]


def test_a_failing_translation_is_retried_and_a_lower_bar_keeps_partial_passes(tmp_path):
    problems = write_problems(tmp_path / "p.jsonl", [{"id": "p", "question": "Return one.", "tests": ["assert f() == 1"]}])
    retry = scripted(translate=lambda prompt, k: BAD if k == 0 else GOOD)
    synth(cfg_for(problems, verify={"retranslations": 1}), tmp_path / "retry", models=same_model(retry), progress=False)
    [row] = stored(tmp_path / "retry")
    assert row["status"] == "kept" and row["answer"] == GOOD
    assert sum(1 for prompts, _ in retry.calls for p in prompts if re.search(TRANSLATE, p)) == 2
    half = write_problems(tmp_path / "h.jsonl", [{"id": "h", "question": "Return one.", "tests": ["assert f() == 1", "assert f() == 2"]}])
    synth(cfg_for(half, verify={"min_pass_rate": 0.5}), tmp_path / "half", models=same_model(scripted()), progress=False)
    [row] = stored(tmp_path / "half")
    assert (row["status"], row["verified"], row["pass_rate"]) == ("kept", 0, 0.5)


def test_execution_weight_blends_the_pass_rate_into_terminal_nodes(tmp_path):
    problems = write_problems(tmp_path / "p.jsonl", [{"id": "p", "question": "Return one.", "tests": ["assert f() == 1"]}])
    end_deeper = scripted(reflect=lambda prompt, k: "<end>" if steps_of(prompt) else "Analysis: start.")
    cfg = cfg_for(problems, search={"exec_weight": 0.5, "iteration_limit": 1})
    synth(cfg, tmp_path / "run", models=same_model(end_deeper), progress=False)
    [row] = stored(tmp_path / "run")
    rolled = [c for c in Node.from_dict(row["tree"]).children.values() if c.N]
    assert len(rolled) == 1 and rolled[0].pass_rate == 1.0
    assert rolled[0].V == 0.5 * 7 + 0.5 * 10  # critic 7, all tests pass: (1-w)*7 + w*10


def test_the_sft_record_format_cleaning_and_the_code_only_ablation(tmp_path):
    question = "Add two numbers.\n\n**Example 1:**\nInput: 1, 2\nOutput: 3"
    problems = write_problems(tmp_path / "p.jsonl", [{"id": "a", "question": question}])
    fenced = lambda prompt, k: tie_step(prompt, k) + " using\n```python\nx = 1\n```\nnothing else"  # noqa: E731
    model = ScriptedModel([(CRITIC, tie_score), (REFLECT, "Analysis: go on."), (PROPOSE, fenced), (JUDGE, "<solved>"), (TRANSLATE, GOOD)])
    synth(cfg_for(problems), tmp_path / "nl", models=same_model(model), progress=False)
    [record] = sft(tmp_path / "nl")
    instruction, rest = record["question"].split("\nHere's the question:\n")
    assert instruction in INSTRUCTIONS and rest == "Add two numbers.\n\n"
    [row] = stored(tmp_path / "nl")
    assert record["solution"] == row["plan"] + "\n" + GOOD and "```" not in row["plan"]
    synth(cfg_for(problems, data={"natural_language": False}), tmp_path / "code", models=same_model(scripted()), progress=False)
    assert sft(tmp_path / "code")[0]["solution"] == "```python\ndef f():\n    return 1\n```"


def test_short_plans_and_unsolved_verdicts_are_dropped_on_request(tmp_path):
    problems = six_problems(tmp_path)
    synth(cfg_for(problems, data={"min_plan_words": 20}), tmp_path / "short", models=same_model(scripted()), progress=False)
    assert {(r["status"], r["reason"]) for r in stored(tmp_path / "short")} == {("dropped", "short_plan")}
    assert sft(tmp_path / "short") == []
    unsolved = scripted(judge="<unsolved>")
    synth(cfg_for(problems, data={"filter_on_judge": True}), tmp_path / "judge", models=same_model(unsolved), progress=False)
    assert {r["reason"] for r in stored(tmp_path / "judge")} == {"judged_unsolved"}
    assert not any(re.search(TRANSLATE, p) for prompts, _ in unsolved.calls for p in prompts)


def test_shuffle_is_seeded(tmp_path):
    problems = six_problems(tmp_path)
    ids = {}
    for name, changes in (("a", {}), ("b", {}), ("c", {"seed": 1}), ("plain", {"data": {"shuffle": False}})):
        synth(cfg_for(problems, **changes), tmp_path / name, models=same_model(scripted()), progress=False)
        ids[name] = [r["id"] for r in sft(tmp_path / name)]
    assert ids["a"] == ids["b"] != ids["plain"] and sorted(ids["a"]) == ids["plain"] == [f"q{i}" for i in range(6)]
    assert ids["c"] != ids["a"]


def test_each_role_can_have_its_own_model(tmp_path):
    problems = six_problems(tmp_path)
    models = {
        "proposer": ScriptedModel([(PROPOSE, tie_step)]), "reflector": ScriptedModel([(REFLECT, "Analysis: go on.")]),
        "critic": ScriptedModel([(CRITIC, tie_score)]), "judge": ScriptedModel([(JUDGE, "<solved>")]),
        "translator": ScriptedModel([(TRANSLATE, GOOD)]),
    }
    cfg = cfg_for(problems, critic={"max_new_tokens": 77, "temperature": 0.2})
    synth(cfg, tmp_path / "run", models={role: ChatModel(m) for role, m in models.items()}, progress=False)
    assert all(m.calls for m in models.values())  # each got its own prompts only (a stray one raises)
    assert {(p.max_new_tokens, p.temperature) for _, p in models["critic"].calls} == {(77, 0.2)}
    assert {p.max_new_tokens for _, p in models["proposer"].calls} == {512}


def test_problem_files_are_checked_line_by_line(tmp_path):
    bad = tmp_path / "bad.jsonl"
    for text, message in (
        ('{"question": "a", "id": 1}\n{"question": "b", "id": "1"}\n', "repeats line 1"),
        ('{"prompt": "a"}\n', "needs a non-empty string field `question`"),
        ('{"question": "a", "tests": [1]}\n', "`tests` must be a list of Python statements"),
        ("not json\n", "not JSON"),
    ):
        bad.write_text(text)
        with pytest.raises(ValueError, match=re.escape(message)):
            read_problems(str(bad))
    good = tmp_path / "good.jsonl"
    good.write_text('{"question": "a"}\n\n{"question": "b", "tests": "import math\\nassert f(1) == 1\\nassert f(2) == 2"}\n')
    a, b = read_problems(str(good))
    assert (a.id, a.tests, b.id, b.position) == ("line-1", None, "line-3", 1)
    assert b.tests == ("import math\nassert f(1) == 1", "import math\nassert f(2) == 2")
    with pytest.raises(ValueError, match="does not exist"):
        read_problems(str(tmp_path / "missing.jsonl"))


def test_the_shipped_leetcode_statements():
    problems = read_problems("leetcode-uneasy")
    assert len(problems) == 1819 and all(p.question.strip() and p.tests is None for p in problems)
    assert (shipped_path("leetcode-uneasy").parent / "LICENSE").read_text().startswith(" " * 33 + "Apache License")
    assert len(read_problems("leetcode-uneasy", limit=5)) == 5


def test_the_mbpp_synthesis_pool_holds_even_tasks_only():
    pool = mbpp_synthesis_pool()
    numbers = [int(r["id"].split("/")[1]) for r in pool]
    assert len(pool) == 196 and all(n % 2 == 0 for n in numbers) and numbers == sorted(numbers)
    assert not any(is_mbpp_pool_task(t) for t in ("Mbpp/3", "Mbpp/809", "HumanEval/2", "Mbpp/2x", "mbpp/2"))
    assert is_mbpp_pool_task("Mbpp/2")
    first = pool[0]
    assert first["id"] == "Mbpp/2" and first["question"].startswith("Write a function to find the shared elements")
    assert '"""' not in first["question"] and len(first["tests"]) == 3
    assert all(t.startswith("import math\n") and "\nassert " in t for r in pool for t in r["tests"])


def test_canonical_mbpp_solutions_pass_their_pool_tests():
    from selfevolve.sandbox import Sandbox
    from selfevolve.tasks.code_tests import CodeTestsConfig, verify

    pool = mbpp_synthesis_pool()
    with gzip.open(default_mbpp_plus_path(), "rt", encoding="utf-8") as lines:
        canonical = {t["task_id"]: t["canonical_solution"] for t in map(json.loads, lines)}
    config = CodeTestsConfig(equality="python")  # MBPP's own ==; strict also fails int-vs-float answers
    with Sandbox(config.sandbox_config(workers=2)) as sandbox:
        verifications = verify([(canonical[r["id"]], r["tests"]) for r in pool], sandbox, config)
    # the one exception returns a collections.Counter, which no literal comparison accepts
    assert {r["id"] for r, v in zip(pool, verifications) if not v.verified} == {"Mbpp/88"}


def test_presets_load_and_the_paper_preset_holds_the_spec_values():
    assert {"paper", "cpu", "tiny"} <= set(preset_names("sra_mcts"))
    paper = load_config(SRAMCTSConfig, "sra_mcts", "paper", overrides=["model=some/model"])
    s = paper.search
    assert (s.branch, s.exploration_constant, s.unvisited_bonus, s.end_gate, s.iteration_limit) == (3, 0.5, 8.0, 8.8, 2)
    assert (s.roll_policy, s.roll_branch, s.roll_forward_steps, s.alpha, s.reflection) == ("greedy", 2, 1, 0.5, "common")
    assert (paper.critic.max_new_tokens, paper.proposer.max_new_tokens, paper.proposer.temperature) == (1024, 512, 0.7)
    assert (paper.tot.branch, paper.tot.keep, paper.tot.max_depth, paper.tot.max_new_tokens) == (3, 1, 4, 256)
    assert (paper.data.min_plan_words, paper.cot.max_new_tokens, paper.search.exec_weight) == (20, 1024, 0.0)
    cpu = load_config(SRAMCTSConfig, "sra_mcts", "cpu")
    assert cpu.model == "qwen2.5-coder-0.5b-instruct" and (cpu.search.iteration_limit, cpu.search.branch) == (2, 3)
    with pytest.raises(Exception, match="exactly one of iteration_limit and time_limit_ms"):
        SRAMCTSConfig(model="m", search={"time_limit_ms": 100})
