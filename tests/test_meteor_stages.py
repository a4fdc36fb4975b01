"""The three METEOR stages with scripted models (real training where a test needs it): one record
schema through all of them, structured verdicts, feedback from tests, model versions that never
overwrite, preferences, and resume after a kill. Defects fixed: docs/spec/meteor.md §8.1, §8.2, §8.4."""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import pytest
import torch

from selfevolve.llm.loading import load_model, resolve_model_path
from selfevolve.llm.transformers_backend import TransformersGenerator
from selfevolve.recipes.meteor.code_checks import open_sandbox
from selfevolve.recipes.meteor.config import CRITERIA, MeteorConfig
from selfevolve.recipes.meteor.distill import distill
from selfevolve.recipes.meteor.errors import MeteorError, RecordError
from selfevolve.recipes.meteor.questions import load_questions
from selfevolve.recipes.meteor.records import Record, StageLog
from selfevolve.recipes.meteor.refine import refine
from selfevolve.recipes.meteor.roles import Role, Roles
from selfevolve.recipes.meteor.self_train import self_train
from selfevolve.recipes.meteor.versions import manifest, versions

from meteor_script import Scripted, scripted_roles

TINY = resolve_model_path("tiny-coder")
CORRECT = '{"verdict": "correct", "feedback": "Right."}'
SMALL_SFT = {"epochs": 1, "batch_size": 2, "gradient_accumulation_steps": 1, "learning_rate": 1e-3, "max_length": 128}


def config(**sections) -> MeteorConfig:
    base = {"prompts": {"chat_template": False}, "distill": {"batch_size": 2, "train": False},
            "refine": {"batch_size": 2, "fine_tune_interval": 0}, "self_train": {"batch_size": 2, "high_compute": "sample"}}
    for name, values in sections.items():
        base[name] = {**base.get(name, {}), **values} if isinstance(values, dict) else values
    return MeteorConfig.model_validate(base)


def questions(n: int, tests: bool = False) -> list[Record]:
    return [Record(id=f"q{i}", domain="Python programming", question_title=f"Title {i}", question_content=f"Add {i} and {i}.",
                   tests=[f"assert add({i}, {i}) == {2 * i}", "assert add(0, 1) == 1"] if tests else None) for i in range(n)]


def weak_answers(prompt, params):
    """Greedy and sampled answers differ, and say which question they answer."""
    number = prompt.split("Add ")[1].split(" ")[0]
    return f"{number} plus {number}" + (" is the sum, by reasoning it through." if params.temperature else ".")


def test_one_record_schema_flows_through_the_three_stages(tmp_path):
    weak = Scripted([("provide a detailed guideline", "First recall what addition means."),
                     ("Answer with reasoning:", weak_answers)])
    strong = Scripted([("guideline provided by an expert", "The sum is twice the number."), ("Evaluate whether", CORRECT)])
    roles, _ = scripted_roles(weak, strong, weak_model=TINY)
    cfg = config(self_train={"learning_rate": 1e-4, "gradient_accumulation_steps": 1})
    asked = questions(3)

    distill(asked, roles, cfg, tmp_path / "distill")
    distilled = load_questions([tmp_path / "distill" / "records.jsonl"])  # the next stage reads the file back
    assert [r.model_dump(include={"id", "domain", "question_title", "question_content"}) for r in distilled] == \
        [r.model_dump(include={"id", "domain", "question_title", "question_content"}) for r in asked]
    assert all(r.guideline == "First recall what addition means." and r.answer == "The sum is twice the number." for r in distilled)
    assert "Title 0\n\nAdd 0 and 0." in strong.asked("guideline provided by an expert")[0]

    refine(distilled, roles, cfg, tmp_path / "refine")
    refined = load_questions([tmp_path / "refine" / "records.jsonl"])
    assert all(r.verdict == "correct" and r.iterations == 1 and r.evaluation == "Right." for r in refined)
    assert [r.guideline for r in refined] == [r.guideline for r in distilled]  # earlier fields are carried
    assert refined[1].answer == "1 plus 1 is the sum, by reasoning it through."

    summary = self_train(refined, roles, cfg, tmp_path / "self_train")
    pairs = StageLog(tmp_path / "self_train" / "turn_01" / "pairs.jsonl").read()
    assert [p.id for p in pairs] == ["q0", "q1", "q2"] and all(p.guideline and p.verdict == "correct" for p in pairs)
    assert pairs[0].pair.low == "0 plus 0." and pairs[0].pair.chosen == "high"
    model_dir = tmp_path / "self_train" / "turn_01" / "model"
    assert summary["model"] == str(model_dir) and manifest(model_dir)["base"] == TINY
    assert manifest(model_dir)["trained_on"] == ["q0", "q1", "q2"]


