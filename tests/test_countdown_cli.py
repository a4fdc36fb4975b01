"""The countdown and behaviors command groups, end to end through typer."""

import json

from typer.testing import CliRunner

from selfevolve.cli.behaviors import app as behaviors_app
from selfevolve.cli.countdown import app as countdown_app

runner = CliRunner()


def test_score_accounts_for_every_record(tmp_path):
    lines = [
        json.dumps({"nums": [25, 3], "target": 22, "completion": "<answer>25 - 3</answer>"}),
        "{broken",
        json.dumps({"nums": [2, 3], "target": 8, "completion": "<answer>2**3</answer>"}),
        json.dumps({"nums": [2, 3], "target": 8}),
    ]
    source, out = tmp_path / "in.jsonl", tmp_path / "out.jsonl"
    source.write_text("\n".join(lines) + "\n")
    result = runner.invoke(countdown_app, ["score", str(source), "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert "scored 2 records, 2 malformed; mean reward 0.5500" in result.output
    records = [json.loads(line) for line in out.read_text().splitlines()]
    assert [r["verdict"] for r in records] == ["correct", "malformed", "disallowed_syntax", "malformed"]
    compat = runner.invoke(countdown_app, ["score", str(source), "--compat"])
    assert "mean reward 1.0000" in compat.output


def test_generate_and_solve(tmp_path):
    out = tmp_path / "p.jsonl"
    assert runner.invoke(countdown_app, ["generate", "-n", "5", "--seed", "1", "-o", str(out)]).exit_code == 0
    assert len(out.read_text().splitlines()) == 5
    result = runner.invoke(countdown_app, ["solve", "4,4,10,10", "24"])
    assert "(10 * 10 - 4) / 4" in result.output
    assert runner.invoke(countdown_app, ["solve", "four", "24"]).exit_code != 0


def test_prime_data_classify_and_eval(tmp_path):
    out = tmp_path / "prime.jsonl"
    result = runner.invoke(behaviors_app, ["prime-data", "--condition", "only_backtracking", "-n", "5", "-o", str(out)])
    assert result.exit_code == 0 and len(out.read_text().splitlines()) == 5
    classified = runner.invoke(behaviors_app, ["classify", str(out)])
    assert classified.exit_code == 0 and "backtracking" in classified.output
    evaluated = runner.invoke(behaviors_app, ["eval-classifier", "-n", "4"])
    assert evaluated.exit_code == 0 and "recall" in evaluated.output
    bad = runner.invoke(behaviors_app, ["classify", str(out), "--judge", "llm"])
    assert bad.exit_code != 0
