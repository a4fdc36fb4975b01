"""`selfevolve bench`: the standard benchmarks (HumanEval(+), MBPP(+), CRUXEval, math sets, LiveCodeBench)."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer
from rich.console import Console
from rich.table import Table

app = typer.Typer(help="Standard benchmarks with their published protocols; see docs/bench.md.", no_args_is_help=True)
console = Console()

_SUITES_HELP = ("humaneval humaneval+ mbpp mbpp+ cruxeval-o cruxeval-i math500 gsm8k aime24 aime25 amc23 minerva "
                "olympiadbench livecodebench")


def _options(workers: int, math_timeout: float):
    from selfevolve.bench.suite import ScoreOptions

    return ScoreOptions(workers=workers, math_timeout=math_timeout)


def _suite(name: str, cot: bool, math_template: str, lcb_start: Optional[str], lcb_end: Optional[str]):
    from selfevolve.bench.registry import MATH_TEMPLATES, make_suite

    if math_template not in MATH_TEMPLATES:
        raise typer.BadParameter(f"--math-template {math_template!r}: use one of {', '.join(MATH_TEMPLATES)}")
    try:
        return make_suite(name, cot=cot, math_template=math_template, lcb_start_date=lcb_start, lcb_end_date=lcb_end)
    except ValueError as e:
        raise typer.BadParameter(str(e)) from None


def _load(suite, data_dir: Optional[Path], limit: Optional[int]):
    from selfevolve.bench.data import DataNotFound

    try:
        tasks = suite.load(data_dir)
    except DataNotFound as e:
        console.print(f"[red]{e}[/red]")
        raise typer.Exit(2) from None
    return tasks[:limit] if limit is not None else tasks


def _generator(model: str, generator: str, api_model: Optional[str], device: Optional[str], batch_size: int):
    from selfevolve.bench.generation import BenchGenerator
    from selfevolve.llm.open import GENERATORS, open_generator

    if generator not in GENERATORS:
        raise typer.BadParameter(f"--generator {generator!r}: use one of {', '.join(GENERATORS)}")
    try:
        with console.status(f"loading {model}"):
            return BenchGenerator(open_generator(model, api_model, generator=generator, device=device,
                                                 batch_size=batch_size, concurrency=batch_size))
    except ValueError as e:
        raise typer.BadParameter(str(e)) from None


@app.command("run")
def run(
    suites: list[str] = typer.Argument(..., help=f"Suites to run: {_SUITES_HELP}."),
    model: str = typer.Option(..., "--model", help="Local model dir, shipped or registry name, cached hub id; with "
                              "--generator openai the endpoint's base URL (…/v1)."),
    out: Path = typer.Option(..., "--out", help="Run folder: <out>/<suite>/{run.json,samples.jsonl,results.json}."),
    n: int = typer.Option(1, "-n", min=1, help="Samples per task (pass@k for k in 1, 10, 100 up to n)."),
    temperature: float = typer.Option(0.0, "--temperature", min=0.0, help="0 = greedy (then -n must be 1)."),
    top_p: float = typer.Option(1.0, "--top-p", help="Nucleus sampling mass."),
    max_new_tokens: Optional[int] = typer.Option(None, "--max-new-tokens", help="Token budget (default: the "
                                                  "benchmark's own: 768 EvalPlus, 1024 CRUXEval, 16000 math, 8096 LCB)."),
    limit: Optional[int] = typer.Option(None, "--limit", min=1, help="Only the first L tasks of each suite."),
    batch_size: int = typer.Option(16, "--batch-size", min=1, help="Samples generated (and saved) together."),
    generator: str = typer.Option("transformers", "--generator", help="transformers | vllm | openai."),
    api_model: Optional[str] = typer.Option(None, "--api-model", help="With --generator openai: the model name to request."),
    data_dir: Optional[Path] = typer.Option(None, "--data-dir", help="Benchmark data folder (layout of docs/bench.md); "
                                            "needed for AIME/AMC/Minerva/OlympiadBench/LiveCodeBench."),
    resume: bool = typer.Option(False, "--resume", help="Continue a run in --out that was stopped."),
    cot: bool = typer.Option(False, "--cot", help="CRUXEval with chain of thought."),
    math_template: str = typer.Option("azr", "--math-template", help="Math prompt: azr | qwen25-math-cot."),
    device: Optional[str] = typer.Option(None, "--device", help="cpu, cuda, cuda:1 (default: CUDA when available)."),
    seed: Optional[int] = typer.Option(None, "--seed", help="Sampling seed of each batch."),
    workers: int = typer.Option(2, "--workers", min=1, help="Sandbox worker slots for scoring."),
    math_timeout: float = typer.Option(10.0, "--math-timeout", help="Seconds per math answer before it counts as wrong."),
    lcb_start_date: Optional[str] = typer.Option(None, "--lcb-start-date", help="LiveCodeBench: contests from YYYY-MM-DD."),
    lcb_end_date: Optional[str] = typer.Option(None, "--lcb-end-date", help="LiveCodeBench: contests up to YYYY-MM-DD."),
) -> None:
    """Generate samples with a model and score them.

    Examples:

      selfevolve bench run humaneval+ mbpp+ --model qwen2.5-coder-0.5b-instruct --out runs/bench

      selfevolve bench run cruxeval-o --cot --model tiny-coder --limit 20 --max-new-tokens 64 --out runs/crux

      selfevolve bench run math500 --model http://127.0.0.1:8000/v1 --generator openai --api-model M --out runs/m --resume
    """
    from selfevolve.bench.registry import MATH_SUITES
    from selfevolve.bench.run import RunError, RunSettings, run_suite

    if temperature == 0 and n > 1:
        raise typer.BadParameter("greedy decoding (--temperature 0) gives n identical samples; pass --temperature > 0 with -n > 1")
    chosen = [_suite(name, cot, math_template, lcb_start_date, lcb_end_date) for name in suites]
    task_lists = [_load(s, data_dir, limit) for s in chosen]
    gen = _generator(model, generator, api_model, device, batch_size)
    for suite, tasks in zip(chosen, task_lists):
        settings = RunSettings(suite.name, (api_model or model) if generator == "openai" else model, generator, gen.style,
                               n, temperature, top_p, max_new_tokens or suite.default_max_new_tokens, limit, seed,
                               math_template if suite.name in MATH_SUITES else None)
        try:
            with _progress(suite.name) as update:
                data = run_suite(suite, tasks, gen, settings, out, batch_size, resume, _options(workers, math_timeout),
                                 progress=update)
        except RunError as e:
            console.print(f"[red]{e}[/red]")
            raise typer.Exit(2) from None
        _print_metrics(data, out / suite.name / "results.json")


@app.command("score")
def score(
    suite_name: str = typer.Argument(..., metavar="SUITE", help=f"One of: {_SUITES_HELP}."),
    samples: Path = typer.Option(..., "--samples", exists=True, dir_okay=False, help="EvalPlus-format JSONL: task_id "
                                 "and solution (whole program) or completion (appended to the prompt) per line."),
    out: Path = typer.Option(..., "--out", help="results.json to write."),
    model: Optional[str] = typer.Option(None, "--model", help="A label for the model, kept in the results."),
    data_dir: Optional[Path] = typer.Option(None, "--data-dir", help="Benchmark data folder."),
    cot: bool = typer.Option(False, "--cot", help="CRUXEval completions were made with chain of thought."),
    math_template: str = typer.Option("azr", "--math-template", help="Math answer extraction: azr | qwen25-math-cot."),
    workers: int = typer.Option(2, "--workers", min=1, help="Sandbox worker slots."),
    math_timeout: float = typer.Option(10.0, "--math-timeout", help="Seconds per math answer."),
) -> None:
    """Score a samples file (several lines per task = several samples, in file order).

      selfevolve bench score humaneval+ --samples samples.jsonl --out results.json
    """
    from selfevolve.bench.results import write_json
    from selfevolve.bench.run import RunError, score_file
    from selfevolve.bench.samples import SamplesFileError

    suite = _suite(suite_name, cot, math_template, None, None)
    tasks = _load(suite, data_dir, None)
    try:
        with console.status(f"scoring {samples} on {suite.name}"):
            data = score_file(suite, tasks, samples, model, _options(workers, math_timeout))
    except (RunError, SamplesFileError) as e:
        console.print(f"[red]{e}[/red]")
        raise typer.Exit(2) from None
    missing = len(tasks) - len(data["tasks"])
    if missing:
        console.print(f"[yellow]{missing} of {len(tasks)} tasks have no samples and are left out[/yellow]")
    write_json(out, data)
    _print_metrics(data, out)


def _progress(name: str):
    from contextlib import contextmanager

    from rich.progress import Progress

    @contextmanager
    def bar():
        with Progress(console=console, transient=True) as p:
            task = p.add_task(f"{name}: generating", total=None)
            yield lambda done, total: p.update(task, completed=done, total=total)

    return bar()


def _print_metrics(data: dict, where: Path) -> None:
    table = Table(title=f"{data['suite']}: {len(data['tasks'])} tasks, n={data['n_samples']}")
    table.add_column("metric")
    table.add_column("value", justify="right")
    for key, value in data["metrics"].items():
        table.add_row(key, f"{value:.4f}")
    console.print(table)
    console.print(f"results: {where}")
