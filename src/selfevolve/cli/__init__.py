"""The `selfevolve` command: one typer app; each command group lives in its own module here."""

from __future__ import annotations

import typer

app = typer.Typer(
    name="selfevolve",
    help="Self-improving LLM reasoners: self-play, RL on verifiable tasks, and the sandbox that checks them.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_show_locals=False,
)


def _register() -> None:
    """Attach the command groups (imported here so `selfevolve --help` stays quick to import)."""
    from selfevolve.cli import azr, behaviors, bench, countdown, meteor, models, sandbox, serve, sra_mcts, tiny
    from selfevolve.cli import eval as eval_cli

    app.command("azr")(azr.azr)
    app.add_typer(countdown.app, name="countdown")
    app.add_typer(behaviors.app, name="behaviors")
    app.add_typer(bench.app, name="bench")
    app.add_typer(eval_cli.app, name="eval")
    app.add_typer(sandbox.app, name="sandbox")
    app.command("serve")(serve.serve)
    app.add_typer(tiny.app, name="tiny")
    app.add_typer(models.app, name="models")
    app.add_typer(sra_mcts.app, name="sra-mcts")
    app.add_typer(meteor.app, name="meteor")


def main() -> None:
    _register()
    app()
