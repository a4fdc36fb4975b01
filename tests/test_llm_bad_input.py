"""Bad input gives errors that name the problem and the fix."""

from __future__ import annotations

import pytest
import torch
from typer.testing import CliRunner

from selfevolve.cli import app, _register
from selfevolve.llm import (
    InvalidSamplingParams,
    ModelLoadError,
    PromptTooLongError,
    SamplingParams,
    TransformersGenerator,
    load_model,
    validate_params,
)
from selfevolve.tinymodels.build import build_tiny
from selfevolve.tinymodels.corpus import write_corpus


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    path = tmp_path_factory.mktemp("corpus") / "corpus.jsonl"
    write_corpus(path, [f"def f(x):\n    return x + {i}" for i in range(50)])
    return path


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory, corpus):
    return build_tiny("nano", corpus, tmp_path_factory.mktemp("m") / "model")


def test_unknown_preset_names_the_choices(corpus, tmp_path):
    with pytest.raises(ValueError, match=r"unknown size preset 'huge'; choose one of nano, micro, small"):
        build_tiny("huge", corpus, tmp_path / "out")
    _register()
    result = CliRunner().invoke(app, ["tiny", "build", "--preset", "huge", "--corpus", str(corpus), "--out", str(tmp_path / "o")])
    assert result.exit_code == 2 and "unknown size preset" in result.output


def test_bad_corpus_line_names_file_and_line(tmp_path):
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"text": "ok"}\nnot json\n')
    with pytest.raises(ValueError, match=r"bad.jsonl:2: expected a JSON object"):
        build_tiny("nano", bad, tmp_path / "out")


def test_non_empty_output_dir_is_refused(corpus, model_dir):
    with pytest.raises(FileExistsError, match="not empty; pass a new --out"):
        build_tiny("nano", corpus, model_dir)


def _copy(src, dst):
    dst.mkdir()
    for f in src.iterdir():
        if f.is_file():
            (dst / f.name).write_bytes(f.read_bytes())
    return dst


@pytest.mark.parametrize(
    "damage, message",
    [
        (lambda d: (d / "config.json").write_text("{not json"), "config.json is not valid JSON"),
        (lambda d: (d / "config.json").unlink(), "has no config.json"),
        (lambda d: (d / "model.safetensors").unlink(), "holds no weights"),
        (lambda d: (d / "model.safetensors").write_bytes(b"\x00" * 64), "looks corrupt or incomplete"),
        (lambda d: (d / "tokenizer.json").unlink() or (d / "tokenizer_config.json").unlink(), "no tokenizer files"),
    ],
    ids=["config-garbage", "config-missing", "weights-missing", "weights-truncated", "tokenizer-missing"],
)
def test_corrupt_model_directory(model_dir, tmp_path, damage, message):
    broken = _copy(model_dir, tmp_path / "broken")
    damage(broken)
    with pytest.raises(ModelLoadError, match=message):
        load_model(broken, device="cpu")


def test_uncached_hub_id_fails_at_once_naming_it():
    with pytest.raises(ModelLoadError, match=r"'nobody-xyz/NoSuchModel-0.5B'.*pass its local directory"):
        load_model("nobody-xyz/NoSuchModel-0.5B")


def test_serve_with_a_missing_model_exits_cleanly():
    _register()
    result = CliRunner().invoke(app, ["serve", "nobody-xyz/none", "--port", "9"])
    assert result.exit_code == 2 and "we never download" in result.output


def test_unknown_dtype_names_the_choices(model_dir):
    with pytest.raises(ValueError, match="unknown dtype 'float7'; use float32, bfloat16 or float16"):
        load_model(model_dir, device="cpu", dtype="float7")


def test_unknown_shipped_name_lists_the_shipped_models():
    with pytest.raises(ModelLoadError, match="not a shipped model"):
        load_model("tiny-nonexistent")


def test_prompt_longer_than_context(model_dir):
    model, tokenizer = load_model(model_dir, device="cpu", dtype=torch.float32)
    gen = TransformersGenerator(model, tokenizer)
    long_prompt = "def f(x): return x\n" * 400
    with pytest.raises(PromptTooLongError, match=r"prompt 1 has \d+ tokens but the model's context is 512.*shorten the prompt"):
        gen.generate(["ok", long_prompt], SamplingParams(max_new_tokens=4))


@pytest.mark.parametrize(
    "kwargs, field",
    [
        ({"n": 0}, "n"),
        ({"max_new_tokens": 0}, "max_new_tokens"),
        ({"temperature": -0.5}, "temperature"),
        ({"top_p": 0.0}, "top_p"),
        ({"top_p": 1.5}, "top_p"),
        ({"top_k": -1}, "top_k"),
        ({"stop": "</answer>"}, "stop"),
        ({"stop": ("",)}, "stop"),
    ],
)
def test_invalid_sampling_params_name_the_field(kwargs, field):
    with pytest.raises(InvalidSamplingParams, match=rf"SamplingParams\.{field}=.* is invalid; use"):
        validate_params(SamplingParams(**kwargs))
