"""Batched sandbox calls shared by validation and verification.

A group is one program with several inputs. All groups go to the sandbox in one `run` call (one
job per group, so inputs of one program share a worker); groups marked `split` that fail as a
whole are retried once with one job per input (a second single `run` call), so one bad input cannot
sink the others.

A `probe` group (used for abduction answers, whose program is the task's validated program and
whose inputs are checked literals) calls `f` through a small wrapper appended to the program, inside
the sandbox, that returns `(True, repr(result))` or `(False, exception type name)` per input: one
answer raising no longer fails the job, so a whole batch of answers to one task costs one job.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol, Sequence

from selfevolve.sandbox import SandboxConfig
from selfevolve.sandbox.compare import parse_literal
from selfevolve.sandbox.static import is_banned
from selfevolve.sandbox.types import Job, Result, Status

PROBE_ENTRY = "_selfevolve_probe"
_PROBE = f"""


def {PROBE_ENTRY}(*args, **kwargs):
    try:
        return (True, repr(f(*args, **kwargs)))
    except Exception as e:
        return (False, type(e).__name__)
"""


class Runner(Protocol):
    """What we need of `selfevolve.sandbox.Sandbox`: jobs in, results out, order kept."""

    def run(self, jobs: Sequence[Job]) -> list[Result]: ...


def require_run_time_bans(runner: Runner, banned_modules: Sequence[str]) -> None:
    """Refuse a sandbox that would let a banned module be imported at run time (say, inside `exec`'d
    text, which the static check cannot see). Runners without a `SandboxConfig` are not checked."""
    config = getattr(runner, "config", None)
    if not isinstance(config, SandboxConfig):
        return
    missing = [m for m in banned_modules if not is_banned(m, config.banned_modules)]
    if missing:
        raise ValueError(
            f"the sandbox does not refuse the code-io banned modules {missing[:4]}{' ...' if len(missing) > 4 else ''}"
            " at run time; open it with the family's settings: Sandbox(code_io_config.sandbox_config(workers=...))"
        )


@dataclass(frozen=True)
class Group:
    program: str
    inputs: tuple[str, ...]
    imports: tuple[str, ...] = ()
    check_determinism: bool = False
    timeout: float | None = None
    split: bool = True  # retry input by input when the whole job fails
    probe: bool = False  # wrap `f` so each input's exception is reported on its own


@dataclass(frozen=True)
class Outcome:
    """Per input: the status of the job that ran it, its repr when ok, and the error text."""

    status: Status
    output: str = ""
    error: str = ""


def _job(gid: str, g: Group, inputs: Sequence[str]) -> Job:
    return Job(
        id=gid,
        program=g.program + _PROBE if g.probe else g.program,
        inputs=list(inputs),
        imports=list(g.imports),
        entry=PROBE_ENTRY if g.probe else "f",
        timeout=g.timeout,
        check_determinism=g.check_determinism,
    )


def run_groups(runner: Runner, groups: Sequence[Group]) -> list[list[Outcome]]:
    """Outcomes per group, per input. At most two `runner.run` calls whatever the batch size."""
    if not groups:
        return []
    results = runner.run([_job(str(i), g, g.inputs) for i, g in enumerate(groups)])
    out = [_outcomes(r, len(g.inputs), g.probe) for g, r in zip(groups, results)]
    retry = [i for i, (g, r) in enumerate(zip(groups, results)) if g.split and not r.ok and len(g.inputs) > 1]
    if retry:
        singles = [(i, k) for i in retry for k in range(len(groups[i].inputs))]
        again = runner.run([_job(f"{i}.{k}", groups[i], [groups[i].inputs[k]]) for i, k in singles])
        for (i, k), r in zip(singles, again):
            out[i][k] = _outcomes(r, 1, groups[i].probe)[0]
    return out


def _outcomes(r: Result, n: int, probe: bool = False) -> list[Outcome]:
    if r.ok and len(r.outputs) == n:
        return [_unwrap(o) if probe else Outcome(Status.OK, o) for o in r.outputs]
    if r.ok:
        return [Outcome(Status.SANDBOX_ERROR, error=f"{len(r.outputs)} outputs for {n} inputs")] * n
    return [Outcome(r.status, error=r.error)] * n


def _unwrap(text: str) -> Outcome:
    """A probe's `(ok, repr-or-exception-name)` pair, parsed as a literal (never evaluated)."""
    try:
        ok, value = parse_literal(text)
    except (ValueError, TypeError):
        return Outcome(Status.SANDBOX_ERROR, error=f"malformed probe record {text[:80]!r}")
    if type(ok) is not bool or type(value) is not str:
        return Outcome(Status.SANDBOX_ERROR, error=f"malformed probe record {text[:80]!r}")
    return Outcome(Status.OK, value) if ok else Outcome(Status.RUNTIME_ERROR, error=value)
