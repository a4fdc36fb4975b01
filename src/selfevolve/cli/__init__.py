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
    from selfevolve.cli import sandbox

    app.add_typer(sandbox.app, name="sandbox")
    from selfevolve.cli import countdown

    app.add_typer(countdown.app, name="countdown")
    from selfevolve.cli import behaviors

    app.add_typer(behaviors.app, name="behaviors")
    from selfevolve.cli import eval as eval_cli
    app.add_typer(eval_cli.app, name="eval")
    from selfevolve.cli import azr

    app.command("azr")(azr.azr)
    from selfevolve.cli import serve, tiny

    app.command("serve")(serve.serve)
    app.add_typer(tiny.app, name="tiny")


def main() -> None:
    _register()
    app()
