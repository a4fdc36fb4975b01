"""The synthesis run around the searches: models per role, prompt budgets, the sandbox, the store,
progress, resume, and `sft.jsonl`.

Run directory: `config.yaml`, `store.sqlite` (table `sra_mcts_problems`: one row per finished problem,
tree and usage included), `sft.jsonl` (the kept records, shuffled), `summary.json` (counts).
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Mapping
from contextlib import ExitStack
from pathlib import Path

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from selfevolve.llm.open import ChatModel, is_endpoint, open_generator
from selfevolve.llm.types import SamplingParams
from selfevolve.recipes.rundir import prepare
from selfevolve.recipes.sra_mcts.calls import ROLE_OF, Context, Problem
from selfevolve.recipes.sra_mcts.config import SRAMCTSConfig
from selfevolve.recipes.sra_mcts.data import shuffled
from selfevolve.recipes.sra_mcts.engine import Engine, Usage
from selfevolve.recipes.sra_mcts.pipeline import Outcome, synthesize
from selfevolve.recipes.sra_mcts.problems import read_problems
from selfevolve.recipes.sra_mcts.prompts import Budget
from selfevolve.recipes.sra_mcts.store import ProblemTable
from selfevolve.sandbox import Sandbox
from selfevolve.store.db import RunStore
from selfevolve.tasks.code_tests import verify

ROLES = ("proposer", "reflector", "critic", "judge", "translator")


def synth(cfg: SRAMCTSConfig | None, out: Path, resume: bool = False, overrides: list[str] = (),
          models: Mapping[str, ChatModel] | None = None, progress: bool = True) -> Path:
    """Synthesise SFT data into `out` (resume: continue the run there, skipping stored problems);
    returns the path of `sft.jsonl`. `models` (role → ChatModel) replaces opening them from the config."""
    cfg = prepare(SRAMCTSConfig, cfg, out, resume, list(overrides))
    problems = read_problems(cfg.problems, cfg.limit)
    with RunStore(out / "store.sqlite") as store:
        table = ProblemTable(store)
        done = table.done_ids()
        todo = [p for p in problems if p.id not in done]
        if todo:
            roles = dict(models) if models is not None else open_models(cfg)
            search_all(cfg, todo, roles, table, progress, total=len(problems))
        wanted = {p.id for p in problems}
        rows = [r for r in table.rows() if r["problem_id"] in wanted]
    return write_outputs(out, cfg, rows)


def search_all(cfg: SRAMCTSConfig, todo: list[Problem], roles: Mapping[str, ChatModel], table: ProblemTable,
               progress: bool, total: int) -> None:
    """Run every problem of `todo` through the engine, storing each as it finishes."""
    sampling = sampling_params(cfg)
    budgets = prompt_budgets(cfg, roles, sampling)
    by_id = {p.id: p for p in todo}
    searches = ((p.id, synthesize(Context.for_problem(p, cfg, budgets))) for p in todo)
    with ExitStack() as stack:
        run_tests = None
        if any(p.tests for p in todo):
            sandbox = stack.enter_context(Sandbox(_sandbox_config(cfg)))
            run_tests = lambda pairs: verify(pairs, sandbox, cfg.verify.tests)  # noqa: E731
        engine = Engine({kind: roles[role] for kind, role in ROLE_OF.items()}, sampling, run_tests,
                        cfg.concurrent_problems, skip_too_long=cfg.on_prompt_too_long == "skip",
                        continuous=cfg.continuous_batching)
        bar, task = stack.enter_context(_progress(progress, total, total - len(todo)))

        def done_one(pid: str, outcome: Outcome, usage: Usage) -> None:
            table.add(problem_row(by_id[pid], cfg.method, outcome, usage))
            bar.update(task, advance=1)

        def skipped(pid: str, reason: str, usage: Usage) -> None:
            done_one(pid, Outcome("skipped", reason=reason), usage)

        def show(total_usage: Usage) -> None:
            bar.update(task, calls=total_usage.calls, tokens=total_usage.tokens)

        engine.run(searches, done_one, skipped, show)


def write_outputs(out: Path, cfg: SRAMCTSConfig, rows: list[dict]) -> Path:
    """`sft.jsonl` (the kept records, shuffled unless data.shuffle is off) and `summary.json`."""
    records = [r["record"] for r in rows if r["status"] == "kept"]
    if cfg.data.shuffle:
        records = shuffled(records, cfg.seed)
    sft = out / "sft.jsonl"
    sft.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), encoding="utf-8")
    (out / "summary.json").write_text(json.dumps(summary(rows), indent=1))
    return sft


def open_models(cfg: SRAMCTSConfig) -> dict[str, ChatModel]:
    """role → ChatModel; roles naming the same model (and endpoint model id) share one. Seeds torch
    with `cfg.seed` (local models sample from its global RNG)."""
    import torch

    torch.manual_seed(cfg.seed)
    opened: dict[tuple[str, str | None], ChatModel] = {}
    out = {}
    for role in ROLES:
        spec = cfg.role(role)
        model = spec.model or cfg.model
        api_model = (spec.api_model or cfg.api_model) if is_endpoint(model) else None
        if (model, api_model) not in opened:
            generator = open_generator(model, api_model, cfg.api_key_env, generator=cfg.generator, device=cfg.device,
                                       dtype=cfg.dtype, batch_size=cfg.generation_batch_size, concurrency=cfg.api_concurrency,
                                       vllm_options={"tensor_parallel_size": cfg.tensor_parallel_size})
            opened[(model, api_model)] = ChatModel.over(generator)
        out[role] = opened[(model, api_model)]
    return out


def sampling_params(cfg: SRAMCTSConfig) -> dict[str, SamplingParams]:
    """The sampling of each ask kind: its role's settings, with the published exceptions (simple
    reflection 128 tokens, ToT proposals 256, CoT 1,024)."""
    def of(role: str, **changes) -> SamplingParams:
        spec = cfg.role(role)
        values = {"temperature": spec.temperature, "top_p": spec.top_p, "max_new_tokens": spec.max_new_tokens} | changes
        return SamplingParams(n=1, **values)

    return {
        "reflect": of("reflector"),
        "reflect_simple": of("reflector", max_new_tokens=cfg.search.simple_reflection_max_new_tokens),
        "propose": of("proposer"),
        "propose_tot": of("proposer", max_new_tokens=cfg.tot.max_new_tokens),
        "score": of("critic"),
        "translate": of("translator"),
        "judge": of("judge"),
        "cot": of("proposer", max_new_tokens=cfg.cot.max_new_tokens, temperature=cfg.cot.temperature),
    }


def prompt_budgets(cfg: SRAMCTSConfig, roles: Mapping[str, ChatModel], sampling: Mapping[str, SamplingParams]) -> dict[str, Budget | None]:
    """Per ask kind: the role's max_prompt_tokens, else its model's context minus the kind's new tokens;
    None where the model cannot count tokens (endpoints) or has no known limit."""
    out: dict[str, Budget | None] = {}
    for kind, role in ROLE_OF.items():
        model, limit = roles[role], cfg.role(role).max_prompt_tokens
        if limit is None and model.context_length is not None:
            limit = model.context_length - sampling[kind].max_new_tokens
            if limit < 1:
                raise ValueError(f"{role}: max_new_tokens {sampling[kind].max_new_tokens} ({kind}) leaves no room in the "
                                 f"model's context of {model.context_length} tokens; lower it")
        out[kind] = Budget(model.count_tokens, limit) if limit is not None and model.count_tokens is not None else None
    return out


def problem_row(problem: Problem, method: str, outcome: Outcome, usage: Usage) -> dict:
    v = outcome.verification
    return {
        "problem_id": problem.id, "position": problem.position, "method": method, "status": outcome.status,
        "reason": outcome.reason, "plan": outcome.plan, "answer": outcome.answer, "accurate": outcome.accurate,
        "finish": outcome.finish, "verified": None if v is None else v.verified,
        "pass_rate": None if v is None else v.pass_rate, "n_tests": None if v is None else v.n_tests,
        "record": outcome.record, "tree": outcome.tree, "model_calls": usage.calls, "generated_tokens": usage.tokens,
        "critic_replies": outcome.critic_replies, "critic_unscored": outcome.critic_unscored,
    }


def summary(rows: list[dict]) -> dict:
    """Counts over the stored problems: kept, dropped by reason, skipped; the verified path's yield; usage."""
    tested = [r for r in rows if r["n_tests"] is not None]
    return {
        "problems": len(rows),
        "status": dict(Counter(r["status"] for r in rows)),
        "reasons": dict(Counter(r["reason"].split(":")[0] for r in rows if r["reason"])),
        "judged_solved": sum(bool(r["accurate"]) for r in rows),
        "with_tests": len(tested),
        "verified": sum(bool(r["verified"]) for r in tested),
        "kept_with_tests": sum(r["status"] == "kept" for r in tested),
        "model_calls": sum(r["model_calls"] for r in rows),
        "generated_tokens": sum(r["generated_tokens"] for r in rows),
        # problems stored before these counts existed hold NULL
        "critic_replies": sum(r["critic_replies"] or 0 for r in rows),
        "critic_unscored": sum(r["critic_unscored"] or 0 for r in rows),
    }


def _sandbox_config(cfg: SRAMCTSConfig):
    workers = {"workers": cfg.verify.sandbox_workers} if cfg.verify.sandbox_workers else {}
    return cfg.verify.tests.sandbox_config(**workers)


class _progress:
    """A rich progress bar over problems, with model calls and generated tokens (stderr)."""

    def __init__(self, enabled: bool, total: int, done: int):
        columns = (TextColumn("sra-mcts"), BarColumn(), MofNCompleteColumn(), TextColumn("problems"),
                   TextColumn("{task.fields[calls]} calls · {task.fields[tokens]} tokens"), TimeElapsedColumn())
        self.bar = Progress(*columns, console=Console(stderr=True), disable=not enabled)
        self.task = self.bar.add_task("synth", total=total, completed=done, calls=0, tokens=0)

    def __enter__(self):
        self.bar.__enter__()
        return self.bar, self.task

    def __exit__(self, *exc):
        return self.bar.__exit__(*exc)
