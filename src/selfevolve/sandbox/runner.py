"""Child-side code: runs in the forked job process, between the fork and `os._exit`.

Loaded by the zygote from its file path (stdlib only, no package imports). Order matters:
new session -> scratch dir -> rlimits -> drop uid -> nonce -> audit hook -> user code -> one record.
Nothing here is trusted after user code starts; the parent validates what comes back.
"""

from __future__ import annotations

import builtins
import json
import os
import resource
import sys

# Events refused outright once user code runs (docs/spec/sandbox_threats.md §2, classes 1-3, 5, 8, 9, 14, 19).
BLOCKED_EVENTS = frozenset({
    "os.system", "os.exec", "os.posix_spawn", "os.spawn", "os.fork", "os.forkpty", "os.startfile",
    "subprocess.Popen", "pty.spawn", "os.kill", "os.killpg", "signal.pthread_kill",
    "os.remove", "os.rmdir", "os.rename", "os.link", "os.symlink", "os.chmod", "os.chown",
    "os.truncate", "os.chroot", "os.setxattr", "os.removexattr", "os.utime", "shutil.rmtree",
    "sys.addaudithook", "sys._current_frames", "gc.get_objects", "gc.get_referrers", "gc.get_referents",
    "mmap.__new__", "resource.setrlimit", "resource.prlimit", "builtins.input", "os.chflags",
})
BLOCKED_PREFIXES = ("ctypes.", "socket.", "_ctypes.", "winreg.")
# Modules refused at import whatever the task's banned list says.
HARD_BANNED_MODULES = (
    "ctypes", "_ctypes", "cffi", "socket", "_socket", "ssl", "_ssl", "subprocess", "_posixsubprocess",
    "multiprocessing", "_multiprocessing", "pty", "signal", "resource", "mmap", "_xxsubinterpreters",
)
_WRITE_FLAGS = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_APPEND | os.O_TRUNC


class _CappedText:
    """sys.stdout / sys.stderr replacement: keeps at most `cap` chars, ends the job when exceeded."""

    def __init__(self, cap: int, on_overflow):
        self.cap, self.parts, self.size, self.on_overflow = cap, [], 0, on_overflow

    def write(self, s):
        s = str(s)
        self.size += len(s)
        if self.size > self.cap:
            self.on_overflow()
        self.parts.append(s)
        return len(s)

    def flush(self):
        return None

    def isatty(self):
        return False

    def text(self) -> str:
        return "".join(self.parts)


def child_main(job_json: memoryview, timeout: float, cfg: dict, nonce_fd: int, result_fd: int) -> None:
    """Run one job and exit; never returns. Any setup failure becomes a sandbox_error record."""
    emit = emit_to(result_fd)
    try:
        os.setsid()
        nonce = bytearray(16)
        os.readv(nonce_fd, [nonce])
        os.close(nonce_fd)
        os.write(result_fd, nonce)
        nonce[:] = bytes(16)
        del nonce
        os.chdir(cfg["workdir"])
        _set_limits(cfg, timeout)
        job = json.loads(job_json.tobytes())
    except BaseException as e:  # noqa: BLE001 - anything here is the sandbox's fault
        emit({"status": "sandbox_error", "outputs": [], "error": f"child setup failed: {type(e).__name__}: {e}"})
        os._exit(0)
    emit(_execute(job, cfg, emit))
    os._exit(0)


def _drop_privileges(uid: int | None) -> None:
    if uid is not None:
        os.setgroups([])
        os.setgid(uid)
        os.setuid(uid)


def _preload(modules: list[str]) -> None:
    """Import the modules the program names while still root (the hook already active): the Python
    installation may be unreadable for the job's uid (e.g. under /root)."""
    for name in modules:
        try:
            __import__(name)
        except Exception:  # noqa: BLE001 - user code will raise the real error itself
            pass


def _set_limits(cfg: dict, timeout: float) -> None:
    cpu = int(timeout) + 1
    mem = cfg["memory_mb"] * 2**20
    fsize = cfg["file_size_mb"] * 2**20
    for limit, value in (
        (resource.RLIMIT_CPU, (cpu, cpu + 1)),
        (resource.RLIMIT_AS, (mem, mem)),
        (resource.RLIMIT_FSIZE, (fsize, fsize)),
        (resource.RLIMIT_NOFILE, (cfg["max_open_files"], cfg["max_open_files"])),
        (resource.RLIMIT_NPROC, (cfg["max_processes"], cfg["max_processes"])),
        (resource.RLIMIT_CORE, (0, 0)),
    ):
        resource.setrlimit(limit, value)


