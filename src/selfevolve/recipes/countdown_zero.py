"""Countdown R1-Zero: RL from a base model on Countdown (docs/spec/countdown_and_behaviors.md §4), GRPO or PPO with a critic.

`rl_step` is the whole iteration, top to bottom:

    sample prompts (a function of seed and step) -> rollout (n samples each, scored by the hardened
    evaluator) -> optional reward-shuffling control -> trainer.step -> metrics (reward, accuracy,
    rule-based behaviour counts of the rollouts)

Around it: a fixed held-out split, greedy and T = 1 evaluation with behaviour counts, checkpoints
(written to `*.partial`, then renamed), resume, and the HTML report. Run directory:

    config.yaml  metrics.jsonl  tensorboard/  checkpoints/step_NNNNNN/  samples.jsonl  model/  report.html

Resume: the newest complete checkpoint is loaded (policy, value head, optimiser, scheduler, RNG
states, step) and metrics after it are dropped. Prompt draws and sampling seeds depend only on
(seed, step), so a resumed run repeats exactly the steps an uninterrupted run would take.
"""

from __future__ import annotations

import json
import random
import time
from dataclasses import dataclass
from pathlib import Path

import torch
from rich.console import Console
from transformers.utils import logging as hf_logging

from selfevolve.behaviors.rules import count_behaviors, think_text
from selfevolve.behaviors.types import BEHAVIORS
from selfevolve.llm.transformers_backend import TransformersGenerator
from selfevolve.llm.types import Completion, SamplingParams
from selfevolve.recipes.countdown_config import CountdownConfig, DataConfig
from selfevolve.recipes.models import load_policy
from selfevolve.recipes.rundir import load_latest, prepare, save_checkpoint, truncate_jsonl
from selfevolve.report.html import Report, Table, line_plot, write_report
from selfevolve.rl import Rollout, Trainer, rollout
from selfevolve.store.metrics import MetricsLogger, read_metrics
from selfevolve.tasks.countdown import (
    CountdownProblem,
    RewardConfig,
    Verdict,
    generate_problems,
    load_problems,
    render_prompt,
    score,
    tinyzero_split,
)

console = Console()


# ---------------------------------------------------------------- problems


def problem_key(problem: CountdownProblem) -> tuple:
    """Identity of a problem for disjointness: the multiset of numbers and the target."""
    return tuple(sorted(problem.nums)), problem.target


def split_problems(data: DataConfig) -> tuple[list[CountdownProblem], list[CountdownProblem]]:
    """(RL pool, test split), disjoint by `problem_key`: test problems are removed from the pool."""
    if data.dataset:
        train, test = tinyzero_split(load_problems(data.dataset), data.train_problems, data.test_problems)
    else:
        test = generate_problems(data.test_problems, data.test_seed, data.preset)
        train = generate_problems(data.train_problems, data.train_seed, data.preset)
    held = {problem_key(p) for p in test}
    train = [p for p in train if problem_key(p) not in held]
    if not train:
        raise ValueError("every RL problem is also a test problem; raise data.train_problems or change a seed")
    return train, test


def step_seed(seed: int, step: int) -> int:
    return seed * 1_000_003 + step


# ---------------------------------------------------------------- generation and reward


class FullText:
    """A generator whose completions' text is the decoded trained tokens, stop string included.

    The backend cuts `text` before a stop string; the reward must see the closing `</answer>` the
    policy actually produced, and exactly the tokens it is trained on.
    """

    def __init__(self, generator: TransformersGenerator):
        self.inner = generator
        self.tokenizer = generator.tokenizer

    def generate(self, prompts, params: SamplingParams) -> list[list[Completion]]:
        outs = self.inner.generate(prompts, params)
        for group in outs:
            for c in group:
                c.text = self.tokenizer.decode(c.token_ids, skip_special_tokens=True)
        return outs


def make_reward_fn(cfg: CountdownConfig):
    reward_config = RewardConfig(format_score=cfg.format_score)

    def reward(prompt: str, completion: str, problem: CountdownProblem) -> float:
        return score(completion, problem, cfg.reward_mode, reward_config, prompt=prompt)[0]

    return reward


def is_correct(completion: str, problem: CountdownProblem, cfg: CountdownConfig, prompt: str | None = None) -> bool:
    return score(completion, problem, cfg.reward_mode, prompt=prompt)[1] is Verdict.CORRECT


