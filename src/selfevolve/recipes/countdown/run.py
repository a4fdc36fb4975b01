"""A Countdown R1-Zero run: `step.rl_step` in the shared run shell (`recipes/shell.py`), with a fixed
held-out split and greedy and T = 1 evaluation with behaviour counts.

Run directory (besides the shell's files): `samples.jsonl`, test completions of each evaluation.
Resume: besides the shell's checkpoint (policy, value head, optimiser, scheduler, RNG states),
samples logged after it are dropped.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

from selfevolve.behaviors.types import BEHAVIORS
from selfevolve.recipes.countdown.config import CountdownConfig, DataConfig
from selfevolve.recipes.countdown.step import FullText, behavior_means, is_correct, rl_step, sampling_params, step_seed
from selfevolve.recipes.models import load_policy, rollout_generator
from selfevolve.recipes.rundir import truncate_jsonl
from selfevolve.recipes.shell import RecipeRun, run_recipe
from selfevolve.report.html import Table
from selfevolve.report.run import Headline, Plot
from selfevolve.rl import Trainer
from selfevolve.store.metrics import read_metrics
from selfevolve.tasks.countdown import CountdownProblem, generate_problems, load_problems, render_prompt, tinyzero_split


def run_countdown(cfg: CountdownConfig | None, run_dir: Path, resume: bool = False, overrides: list[str] = (),
                  origin: dict | None = None) -> Path:
    """Train (or resume) an RL run in `run_dir`; returns the path of its HTML report."""
    return run_recipe(CountdownRun, cfg, run_dir, resume, overrides, origin)


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


# ---------------------------------------------------------------- the run


class CountdownRun(RecipeRun):
    title = "Countdown R1-Zero"
    config = CountdownConfig
    headlines = (
        Headline("eval/accuracy_t1", "test accuracy (1 sample at T=1)"),
        Headline("eval/accuracy_greedy", "test accuracy (greedy)"),
        *(Headline(f"eval/behavior/{b}", f"{b} per test completion (rules, T=1)") for b in BEHAVIORS),
    )
    plots = (
        Plot("accuracy (test: greedy, T=1; train rollouts)", ("eval/accuracy_greedy", "eval/accuracy_t1", "train/accuracy")),
        Plot("mean training reward", ("reward/mean",)),
        Plot("behaviours per test completion (rules, T=1)", tuple(f"eval/behavior/{b}" for b in BEHAVIORS)),
        Plot("behaviours per training rollout (rules)", tuple(f"train/behavior/{b}" for b in BEHAVIORS)),
        Plot("response length (chars)", ("train/response_chars", "eval/response_chars_t1")),
        Plot("KL to reference, entropy, value loss", ("kl", "entropy", "loss/value")),
        Plot("seconds per step by phase", ("time/generation", "step_time_s", "time/eval")),
    )
    columns = (("reward", "reward/mean"), ("train acc", "train/accuracy"), ("test greedy", "eval/accuracy_greedy"),
               ("test T=1", "eval/accuracy_t1"), ("gen s", "time/generation"))

    def __init__(self, cfg: CountdownConfig, run_dir: Path):
        super().__init__(cfg, run_dir)
        self.model, self.tokenizer, reference = load_policy(cfg.model, cfg.device, cfg.rl)
        self.train_problems, self.test_problems = split_problems(cfg.data)
        sampler = rollout_generator(cfg.generator, cfg.model, self.model, self.tokenizer,
                                    cfg.sampling.generation_batch_size, cfg.vllm)
        self.engine = sampler if cfg.generator == "vllm" else None
        self.generator = FullText(sampler)
        self.trainer = Trainer(self.model, cfg.rl, ref_model=reference)

    def step(self, step: int) -> dict[str, float]:
        return rl_step(self.cfg, step, self.generator, self.trainer, self.train_problems)[0]

    def evaluate(self, step: int) -> dict[str, float]:
        metrics, samples = evaluate(self.cfg, self.generator, self.test_problems)
        with open(self.dir / "samples.jsonl", "a", encoding="utf-8") as f:
            f.writelines(json.dumps({"step": step, **s}) + "\n" for s in samples)
        return metrics

    def restore(self, state: dict, step: int) -> None:
        truncate_jsonl(self.dir / "samples.jsonl", step)

    def report_tables(self, records: list[dict]) -> list[Table]:
        evals = [{k: v for k, v in r.items() if k == "step" or k.startswith("eval/")} for r in records if "eval/accuracy_t1" in r]
        samples = read_metrics(self.dir / "samples.jsonl")[-16:]
        return [Table("Evaluations", evals), Table("Sample test completions (T=1, latest evaluations)", samples)]


def evaluate(cfg: CountdownConfig, generator: FullText, test: list[CountdownProblem]) -> tuple[dict[str, float], list[dict]]:
    """Greedy and T = 1 accuracy on the test split; behaviour counts on `behavior_samples` T = 1 completions.

    The T = 1 draws use one fixed seed at every evaluation (common random numbers across steps).
    """
    started = time.perf_counter()
    problems = test[: cfg.eval.problems]
    prompts = [render_prompt(p, cfg.template) for p in problems]
    metrics: dict[str, float] = {}
    samples: list[dict] = []
    modes = ((("greedy", 0.0),) if cfg.eval.greedy else ()) + (("t1", 1.0),)
    for label, temperature in modes:
        params = sampling_params(cfg, temperature, cfg.eval.max_new_tokens, seed=step_seed(cfg.seed, -1))
        texts = [cs[0].text for cs in generator.generate(prompts, params)]
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
