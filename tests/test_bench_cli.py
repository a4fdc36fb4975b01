"""`selfevolve bench score` on a samples file, `bench run` end to end with the shipped tiny model, and a
run killed with SIGKILL that resumes to every sample exactly once."""

import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest
from typer.testing import CliRunner

from bench_data import bench_data_dir
from selfevolve.bench import samples as samples_file
from selfevolve.cli.bench import app

SRC = Path(__file__).resolve().parents[1] / "src"


def _text(result) -> str:
    """The command's output with rich's line wrapping undone."""
    return " ".join(result.output.split())


@pytest.fixture
def env(tmp_path, monkeypatch):
    monkeypatch.setenv("SELFEVOLVE_BENCH_DATA", str(bench_data_dir()))
    monkeypatch.setenv("SELFEVOLVE_CACHE_DIR", str(tmp_path / "cache"))
    return tmp_path


def test_score_command_on_an_evalplus_samples_file(env):
    from selfevolve.bench.evalplus import EvalPlusSuite

    tasks = EvalPlusSuite("humaneval", plus=True).load(None)[:2]
    lines = []
    for t in tasks:  # two samples per task: the canonical solution, then a stub
        lines += [{"task_id": t.task_id, "solution": t.canonical_program},
                  {"task_id": t.task_id, "completion": "    return None\n"}]
    path = env / "samples.jsonl"
    path.write_text("".join(json.dumps(x) + "\n" for x in lines))
    res = CliRunner().invoke(app, ["score", "humaneval+", "--samples", str(path), "--out", str(env / "r.json"),
                                   "--model", "canonical"])
    assert res.exit_code == 0, res.output
    data = json.loads((env / "r.json").read_text())
    assert set(data) == {"suite", "model", "n_samples", "metrics", "tasks"}
    assert data["suite"] == "humaneval+" and data["model"] == "canonical" and data["n_samples"] == 2
    assert data["tasks"][tasks[0].task_id] == {"correct": [True, False], "base": [True, False], "plus": [True, False]}
    assert data["metrics"] == {"pass@1": 0.5, "base_pass@1": 0.5}
    assert "162 of 164 tasks have no samples" in _text(res)


def test_score_rejects_unknown_tasks_and_bad_lines(env):
    path = env / "s.jsonl"
    path.write_text('{"task_id": "HumanEval/9999", "solution": "x"}\n')
    res = CliRunner().invoke(app, ["score", "humaneval", "--samples", str(path), "--out", str(env / "r.json")])
    assert res.exit_code == 2 and "not in humaneval" in _text(res)
    path.write_text('{"task_id": "HumanEval/0", "solution": "x"}\nnot json\n')
    res = CliRunner().invoke(app, ["score", "humaneval", "--samples", str(path), "--out", str(env / "r.json")])
    assert res.exit_code == 2 and "s.jsonl:2 is not JSON" in _text(res)


def test_run_end_to_end_with_the_tiny_model(env):
    out = env / "runs"
    res = CliRunner().invoke(app, ["run", "humaneval", "--model", "tiny-coder", "--limit", "2", "--max-new-tokens", "8",
                                   "--batch-size", "2", "--out", str(out), "--device", "cpu"])
    assert res.exit_code == 0, res.output
    records = samples_file.read(out / "humaneval" / "samples.jsonl")
    assert [(r["task_id"], r["index"]) for r in records] == [("HumanEval/0", 0), ("HumanEval/1", 0)]
    assert all(set(r) == {"task_id", "index", "solution", "raw", "finish_reason", "tokens"} for r in records)
    assert all(0 < r["tokens"] <= 8 for r in records)
    data = json.loads((out / "humaneval" / "results.json").read_text())
    assert data["model"] == "tiny-coder" and list(data["tasks"]) == ["HumanEval/0", "HumanEval/1"]
    again = CliRunner().invoke(app, ["run", "humaneval", "--model", "tiny-coder", "--limit", "2", "--out", str(out)])
    assert again.exit_code == 2 and "--resume" in _text(again)  # never appends to a finished run silently


def test_a_killed_run_resumes_with_every_sample_exactly_once(env):
    out = env / "runs"
    samples_path = out / "cruxeval-o" / "samples.jsonl"
    cmd = [sys.executable, "-m", "selfevolve", "bench", "run", "cruxeval-o", "--model", "tiny-coder", "--limit", "30",
           "--max-new-tokens", "24", "--batch-size", "1", "--out", str(out), "--device", "cpu"]
    environment = {**os.environ, "PYTHONPATH": str(SRC)}
    proc = subprocess.Popen(cmd, env=environment, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 300
    while not (samples_path.exists() and samples_path.read_bytes().count(b"\n") >= 2):
        assert proc.poll() is None, "the run ended before it could be killed"
        assert time.monotonic() < deadline, "no batch was written in time"
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    written = samples_path.read_bytes().count(b"\n")
    assert written < 30 and not (out / "cruxeval-o" / "results.json").exists()
    with open(samples_path, "ab") as f:  # what a kill in the middle of a write leaves behind
        f.write(b'{"task_id": "sample_')
    resumed = subprocess.run(cmd + ["--resume"], env=environment, capture_output=True, text=True, timeout=600)
    assert resumed.returncode == 0, resumed.stdout + resumed.stderr
    records = samples_file.read(samples_path)
    counts = Counter((r["task_id"], r["index"]) for r in records)
    assert len(counts) == 30 and set(counts.values()) == {1}
    data = json.loads((out / "cruxeval-o" / "results.json").read_text())
    assert len(data["tasks"]) == 30 and all(len(v["correct"]) == 1 for v in data["tasks"].values())


def test_run_through_an_openai_compatible_endpoint(env):
    from local_server import serve_in_thread
    from selfevolve.llm import TransformersGenerator, load_model
    from selfevolve.llm.server import create_app

    model, tokenizer = load_model("tiny-coder", device="cpu")
    out = env / "runs"
    with serve_in_thread(create_app(TransformersGenerator(model, tokenizer), "tiny-coder")) as url:
        res = CliRunner().invoke(app, ["run", "math500", "--generator", "openai", "--model", url, "--api-model",
                                       "tiny-coder", "--limit", "2", "--max-new-tokens", "8", "--out", str(out)])
    assert res.exit_code == 0, res.output
    records = samples_file.read(out / "math500" / "samples.jsonl")
    assert [r["task_id"] for r in records] == ["math500/0", "math500/1"]
    assert all(isinstance(r["completion"], str) and r["finish_reason"] in ("stop", "length") for r in records)
    assert json.loads((out / "math500" / "run.json").read_text())["style"] == "api"


def test_resume_refuses_another_math_template(env):
    out = env / "runs"
    first = ["run", "gsm8k", "--model", "tiny-coder", "--limit", "1", "--max-new-tokens", "4", "--out", str(out),
             "--device", "cpu"]
    assert CliRunner().invoke(app, first).exit_code == 0
    assert json.loads((out / "gsm8k" / "run.json").read_text())["math_template"] == "azr"
    again = CliRunner().invoke(app, first + ["--resume", "--math-template", "qwen25-math-cot"])
    assert again.exit_code == 2 and "math_template" in _text(again)
