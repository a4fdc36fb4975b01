"""`selfevolve eval`: score code-reasoning answers, convert AZR seed files, build task sets."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Optional

import typer
from rich.console import Console
from rich.table import Table

app = typer.Typer(help="Evaluate models on verifiable tasks.", no_args_is_help=True)
console = Console()


def _sandbox(workers: int, config=None):
    """A sandbox with the code-io family's rules (its banned modules refused at run time too)."""
    from selfevolve.sandbox import Sandbox
    from selfevolve.tasks.code_io.config import CodeIOConfig

    return Sandbox((config or CodeIOConfig()).sandbox_config(workers=workers))


@app.command("code-io")
def code_io(
    tasks: Path = typer.Option(..., "--tasks", exists=True, dir_okay=False, help="Task records (JSONL)."),
    answers: Optional[Path] = typer.Option(None, "--answers", exists=True, dir_okay=False, help="Answer records {id, completion} (JSONL)."),
    model: Optional[str] = typer.Option(None, "--model", help="Sample answers from this model (shipped name, local dir, cached hub id; a base URL with --generator openai)."),
    generator: Optional[str] = typer.Option(None, "--generator", help="With --model: transformers | vllm | openai (default: openai for a URL, else transformers)."),
    n: int = typer.Option(1, "-n", help="With --model: samples per task (pass@n is reported)."),
    temperature: float = typer.Option(0.0, help="With --model: 0 = greedy."),
    max_new_tokens: int = typer.Option(256, help="With --model: answer budget in tokens."),
    style: str = typer.Option("compact", help="With --model: prompt style, compact (tiny models) or full."),
    device: Optional[str] = typer.Option(None, help="With --model: cpu, cuda, cuda:1 (default: CUDA when available)."),
    seed: Optional[int] = typer.Option(None, help="With --model: sampling seed, so that a rerun draws the same answers."),
    batch_size: int = typer.Option(64, min=1, help="With --model: sequences decoded together."),
    output: Optional[Path] = typer.Option(None, "-o", "--output", help="Write verdict records {id, correct, reason} here."),
    equality: str = typer.Option("strict", help="Deduction equality: strict | python_eq."),
    workers: int = typer.Option(2, help="Sandbox worker slots."),
) -> None:
    """Score answers to code-reasoning tasks and print accuracy per type.

    Examples:

      selfevolve eval code-io --tasks src/selfevolve/data/code_io/heldout_tiny.jsonl --answers answers.jsonl -o verdicts.jsonl

      selfevolve eval code-io --tasks src/selfevolve/data/code_io/heldout_tiny.jsonl --model tiny-coder -n 4 --temperature 1 --seed 0

      selfevolve eval code-io --tasks src/selfevolve/data/code_io/heldout_tiny.jsonl --model tiny-coder --generator vllm
    """
    from selfevolve.eval.code_io import load_answers, load_tasks, score_answers
    from selfevolve.tasks.code_io.config import CodeIOConfig

    if (answers is None) == (model is None):
        raise typer.BadParameter("pass exactly one of --answers ANSWERS.jsonl or --model M")
    task_map = load_tasks(tasks)
    pairs = load_answers(answers) if answers is not None else _sample(task_map, model, generator, n, temperature, max_new_tokens, style, device, seed, batch_size)
    config = CodeIOConfig(equality=equality)
    with _sandbox(workers, config) as sb:
        verdicts = score_answers(task_map, pairs, sb, config)
    _print_summary(verdicts)
    if output is not None:
        output.write_text("".join(json.dumps(v) + "\n" for v in verdicts))
        console.print(f"wrote {len(verdicts)} verdicts to {output}")


def _sample(task_map, model: str, generator: str | None, n: int, temperature: float, max_new_tokens: int, style: str,
            device, seed, batch_size):
    from selfevolve.eval.code_io import sample_answers, text_sampler
    from selfevolve.llm.open import open_generator

    if style not in ("compact", "full"):
        raise typer.BadParameter(f"--style {style!r} is not a prompt style; use compact or full")
    try:
        engine = open_generator(model, generator=generator, device=device, batch_size=batch_size)
    except ValueError as e:
        raise typer.BadParameter(str(e)) from None
    with console.status(f"sampling {n} answer(s) per task from {model}"):
        generate = text_sampler(engine, max_new_tokens, seed=seed)
        return sample_answers(task_map, generate, n=n, temperature=temperature, style=style)


