"""`selfevolve tiny`: build, pretrain and rebuild our own tiny base models."""

from __future__ import annotations

from pathlib import Path

import typer

app = typer.Typer(help="Tiny base models trained from scratch on CPU (tokenizer, Qwen2 config, pretraining).", no_args_is_help=True)


@app.command()
def build(
    preset: str = typer.Option(..., help="Size preset: nano, micro or small."),
    corpus: Path = typer.Option(..., help='JSONL corpus, one {"text": ...} per line (the tokenizer is trained on it).'),
    out: Path = typer.Option(..., help="New (or empty) output directory."),
    seed: int = typer.Option(0, help="Seed of the weight initialisation."),
) -> None:
    """Train a byte-level BPE tokenizer on CORPUS and write it with a fresh Qwen2 model to OUT.

    Example: selfevolve tiny build --preset micro --corpus corpus.jsonl --out runs/mymodel
    """
    from selfevolve.tinymodels.build import build_tiny

    _run(lambda: build_tiny(preset, corpus, out, seed=seed))
    typer.echo(f"built {preset} model in {out}")


@app.command()
def pretrain(
    model_dir: Path = typer.Argument(..., help="Directory written by `tiny build` (resumes from its checkpoint/)."),
    corpus: Path = typer.Option(..., help='JSONL corpus, one {"text": ...} per line.'),
    steps: int = typer.Option(1000, help="Total optimizer steps (a resumed run continues up to this)."),
    batch_size: int = typer.Option(16, help="Documents per step."),
    lr: float = typer.Option(2e-3, help="Peak learning rate."),
    eval_every: int = typer.Option(100, help="Held-out loss interval in steps."),
    save_every: int = typer.Option(200, help="Checkpoint interval in steps."),
    seed: int = typer.Option(0, help="Seed of batch sampling and the held-out split."),
) -> None:
    """Pretrain MODEL_DIR on CORPUS; writes loss_curve.png and pretrain_log.jsonl beside the weights.

    Example: nice selfevolve tiny pretrain runs/mymodel --corpus corpus.jsonl --steps 300
    """
    from selfevolve.tinymodels.pretrain import PretrainConfig, pretrain as run_pretrain

    config = PretrainConfig(steps=steps, batch_size=batch_size, lr=lr, eval_every=eval_every, save_every=save_every, seed=seed)
    result = _run(lambda: run_pretrain(model_dir, corpus, config))
    typer.echo(f"step {result.steps}: train loss {result.train_loss:.3f}, held-out loss {result.heldout_loss:.3f}")


@app.command()
def rebuild(
    name: str = typer.Argument(..., help="Shipped model: tiny-coder or tiny-countdown."),
    work_dir: Path = typer.Option(None, help="Work directory (default runs/tiny/NAME); rerun to resume."),
    out: Path = typer.Option(None, help="Export directory (default: the package's models/NAME)."),
) -> None:
    """Regenerate a shipped tiny model from scratch: corpus, build, pretrain, held-out eval, export, card.

    Example: nice selfevolve tiny rebuild tiny-countdown
    """
    from selfevolve.tinymodels.rebuild import rebuild as run_rebuild

    typer.echo(f"exported to {_run(lambda: run_rebuild(name, work_dir, out))}")


def _run(action):
    """Turn bad input (unknown preset, missing corpus, non-empty output, corrupt model) into a clean exit."""
    from transformers.utils import logging as hf_logging

    from selfevolve.llm.errors import ModelLoadError

    hf_logging.disable_progress_bar()  # our own rich bar is the one progress display

    try:
        return action()
    except (ValueError, FileNotFoundError, FileExistsError, ModelLoadError) as e:
        typer.secho(f"error: {e}", fg="red", err=True)
        raise typer.Exit(2) from None
