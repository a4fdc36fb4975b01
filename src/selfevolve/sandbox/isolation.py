"""Which OS isolation layers this machine offers, detected once at start-up."""

from __future__ import annotations

import functools
import os
import shutil
import subprocess
import sysconfig
from dataclasses import dataclass

from selfevolve.sandbox.config import SandboxConfig


@dataclass(frozen=True)
class Layer:
    name: str
    active: bool
    detail: str


@functools.lru_cache(maxsize=None)
def can_unshare_net() -> bool:
    """True when `unshare -n` works here (root or user namespaces allowed)."""
    exe = shutil.which("unshare")
    if not exe:
        return False
    try:
        return subprocess.run([exe, "-n", "true"], capture_output=True, timeout=10).returncode == 0
    except (OSError, subprocess.SubprocessError):
        return False


def bwrap_path() -> str | None:
    return shutil.which("bwrap")


def launch_prefix(config: SandboxConfig) -> list[str]:
    """Command prefix that wraps each zygote in the strongest available OS isolation."""
    bwrap = bwrap_path() if config.bubblewrap else None
    if bwrap:
        return [bwrap, "--ro-bind", "/", "/", "--dev-bind", "/dev", "/dev", "--tmpfs", config.tmp_root,
                "--unshare-net", "--unshare-ipc", "--unshare-uts", "--die-with-parent", "--"]
    if config.network_namespace and can_unshare_net():
        return [shutil.which("unshare") or "unshare", "-n", "--"]
    return []


def read_roots(config: SandboxConfig) -> list[str]:
    """Directories a job may read besides its scratch dir: the interpreter's standard library."""
    paths = sysconfig.get_paths()
    roots = {os.path.realpath(paths[k]) for k in ("stdlib", "platstdlib")}
    return sorted(roots)


def job_uid_available(config: SandboxConfig) -> bool:
    return config.drop_privileges and os.geteuid() == 0


def layers(config: SandboxConfig) -> list[Layer]:
    """What `selfevolve sandbox info` shows."""
    prefix = launch_prefix(config)
    bwrap = bool(prefix) and os.path.basename(prefix[0]) == "bwrap"
    netns = bool(prefix)
    root = os.geteuid() == 0
    return [
        Layer("separate interpreter", True, "fork server: fresh `python -s -S -P`, minimal env, own session; one child per job"),
        Layer("unprivileged uid", job_uid_available(config),
              "each zygote's jobs run under their own random uid/gid" if root
              else "not root: jobs keep the caller's uid (RLIMIT_NPROC then counts the caller's processes)"),
        Layer("network namespace", netns, "bubblewrap --unshare-net" if bwrap else
              ("unshare -n" if netns else "unavailable (no permission for `unshare -n`)")),
        Layer("bubblewrap", bwrap, "read-only root, private tmp" if bwrap else "`bwrap` not installed"),
        Layer("rlimits", True, f"CPU timeout+1 s, AS {config.memory_mb} MiB, FSIZE {config.file_size_mb} MiB, "
                               f"NOFILE {config.max_open_files}, NPROC {config.max_processes}, CORE 0"),
        Layer("wall-clock kill", True, f"{config.timeout:g} s default; SIGKILL to the job's process group"),
        Layer("audit hook", True, "second layer only (not a security boundary): process creation, sockets, "
                                  "ctypes, banned imports, file writes/reads outside scratch, os.kill, gc"),
        Layer("two hash seeds", config.check_determinism, f"PYTHONHASHSEED {config.hash_seeds[0]} vs {config.hash_seeds[1]}"),
    ]
