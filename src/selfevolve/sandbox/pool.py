"""The parent side: warm zygotes grouped into slots, a job queue, and the public `Sandbox`."""

from __future__ import annotations

import asyncio
import functools
import json
import os
import queue
import secrets
import shutil
import signal
import subprocess
import threading
import time
from collections.abc import Sequence
from concurrent.futures import Future
from pathlib import Path

from selfevolve.sandbox import isolation, static, zygote
from selfevolve.sandbox.channel import FrameReader
from selfevolve.sandbox.config import SandboxConfig
from selfevolve.sandbox.types import Job, Result, Status
from selfevolve.sandbox.verdict import interpret, merge

_HERE = Path(__file__).resolve().parent
_RECORD_OVERHEAD = 4096
_STATIC_CACHE = 4096  # static verdicts kept per Sandbox (programs are often validated again)


class ZygoteProcess:
    """One fork server (one hash seed). Restarted transparently when it dies.

    `recheck`: its jobs call the inputs in reverse order, twice each, so state carried between calls
    (globals, mutable defaults, exhausted iterators) changes their outputs (threat 27).
    """

    def __init__(self, config: SandboxConfig, hash_seed: int, prefix: list[str], recheck: bool):
        self.config, self.hash_seed, self.prefix, self.recheck = config, hash_seed, prefix, recheck
        self.proc: subprocess.Popen | None = None
        self.reader: FrameReader | None = None
        self.uid: int | None = None  # the unprivileged uid its jobs run under (None when not root)
        self.child_pid: int | None = None

    def start(self) -> None:
        cfg = self.config
        uid = 100_000 + secrets.randbelow(1_000_000_000) if isolation.job_uid_available(cfg) else None
        self.uid = uid
        self.scratch = os.path.join(cfg.tmp_root, "selfevolve-sbx-" + secrets.token_hex(8))
        child_cfg = {
            "uid": uid, "memory_mb": cfg.memory_mb, "file_size_mb": cfg.file_size_mb,
            "max_open_files": cfg.max_open_files, "max_processes": cfg.max_processes,
            "max_output_chars": cfg.max_output_chars, "max_stdout_chars": cfg.max_stdout_chars,
            "max_stderr_chars": cfg.max_stderr_chars, "banned_modules": list(cfg.banned_modules),
            "read_roots": isolation.read_roots(cfg), "preimport": list(cfg.preimport), "tmp_root": cfg.tmp_root,
            "recheck": self.recheck, "scratch": self.scratch,
        }
        source = zygote.bootstrap_source(str(_HERE / "zygote.py"), str(_HERE / "runner.py"))
        env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LANG": "C.UTF-8",
               "PYTHONHASHSEED": str(self.hash_seed), "OPENBLAS_NUM_THREADS": "1"}
        self.proc = subprocess.Popen(
            # -s -S -P is -I without -E: no user site, no site-packages, no script dir on sys.path,
            # but PYTHONHASHSEED is honoured (the environment is ours alone, so no other PYTHON* leak).
            [*self.prefix, cfg.python, "-s", "-S", "-P", "-c", source],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=env,
            cwd="/", close_fds=True, start_new_session=True, bufsize=0,
        )
        self.reader = FrameReader(self.proc.stdout.fileno())
        zygote.write_frame(self.proc.stdin.fileno(), json.dumps(child_cfg).encode())

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def send(self, nonce: bytes, payload: bytes) -> bool:
        if not self.alive():
            self.restart()
        try:
            zygote.write_frame(self.proc.stdin.fileno(), nonce + payload)
            return True
        except OSError:
            return False

    def collect(self, deadline: float) -> tuple[dict | None, bytes]:
        """(meta, record) for the job just sent; (None, b'') when the zygote died or hung (then restarted)."""
        started = self.reader.frame(deadline)
        if started is not None:
            self.child_pid = zygote.STARTED.unpack(started)[0]
            done = self.reader.frame(deadline)
            if done is not None:
                self.child_pid = None
                status, timed_out, overflow = zygote.DONE.unpack_from(done)
                return {"status": status, "timed_out": timed_out, "overflow": overflow}, bytes(done[zygote.DONE.size:])
        self.restart()
        return None, b""

    def restart(self) -> None:
        self.stop()
        self.start()

    def stop(self) -> None:
        """Kill the zygote's group and any job it was running; reap the zygote."""
        for pid in (self.child_pid, self.proc.pid if self.proc else None):
            if pid:
                try:
                    os.killpg(pid, signal.SIGKILL)
                except (ProcessLookupError, PermissionError):
                    pass
        self.child_pid = None
        if self.proc is not None:
            self.proc.stdin.close()
            self.proc.stdout.close()
            self.proc.wait()
            self.proc = None
        shutil.rmtree(self.scratch, ignore_errors=True)  # a killed zygote cannot clean up after itself


