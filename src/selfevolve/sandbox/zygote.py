"""The fork server: a fresh `python -s -S -P` interpreter that forks one child per job.

It never runs user code itself. Per job it reads one request frame from the parent, forks, enforces
the wall-clock deadline on the child (SIGKILL to the child's process group), reaps it, and forwards
what the child wrote on its result pipe together with the wait status. Stdlib only: this file is
loaded by path inside the isolated interpreter, and imported normally by the parent for framing.
"""

from __future__ import annotations

import gc
import json
import os
import select
import shutil
import struct
import sys
import time

FRAME_LEN = struct.Struct(">I")  # every frame: 4-byte big-endian length, then the payload
NONCE_BYTES = 16
# A request is the nonce, then the two numbers the zygote itself needs (wall-clock timeout in s,
# record cap in bytes), then the job as JSON, which only the child decodes.
REQUEST = struct.Struct(">dI")
# Per job the zygote sends two frames: STARTED (the child's pid, so that the parent can kill the
# job's process group if the zygote stops answering) and DONE (wait status, timed out, record over
# its cap) followed by the raw record.
STARTED = struct.Struct(">i")
DONE = struct.Struct(">i??")
_SIGKILL = 9  # not `signal.SIGKILL`: importing `signal` here would let jobs import it unseen


def write_frame(fd: int, payload: bytes) -> None:
    data = memoryview(FRAME_LEN.pack(len(payload)) + payload)
    while data:
        data = data[os.write(fd, data):]


def read_exact(fd: int, n: int) -> bytearray | None:
    """n bytes from fd (blocking), or None on EOF."""
    buf = bytearray()
    while len(buf) < n:
        chunk = os.read(fd, n - len(buf))
        if not chunk:
            return None
        buf += chunk
    return buf


def read_frame(fd: int) -> bytearray | None:
    head = read_exact(fd, FRAME_LEN.size)
    return None if head is None else read_exact(fd, FRAME_LEN.unpack(head)[0])


def main(runner) -> None:
    """Read the config frame, then serve jobs until the parent closes the control pipe."""
    ctl_in, ctl_out = os.dup(0), os.dup(1)
    cfg = json.loads(bytes(read_frame(ctl_in)))
    devnull = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2):
        os.dup2(devnull, fd)
    os.close(devnull)
    cfg["workdir"] = _make_workdir(cfg)
    _preimport(cfg["preimport"])
    _warm_up(runner)
    gc.collect()
    gc.freeze()  # children then do not touch (and copy) the zygote's pages when collecting
    while True:
        request = read_frame(ctl_in)
        if request is None:
            shutil.rmtree(os.path.dirname(cfg["workdir"]), ignore_errors=True)
            return
        _serve(runner, cfg, request, ctl_in, ctl_out)


def _make_workdir(cfg: dict) -> str:
    """<scratch>/job (scratch = <tmp>/selfevolve-sbx-<random>), owned by the job uid; the parent dir stays root-only."""
    base = cfg["scratch"]  # named by the parent, which removes it when it stops this zygote
    os.mkdir(base, 0o711)
    work = os.path.join(base, "job")
    _fresh_dir(work, cfg["uid"])
    return os.path.realpath(work)


def _fresh_dir(path: str, uid: int | None) -> None:
    os.mkdir(path, 0o700)
    if uid is not None:
        os.chown(path, uid, uid)


def _preimport(names: list[str]) -> None:
    import importlib
    for name in names:
        importlib.import_module(name)


def _warm_up(runner) -> None:
    """Build, before the first fork, the interpreter state every child would otherwise build for
    itself: the first `compile` creates the AST node types (~2 ms per child without this), and the
    first JSON encode sets up the encoder. Only this file's own constant code runs here."""
    code = compile("def f(x):\n    return [x * k for k in range(3)]", "<warm-up>", "exec")
    namespace: dict = {}
    exec(code, namespace)
    eval(compile("f(1\n)", "<warm-up>", "eval"), namespace)
    devnull = os.open(os.devnull, os.O_WRONLY)
    runner.emit_to(devnull)({"status": "ok", "outputs": ["[0, 1, 2]"], "error": "", "stdout": "", "stderr": ""})
    os.close(devnull)


