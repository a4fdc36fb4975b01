"""`selfevolve serve MODEL`: an OpenAI-compatible HTTP server over a local model."""

from __future__ import annotations

import typer


def serve(
    model: str = typer.Argument(..., help="Model directory, shipped name (tiny-coder, tiny-countdown) or cached hub id."),
    port: int = typer.Option(8000, help="TCP port to listen on."),
    host: str = typer.Option("127.0.0.1", help="Interface to bind; 0.0.0.0 exposes the server to the network."),
    device: str = typer.Option(None, help="cpu, cuda or cuda:N (default: cuda when available)."),
    dtype: str = typer.Option(None, help="float32, bfloat16 or float16 (default: bf16 on GPU, fp32 on CPU)."),
    batch_size: int = typer.Option(32, help="Sequences generated together (prompts × n)."),
    served_name: str = typer.Option(None, help="Model id reported by /v1/models (default: MODEL)."),
) -> None:
    """Serve /v1/models, /v1/completions and /v1/chat/completions.

    Examples:

        selfevolve serve tiny-coder --port 8000

        curl -s 127.0.0.1:8000/v1/completions -H 'content-type: application/json' \\
          -d '{"prompt": "def f(x):", "max_tokens": 32}'
    """
    import uvicorn

    from selfevolve.llm import ModelLoadError, TransformersGenerator, load_model
    from selfevolve.llm.server import create_app

    try:
        loaded, tokenizer = load_model(model, device=device, dtype=dtype)
    except ModelLoadError as e:
        typer.secho(f"error: {e}", fg="red", err=True)
        raise typer.Exit(2) from None
    app = create_app(TransformersGenerator(loaded, tokenizer, batch_size=batch_size), served_name or model)
    uvicorn.run(app, host=host, port=port, log_level="warning")
