"""The shipped presets: each loads and validates, and the real-model presets fit their model's context.

Context lengths come from the models' own config.json (`max_position_embeddings`), written down here
so that no test needs the weights; the tiny presets are held to their models' own completions in
`test_azr.py::test_tiny_preset_budgets_fit_the_shipped_models_own_completions`.
"""

from __future__ import annotations

import pytest

from selfevolve.config import load_config, preset_names
from selfevolve.recipes.azr.config import AZRConfig
from selfevolve.recipes.countdown.config import CountdownConfig, StudyConfig
from selfevolve.recipes.meteor.config import MeteorConfig
from selfevolve.recipes.sra_mcts.config import SRAMCTSConfig
from selfevolve.tasks.countdown import generate_problems, render_prompt

RECIPES = {"azr": AZRConfig, "countdown": CountdownConfig, "countdown-study": StudyConfig, "sra_mcts": SRAMCTSConfig,
           "meteor": MeteorConfig}

CONTEXT = {  # tokens, from each model's config.json
    "qwen2.5-coder-0.5b-instruct": 32_768,
    "smollm2-135m-instruct": 8_192,
    "Qwen/Qwen2.5-Coder-3B": 32_768,
    "Qwen/Qwen2.5-Coder-7B": 32_768,
    "Qwen/Qwen2.5-3B": 32_768,
}

AZR_REAL = [p for p in preset_names("azr") if p != "tiny"]
COUNTDOWN_REAL = [p for p in preset_names("countdown") if not p.startswith("tiny")]


@pytest.mark.parametrize("recipe, preset", [(r, p) for r in RECIPES for p in preset_names(r)])
def test_every_preset_loads_and_validates(recipe, preset):
    # SRA-MCTS's paper preset names no model: the paper ran three, each on its own data
    overrides = ["model=any/model"] if (recipe, preset) == ("sra_mcts", "paper") else []
    cfg = load_config(RECIPES[recipe], recipe, preset, overrides=overrides)
    assert isinstance(cfg, RECIPES[recipe])


def test_the_real_model_presets_are_all_known():
    assert {"qwen2.5-coder-0.5b-instruct", "smollm2-135m-instruct", "qwen2.5-coder-3b", "qwen2.5-coder-7b"} <= set(AZR_REAL)
    assert {"smollm2-135m-instruct", "qwen2.5-3b"} <= set(COUNTDOWN_REAL)


@pytest.mark.parametrize("preset", AZR_REAL)
def test_azr_preset_budgets_fit_the_models_context(preset):
    cfg = load_config(AZRConfig, "azr", preset)
    context = CONTEXT[cfg.model]
    s = cfg.sampling
    assert s.max_prompt_tokens + max(s.proposer_max_new_tokens, s.solver_max_new_tokens) <= context
    assert s.max_prompt_tokens + cfg.eval.max_new_tokens <= context  # held-out solver prompts are solver prompts
    # the reference wraps prompts in the chat template exactly for instruct checkpoints
    assert cfg.chat_template == cfg.model.endswith("instruct")
    assert cfg.prompt_style == "full"
    assert set(cfg.eval.tasks) == {"cruxeval-o", "cruxeval-i"}  # the paper's in-training validation


@pytest.mark.parametrize("preset", COUNTDOWN_REAL)
def test_countdown_preset_budgets_fit_the_models_context(preset):
    cfg = load_config(CountdownConfig, "countdown", preset)
    problems = generate_problems(200, cfg.data.test_seed, cfg.data.preset)
    prompts = [render_prompt(p, cfg.template) for p in problems]
    # ASCII prompts: a token of a byte-level BPE covers at least one byte, so characters bound tokens
    assert all(p.isascii() for p in prompts)
    longest_prompt = max(map(len, prompts))
    assert longest_prompt + max(cfg.sampling.max_new_tokens, cfg.eval.max_new_tokens) <= CONTEXT[cfg.model]
