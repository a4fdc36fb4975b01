"""Suite-wide settings: never touch the network for models or datasets; fail on deprecations transformers logs."""

import logging
import os

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
# Tiny models on a 2-core machine: one torch thread per process is far faster than two, because the
# sandbox workers and the server subprocesses of the tests compete for the same cores.
os.environ.setdefault("OMP_NUM_THREADS", "1")
# The command-line runs and servers that tests start as subprocesses get pyproject's filterwarnings rule too.
# (The sandbox gives its interpreters an environment of its own, so model-written code is unaffected.)
os.environ.setdefault(
    "PYTHONWARNINGS",
    "error::FutureWarning,error::DeprecationWarning,ignore:`is_gradient_checkpointing` is deprecated:FutureWarning,"
    "ignore:`torch.distributed.reduce_op` is deprecated:FutureWarning,"
    "ignore:`torch.jit.script_method` is deprecated:DeprecationWarning",
)


class _DeprecationNotices(logging.Handler):
    """Collects the deprecations transformers reports through its logger rather than `warnings`
    (e.g. reading `output.past_key_values`), which pyproject's `filterwarnings` cannot see."""

    def __init__(self):
        super().__init__(logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        if "deprecated" in record.getMessage().lower():
            self.messages.append(record.getMessage())


@pytest.fixture(autouse=True)
def no_transformers_deprecation_notices():
    """Fail a test during which transformers logged a deprecation: our call must move to the current API."""
    notices = _DeprecationNotices()
    logger = logging.getLogger("transformers")  # transformers' loggers do not propagate to the root logger
    logger.addHandler(notices)
    yield
    logger.removeHandler(notices)
    assert not notices.messages, f"transformers logged a deprecation; use the current API: {notices.messages}"