def test_stages_refuse_records_without_the_fields_they_need(tmp_path):
    roles, _ = scripted_roles(Scripted([]), Scripted([]))
    with pytest.raises(RecordError, match=r"needs tests on every record, but record 'q0' has none; use refine.feedback=judge"):
        refine(questions(2), roles, config(refine={"feedback": "tests"}), tmp_path)
    endpoint_roles = Roles("http://127.0.0.1:9/v1", lambda m: Role("weak", Scripted([])))
    with pytest.raises(MeteorError, match="needs its weights"):
        self_train(questions(1), endpoint_roles, config(), tmp_path / "st")


def test_refinement_retries_with_feedback_and_never_reads_correct_into_prose(tmp_path):
    def judge(prompt, params):
        if "Add 0 and 0" in prompt:  # wrong first, right after the feedback
            return CORRECT if "Revised: 2." in prompt else '{"verdict": "incorrect", "feedback": "Check the carry."}'
        if "Add 1 and 1" in prompt:
            return '```json\n{"verdict": "incorrect", "feedback": "Still wrong."}\n```'
        return "Correctness is poor. Correct the second step."  # the reference's substring test passed this

    weak = Scripted([("revised answer", "Revised: 2."), ("Answer with reasoning:", "My answer.")])
    strong = Scripted([("Evaluate whether", judge)])
    roles, _ = scripted_roles(weak, strong)
    summary = refine(questions(3), roles, config(refine={"judge_retries": 1}), tmp_path)
    first, second, third = StageLog(tmp_path / "records.jsonl").read()
    assert (first.verdict, first.iterations, first.answer) == ("correct", 2, "Revised: 2.")
    assert "Feedback: Check the carry." in weak.asked("Add 0 and 0")[1]
    assert (second.verdict, second.iterations, second.evaluation) == ("incorrect", 3, "Still wrong.")
    assert (third.verdict, third.iterations) == ("unparsed", 1)
    assert len(strong.asked("Add 2 and 2")) == 2  # asked, then re-asked once with the reason
    assert summary["verdicts"] == {"correct": 1, "incorrect": 1, "unparsed": 1} and summary["kept"] == 1
    keep = refine(questions(3), roles, config(refine={"keep_unverified": True}), tmp_path / "keep")
    assert keep["kept"] == 2  # the incorrect one too, never the unparsed one


@pytest.fixture(scope="module")
def sandbox():
    with open_sandbox(2) as sb:
        yield sb


WRONG_CODE = "Here is my code:\n```python\ndef add(a, b):\n    return a - b\n```"
RIGHT_CODE = "Fixed:\n```python\ndef add(a, b):\n    return a + b\n```"


