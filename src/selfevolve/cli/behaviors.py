"""`selfevolve behaviors`: priming data, behaviour classification, classifier evaluation, corpus filter."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer
from rich.console import Console
from rich.table import Table

from selfevolve.behaviors.conditions import CONDITIONS, prime_data
from selfevolve.behaviors.evaluation import EVAL_SEED, evaluate_classifier, labelled_set, rules_classifier
from selfevolve.behaviors.judge import BehaviorJudge, client_chat
from selfevolve.behaviors.cache import ReplyCache
from selfevolve.behaviors.types import BEHAVIORS
from selfevolve.store.jsonl import read_jsonl, write_jsonl

app = typer.Typer(help="Cognitive behaviours: synthesise, count and filter.", no_args_is_help=True)
console = Console()


@app.command("prime-data")
def prime_data_cmd(
    condition: str = typer.Option(..., "--condition", help=f"One of {sorted(CONDITIONS)}."),
    n: int = typer.Option(..., "-n", min=0, help="Number of records."),
    seed: int = typer.Option(42, "--seed"),
    out: Path = typer.Option(..., "-o", "--out"),
) -> None:
    """Write synthetic priming traces with known behaviour counts.

    Example: selfevolve behaviors prime-data --condition all_strategies -n 1000 --seed 42 -o train.jsonl
    """
    if condition not in CONDITIONS:
        raise typer.BadParameter(f"unknown condition {condition!r}; choose one of {sorted(CONDITIONS)}.")
    records = prime_data(condition, n, seed)
    write_jsonl(records, out)
    mean = sum(r["reward"] for r in records) / max(len(records), 1)
    typer.echo(f"wrote {len(records)} records to {out}; mean reward {mean:.3f}")


def _llm_judge(base_url: str, model: str, cache: Optional[Path]) -> BehaviorJudge:
    try:
        from selfevolve.llm import OpenAIClient
    except ImportError as exc:
        raise typer.BadParameter("--judge llm needs selfevolve.llm.OpenAIClient, which is not installed.") from exc
    from selfevolve.llm.types import SamplingParams

    client = OpenAIClient(base_url=base_url, model=model)
    params = SamplingParams(max_new_tokens=512, temperature=0.0)
    return BehaviorJudge(client_chat(client, params), ReplyCache(cache), namespace=model)


def _print_table(title: str, rows: dict[str, dict[str, float]], columns: list[str]) -> None:
    table = Table(title=title)
    table.add_column("behaviour")
    for column in columns:
        table.add_column(column, justify="right")
    for name, values in rows.items():
        table.add_row(name, *(f"{values[c]:.3f}" if isinstance(values[c], float) else str(values[c]) for c in columns))
    console.print(table)


@app.command("classify")
def classify_cmd(
    file: Path = typer.Argument(..., exists=True, dir_okay=False, help="JSONL with nums, target, completion."),
    judge: str = typer.Option("rules", "--judge", help="rules | llm"),
    base_url: Optional[str] = typer.Option(None, "--base-url", help="OpenAI-compatible endpoint (llm judge)."),
    model: str = typer.Option("gpt-4o-mini", "--model", help="Judge model name (llm judge)."),
    cache: Optional[Path] = typer.Option(None, "--cache", help="SQLite file caching judge replies."),
) -> None:
    """Count behaviours per record and print mean and total per behaviour.

    Example: selfevolve behaviors classify samples.jsonl --judge llm --base-url http://127.0.0.1:8000/v1
    """
    if judge not in ("rules", "llm"):
        raise typer.BadParameter("--judge must be 'rules' or 'llm'.")
    if judge == "llm" and not base_url:
        raise typer.BadParameter("--judge llm needs --base-url of an OpenAI-compatible server.")
    classify = rules_classifier if judge == "rules" else _llm_judge(base_url, model, cache).classify
    totals = {b: 0 for b in BEHAVIORS}
    seen = {b: 0 for b in BEHAVIORS}
    skipped = 0
    for number, record, error in read_jsonl(file):
        if error or not {"nums", "target", "completion"} <= set(record):
            skipped += 1
            console.print(f"[yellow]{file}:{number}: {error or 'needs nums, target, completion'}[/yellow]")
            continue
        for b, count in classify(record["completion"], record["nums"], record["target"]).items():
            if count is not None:
                totals[b] += count
                seen[b] += 1
    rows = {b: {"mean": totals[b] / seen[b] if seen[b] else 0.0, "total": totals[b]} for b in BEHAVIORS}
    _print_table(f"{file} ({judge}; {skipped} skipped)", rows, ["mean", "total"])


@app.command("eval-classifier")
def eval_classifier_cmd(
    n: int = typer.Option(150, "-n", help="Traces per priming condition."),
    seed: int = typer.Option(EVAL_SEED, "--seed", help="Held-out seed (priming data uses others)."),
    heldout_share: float = typer.Option(0.5, "--heldout-share", help="Share written with held-out phrasings."),
) -> None:
    """Precision and recall of the rule-based classifier on the synthetic labelled set.

    TP = sum over traces of min(predicted, true count); precision = TP / predicted; recall = TP / true.

    Example: selfevolve behaviors eval-classifier -n 150
    """
    records = labelled_set(n, seed, heldout_share)
    _print_table(f"rules on {len(records)} synthetic traces (seed {seed})", evaluate_classifier(records),
                 ["precision", "recall", "tp", "pred", "true"])


@app.command("filter")
def filter_cmd(
    corpus: Path = typer.Argument(..., exists=True, dir_okay=False, help="JSONL documents."),
    base_url: str = typer.Option(..., "--base-url", help="OpenAI-compatible endpoint of the labeller."),
    out: Path = typer.Option(Path("filtered.jsonl"), "-o", "--out"),
    model: str = typer.Option("Qwen2.5-32B-Instruct", "--model"),
    text_field: str = typer.Option("text", "--text-field"),
    cache: Optional[Path] = typer.Option(None, "--cache", help="SQLite file caching replies."),
) -> None:
    """Label documents, keep problem+solution ones, split rich/none, rewrite as question/thoughts/answer.

    Example: selfevolve behaviors filter owm.jsonl --base-url http://127.0.0.1:8000/v1 -o owm_qa.jsonl
    """
    from selfevolve.behaviors.filter import CorpusFilter

    pipeline = CorpusFilter(_llm_judge(base_url, model, cache))
    results = []
    for number, record, error in read_jsonl(corpus):
        if error or not isinstance(record.get(text_field), str):
            console.print(f"[yellow]{corpus}:{number}: {error or f'no string field {text_field!r}'}[/yellow]")
            continue
        results.append(pipeline.process(number, record[text_field]).to_record())
    write_jsonl(results, out)
    splits = {s: sum(r["split"] == s for r in results) for s in ("rich", "none", "rejected")}
    typer.echo(f"wrote {len(results)} documents to {out}: {splits}")
