"""Countdown: reach a target with + - * / using each given number once.

The public surface other parts build on (RL recipes, tiny-model pretraining, the priming study)::

    generate_problems(n, seed, preset) -> list[CountdownProblem]
    render_prompt(problem, template="base") -> str
    score(completion, problem, mode="hardened") -> (reward, Verdict)
    solve(nums, target) -> list[str]
"""

from selfevolve.tasks.countdown.exclusion import game24_exclusion
from selfevolve.tasks.countdown.generator import PRESETS, GeneratorConfig, generate_problems
from selfevolve.tasks.countdown.problem import (
    CountdownProblem,
    load_problems,
    problem_from_record,
    tinyzero_split,
    to_training_row,
)
from selfevolve.tasks.countdown.prompts import TEMPLATES, render_prompt
from selfevolve.tasks.countdown.reward import MODES, RewardConfig, Verdict, extract_answer, score
from selfevolve.tasks.countdown.search import find_steps, solve, steps_to_expression

__all__ = [
    "CountdownProblem", "GeneratorConfig", "MODES", "PRESETS", "RewardConfig", "TEMPLATES", "Verdict",
    "extract_answer", "find_steps", "game24_exclusion", "generate_problems", "load_problems",
    "problem_from_record", "render_prompt", "score", "solve", "steps_to_expression", "tinyzero_split",
    "to_training_row",
]