def _serve(runner, cfg: dict, request: bytearray, ctl_in: int, ctl_out: int) -> None:
    nonce_r, nonce_w = os.pipe()
    result_r, result_w = os.pipe()
    # The nonce goes straight into the kernel pipe buffer and is wiped here, so the forked child's
    # copy of this process's memory never holds it; only the child's runner reads it back.
    os.write(nonce_w, memoryview(request)[:NONCE_BYTES])
    os.close(nonce_w)
    request[:NONCE_BYTES] = bytes(NONCE_BYTES)
    timeout, cap = REQUEST.unpack_from(request, NONCE_BYTES)
    pid = os.fork()
    if pid == 0:
        os.close(ctl_in)
        os.close(ctl_out)
        os.close(result_r)
        runner.child_main(memoryview(request)[NONCE_BYTES + REQUEST.size:], timeout, cfg, nonce_r, result_w)
    os.close(nonce_r)
    os.close(result_w)
    write_frame(ctl_out, STARTED.pack(pid))
    done = _watch(pid, result_r, time.monotonic() + timeout, cap)
    os.close(result_r)
    write_frame(ctl_out, done)
    _reset_workdir(cfg)


def _watch(pid: int, result_r: int, deadline: float, cap: int) -> bytearray:
    """The DONE frame: collect the child's record until it exits, the deadline passes, or the record
    passes `cap`; then kill and reap the child."""
    pidfd = os.pidfd_open(pid)
    poller = select.poll()
    poller.register(result_r, select.POLLIN)
    poller.register(pidfd, select.POLLIN)
    record, timed_out, overflow, exited, pipe_open = bytearray(), False, False, False, True
    while not exited or pipe_open:
        left = deadline - time.monotonic()
        if left <= 0:
            timed_out = True
            break
        for fd, _ in poller.poll(left * 1000):
            if fd == pidfd:
                exited = True
                poller.unregister(pidfd)
            else:
                chunk = os.read(result_r, 65536)
                if not chunk:
                    pipe_open = False
                    poller.unregister(result_r)
                record += chunk
        if len(record) > cap:
            overflow = True
            break
        if exited and pipe_open and not _readable(result_r):
            break  # exited; nothing left and no writer will come (a grandchild could hold it open)
    _kill_group(pid)
    _, status = os.waitpid(pid, 0)
    os.close(pidfd)
    del record[cap + 1:]
    record[:0] = DONE.pack(status, timed_out, overflow)
    return record


def _readable(fd: int) -> bool:
    return bool(select.select([fd], [], [], 0)[0])


def _kill_group(pid: int) -> None:
    """SIGKILL the job's process group while its leader is unreaped, so the group id cannot be reused."""
    for target in (lambda: os.killpg(pid, _SIGKILL), lambda: os.kill(pid, _SIGKILL)):
        try:
            target()
        except (ProcessLookupError, PermissionError):
            pass


def _reset_workdir(cfg: dict) -> None:
    work = cfg["workdir"]
    if os.listdir(work):
        shutil.rmtree(work, ignore_errors=True)
        _fresh_dir(work, cfg["uid"])


def bootstrap_source(zygote_path: str, runner_path: str) -> str:
    """The `-c` program that loads this file and the runner by path and serves."""
    return (
        "import sys, importlib.util as u\n"
        "def load(name, path):\n"
        "    spec = u.spec_from_file_location(name, path); m = u.module_from_spec(spec)\n"
        "    sys.modules[name] = m; spec.loader.exec_module(m); return m\n"
        f"z = load('selfevolve_sandbox_zygote', {zygote_path!r})\n"
        f"r = load('selfevolve_sandbox_runner', {runner_path!r})\n"
        "z.main(r)\n"
    )


if __name__ == "__main__":
    sys.exit("run through selfevolve.sandbox.Sandbox, not directly")
