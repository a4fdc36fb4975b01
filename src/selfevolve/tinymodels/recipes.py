"""How each shipped tiny model is made: its corpus, size preset, pretraining schedule and held-out eval."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Callable

from selfevolve.tinymodels.corpora import coder, countdown
from selfevolve.tinymodels.coder_eval import evaluate_coder
from selfevolve.tinymodels.pretrain import PretrainConfig
from selfevolve.llm.types import SamplingParams
from selfevolve.tasks.countdown import render_prompt


@dataclass(frozen=True)
class Recipe:
    name: str
    description: str  # one paragraph for the model card
    preset: str
    corpus_docs: int
    seed: int
    pretrain: PretrainConfig
    make_corpus: Callable[[int, int], list[str]]  # (n_docs, seed) -> documents
    evaluate: Callable[[object], dict[str, float]]  # generator -> held-out accuracies


def _countdown_eval(generator, n: int = 200, seed: int = 10_007) -> dict[str, float]:
    problems = countdown.heldout_problems(n, seed)
    prompts = [render_prompt(p, "base") for p in problems]
    scores = {}
    for label, temperature in (("accuracy_t1", 1.0), ("accuracy_greedy", 0.0)):
        params = SamplingParams(max_new_tokens=64, temperature=temperature, stop=("</answer>",), seed=0)
        outs = generator.generate(prompts, params)
        # the stop string is cut from the text; put it back for the answer parser
        verdicts = [countdown.verdict(o[0].text + "</answer>", p) for o, p in zip(outs, problems)]
        scores[label] = sum(v == "correct" for v in verdicts) / n
        if temperature == 1.0:  # why the T=1 answers fail, as shares of all answers
            scores.update({f"t1_verdict_{v}": c / n for v, c in Counter(verdicts).most_common()})
    scores["heldout_problems"] = n
    return scores


RECIPES: dict[str, Recipe] = {
    "tiny-coder": Recipe(
        name="tiny-coder",
        description=(
            "Small deterministic Python functions from `selfevolve.tasks.code_io.synth_programs` (executed "
            "in the sandbox; programs of the held-out set excluded), each rendered as one solver document "
            "(compact prompt + ideal completion, for its task type: abduction, deduction or induction) and "
            "one proposer document (compact prompt with 0-1 reference triplets + the task as the proposal)."
        ),
        preset="micro",
        corpus_docs=32_000,
        seed=1,
        pretrain=PretrainConfig(steps=1500, batch_size=32, lr=3e-3, warmup_steps=50, eval_every=100, save_every=50),
        make_corpus=coder.corpus,
        evaluate=evaluate_coder,
    ),
    "tiny-countdown": Recipe(
        name="tiny-countdown",
        description=(
            "Countdown problems from `selfevolve.tasks.countdown` (priming preset: 3-4 numbers in 1-24, "
            "targets 10-25, solvable by construction) in the base "
            "prompt format of the Countdown R1-Zero study, each followed by one short direct attempt: "
            f"{countdown.CORRECT_FRACTION:.0%} of attempts are a correct solution, the rest a random "
            "expression over the given numbers. The base model of the priming study: mostly wrong."
        ),
        preset="micro",
        corpus_docs=20_000,
        seed=0,
        pretrain=PretrainConfig(steps=650, batch_size=32, lr=3e-3, warmup_steps=25, eval_every=50, save_every=25),
        make_corpus=countdown.corpus,
        evaluate=_countdown_eval,
    ),
}


def get_recipe(name: str) -> Recipe:
    if name not in RECIPES:
        raise ValueError(f"unknown tiny model {name!r}; choose one of {', '.join(RECIPES)}")
    return RECIPES[name]