class Slot:
    """One job at a time, run once per hash seed in parallel (one zygote per seed)."""

    def __init__(self, config: SandboxConfig, prefix: list[str]):
        self.config = config
        self.zygotes = [ZygoteProcess(config, seed, prefix, recheck=i > 0) for i, seed in enumerate(config.hash_seeds)]
        for z in self.zygotes:
            z.start()

    def execute(self, job: Job, modules: list[str]) -> Result:
        cfg = self.config
        t0 = time.perf_counter()
        timeout = job.timeout if job.timeout is not None else cfg.timeout
        zygotes = self.zygotes if (cfg.check_determinism and job.check_determinism) else self.zygotes[:1]
        record_cap = (len(job.inputs) * (cfg.max_output_chars + 16) * 6 + (cfg.max_stdout_chars + cfg.max_stderr_chars) * 6
                      + _RECORD_OVERHEAD)
        payload = zygote.REQUEST.pack(timeout, record_cap) + json.dumps(
            {"program": job.program, "imports": list(job.imports), "inputs": list(job.inputs), "entry": job.entry,
             "modules": modules}).encode()
        nonces = [secrets.token_bytes(zygote.NONCE_BYTES) for _ in zygotes]
        sent = [z.send(n, payload) for z, n in zip(zygotes, nonces)]
        deadline = time.monotonic() + timeout + cfg.backstop_grace
        outcomes = []
        for z, nonce, ok in zip(zygotes, nonces, sent):
            meta, record = z.collect(deadline) if ok else (z.restart(), (None, b""))[1]
            outcomes.append(interpret(meta, record, nonce, len(job.inputs), cfg.max_output_chars, timeout))
        return merge(job.id, outcomes, time.perf_counter() - t0)

    def stop(self) -> None:
        for z in self.zygotes:
            z.stop()


class Sandbox:
    """Runs untrusted Python jobs in isolated, warm worker processes.

    >>> with Sandbox(SandboxConfig(workers=2)) as sb:
    ...     [r] = sb.run([Job("a", "def f(x):\\n    return x * 2", ["21"])])
    >>> r.status, r.outputs
    (<Status.OK: 'ok'>, ['42'])

    `run` is thread-safe; many threads (and `arun` callers) share the same slots.
    """

    def __init__(self, config: SandboxConfig | None = None):
        self.config = config or SandboxConfig()
        self._queue: queue.SimpleQueue = queue.SimpleQueue()
        self._closed = False
        self._analyse = functools.lru_cache(maxsize=_STATIC_CACHE)(self._analyse_uncached)
        prefix = isolation.launch_prefix(self.config)
        self._slots = [Slot(self.config, prefix) for _ in range(self.config.workers)]
        self._threads = [threading.Thread(target=self._serve, args=(s,), daemon=True, name=f"sandbox-slot-{i}")
                         for i, s in enumerate(self._slots)]
        for t in self._threads:
            t.start()

    def __enter__(self) -> Sandbox:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def run(self, jobs: Sequence[Job]) -> list[Result]:
        """Results in the order of `jobs`. Static checks run here; the rest in the slots."""
        return [f.result() for f in self._submit(jobs)]

    async def arun(self, jobs: Sequence[Job]) -> list[Result]:
        """`run` for asyncio callers; the event loop is never blocked."""
        return list(await asyncio.gather(*(asyncio.wrap_future(f) for f in self._submit(jobs))))

    def close(self) -> None:
        """Stop every zygote (and any job still running); idempotent."""
        if self._closed:
            return
        self._closed = True
        for _ in self._threads:
            self._queue.put(None)
        for t in self._threads:
            t.join()
        for s in self._slots:
            s.stop()

    def _submit(self, jobs: Sequence[Job]) -> list[Future]:
        if self._closed:
            raise RuntimeError("Sandbox is closed; create a new Sandbox (or use it as a `with` block)")
        futures = []
        for job in jobs:
            fut: Future = Future()
            problem, modules = self._analyse(job.program, tuple(job.inputs), tuple(job.imports), job.entry)
            if problem is not None:
                fut.set_result(Result(job.id, problem.status, error=problem.reason))
            else:
                self._queue.put((job, modules, fut))
            futures.append(fut)
        return futures

    def _analyse_uncached(self, program: str, inputs: tuple[str, ...], imports: tuple[str, ...],
                          entry: str) -> tuple[static.Problem | None, list[str]]:
        """Static verdict and imported modules; memoised per Sandbox (the config is fixed)."""
        cfg = self.config
        return static.analyse_job(program, inputs, imports, entry, cfg.banned_modules, cfg.banned_names,
                                  cfg.reject_multiple_functions)

    def _serve(self, slot: Slot) -> None:
        while (item := self._queue.get()) is not None:
            job, modules, fut = item
            try:
                fut.set_result(slot.execute(job, modules))
            except Exception as e:  # noqa: BLE001 - one job's failure must never stop the slot
                fut.set_result(Result(job.id, Status.SANDBOX_ERROR, error=f"{type(e).__name__}: {e}"))
