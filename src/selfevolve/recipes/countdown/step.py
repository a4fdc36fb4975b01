"""Countdown R1-Zero (docs/spec/countdown_and_behaviors.md §4): one RL step from a base model, GRPO or PPO with a critic.

`rl_step` is the whole iteration, top to bottom:

    sample prompts (a function of seed and step) -> rollout (n samples each, scored by the hardened
    evaluator) -> optional reward-shuffling control -> trainer.step -> metrics (reward, accuracy,
    rule-based behaviour counts of the rollouts)

Prompt draws and sampling seeds depend only on (seed, step), so a resumed run repeats exactly the
steps an uninterrupted run would take.
"""

from __future__ import annotations

import random
import time

import torch

from selfevolve.behaviors.rules import count_behaviors, think_text
from selfevolve.behaviors.types import BEHAVIORS
from selfevolve.llm.transformers_backend import TransformersGenerator
from selfevolve.llm.vllm_backend import VLLMGenerator
from selfevolve.llm.types import Completion, SamplingParams
from selfevolve.recipes.countdown.config import CountdownConfig
from selfevolve.rl import Rollout, Trainer, rollout
from selfevolve.tasks.countdown import CountdownProblem, RewardConfig, Verdict, render_prompt, score


def step_seed(seed: int, step: int) -> int:
    return seed * 1_000_003 + step


class FullText:
    """A generator whose completions' text is the decoded trained tokens, stop string included.

    The backend cuts `text` before a stop string; the reward must see the closing `</answer>` the
    policy actually produced, and exactly the tokens it is trained on.
    """

    def __init__(self, generator: TransformersGenerator | VLLMGenerator):
        self.inner = generator
        self.tokenizer = generator.tokenizer

    def generate(self, prompts, params: SamplingParams) -> list[list[Completion]]:
        outs = self.inner.generate(prompts, params)
        for group in outs:
            for c in group:
                c.text = self.tokenizer.decode(c.token_ids, skip_special_tokens=True)
        return outs


def sampling_params(cfg: CountdownConfig, temperature: float, max_new: int, n: int = 1, seed: int | None = None) -> SamplingParams:
    return SamplingParams(n=n, max_new_tokens=max_new, temperature=temperature, top_p=cfg.sampling.top_p,
                          stop=tuple(cfg.sampling.stop), seed=seed)


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


def rl_step(cfg: CountdownConfig, step: int, generator: FullText, trainer: Trainer,
            pool: list[CountdownProblem]) -> tuple[dict[str, float], Rollout]:
    """One RL step: draw prompts from `pool`, roll out n samples each, score, update, summarise."""
    problems = random.Random(step_seed(cfg.seed, step)).sample(pool, min(cfg.prompts_per_step, len(pool)))
    prompts = [render_prompt(p, cfg.template) for p in problems]
    params = sampling_params(cfg, cfg.sampling.temperature, cfg.sampling.max_new_tokens, cfg.samples_per_prompt,
                             step_seed(cfg.seed, step))
    started = time.perf_counter()
    ro = rollout(generator, generator.tokenizer, prompts, params, make_reward_fn(cfg), contexts=problems)
    generation_s = time.perf_counter() - started
    if cfg.control == "shuffled_rewards":
        order = torch.randperm(len(ro.batch), generator=torch.Generator().manual_seed(step_seed(cfg.seed, step)))
        ro.batch.scores = ro.batch.scores[order]
    metrics = trainer.step(ro.batch)
    row_problems = [p for p in problems for _ in range(cfg.samples_per_prompt)]
    texts = [c.text for c in ro.completions]
    metrics["train/accuracy"] = sum(is_correct(t, p, cfg, q) for t, p, q in zip(texts, row_problems, ro.prompts)) / len(texts)
    metrics["train/response_chars"] = sum(map(len, texts)) / len(texts)
    metrics.update({f"train/behavior/{k}": v for k, v in behavior_means(texts, row_problems).items()})
    metrics["time/generation"] = generation_s
    return metrics, ro
