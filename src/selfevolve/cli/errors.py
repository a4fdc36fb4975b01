"""How commands report a config or run-directory problem: the message (which names the fix), exit 2."""

import typer


def usage_exit(error: Exception) -> typer.Exit:
    typer.secho(f"error: {error}", fg="red", err=True)
    return typer.Exit(2)
