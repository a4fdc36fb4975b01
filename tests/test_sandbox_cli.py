"""`selfevolve sandbox run/info/demo`: bad JSONL never crashes, every id comes back exactly once."""

import json

from typer.testing import CliRunner

from selfevolve.cli.sandbox import app

runner = CliRunner()


def test_run_jsonl_with_bad_lines(tmp_path):
    lines = [
        json.dumps({"id": "ok", "program": "def f(x):\n    return x + 1", "inputs": ["1"]}),
        "not json at all",
        json.dumps([1, 2]),
        json.dumps({"id": "noprog", "program": 5}),
        json.dumps({"id": "badinputs", "program": "def f(x):\n    return x", "inputs": "1"}),
        "",
        json.dumps({"program": "def f(x):\n    return x", "inputs": ["2"]}),
        json.dumps({"id": "boom", "program": "def f(x):\n    return 1/0", "inputs": ["1"], "timeout": 2}),
    ]
    jobs = tmp_path / "jobs.jsonl"
    jobs.write_text("\n".join(lines) + "\n")
    out = tmp_path / "results.jsonl"
    result = runner.invoke(app, ["run", str(jobs), "-o", str(out), "--workers", "1"])
    assert result.exit_code == 0, result.output
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert [r["id"] for r in rows] == ["ok", "2", "3", "noprog", "badinputs", "7", "boom"]
    by_id = {r["id"]: r for r in rows}
    assert by_id["ok"]["status"] == "ok" and by_id["ok"]["outputs"] == ["2"]
    assert by_id["2"]["status"] == "sandbox_error" and "not JSON" in by_id["2"]["error"]
    assert "'inputs' must be a list" in by_id["badinputs"]["error"]
    assert by_id["7"]["outputs"] == ["2"]
    assert by_id["boom"]["status"] == "runtime_error"


def test_run_to_stdout(tmp_path):
    jobs = tmp_path / "jobs.jsonl"
    jobs.write_text(json.dumps({"id": "a", "program": "def f():\n    return (1, 'x')", "inputs": [""]}) + "\n")
    result = runner.invoke(app, ["run", str(jobs), "--workers", "1"])
    assert result.exit_code == 0
    assert json.loads(result.stdout)["outputs"] == ["(1, 'x')"]


def test_info_lists_layers():
    result = runner.invoke(app, ["info"])
    assert result.exit_code == 0
    assert "audit hook" in result.output and "rlimits" in result.output


def test_help_has_examples():
    for cmd in ("run", "info", "demo"):
        result = runner.invoke(app, [cmd, "--help"])
        assert result.exit_code == 0 and "Example" in result.output
