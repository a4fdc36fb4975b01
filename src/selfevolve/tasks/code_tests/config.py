"""Settings of the code-with-tests family: how candidate programs and their tests run in the sandbox."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from selfevolve.sandbox import SandboxConfig
from selfevolve.sandbox.static import DEFAULT_BANNED_MODULES

# What a general Python solution (LeetCode, MBPP) never needs and only serves to reach outside the
# program or to tamper with the interpreter, on top of the sandbox's own list (processes, sockets,
# raw memory, signals). Everything else of the standard library stays usable: math, collections,
# heapq, re, itertools, functools, bisect, string, typing, sys (setrecursionlimit), random, ...
UNSAFE_MODULES: tuple[str, ...] = (
    "os", "shutil", "pathlib", "tempfile", "glob", "fileinput",  # the file system
    "threading", "_thread", "concurrent", "asyncio",  # threads (the job may not start any anyway)
    "http", "urllib", "ftplib", "smtplib", "socketserver", "webbrowser",  # the network
    "pickle", "marshal", "shelve", "dbm", "sqlite3",  # code and data from disk
    "builtins", "inspect", "gc", "code", "codeop", "pdb", "runpy", "zipimport", "sys.modules",  # the interpreter
)


class CodeTestsConfig(BaseModel):
    """How a program and its test statements are run and judged."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    timeout: float = Field(5.0, gt=0, description="Wall-clock seconds per test (the program and one test statement).")
    memory_mb: int = Field(1024, ge=64, description="Address-space limit of each test's process, MiB.")
    max_output_chars: int = Field(100_000, ge=1, description="Longest repr of the values a test returns for comparison.")
    banned_modules: tuple[str, ...] = Field(
        UNSAFE_MODULES, description="Modules (and dotted names) a program may not use, on top of the sandbox's own list."
    )
    equality: Literal["strict", "python"] = Field(
        "strict",
        description="How `assert CALL == VALUE` compares, in this process: 'strict' is type-exact (1 != 1.0, "
        "(1,) != [1]); 'python' is plain == of the parsed values (MBPP's own semantics).",
    )
    check_determinism: bool = Field(
        False, description="Also run each test under a second hash seed and fail it when the two runs differ."
    )

    def sandbox_config(self, **settings) -> SandboxConfig:
        """The SandboxConfig for this family's jobs: `settings` (workers, ...) and the banned modules on
        top of the sandbox's own, refused statically and at run time.

            with Sandbox(CodeTestsConfig().sandbox_config(workers=2)) as sandbox: ...
        """
        settings = {"timeout": self.timeout, "memory_mb": self.memory_mb, "max_output_chars": self.max_output_chars} | settings
        return SandboxConfig(banned_modules=DEFAULT_BANNED_MODULES + self.banned_modules, **settings)