def emit_to(result_fd: int):
    """A writer for the single body record, bound now so that user code cannot patch what it uses."""
    encode = json.JSONEncoder(ensure_ascii=True).encode
    write = os.write

    def emit(record: dict) -> None:
        data = encode(record).encode("ascii")
        view = memoryview(data)
        while view:
            view = view[write(result_fd, view):]

    return emit


def _execute(job: dict, cfg: dict, emit) -> dict:
    """Compile everything first, then install the hook and run user code; returns the body record."""
    program = "\n".join(job["imports"] + [job["program"]])
    try:
        code = compile(program, "<program>", "exec")
        calls = [compile(f"{job['entry']}({text}\n)", f"<input {i}>", "eval") for i, text in enumerate(job["inputs"])]
    except (SyntaxError, ValueError) as e:
        return _record("syntax_error", [], _describe(e))
    out_cap, repr_ = cfg["max_output_chars"], builtins.repr

    def overflow(what: str):
        def stop():
            emit({"status": "output_limit", "outputs": [], "error": f"{what} exceeded {cfg['max_' + what + '_chars']} chars"})
            os._exit(0)
        return stop

    stdout = _CappedText(cfg["max_stdout_chars"], overflow("stdout"))
    stderr = _CappedText(cfg["max_stderr_chars"], overflow("stderr"))
    sys.stdout, sys.stderr = stdout, stderr
    sys.addaudithook(_audit_hook(cfg, emit))
    _preload(job["modules"])
    _drop_privileges(cfg["uid"])
    namespace = {"__name__": "__main__", "__builtins__": builtins}
    outputs = []
    try:
        exec(code, namespace)
        order = range(len(calls) - 1, -1, -1) if cfg["recheck"] else range(len(calls))
        results = {}
        for i in order:
            value = eval(calls[i], namespace)
            if cfg["recheck"]:  # second call in the same process: state left by the first shows up
                value = eval(calls[i], namespace)
            results[i] = value
        for i in range(len(calls)):
            text = repr_(results[i])
            if type(text) is not str:
                raise TypeError("__repr__ returned a non-string")
            if len(text) > out_cap:
                return _record("output_limit", [], f"repr of output {len(outputs)} has {len(text)} chars > {out_cap}")
            outputs.append(str.__str__(text))
    except MemoryError:
        namespace.clear()
        results = None
        return _record("memory_limit", [], "MemoryError", stdout, stderr)
    except BaseException as e:  # noqa: BLE001 - SystemExit, KeyboardInterrupt etc. are user failures too
        return _record("runtime_error", [], _describe(e), stdout, stderr)
    return _record("ok", outputs, "", stdout, stderr)


def _record(status: str, outputs: list, error: str, stdout: _CappedText | None = None,
            stderr: _CappedText | None = None) -> dict:
    return {"status": status, "outputs": outputs, "error": error,
            "stdout": stdout.text() if stdout else "", "stderr": stderr.text() if stderr else ""}


def _describe(e: BaseException) -> str:
    try:
        return f"{type(e).__name__}: {str(e)[:500]}"
    except BaseException:  # noqa: BLE001 - a hostile __str__
        return type(e).__name__


def _audit_hook(cfg: dict, emit):
    """Second layer, not a boundary: C code (e.g. ctypes, refused first) can bypass it."""
    workdir = cfg["workdir"]
    read_roots = tuple(cfg["read_roots"]) + (workdir,)
    banned = tuple(cfg["banned_modules"]) + HARD_BANNED_MODULES
    realpath, fsdecode, exit_ = os.path.realpath, os.fsdecode, os._exit

    def inside(path, roots) -> bool:
        p = realpath(fsdecode(path))
        return any(p == r or p.startswith(r + "/") for r in roots)

    def refuse(event: str, detail: str = "") -> None:
        emit({"status": "unsafe", "outputs": [], "error": f"blocked by the sandbox: {event} {detail}".strip(),
              "stdout": "", "stderr": ""})
        exit_(0)

    def hook(event: str, args: tuple) -> None:
        if event in BLOCKED_EVENTS or event.startswith(BLOCKED_PREFIXES):
            refuse(event)
        elif event == "import":
            name = args[0]
            if any(name == b or name.startswith(b + ".") for b in banned):
                refuse("import", name)
        elif event == "open":
            path, mode, flags = args
            if isinstance(path, int):
                return
            writing = (mode is not None and any(c in mode for c in "wax+")) or (flags or 0) & _WRITE_FLAGS
            if not inside(path, (workdir,) if writing else read_roots):
                refuse("open", f"{'write' if writing else 'read'} {fsdecode(path)[:200]!r}")
        elif event in ("os.listdir", "os.scandir", "os.mkdir", "os.chdir"):
            path = args[0] if args[0] is not None else "."
            if not isinstance(path, int) and not inside(path, (workdir,) if event == "os.mkdir" else read_roots):
                refuse(event, repr(path)[:200])

    return hook