def behavior_means(texts: list[str], problems: list[CountdownProblem]) -> dict[str, float]:
    """Mean rule-based count per behaviour over completions (thoughts only)."""
    totals = dict.fromkeys(BEHAVIORS, 0)
    for text, p in zip(texts, problems):
        for name, count in count_behaviors(think_text(text), p.nums, p.target).items():
            totals[name] += count
    return {name: totals[name] / max(len(texts), 1) for name in BEHAVIORS}


# ---------------------------------------------------------------- the RL step


@dataclass
class Run:
    cfg: CountdownConfig
    dir: Path
    generator: FullText
    tokenizer: object
    trainer: Trainer
    train_problems: list[CountdownProblem]
    test_problems: list[CountdownProblem]
    logger: MetricsLogger


def rl_step(run: Run, step: int) -> tuple[dict[str, float], Rollout]:
    """One RL step: draw prompts, roll out n samples each, score, update, summarise."""
    cfg = run.cfg
    problems = random.Random(step_seed(cfg.seed, step)).sample(run.train_problems, min(cfg.prompts_per_step, len(run.train_problems)))
    prompts = [render_prompt(p, cfg.template) for p in problems]
    params = _sampling(cfg, cfg.sampling.temperature, cfg.sampling.max_new_tokens, cfg.samples_per_prompt, step_seed(cfg.seed, step))
    started = time.perf_counter()
    ro = rollout(run.generator, run.tokenizer, prompts, params, make_reward_fn(cfg), contexts=problems)
    generation_s = time.perf_counter() - started
    if cfg.control == "shuffled_rewards":
        order = torch.randperm(len(ro.batch), generator=torch.Generator().manual_seed(step_seed(cfg.seed, step)))
        ro.batch.scores = ro.batch.scores[order]
    metrics = run.trainer.step(ro.batch)
    row_problems = [p for p in problems for _ in range(cfg.samples_per_prompt)]
    texts = [c.text for c in ro.completions]
    metrics["train/accuracy"] = sum(is_correct(t, p, cfg, q) for t, p, q in zip(texts, row_problems, ro.prompts)) / len(texts)
    metrics["train/response_chars"] = sum(map(len, texts)) / len(texts)
    metrics.update({f"train/behavior/{k}": v for k, v in behavior_means(texts, row_problems).items()})
    metrics["time/generation"] = generation_s
    return metrics, ro


def _sampling(cfg: CountdownConfig, temperature: float, max_new: int, n: int = 1, seed: int | None = None) -> SamplingParams:
    return SamplingParams(n=n, max_new_tokens=max_new, temperature=temperature, top_p=cfg.sampling.top_p,
                          stop=tuple(cfg.sampling.stop), seed=seed)


# ---------------------------------------------------------------- evaluation


def evaluate(run: Run) -> tuple[dict[str, float], list[dict]]:
    """Greedy and T = 1 accuracy on the test split; behaviour counts on `behavior_samples` T = 1 completions.

    The T = 1 draws use one fixed seed at every evaluation (common random numbers across steps).
    """
    cfg, started = run.cfg, time.perf_counter()
    problems = run.test_problems[: cfg.eval.problems]
    prompts = [render_prompt(p, cfg.template) for p in problems]
    metrics: dict[str, float] = {}
    samples: list[dict] = []
    modes = ((("greedy", 0.0),) if cfg.eval.greedy else ()) + (("t1", 1.0),)
    for label, temperature in modes:
        params = _sampling(cfg, temperature, cfg.eval.max_new_tokens, seed=step_seed(cfg.seed, -1))
        texts = [cs[0].text for cs in run.generator.generate(prompts, params)]
        hits = [is_correct(t, p, cfg, q) for t, p, q in zip(texts, problems, prompts)]
        metrics[f"eval/accuracy_{label}"] = sum(hits) / len(hits)
        metrics[f"eval/response_chars_{label}"] = sum(map(len, texts)) / len(texts)
        if label == "t1":
            k = cfg.eval.behavior_samples
            metrics.update({f"eval/behavior/{b}": v for b, v in behavior_means(texts[:k], problems[:k]).items()})
            samples = [{"nums": list(p.nums), "target": p.target, "completion": t, "correct": h}
                       for p, t, h in zip(problems[:8], texts, hits)]
    metrics["time/eval"] = time.perf_counter() - started
    return metrics, samples


# ---------------------------------------------------------------- the run


