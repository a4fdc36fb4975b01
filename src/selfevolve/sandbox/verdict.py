"""Parent side of the result protocol: turn what a zygote forwarded into a Result, trusting nothing."""

from __future__ import annotations

import json
import os
import re
import signal
from dataclasses import dataclass, field

from selfevolve.sandbox.types import Result, Status

# `<Foo object at 0x7f...>`, `<generator object f at 0x...>`: not a value, differs between runs.
ADDRESS_RE = re.compile(r" at 0x[0-9a-fA-F]+")
_CHILD_STATUSES = {s.value: s for s in (Status.OK, Status.SYNTAX_ERROR, Status.RUNTIME_ERROR, Status.MEMORY_LIMIT,
                                         Status.OUTPUT_LIMIT, Status.UNSAFE, Status.SANDBOX_ERROR)}


@dataclass(frozen=True)
class Outcome:
    """One run of a job in one process."""

    status: Status
    outputs: list[str] = field(default_factory=list)
    error: str = ""
    stdout: str = ""
    stderr: str = ""


def interpret(meta: dict | None, record: bytes, nonce: bytes, n_inputs: int, max_output_chars: int,
              timeout: float) -> Outcome:
    """Exactly one well-formed record with the right nonce and a clean exit, or a failure status."""
    if meta is None:
        return Outcome(Status.SANDBOX_ERROR, error="sandbox worker died or stopped answering; it was restarted")
    if meta["timed_out"]:
        return Outcome(Status.TIMEOUT, error=f"exceeded the {timeout:g} s wall-clock limit; process group killed")
    if meta["overflow"]:
        return Outcome(Status.OUTPUT_LIMIT, error="result record larger than the output caps allow")
    status = meta["status"]
    if os.WIFSIGNALED(status):
        return _signalled(os.WTERMSIG(status))
    if os.WEXITSTATUS(status) != 0:
        return Outcome(Status.SANDBOX_ERROR, error=f"job process exited with code {os.WEXITSTATUS(status)} without a result")
    if record[: len(nonce)] != nonce:
        return Outcome(Status.SANDBOX_ERROR, error="result record missing or forged (wrong nonce)")
    body = record[len(nonce):]
    if not body:
        return Outcome(Status.SANDBOX_ERROR, error="job process exited before sending its result (e.g. os._exit)")
    return _body(body, n_inputs, max_output_chars)


def _signalled(sig: int) -> Outcome:
    name = signal.Signals(sig).name if sig in signal.Signals._value2member_map_ else str(sig)
    if sig == signal.SIGXCPU:
        return Outcome(Status.TIMEOUT, error="CPU time limit exceeded (SIGXCPU)")
    if sig in (signal.SIGSEGV, signal.SIGBUS):
        return Outcome(Status.MEMORY_LIMIT, error=f"killed by {name} (stack overflow or memory exhaustion)")
    return Outcome(Status.SANDBOX_ERROR, error=f"job process killed by {name}")


def _body(body: bytes, n_inputs: int, max_output_chars: int) -> Outcome:
    try:
        rec = json.loads(body)
        status = _CHILD_STATUSES[rec["status"]]
        outputs, error = rec["outputs"], rec["error"]
        stdout, stderr = rec.get("stdout", ""), rec.get("stderr", "")
        if not (isinstance(outputs, list) and all(type(o) is str for o in outputs)
                and all(type(s) is str for s in (error, stdout, stderr))):
            raise TypeError("field types")
    except (ValueError, KeyError, TypeError):
        return Outcome(Status.SANDBOX_ERROR, error="malformed result record")
    if status is not Status.OK:
        return Outcome(status, error=error[:2000], stdout=stdout, stderr=stderr)
    if len(outputs) != n_inputs:
        return Outcome(Status.SANDBOX_ERROR, error=f"result record has {len(outputs)} outputs for {n_inputs} inputs")
    for i, text in enumerate(outputs):
        if len(text) > max_output_chars:
            return Outcome(Status.OUTPUT_LIMIT, error=f"repr of output {i} has {len(text)} chars > {max_output_chars}")
        if ADDRESS_RE.search(text):
            return Outcome(Status.RUNTIME_ERROR, error=f"output {i} is not a value (repr carries a memory address): {text[:120]}")
    return Outcome(Status.OK, outputs, stdout=stdout, stderr=stderr)


_NOT_NONDETERMINISM = (Status.TIMEOUT, Status.MEMORY_LIMIT, Status.OUTPUT_LIMIT, Status.SANDBOX_ERROR)


def merge(job_id: str, runs: list[Outcome], seconds: float) -> Result:
    """Combine the runs under different hash seeds: any difference in what came back -> nondeterministic."""
    first = runs[0]
    if len(runs) == 1 or all(r.status is first.status and r.outputs == first.outputs for r in runs[1:]):
        return _result(job_id, first, seconds)
    resource_failure = next((r for r in runs if r.status in _NOT_NONDETERMINISM), None)
    if resource_failure is not None:
        return _result(job_id, resource_failure, seconds)
    a, b = runs[0], runs[1]
    detail = (f"outputs differ between the two runs (other hash seed, reverse order, each call twice): {a.outputs[:3]!r}... vs {b.outputs[:3]!r}..."
              if a.status is b.status else f"status differs between hash seeds: {a.status.value} vs {b.status.value}")
    return Result(job_id, Status.NONDETERMINISTIC, error=detail[:2000], seconds=seconds)


def _result(job_id: str, o: Outcome, seconds: float) -> Result:
    return Result(job_id, o.status, outputs=o.outputs, error=o.error, seconds=seconds, stdout=o.stdout, stderr=o.stderr)
