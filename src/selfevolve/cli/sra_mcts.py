"""`selfevolve sra-mcts`: synthesise SFT data with SRA-MCTS (or the CoT/ToT baselines), build the
MBPP+ problem pool, fine-tune on the data. Evaluation is `selfevolve bench run`."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Optional

import typer

from selfevolve.cli.errors import usage_exit

app = typer.Typer(help="SRA-MCTS: a model plans with MCTS over its own reasoning steps, writes code from the plan, and learns from it.",
                  no_args_is_help=True)


def _set(field: str, value: object) -> str:
    """An override whose value YAML reads back exactly (JSON is YAML): model names stay strings."""
    return f"{field}={json.dumps(value)}"


@app.command("synth")
def synth_cmd(
    out: Path = typer.Option(..., "--out", "-o", help="Run directory: config.yaml, store.sqlite, sft.jsonl, summary.json."),
    model: Optional[str] = typer.Option(None, "--model", "-m", help="Local model (name or directory) or an OpenAI-compatible base URL, e.g. http://127.0.0.1:8000/v1."),
    problems: Optional[str] = typer.Option(None, "--problems", help="JSONL of {question, id?, tests?}, or 'leetcode-uneasy' (the shipped 1,819, default)."),
    limit: Optional[int] = typer.Option(None, "--limit", min=1, help="Use the first N problems only."),
    method: Optional[str] = typer.Option(None, "--method", help="mcts (default), or the baselines cot and tot."),
    api_model: Optional[str] = typer.Option(None, "--api-model", help="With a base URL: the endpoint's model id."),
    api_key_env: Optional[str] = typer.Option(None, "--api-key-env", help="Environment variable holding the endpoint's key (default OPENAI_API_KEY)."),
    preset: Optional[str] = typer.Option(None, "--preset", "-p", help="Shipped preset: paper, cpu (Qwen2.5-Coder-0.5B-Instruct), tiny (tiny-coder, tests)."),
    config: Optional[Path] = typer.Option(None, "--config", "-c", help="YAML file layered over the preset."),
    set_: list[str] = typer.Option([], "--set", "-s", help="Override a field, e.g. --set search.branch=2 --set critic.max_new_tokens=256."),
    resume: bool = typer.Option(False, "--resume", help="Continue the run in --out: problems already stored are not searched again."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress bar."),
) -> None:
    """Synthesise SFT data: search a plan per problem, translate it into code, run the tests if any.

    Writes DIR/sft.jsonl (one record per kept problem: question, solution; verified, pass_rate,
    n_tests where tests exist), the search store and summary.json.

    Examples:

      selfevolve sra-mcts synth --preset cpu --limit 20 --out runs/sra

      selfevolve sra-mcts synth --preset paper --model http://127.0.0.1:8000/v1 --api-model llama-3.1-8b --out runs/sra-8b

      selfevolve sra-mcts problems mbpp --out mbpp_pool.jsonl
      selfevolve sra-mcts synth --preset cpu --problems mbpp_pool.jsonl --out runs/sra-mbpp

      selfevolve sra-mcts synth --preset cpu --method cot --out runs/cot

      selfevolve sra-mcts synth --out runs/sra --resume --limit 100
    """
    from selfevolve.config import ConfigError, load_config
    from selfevolve.llm.errors import LLMRequestError, ModelLoadError, PromptTooLongError
    from selfevolve.recipes.rundir import RunDirError
    from selfevolve.recipes.sra_mcts.config import SRAMCTSConfig
    from selfevolve.recipes.sra_mcts.run import synth

    given = {"model": model, "problems": problems, "limit": limit, "method": method, "api_model": api_model,
             "api_key_env": api_key_env}
    overrides = [_set(k, v) for k, v in given.items() if v is not None] + list(set_)
    try:
        if resume:
            sft = synth(None, out, resume=True, overrides=overrides, progress=not quiet)
        else:
            if model is None and preset is None and config is None:
                raise ConfigError("say which model to use: --model NAME_OR_URL (or a --preset that names one, e.g. cpu)")
            cfg = load_config(SRAMCTSConfig, "sra_mcts", preset, config, overrides)
            sft = synth(cfg, out, progress=not quiet)
    except (ConfigError, RunDirError, ModelLoadError, PromptTooLongError, LLMRequestError, ValueError) as e:
        raise usage_exit(e) from e
    summary = json.loads((out / "summary.json").read_text())
    typer.echo(f"{sft}: {summary['status'].get('kept', 0)} of {summary['problems']} problems kept "
               f"({summary['model_calls']} model calls, {summary['generated_tokens']} tokens)")


@app.command("problems")
def problems_cmd(
    source: str = typer.Argument(..., help="mbpp: the MBPP+ synthesis pool (even task ids)."),
    out: Path = typer.Option(..., "--out", "-o", help="JSONL of {id, question, tests} to pass to synth --problems."),
    mbpp: Optional[Path] = typer.Option(None, "--mbpp", help="MbppPlus-v0.2.0.jsonl.gz (default: the copy shipped with selfevolve)."),
) -> None:
    """Write a problem file for synth: `mbpp` = the even MBPP+ tasks with their asserts as tests.

    The odd MBPP+ tasks and HumanEval+ stay held out for `selfevolve bench run`.

    Example: selfevolve sra-mcts problems mbpp --out mbpp_pool.jsonl
    """
    from selfevolve.recipes.sra_mcts.problems import mbpp_synthesis_pool

    if source != "mbpp":
        raise typer.BadParameter(f"unknown source {source!r}; the one built here is 'mbpp' (LeetCode ships as 'leetcode-uneasy')")
    try:
        pool = mbpp_synthesis_pool(mbpp)
    except ValueError as e:
        raise usage_exit(e) from e
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text("".join(json.dumps(r) + "\n" for r in pool))
    typer.echo(f"wrote {len(pool)} MBPP+ problems (even task ids, {sum(len(r['tests']) for r in pool)} tests) to {out}")


@app.command("train")
def train_cmd(
    data: Path = typer.Option(..., "--data", "-d", help="sft.jsonl from `selfevolve sra-mcts synth`."),
    model: str = typer.Option(..., "--model", "-m", help="The model to fine-tune (the one that made the data): a name or directory."),
    out: Path = typer.Option(..., "--out", "-o", help="Output directory; the model lands in OUT/model."),
    lora: bool = typer.Option(True, "--lora/--full", help="LoRA adapters merged into the saved model, or all weights."),
    seed: int = typer.Option(0, "--seed", help="Training seed."),
    device: Optional[str] = typer.Option(None, "--device", help="cpu, cuda, ...; default: CUDA when available."),
    preset: Optional[str] = typer.Option(None, "--preset", "-p", help="Take the train section of a shipped preset (paper, cpu, tiny)."),
    set_: list[str] = typer.Option([], "--set", "-s", help="Override a train field, e.g. --set epochs=1 --set learning_rate=2e-5."),
) -> None:
    """Fine-tune a model on its SRA-MCTS data with TRL's SFTTrainer (loss on the solution only).

    Examples:

      selfevolve sra-mcts train --data runs/sra/sft.jsonl --model qwen2.5-coder-0.5b-instruct --out runs/sra-sft --preset cpu

      selfevolve sra-mcts train --data runs/sra/sft.jsonl --model /models/llama-3.1-8b --out runs/sft --full --set learning_rate=1e-5

    Then evaluate: selfevolve bench run --model runs/sra-sft/model
    """
    from selfevolve.config import ConfigError, load_config
    from selfevolve.recipes.sra_mcts.config import SRAMCTSConfig
    from selfevolve.recipes.sra_mcts.train import train

    overrides = [_set("model", model), _set("train.lora", lora), *[f"train.{s}" for s in set_]]
    try:
        cfg = load_config(SRAMCTSConfig, "sra_mcts", preset, None, overrides)
        model_dir = train(data, model, out, cfg.train, seed=seed, device=device)
    except (ConfigError, ValueError) as e:
        raise usage_exit(e) from e
    typer.echo(f"model: {model_dir}")
