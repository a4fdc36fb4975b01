"""`selfevolve sandbox ...`: run JSONL jobs, show the isolation layers, demo on the AZR seeds."""

from __future__ import annotations

import json
import sys
from collections import Counter
from pathlib import Path
from typing import Any, Optional

import typer
from rich.console import Console
from rich.progress import Progress
from rich.table import Table

from selfevolve.sandbox import Job, Result, Sandbox, SandboxConfig, Status

app = typer.Typer(help="Run untrusted Python safely: jobs in, repr text out.", no_args_is_help=True)
_err = Console(stderr=True)


@app.command("run")
def run_cmd(
    jobs_file: Path = typer.Argument(..., exists=True, dir_okay=False, help="JSONL: one job object per line."),
    output: Optional[Path] = typer.Option(None, "-o", "--output", help="Write results here (JSONL); default stdout."),
    workers: Optional[int] = typer.Option(None, help="Job slots; default: CPU count."),
    timeout: float = typer.Option(10.0, help="Wall-clock seconds per job (a job's own `timeout` wins)."),
) -> None:
    """Run every job of JOBS_FILE and write one result per line, in input order.

    Each line: {"id": "1", "program": "def f(x):\\n    return x + 1", "inputs": ["41"]}
    (optional: "imports", "entry", "timeout", "check_determinism"). A malformed line gives a
    sandbox_error result for that line (id = the line number when none is readable).

    Example: selfevolve sandbox run jobs.jsonl -o results.jsonl
    """
    lines = jobs_file.read_text(encoding="utf-8").splitlines()
    parsed = [(n, _parse_job(line, n)) for n, line in enumerate(lines, 1) if line.strip()]
    jobs = [j for _, j in parsed if isinstance(j, Job)]
    config = SandboxConfig(timeout=timeout, **({"workers": workers} if workers else {}))
    with Sandbox(config) as sandbox:
        ran = iter(sandbox.run(jobs))
    results = [next(ran) if isinstance(j, Job) else j for _, j in parsed]
    text = "".join(json.dumps(r.to_json()) + "\n" for r in results)
    if output:
        output.write_text(text, encoding="utf-8")
        _err.print(f"{len(results)} results -> {output}: {dict(Counter(r.status.value for r in results))}")
    else:
        sys.stdout.write(text)


def _parse_job(line: str, n: int) -> Job | Result:
    """A Job, or a sandbox_error Result naming what is wrong with the line."""
    try:
        obj: Any = json.loads(line)
    except json.JSONDecodeError as e:
        return Result(str(n), Status.SANDBOX_ERROR, error=f"line {n}: not JSON ({e.msg})")
    job_id = str(obj.get("id", n)) if isinstance(obj, dict) else str(n)
    try:
        if not isinstance(obj, dict):
            raise TypeError("expected a JSON object")
        if not isinstance(obj.get("program"), str):
            raise TypeError("'program' must be a string")
        for key in ("inputs", "imports"):
            if not (isinstance(obj.get(key, []), list) and all(isinstance(x, str) for x in obj.get(key, []))):
                raise TypeError(f"'{key}' must be a list of strings")
        timeout = obj.get("timeout")
        if timeout is not None and not (isinstance(timeout, (int, float)) and 0 < timeout <= 600):
            raise TypeError("'timeout' must be a number of seconds in (0, 600]")
        return Job(id=job_id, program=obj["program"], inputs=obj.get("inputs", []), imports=obj.get("imports", []),
                   entry=str(obj.get("entry", "f")), timeout=timeout,
                   check_determinism=bool(obj.get("check_determinism", True)))
    except TypeError as e:
        return Result(job_id, Status.SANDBOX_ERROR, error=f"line {n}: bad job: {e}")


@app.command("info")
def info_cmd() -> None:
    """Show which isolation layers are active on this machine.

    Example: selfevolve sandbox info
    """
    from selfevolve.sandbox.isolation import layers

    table = Table(title="selfevolve sandbox: isolation layers")
    for col in ("layer", "active", "detail"):
        table.add_column(col)
    for layer in layers(SandboxConfig()):
        table.add_row(layer.name, "[green]yes[/]" if layer.active else "[red]no[/]", layer.detail)
    Console().print(table)


@app.command("demo")
def demo_cmd(workers: Optional[int] = typer.Option(None, help="Job slots; default: CPU count.")) -> None:
    """Run every program of the shipped AZR seed files and check which reproduce their recorded output.

    Example: selfevolve sandbox demo
    """
    from selfevolve.tasks.code_io.config import CodeIOConfig
    from selfevolve.tasks.code_io.seed_study import classify, load_seeds, seed_files

    console = Console()
    config = CodeIOConfig().sandbox_config(**({"workers": workers} if workers else {}))
    with Sandbox(config) as sandbox, Progress(console=console, transient=True) as progress:
        per_file = []
        task = progress.add_task("AZR seed programs", total=len(seed_files()))
        for name in seed_files():
            seeds = list(load_seeds([name]))
            results = sandbox.run([s.job for s in seeds])
            per_file.append((name, seeds, results))
            progress.advance(task)
    for name, seeds, results in per_file:
        table = Table(title=f"{name}: {len(seeds)} records")
        table.add_column("status")
        table.add_column("count", justify="right")
        for status, count in Counter(r.status.value for r in results).most_common():
            table.add_row(status, str(count))
        same = sum(classify(s, r) == "reproduced exactly" for s, r in zip(seeds, results))
        table.caption = f"{same}/{len(seeds)} reproduce their recorded output exactly (see docs/sandbox.md for why not all do)"
        console.print(table)
