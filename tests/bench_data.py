"""Where the bench tests find the benchmark data: $SELFEVOLVE_BENCH_DATA, else the shared data folder
beside the repository (as CI lays it out), else the package's own copy; tests skip without it."""

import os
from pathlib import Path

import pytest

from selfevolve.bench.data import PACKAGE_DIR


def bench_data_dir() -> Path:
    candidates = [os.environ.get("SELFEVOLVE_BENCH_DATA"),
                  Path(__file__).resolve().parents[2] / "shared" / "data" / "benchmarks", PACKAGE_DIR]
    for c in candidates:
        if c and (Path(c) / "evalplus").is_dir():
            return Path(c)
    pytest.skip("benchmark data not found (set SELFEVOLVE_BENCH_DATA to the benchmark data folder)")