def test_tests_feedback_runs_the_answer_and_both_adds_the_strong_models_advice(tmp_path, sandbox):
    weak = Scripted([("revised answer", RIGHT_CODE), ("Answer with reasoning:", WRONG_CODE)])
    roles, _ = scripted_roles(weak)  # no strong model: feedback=tests never asks one
    summary = refine(questions(2, tests=True), roles, config(refine={"feedback": "tests"}), tmp_path / "tests", sandbox=sandbox)
    records = StageLog(tmp_path / "tests" / "records.jsonl").read()
    assert all(r.verdict == "correct" and r.iterations == 2 for r in records) and summary["kept"] == 2
    retry = weak.asked("revised answer")[1]
    assert "Feedback: 0 of 2 tests passed.\nFailed: assert add(1, 1) == 2 (wrong)" in retry
    assert records[0].evaluation == "2 of 2 tests passed."

    weak = Scripted([("revised answer", RIGHT_CODE), ("Answer with reasoning:", WRONG_CODE)])
    strong = Scripted([("Evaluate whether", '{"verdict": "incorrect", "feedback": "Use + not -."}')])
    roles, _ = scripted_roles(weak, strong)
    refine(questions(1, tests=True), roles, config(refine={"feedback": "both"}), tmp_path / "both", sandbox=sandbox)
    assert "Advice: Use + not -." in weak.asked("revised answer")[0]
    assert len(strong.prompts) == 1 and "1 of 2 tests passed" in strong.prompts[0]  # add(0, 0) passes, add(0, 1) fails


def digest(directory: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(directory.iterdir()) if p.is_file()}


def test_fine_tunes_go_to_new_versions_the_base_is_never_written_and_a_failed_save_switches_nothing(tmp_path, monkeypatch):
    base = Path(shutil.copytree(TINY, tmp_path / "base"))
    before = digest(base)
    weak = Scripted([("Answer with reasoning:", "It is the sum.")])
    strong = Scripted([("Evaluate whether", CORRECT)])
    roles, opened = scripted_roles(weak, strong, weak_model=str(base))
    cfg = config(refine={"batch_size": 1, "fine_tune_interval": 2, "sft": SMALL_SFT})
    summary = refine(questions(4), roles, cfg, tmp_path / "refine")
    v1, v2 = versions(tmp_path / "refine" / "models")
    assert [v.name for v in (v1, v2)] == ["v001", "v002"] and summary["model"] == str(v2)
    assert manifest(v1)["base"] == str(base) and manifest(v2)["base"] == str(v1)
    assert manifest(v1)["trained_on"] == ["q0", "q1"] and manifest(v2)["trained_on"] == ["q2", "q3"]
    assert opened == [str(base), str(v1)]  # q2 and q3 were answered by v001
    assert digest(base) == before
    trained, _ = load_model(v2, device="cpu", dtype=torch.float32)
    original, _ = load_model(base, device="cpu", dtype=torch.float32)
    assert any(not torch.equal(a, b) for a, b in zip(trained.parameters(), original.parameters()))

    import selfevolve.recipes.meteor.sft as sft

    def disk_full(*args, **kwargs):
        raise OSError("disk full")

    out = tmp_path / "failing"
    with monkeypatch.context() as patch:
        patch.setattr(sft, "write_model", disk_full)
        with pytest.raises(OSError, match="disk full"):
            refine(questions(3), roles, cfg, out)
    assert versions(out / "models") == [] and (out / "models" / "v001.partial").is_dir()
    assert [r.id for r in StageLog(out / "records.jsonl").read()] == ["q0", "q1"]
    asked = len(weak.prompts)
    opened.clear()
    resumed = refine(questions(3), roles, cfg, out)  # trains the pending pool first, then answers q2 with it
    assert [v.name for v in versions(out / "models")] == ["v001", "v002"] and len(weak.prompts) == asked + 1
    assert opened == [str(out / "models" / "v001")] and resumed["resumed"] == 2  # q2 answered by v001
    assert not (out / "models" / "v001.partial").exists() and digest(base) == before


class ScriptedLocal(TransformersGenerator):
    """Scripted replies over the real tiny-coder tokenizer (token counts, prompt lengths)."""

    def __init__(self, script: Scripted):
        model, tokenizer = load_model("tiny-coder", device="cpu")
        super().__init__(model, tokenizer)
        self.script = script

    def generate(self, prompts, params):
        return self.script.generate(prompts, params)


