"""Suite-wide settings: never touch the network for models or datasets."""

import os

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
# Tiny models on a 2-core machine: one torch thread per process is far faster than two, because the
# sandbox workers and the server subprocesses of the tests compete for the same cores.
os.environ.setdefault("OMP_NUM_THREADS", "1")