def _print_summary(verdicts: list[dict]) -> None:
    from selfevolve.eval.code_io import reason_counts, summarize

    table = Table(title="code I/O accuracy")
    for col in ("type", "answers", "correct", "accuracy", "tasks", "pass@n"):
        table.add_column(col, justify="right" if col != "type" else "left")
    for kind, s in summarize(verdicts).items():
        table.add_row(kind, str(s.answers), str(s.correct), f"{s.accuracy:.3f}", str(s.tasks), f"{s.pass_at_n:.3f}")
    console.print(table)
    console.print("reasons: " + ", ".join(f"{k}={v}" for k, v in reason_counts(verdicts).items()))


@app.command("convert-seeds")
def convert_seeds(
    files: list[Path] = typer.Argument(..., exists=True, dir_okay=False, help="AZR seed JSONL files."),
    output: Optional[Path] = typer.Option(None, "-o", "--output", help="Write task records (JSONL) here."),
    markdown: bool = typer.Option(False, "--markdown", help="Print the verdict counts as a markdown table."),
    workers: int = typer.Option(2, help="Sandbox worker slots."),
) -> None:
    """Re-execute AZR seed files and convert the entries that reproduce into task records.

    Each abduction/deduction triplet becomes one abduction and one deduction task; each induction
    entry one induction task. Verdicts are counted by reason per file.

      selfevolve eval convert-seeds src/selfevolve/data/azr_seeds/*.jsonl -o seeds_tasks.jsonl --markdown
    """
    from dataclasses import replace

    from selfevolve.eval.code_io import write_tasks
    from selfevolve.tasks.code_io.seeds import import_seeds, read_seed_file
    from selfevolve.tasks.code_io.types import TaskType

    records, per_file = [], {}
    with _sandbox(workers) as sb:
        for path in files:
            report = import_seeds(read_seed_file(path), sb)
            per_file[path.name] = report.reasons
            for i, t in enumerate(report.tasks):
                kinds = [TaskType.INDUCTION] if t.type is TaskType.INDUCTION else [TaskType.ABDUCTION, TaskType.DEDUCTION]
                records += [(f"{path.stem}/{i}/{k.long_name}", replace(t, type=k)) for k in kinds]
    _print_reasons(per_file, markdown)
    if output is not None:
        console.print(f"wrote {write_tasks(output, records)} task records to {output}")


def _print_reasons(per_file: dict[str, Counter], markdown: bool) -> None:
    reasons = sorted({r for c in per_file.values() for r in c}, key=lambda r: (r != "ok", r))
    rows = [[name, str(sum(c.values()))] + [str(c.get(r, 0)) for r in reasons] for name, c in per_file.items()]
    total = Counter()
    for c in per_file.values():
        total.update(c)
    rows.append(["total", str(sum(total.values()))] + [str(total.get(r, 0)) for r in reasons])
    head = ["file", "records"] + reasons
    if markdown:
        print("| " + " | ".join(head) + " |")
        print("|" + "---|" * len(head))
        for row in rows:
            print("| " + " | ".join(row) + " |")
        return
    table = Table(title="seed import verdicts")
    for col in head:
        table.add_column(col)
    for row in rows:
        table.add_row(*row)
    console.print(table)


@app.command("synth-tasks")
def synth_tasks(
    output: Path = typer.Option(..., "-o", "--output", help="Write task records (JSONL) here."),
    n: int = typer.Option(300, help="How many tasks (cycling abduction, deduction, induction)."),
    seed: int = typer.Option(1_000_003, help="Generator seed (1000003 = the shipped held-out set)."),
    workers: int = typer.Option(2, help="Sandbox worker slots."),
) -> None:
    """Generate validated synthetic code tasks (the tiny-model held-out set is this command's output).

      selfevolve eval synth-tasks -o src/selfevolve/data/code_io/heldout_tiny.jsonl --n 300 --seed 1000003
    """
    from selfevolve.eval.code_io import write_tasks
    from selfevolve.tasks.code_io.synth import synth_programs

    with _sandbox(workers) as sb:
        tasks = synth_programs(n, seed, runner=sb)
    written = write_tasks(output, [(f"synth-{seed}-{i}", t) for i, t in enumerate(tasks)])
    console.print(f"wrote {written} tasks to {output}")
