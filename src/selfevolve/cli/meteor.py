"""`selfevolve meteor`: the METEOR stages (distill, refine, self-train), their evaluation, and the whole run."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from selfevolve.cli.errors import usage_exit

app = typer.Typer(
    help="METEOR: weak-to-strong distillation, refinement with feedback, self-training, and a judged evaluation. "
    "Every model is a local name or directory, or an OpenAI-compatible base URL (http://host:8000/v1).",
    no_args_is_help=True,
)

QUESTIONS = typer.Option(..., "--questions", "-q", help="Question file (METEOR .json, .jsonl records, or 'mbpp'); repeat for several.")
OUT = typer.Option(..., "--out", "-o", help="Output directory; rerun with the same one to resume.")
PRESET = typer.Option("cpu", "--preset", help="Shipped preset: paper, code, cpu (smollm2 weak, qwen2.5-coder-0.5b strong and judge).")
CONFIG = typer.Option(None, "--config", "-c", help="YAML file layered over the preset.")
SET = typer.Option([], "--set", "-s", help="Override a field, e.g. --set refine.feedback=tests --set self_train.loss=dpo.")
DOMAIN = typer.Option(None, "--domain", help="The questions' domain (default: the file name, ML.json -> ML).")
WEAK = typer.Option(None, "--weak", help="The weak model (trained, so local where a stage trains it): a name or directory.")
STRONG = typer.Option(None, "--strong", help="The strong model: a local model or a base URL.")
JUDGE = typer.Option(None, "--judge", help="The judge: a local model or a base URL.")
WEAK_API = typer.Option(None, "--weak-api-model", help="Served model name when --weak is a URL.")
STRONG_API = typer.Option(None, "--strong-api-model", help="Served model name when --strong is a URL.")
JUDGE_API = typer.Option(None, "--judge-api-model", help="Served model name when --judge is a URL.")
KEY_ENV = typer.Option(None, "--api-key-env", help="Environment variable with the endpoints' API key (default OPENAI_API_KEY).")
DEVICE = typer.Option(None, "--device", help="cpu, cuda, cuda:1 (default: CUDA when available).")


def _setup(preset, config, set_, questions, domain, **roles):
    """(config, records, roles) from the options: the preset, the YAML file, --set, then the model flags."""
    from pydantic import ValidationError

    from selfevolve.config import ConfigError, load_config
    from selfevolve.recipes.meteor.config import MeteorConfig
    from selfevolve.recipes.meteor.questions import load_questions
    from selfevolve.recipes.meteor.roles import Roles

    cfg = load_config(MeteorConfig, "meteor", preset, config, list(set_))
    flags = {k: v for k, v in roles.items() if v is not None}
    try:
        cfg = MeteorConfig.model_validate(cfg.model_dump() | {"roles": cfg.roles.model_dump() | flags})
    except ValidationError as e:
        raise ConfigError("; ".join(f"{'.'.join(map(str, err['loc']))}: {err['msg']}" for err in e.errors())) from None
    records = load_questions(list(questions), domain)
    return cfg, records, Roles.from_config(cfg.roles, cfg.prompts.chat_template)


def _guarded(work):
    """Run `work()`, turning the problems a user can fix into a message and exit code 2."""
    from selfevolve.config import ConfigError
    from selfevolve.llm.errors import LLMRequestError, ModelLoadError
    from selfevolve.recipes.meteor.errors import MeteorError

    try:
        return work()
    except (ConfigError, MeteorError, ModelLoadError, LLMRequestError, FileExistsError) as e:
        raise usage_exit(e) from e


def _show(summary: dict) -> None:
    import json

    typer.echo(json.dumps(summary, indent=2))


def _run_stage(stage, out: Path, preset, config, set_, questions, domain, **roles) -> None:
    """Set up from the options, start (or resume) OUT, run `stage(records, roles, cfg, out)` and print its summary."""
    from selfevolve.recipes.meteor.run import start_dir

    def work():
        cfg, records, models = _setup(preset, config, set_, questions, domain, **roles)
        start_dir(out, cfg)
        return stage(records[: cfg.max_questions], models, cfg, out)

    _show(_guarded(work))


@app.command("distill")
def distill_cmd(questions: list[str] = QUESTIONS, out: Path = OUT, weak: Optional[str] = WEAK, strong: Optional[str] = STRONG,
                weak_api_model: Optional[str] = WEAK_API, strong_api_model: Optional[str] = STRONG_API,
                api_key_env: Optional[str] = KEY_ENV, device: Optional[str] = DEVICE, domain: Optional[str] = DOMAIN,
                preset: str = PRESET, config: Optional[Path] = CONFIG, set_: list[str] = SET) -> None:
    """Stage 1: the weak model writes guidelines, the strong model answers with them, the weak model is fine-tuned.

    Examples:

      selfevolve meteor distill --weak smollm2-135m-instruct --strong http://127.0.0.1:8000/v1 -q ML.json -o runs/ml/distill

      selfevolve meteor distill --preset code --weak ./llama3-8b --strong https://api.openai.com/v1 --strong-api-model gpt-4o -q DL.json -o out
    """
    from selfevolve.recipes.meteor.distill import distill

    _run_stage(distill, out, preset, config, set_, questions, domain, weak=weak, strong=strong,
               weak_api_model=weak_api_model, strong_api_model=strong_api_model, api_key_env=api_key_env, device=device)


@app.command("refine")
def refine_cmd(questions: list[str] = QUESTIONS, out: Path = OUT, weak: Optional[str] = WEAK, strong: Optional[str] = STRONG,
               weak_api_model: Optional[str] = WEAK_API, strong_api_model: Optional[str] = STRONG_API,
               api_key_env: Optional[str] = KEY_ENV,
               device: Optional[str] = DEVICE, domain: Optional[str] = DOMAIN, preset: str = PRESET,
               config: Optional[Path] = CONFIG, set_: list[str] = SET) -> None:
    """Stage 2: the weak model answers, feedback judges, wrong answers are retried; fine-tuned every N kept samples.

    Questions may be a question file or the records of a previous stage (distill/records.jsonl).

    Examples:

      selfevolve meteor refine --weak runs/ml/distill/model --strong http://127.0.0.1:8000/v1 -q runs/ml/distill/records.jsonl -o runs/ml/refine

      selfevolve meteor refine --weak tiny-coder -q mbpp --set refine.feedback=tests -o runs/mbpp/refine
    """
    from selfevolve.recipes.meteor.refine import refine

    _run_stage(refine, out, preset, config, set_, questions, domain, weak=weak, strong=strong,
               weak_api_model=weak_api_model, strong_api_model=strong_api_model, api_key_env=api_key_env, device=device)


@app.command("self-train")
def self_train_cmd(questions: list[str] = QUESTIONS, out: Path = OUT, weak: Optional[str] = WEAK, judge: Optional[str] = JUDGE,
                   judge_api_model: Optional[str] = JUDGE_API, api_key_env: Optional[str] = KEY_ENV,
                   device: Optional[str] = DEVICE, domain: Optional[str] = DOMAIN, preset: str = PRESET,
                   config: Optional[Path] = CONFIG, set_: list[str] = SET) -> None:
    """Stage 3: contrast greedy and high-compute answers (beam or sampling) and train toward the preferred one.

    Examples:

      selfevolve meteor self-train --weak runs/ml/refine/models/v003 -q ML.json -o runs/ml/self_train

      selfevolve meteor self-train --weak tiny-coder -q mbpp --set self_train.loss=dpo --set self_train.high_compute=sample -o out
    """
    from selfevolve.recipes.meteor.self_train import self_train

    _run_stage(self_train, out, preset, config, set_, questions, domain, weak=weak, judge=judge,
               judge_api_model=judge_api_model, api_key_env=api_key_env, device=device)


@app.command("evaluate")
def evaluate_cmd(models: tuple[str, str] = typer.Option(..., "--models", help="The two models compared: --models A B."),
                 questions: list[str] = QUESTIONS, out: Path = OUT, judge: Optional[str] = JUDGE,
                 judge_api_model: Optional[str] = JUDGE_API, api_key_env: Optional[str] = KEY_ENV,
                 device: Optional[str] = DEVICE, domain: Optional[str] = DOMAIN, preset: str = PRESET,
                 config: Optional[Path] = CONFIG, set_: list[str] = SET) -> None:
    """Judge two models head to head on five criteria; writes OUT/evaluation.json (win rates of A against B).

    Examples:

      selfevolve meteor evaluate --models runs/ml/self_train/turn_01/model smollm2-135m-instruct --judge http://127.0.0.1:8000/v1 -q held.jsonl -o runs/ml/eval

      selfevolve meteor evaluate --models A B --judge J -q mbpp --set evaluate.position_swap=false -o out
    """
    from selfevolve.recipes.meteor.evaluate import evaluate
    from selfevolve.recipes.meteor.run import start_dir

    def work():
        cfg, records, roles = _setup(preset, config, set_, questions, domain, judge=judge, judge_api_model=judge_api_model,
                                     api_key_env=api_key_env, device=device)
        start_dir(out, cfg)
        return evaluate(records, list(models), roles.weak, roles.judge, cfg, out)

    _show(_guarded(work))


@app.command("run")
def run_cmd(questions: list[str] = QUESTIONS, out: Path = OUT, weak: Optional[str] = WEAK, strong: Optional[str] = STRONG,
            judge: Optional[str] = JUDGE, strong_api_model: Optional[str] = STRONG_API,
            judge_api_model: Optional[str] = JUDGE_API, api_key_env: Optional[str] = KEY_ENV,
            device: Optional[str] = DEVICE, domain: Optional[str] = DOMAIN, preset: str = PRESET,
            config: Optional[Path] = CONFIG, set_: list[str] = SET) -> None:
    """All of METEOR: distill, refine, self-train, then the final model against the weak one on held-out questions.

    Examples:

      selfevolve meteor run -q mbpp -o runs/meteor-cpu                       # the cpu preset's models

      selfevolve meteor run --preset paper --weak ./Qwen2-7B-Instruct --strong https://api.openai.com/v1 \\
          --strong-api-model gpt-4o --judge https://api.openai.com/v1 --judge-api-model gpt-4o -q ML.json -o runs/ml
    """
    from selfevolve.recipes.meteor.run import run_meteor

    def work():
        cfg, records, roles = _setup(preset, config, set_, questions, domain, weak=weak, strong=strong, judge=judge,
                                     strong_api_model=strong_api_model, judge_api_model=judge_api_model,
                                     api_key_env=api_key_env, device=device)
        return run_meteor(records, roles, cfg, out)

    _show(_guarded(work))