def test_preferences_longer_judge_and_drops(tmp_path):
    replies = {"Add 0 ": ("short.", "a much longer answer with reasoning."), "Add 1 ": ("a long greedy answer, step by step.", "short."),
               "Add 2 ": ("same.", "same."), "Add 3 ": ("one two.", "two one.")}

    def weak_reply(prompt, params):
        key = next(k for k in replies if k in prompt)
        return replies[key][1 if params.temperature else 0]

    weak = Role("weak", ScriptedLocal(Scripted([("Answer with reasoning:", weak_reply)])), chat=False)
    roles = Roles(TINY, lambda model: weak)
    self_train(questions(4), roles, config(self_train={"preference": "longer"}), tmp_path / "longer")
    pairs = {r.id: r.pair for r in StageLog(tmp_path / "longer" / "turn_01" / "pairs.jsonl").read()}
    assert (pairs["q0"].chosen, pairs["q1"].chosen) == ("high", "low")
    assert (pairs["q2"].chosen, pairs["q2"].reason) == (None, "identical")
    assert (pairs["q3"].chosen, pairs["q3"].reason) == (None, "tie")  # equal token counts

    def content_judge(prompt, params):  # scores the answer mentioning "reasoning" higher, wherever it is shown
        shown = prompt.split("### Answers:")[1].split("Reply with only")[0].split("Answer 2:")
        return json.dumps([{**{c: 9 if "reasoning" in s else 3 for c in CRITERIA}, "justification": "."} for s in shown])

    def first_judge(prompt, params):  # always prefers the answer shown first
        return json.dumps([{**{c: s for c in CRITERIA}, "justification": "."} for s in (9, 3)])

    for name, judge, expected in (("content", content_judge, "high"), ("first", first_judge, None)):
        roles = Roles(TINY, lambda model: weak, judge=lambda judge=judge: Role("judge", Scripted([("Evaluate each", judge)])))
        self_train(questions(1), roles, config(self_train={"preference": "judge"}), tmp_path / name)
        [record] = StageLog(tmp_path / name / "turn_01" / "pairs.jsonl").read()
        assert record.pair.chosen == expected and record.pair.reason == ("judge" if expected else "tie")


def test_each_stage_resumes_after_a_kill_without_redoing_finished_questions(tmp_path):
    weak_rules = [("provide a detailed guideline", "A guideline."), ("Answer with reasoning:", "Same answer.")]
    strong_rules = [("guideline provided by an expert", "An answer."), ("Evaluate whether", CORRECT)]
    cfg = config(distill={"batch_size": 1}, refine={"batch_size": 1}, self_train={"batch_size": 1})

    def run(stage, kill_weak=None, kill_strong=None):
        weak, strong = Scripted(weak_rules, kill_weak), Scripted(strong_rules, kill_strong)
        roles, _ = scripted_roles(weak, strong)
        return stage(questions(5), roles, cfg, tmp_path / stage.__name__), weak, strong

    for stage, kill in ((distill, {"kill_strong": 3}), (refine, {"kill_strong": 2}), (self_train, {"kill_weak": 4})):
        with pytest.raises(KeyboardInterrupt):
            run(stage, **kill)
        finished = StageLog(next((tmp_path / stage.__name__).rglob("*.jsonl"))).done()
        assert 0 < len(finished) < 5
        summary, weak, strong = run(stage)
        redone = [q for q in finished if any(f"Add {q[1]} " in p for p in weak.prompts + strong.prompts)]
        assert redone == [], f"{stage.__name__} asked again about {redone}"
        written = [r.id for r in StageLog(next((tmp_path / stage.__name__).rglob("*.jsonl"))).read()]
        assert sorted(written) == [f"q{i}" for i in range(5)]  # every question exactly once
        resumed = summary["turns"][0]["resumed"] if stage is self_train else summary["resumed"]
        assert resumed == len(finished)
