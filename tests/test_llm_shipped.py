"""Smoke test of each shipped tiny model: load by name, generate in its own task format."""

from __future__ import annotations

import json

import pytest
import torch

from selfevolve.llm import SamplingParams, TransformersGenerator, load_model, shipped_models
from selfevolve.llm.loading import SHIPPED_DIR

MAX_BYTES = 25 * 1024 * 1024


def test_both_tiny_models_are_shipped():
    assert {"tiny-coder", "tiny-countdown"} <= set(shipped_models())


@pytest.mark.parametrize(
    "name, prompt, marker",
    [
        ("tiny-coder", "User: Solve deduction: give the output of f on the input.\n```python\ndef f(n):\n    a = n + 3\n    return a\n```\n```input\n4\n```\nAssistant: <think>", "<answer>"),
        ("tiny-countdown", None, "<answer>"),
    ],
)
def test_shipped_model_loads_and_generates_its_format(name, prompt, marker):
    if prompt is None:
        from selfevolve.tasks.countdown import generate_problems, render_prompt

        prompt = render_prompt(generate_problems(1, seed=5)[0], "base")
    model, tokenizer = load_model(name, device="cpu", dtype=torch.float32)
    out = TransformersGenerator(model, tokenizer).generate([prompt], SamplingParams(max_new_tokens=120, temperature=0.0, stop=("</answer>",)))[0][0]
    assert marker in out.text and out.finish_reason == "stop"
    directory = SHIPPED_DIR / name
    assert sum(f.stat().st_size for f in directory.iterdir()) <= MAX_BYTES
    assert "Held-out task accuracy" in (directory / "README.md").read_text()
    assert json.loads((directory / "config.json").read_text())["model_type"] == "qwen2"
