"""Code with tests: a Python program and test statements (usually asserts) run after it, in the sandbox.

The family behind SRA-MCTS's execution-verified filtering, and for METEOR to reuse. A task is a
problem statement with tests; a completion is parsed for its program (`extract_code`: the last fenced
Python block); verification runs every test against it in the sandbox, one job per test with a
per-test timeout, and judges the asserts' values in this process, type-strictly (`checks`); the
reward is the pass rate. `CodeTestsConfig.sandbox_config` opens the sandbox with the family's banned
modules. No model here.
"""

from selfevolve.tasks.code_tests.checks import Check, TestPlan, judge, plan_test
from selfevolve.tasks.code_tests.config import UNSAFE_MODULES, CodeTestsConfig
from selfevolve.tasks.code_tests.parsing import extract_code, split_tests, strip_main_guard
from selfevolve.tasks.code_tests.verification import TestResult, Verification, require_run_time_bans, verify

__all__ = [
    "Check", "CodeTestsConfig", "TestPlan", "TestResult", "UNSAFE_MODULES", "Verification", "extract_code", "judge",
    "plan_test", "require_run_time_bans", "split_tests", "strip_main_guard", "verify",
]
