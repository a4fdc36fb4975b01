"""SandboxConfig: every knob of the sandbox, each documented, validated on construction."""

from __future__ import annotations

import os
import sys
import tempfile
from dataclasses import dataclass, field

from selfevolve.sandbox.static import DEFAULT_BANNED_MODULES, DEFAULT_BANNED_NAMES

# Imported once in each zygote before it forks, so the jobs that use them do not pay for the import
# (none imports a module of the default banned list or of the code-io family's, which would hide it
# from the runtime import check). The list is what the AZR seed programs import most (typing 72 of
# 1,664 programs, collections 71, math 48, re 17, ...): every module here makes each fork and exit dearer
# (the page tables of its heap are copied), so rarely used ones are left to the jobs that import them.
DEFAULT_PREIMPORT: tuple[str, ...] = (
    "collections", "itertools", "functools", "math", "re", "string", "heapq", "bisect", "typing",
    "json", "operator",
)


@dataclass(frozen=True)
class SandboxConfig:
    """How untrusted programs are run. Defaults follow docs/spec/sandbox_threats.md §3 and hold for any task."""

    workers: int = field(default_factory=lambda: os.cpu_count() or 1)
    """Job slots running at once (each slot owns one zygote per hash seed)."""
    timeout: float = 10.0
    """Wall-clock seconds per job (all its inputs) unless the job sets its own; the reference uses 10 s."""
    memory_mb: int = 1024
    """Address-space limit (RLIMIT_AS) of each job process, MiB."""
    max_output_chars: int = 10_000
    """Longest repr of one return value; longer gives `output_limit` (never a truncated value)."""
    max_stdout_chars: int = 65_536
    """Most characters a job may print to stdout; more gives `output_limit`."""
    max_stderr_chars: int = 65_536
    """Most characters a job may print to stderr; more gives `output_limit`."""
    file_size_mb: int = 10
    """Largest file a job may write in its scratch directory (RLIMIT_FSIZE), MiB."""
    max_open_files: int = 64
    """RLIMIT_NOFILE of each job process."""
    max_processes: int = 1
    """RLIMIT_NPROC of the job's own uid: 1 means no new processes or threads."""
    banned_modules: tuple[str, ...] = DEFAULT_BANNED_MODULES
    """Modules, dotted names beneath them included, a program may not use, refused statically and at
    run time. The default is only what is unsafe for every task; a task family passes its own rules
    on top (the code-io family: `CodeIOConfig.sandbox_config()`, the list of docs/spec/azr.md §5.5)."""
    banned_names: tuple[str, ...] = DEFAULT_BANNED_NAMES
    """Task rule: names/attributes a program may not use (`__import__`, `__subclasses__`, ...)."""
    reject_multiple_functions: bool = False
    """Reject programs with more than one top-level function (nested defs and classes are always fine)."""
    check_determinism: bool = True
    """Run every job in two processes with different hash seeds; differing reprs -> `nondeterministic`."""
    hash_seeds: tuple[int, int] = (1, 2)
    """PYTHONHASHSEED of the two zygote families."""
    drop_privileges: bool = True
    """When running as root, run each job under its own unprivileged random uid/gid."""
    network_namespace: bool = True
    """Start zygotes in a fresh network namespace (`unshare -n`) when the machine allows it."""
    bubblewrap: bool = True
    """Start zygotes under bubblewrap (read-only root, private /tmp, no network) when `bwrap` exists."""
    preimport: tuple[str, ...] = DEFAULT_PREIMPORT
    """Stdlib modules each zygote imports before forking."""
    python: str = sys.executable
    """Interpreter for the zygotes (run as `python -s -S -P`)."""
    tmp_root: str = field(default_factory=tempfile.gettempdir)
    """Where zygotes create their scratch directories."""
    backstop_grace: float = 5.0
    """Extra seconds the parent waits for a zygote's answer before killing and restarting it."""

    def __post_init__(self) -> None:
        checks = [
            (self.workers >= 1, f"workers must be >= 1, got {self.workers}"),
            (self.timeout > 0, f"timeout must be > 0 seconds, got {self.timeout}"),
            (self.memory_mb >= 64, f"memory_mb must be >= 64 (the interpreter needs ~30 MiB), got {self.memory_mb}"),
            (self.max_output_chars >= 1, f"max_output_chars must be >= 1, got {self.max_output_chars}"),
            (self.max_stdout_chars >= 0 and self.max_stderr_chars >= 0, "stdout/stderr caps must be >= 0"),
            (self.file_size_mb >= 0, f"file_size_mb must be >= 0, got {self.file_size_mb}"),
            (self.max_open_files >= 8, f"max_open_files must be >= 8 (the runner needs a few), got {self.max_open_files}"),
            (self.max_processes >= 1, f"max_processes must be >= 1, got {self.max_processes}"),
            (len(self.hash_seeds) == 2 and self.hash_seeds[0] != self.hash_seeds[1],
             f"hash_seeds must be two different integers, got {self.hash_seeds}"),
            (os.path.isdir(self.tmp_root), f"tmp_root {self.tmp_root!r} is not a directory"),
        ]
        for ok, message in checks:
            if not ok:
                raise ValueError(f"SandboxConfig: {message}")
        object.__setattr__(self, "banned_modules", tuple(self.banned_modules))
        object.__setattr__(self, "banned_names", tuple(self.banned_names))
        object.__setattr__(self, "preimport", tuple(self.preimport))
