"""The run report a person reads: what ran and the headline figures first, to 3 decimals, config folded away."""

from __future__ import annotations

from selfevolve.report.html import render
from selfevolve.report.run import Headline, Plot, run_report

HEADLINES = (Headline("eval/all/accuracy", "held-out accuracy, all types (greedy)"),
             Headline("eval/all/accuracy_t1", "held-out accuracy, all types (T=1)"),
             Headline("eval/never/logged", "a figure this run did not log"))
RECORDS = [
    {"step": 0, "eval/all/accuracy": 0.1, "eval/all/accuracy_t1": 1 / 12, "time/elapsed": 5.0},
    {"step": 1, "reward/mean": 0.5, "time/elapsed": 60.0},
    {"step": 2, "eval/all/accuracy": 2 / 15, "eval/all/accuracy_t1": 0.0625, "time/elapsed": 125.4},
]
ORIGIN = {"preset": "tiny", "overrides": ["steps=2"], "resumes": [["steps=4"]]}


def _html(control: str = "none") -> str:
    cfg = {"model": "tiny-coder", "steps": 2, "seed": 7, "control": control}
    report = run_report("AZR: r", cfg, "model: tiny-coder\nsteps: 2\n", ORIGIN, RECORDS, HEADLINES,
                        (Plot("held-out accuracy", ("eval/all/accuracy",)),), [])
    return render(report)


def test_headline_figures_open_the_report_formatted_with_their_change():
    html = _html()
    # first -> last value and the change, to 3 decimals; no raw float reprs anywhere
    assert "0.100 → 0.133 (+0.033) over steps 0 → 2" in html
    for shown in ("0.083", "0.062", "-0.021"):
        assert shown in html
    assert "0.0833" not in html and "0.1333" not in html
    assert "a figure this run did not log" not in html
    # what ran, before the headline table, and the config folded away after it
    for fact in ("tiny-coder", "tiny", "--set steps=2", "--set steps=4", "2 of 2", "2 min 05 s"):
        assert fact in html, fact
    assert html.index("2 min 05 s") < html.index("Headline figures") < html.index("<img") < html.index("<details>")
    assert html.index("<details>") < html.index("steps: 2\n")
    assert "This run is a control" not in html


def test_a_control_run_says_so_at_the_top():
    html = _html("shuffled_solver_rewards")
    warning = html.index("This run is a control (shuffled_solver_rewards)")
    assert warning < html.index("Headline figures")
