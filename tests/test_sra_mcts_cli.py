"""`selfevolve sra-mcts` end to end with the shipped tiny-coder: synth (local and over an OpenAI-compatible
endpoint), the MBPP+ problem file, and SFT (LoRA and full)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file
from typer.testing import CliRunner

from local_server import serve_in_thread
from selfevolve.cli.sra_mcts import app
from selfevolve.llm.loading import load_model, resolve_model_path
from selfevolve.llm.open import open_generator
from selfevolve.llm.server import create_app
from selfevolve.recipes.sra_mcts.store import ProblemTable
from selfevolve.store.db import RunStore

runner = CliRunner()


@pytest.fixture(scope="module")
def problems(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("problems") / "p.jsonl"
    records = [
        {"id": "add", "question": "Write a function add(a, b) that returns a + b.", "tests": ["assert add(1, 2) == 3"]},
        {"id": "neg", "question": "Write a function neg(x) that returns -x."},
        {"id": "max", "question": "Return the largest number of a list."},
    ]
    path.write_text("".join(json.dumps(r) + "\n" for r in records))
    return path


def rows(out: Path) -> list[dict]:
    with RunStore(out / "store.sqlite") as store:
        return ProblemTable(store).rows()


def test_synth_with_tiny_coder_runs_the_real_model_path(problems, tmp_path):
    out = tmp_path / "run"
    result = runner.invoke(app, ["synth", "--preset", "tiny", "--problems", str(problems), "--limit", "2", "--out", str(out), "-q"])
    assert result.exit_code == 0, result.output
    stored = rows(out)
    assert [r["problem_id"] for r in stored] == ["add", "neg"]
    assert all(r["model_calls"] > 10 and r["generated_tokens"] > 0 and r["tree"]["children"] for r in stored)
    add = stored[0]
    assert add["n_tests"] == 1 and add["verified"] in (0, 1)  # the tiny model's code ran in the sandbox
    kept = [json.loads(line) for line in (out / "sft.jsonl").read_text().splitlines()]
    assert len(kept) == sum(r["status"] == "kept" for r in stored) and "kept" in result.output
    assert all("\nHere's the question:\n" in r["question"] for r in kept)
    summary = json.loads((out / "summary.json").read_text())
    assert summary["problems"] == 2 and summary["model_calls"] == sum(r["model_calls"] for r in stored)
    again = runner.invoke(app, ["synth", "--out", str(out), "--resume", "--limit", "3", "-q"])
    assert again.exit_code == 0, again.output
    assert [r["problem_id"] for r in rows(out)] == ["add", "neg", "max"]


def test_synth_through_an_openai_compatible_endpoint(problems, tmp_path):
    generator = open_generator("tiny-coder", device="cpu", dtype="float32")
    with serve_in_thread(create_app(generator, "tiny-coder-served")) as url:
        out = tmp_path / "run"
        args = ["synth", "--preset", "tiny", "--model", url, "--api-model", "tiny-coder-served", "--problems", str(problems),
                "--limit", "1", "--method", "cot", "--out", str(out), "-q"]
        result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    [row] = rows(out)
    assert row["method"] == "cot" and row["model_calls"] == 1 and row["answer"]


def test_synth_reports_bad_input_with_the_fix(problems, tmp_path):
    no_model = runner.invoke(app, ["synth", "--problems", str(problems), "--out", str(tmp_path / "a")])
    assert no_model.exit_code == 2 and "--model" in no_model.output
    missing = runner.invoke(app, ["synth", "--preset", "tiny", "--problems", str(tmp_path / "none.jsonl"), "--out", str(tmp_path / "b")])
    assert missing.exit_code == 2 and "does not exist" in missing.output
    bad_field = runner.invoke(app, ["synth", "--preset", "tiny", "--set", "search.branch=0", "--out", str(tmp_path / "c")])
    assert bad_field.exit_code == 2 and "search.branch" in bad_field.output


def test_problems_writes_the_mbpp_pool(tmp_path):
    out = tmp_path / "pool.jsonl"
    result = runner.invoke(app, ["problems", "mbpp", "--out", str(out)])  # the MBPP+ file shipped with selfevolve
    assert result.exit_code == 0, result.output
    pool = [json.loads(line) for line in out.read_text().splitlines()]
    assert len(pool) == 196 and all(int(r["id"].split("/")[1]) % 2 == 0 for r in pool)
    assert runner.invoke(app, ["problems", "humaneval", "--out", str(out)]).exit_code != 0


@pytest.mark.parametrize("mode", ["--lora", "--full"])
def test_train_fine_tunes_tiny_coder_on_its_records(tmp_path, mode):
    data = tmp_path / "sft.jsonl"
    records = [{"question": f"Here's the question:\nAdd {i} and {i}.", "solution": f"Step 1: add.\n```python\nprint({i} + {i})\n```"}
               for i in range(4)]
    data.write_text("".join(json.dumps(r) + "\n" for r in records))
    out = tmp_path / "sft"
    result = runner.invoke(app, ["train", "--data", str(data), "--model", "tiny-coder", "--out", str(out), mode,
                                 "--preset", "tiny", "--device", "cpu", "--set", "epochs=2"])
    assert result.exit_code == 0, result.output
    model, tokenizer = load_model(out / "model", device="cpu")
    assert model.config.vocab_size == len(tokenizer) and not any(p.name.startswith("adapter") for p in (out / "model").iterdir())
    before = load_file(Path(resolve_model_path("tiny-coder")) / "model.safetensors")
    after = load_file(out / "model" / "model.safetensors")
    assert set(after) <= set(before)
    assert any(not torch.equal(before[k].float(), after[k].float()) for k in after)
    losses = [json.loads(line).get("loss") for line in (out / "sft_log.jsonl").read_text().splitlines()]
    assert [x for x in losses if x is not None] and all(x > 0 for x in losses if x is not None)