def run_countdown(cfg: CountdownConfig | None, run_dir: Path, resume: bool = False, overrides: list[str] = ()) -> Path:
    """Train (or resume) an RL run in `run_dir`; returns the path of its HTML report.

    On resume, `overrides` (e.g. `steps=400`) are applied to the saved config, so a finished run can be extended.
    """
    cfg = prepare(CountdownConfig, cfg, run_dir, resume, overrides)
    hf_logging.disable_progress_bar()
    if cfg.torch_threads:
        torch.set_num_threads(cfg.torch_threads)
    torch.manual_seed(cfg.seed)
    model, tokenizer, ref = load_policy(cfg.model, cfg.device, cfg.rl)
    train, test = split_problems(cfg.data)
    run = Run(cfg, run_dir, FullText(TransformersGenerator(model, tokenizer, cfg.sampling.generation_batch_size)),
              tokenizer, Trainer(model, cfg.rl, ref_model=ref), train, test, MetricsLogger(run_dir))
    try:
        start = _restore(run) if resume else _start(run)
        _train(run, start)
    finally:
        run.logger.close()
    model.save_pretrained(run_dir / "model")
    tokenizer.save_pretrained(run_dir / "model")
    return write_countdown_report(run_dir)


def _start(run: Run) -> int:
    metrics, samples = evaluate(run)
    _log(run, 0, metrics, samples)
    _checkpoint(run, 0)
    return 0


def _train(run: Run, start: int) -> None:
    cfg = run.cfg
    for step in range(start + 1, cfg.steps + 1):
        metrics, _ = rl_step(run, step)
        samples = []
        if cfg.eval.every and step % cfg.eval.every == 0 or step == cfg.steps:
            eval_metrics, samples = evaluate(run)
            metrics.update(eval_metrics)
        _log(run, step, metrics, samples)
        if step % cfg.checkpoint_every == 0 or step == cfg.steps:
            _checkpoint(run, step)


def _log(run: Run, step: int, metrics: dict[str, float], samples: list[dict]) -> None:
    run.logger.log(step, metrics)
    if samples:
        with open(run.dir / "samples.jsonl", "a", encoding="utf-8") as f:
            f.writelines(json.dumps({"step": step, **s}) + "\n" for s in samples)
    shown = {k: metrics[k] for k in ("reward/mean", "train/accuracy", "eval/accuracy_greedy", "eval/accuracy_t1") if k in metrics}
    console.print(f"step {step}/{run.cfg.steps} " + " ".join(f"{k} {v:.3f}" for k, v in shown.items()))


def _checkpoint(run: Run, step: int) -> None:
    save_checkpoint(run.dir, run.trainer, step)


def _restore(run: Run) -> int:
    step = load_latest(run.dir, run.trainer)["step"]
    for name in ("metrics.jsonl", "samples.jsonl"):
        truncate_jsonl(run.dir / name, step)
    console.print(f"resumed {run.dir} at step {step}")
    return step


def write_countdown_report(run_dir: Path) -> Path:
    records = read_metrics(run_dir / "metrics.jsonl")
    plots = [
        line_plot(records, ["eval/accuracy_greedy", "eval/accuracy_t1", "train/accuracy"], "accuracy (test: greedy, T=1; train rollouts)"),
        line_plot(records, ["reward/mean"], "mean training reward"),
        line_plot(records, [f"eval/behavior/{b}" for b in BEHAVIORS], "behaviours per test completion (rules, T=1)"),
        line_plot(records, [f"train/behavior/{b}" for b in BEHAVIORS], "behaviours per training rollout (rules)"),
        line_plot(records, ["train/response_chars", "eval/response_chars_t1"], "response length (chars)"),
        line_plot(records, ["kl", "entropy", "loss/value"], "KL to reference, entropy, value loss"),
        line_plot(records, ["time/generation", "step_time_s", "time/eval"], "seconds per step by phase"),
    ]
    evals = [r for r in records if "eval/accuracy_greedy" in r]
    table = [{k: (round(v, 4) if isinstance(v, float) else v) for k, v in r.items() if k == "step" or k.startswith("eval/")} for r in evals]
    samples = read_metrics(run_dir / "samples.jsonl")[-16:]
    report = Report(
        title=f"Countdown R1-Zero: {run_dir.name}",
        summary={"steps": records[-1]["step"] if records else None,
                 **({k: v for k, v in evals[-1].items() if k.startswith("eval/")} if evals else {}),
                 "config": (run_dir / "config.yaml").read_text()},
        figures=[f for f in plots if f is not None],
        tables=[Table("Evaluations", table), Table("Sample test completions (T=1, latest evaluations)", samples)],
    )
    return write_report(report, run_dir / "report.html")
