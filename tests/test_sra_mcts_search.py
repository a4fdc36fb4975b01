"""The SRA-MCTS search, step by step, under a scripted model; each reference defect (docs/spec/sra_mcts.md §7) has a test."""

from __future__ import annotations

import re

import pytest

from scripted import (
    CRITIC, JUDGE, PROPOSE, REFLECT, REFLECT_SIMPLE, TRANSLATE, ScriptedModel, StreamingScriptedModel, problem_of, steps_of,
)
from selfevolve.llm.errors import PromptTooLongError
from selfevolve.llm.open import ChatModel
from selfevolve.recipes.sra_mcts.calls import ROLE_OF, Ask, Context, Problem
from selfevolve.recipes.sra_mcts.config import SRAMCTSConfig
from selfevolve.recipes.sra_mcts.engine import Engine
from selfevolve.recipes.sra_mcts.pipeline import synthesize
from selfevolve.recipes.sra_mcts.run import prompt_budgets, sampling_params
from selfevolve.recipes.sra_mcts.tree import END, Node

SCORES = {"a1": 6, "b1": 7, "c1": 5, "a2": 8, "b2": 4, "c2": 5, "a3": 9, "b3": 3}
CODE = "Here it is.\n```python\ndef f():\n    return 1\n```"


def option_step(prompt: str, k: int) -> str:
    return f"Next step: option {'abcdef'[k]}{len(steps_of(prompt)) + 1}"


def option_score(prompt: str, k: int) -> str:
    last = steps_of(prompt)[-1]
    return f"Analysis: fine.\nScore: {SCORES.get(last.rsplit('option ', 1)[-1], 5)}"


def scripted(reflect="Analysis: keep going.", model: type[ScriptedModel] = ScriptedModel, **overrides) -> ScriptedModel:
    rules = {CRITIC: option_score, REFLECT: reflect, REFLECT_SIMPLE: "<continue>", PROPOSE: option_step,
             JUDGE: "<solved>", TRANSLATE: CODE} | overrides
    return model(list(rules.items()))


def config(**changes) -> SRAMCTSConfig:
    data = {"model": "scripted", "data": {"min_plan_words": 0}}
    for key, value in changes.items():
        section, _, field = key.partition("__")
        if field:
            data.setdefault(section, {})[field] = value
        else:
            data[key] = value
    return SRAMCTSConfig.model_validate(data)


def run(model, cfg, problems, chat=None, width=8):
    """{problem id: (Outcome, Usage)} after running `problems` through the engine."""
    chat = chat or ChatModel(model)
    sampling = sampling_params(cfg)
    budgets = prompt_budgets(cfg, {role: chat for role in ROLE_OF.values()}, sampling)
    engine = Engine({kind: chat for kind in ROLE_OF}, sampling, width=width, skip_too_long=cfg.on_prompt_too_long == "skip")
    results = {}
    engine.run(((p.id, synthesize(Context.for_problem(p, cfg, budgets))) for p in problems),
               lambda pid, outcome, usage: results.__setitem__(pid, (outcome, usage)),
               lambda pid, reason, usage: results.__setitem__(pid, (reason, usage)))
    return results


PROBLEM = Problem("p1", "Return the sum of a list of integers.")


def test_two_rounds_build_the_expected_tree_with_a_rollout_after_an_analysis():
    model = scripted()
    outcome, usage = run(model, config(), [PROBLEM])["p1"]
    tree = Node.from_dict(outcome.tree)
    a1, b1, c1 = tree.children.values()
    # round 1: root expanded (a1 6, b1 7, c1 5); the best child b1 reflected (an analysis, not <end>),
    # then rolled out with two plain proposals scored 8 and 4: V = 0.5*7 + 0.5*8, one visit (docs/spec/sra_mcts.md §7.1)
    assert [c.step for c in tree.children.values()] == ["Step 1: option a1\n", "Step 1: option b1\n", "Step 1: option c1\n"]
    assert (b1.V, b1.N, b1.reflection) == (7.5, 1, "keep going.") and not b1.children
    # round 2: a1 (unvisited, 6 + 8) beats b1 (7.5 + 0.5*sqrt(2 ln 1)) and c1 (5 + 8); a1 expanded,
    # a2 (8) rolled out to a3 (9): V = 8.5; backpropagation: a1 = 8.5, root = (8.5 + 7.5) / 2
    a2 = a1.children["Step 2: option a2\n"]
    assert (a2.V, a2.N) == (8.5, 1) and (a1.V, a1.N) == (8.5, 1) and (tree.V, tree.N) == (8.0, 2)
    assert (c1.V, c1.N) == (5.0, 0)
    assert outcome.plan == "Step 1: option a1\nStep 2: option a2\n" and outcome.finish is None
    assert outcome.accurate is True and outcome.status == "kept"
    assert outcome.record["solution"] == outcome.plan + "\n" + CODE and outcome.record["verified"] is None
    rollout_prompts = [p for prompts, _ in model.calls for p in prompts if re.match(PROPOSE, p) and "Analysis:" not in p]
    assert len(rollout_prompts) == 4 and all("History" not in p for p in rollout_prompts)
    # reflect, propose x3, score x3, reflect, propose x2, score x2, per round; then judge and translate
    assert usage.calls == 26 and usage.tokens > 0


def test_the_end_gate_stops_the_search_at_the_selected_node():
    model = scripted(**{CRITIC: "Score: 9"})
    outcome, usage = run(model, config(search__iteration_limit=5), [PROBLEM])["p1"]
    # round 1 expands the root (all 9) and rolls one child out (to 9): round 2 selects an unvisited 9 >= 8.8
    assert outcome.finish == 2 and outcome.plan.startswith("Step 1: option ") and outcome.plan.count("Step") == 1


def test_an_end_reflection_makes_the_rollout_value_the_childs_own():
    def reflect(prompt, k):
        return "<end>" if steps_of(prompt) else "Analysis: start."
    model = scripted(reflect=reflect)
    outcome, _ = run(model, config(search__iteration_limit=1), [PROBLEM])["p1"]
    tree = Node.from_dict(outcome.tree)
    b1 = tree.children["Step 1: option b1\n"]
    assert (b1.V, b1.N, b1.reflection) == (7.0, 1, END)
    assert not [p for prompts, _ in model.calls for p in prompts if re.match(PROPOSE, p) and "option b1" in p]


def test_not_yet_solved_does_not_end_the_search():
    # the reference treats any reflection containing " solved" as <end>: the root is never expanded
    # and the plan is empty (docs/spec/sra_mcts.md §7.2)
    model = scripted(reflect="The problem is not yet solved. Sort the input first.")
    outcome, _ = run(model, config(), [PROBLEM])["p1"]
    tree = Node.from_dict(outcome.tree)
    assert len(tree.children) == 3 and outcome.plan
    assert tree.reflection == "The problem is not yet solved. Sort the input first."
    assert any("Analysis: The problem is not yet solved." in p for prompts, _ in model.calls for p in prompts)


def test_an_end_at_the_root_stops_at_once_with_an_empty_plan():
    model = scripted(reflect="<end>")
    outcome, usage = run(model, config(data__min_plan_words=20), [PROBLEM])["p1"]
    assert outcome.plan == "" and outcome.accurate is False and outcome.status == "dropped" and outcome.reason == "short_plan"
    assert usage.calls == 1  # the root's reflection; no judge call for a plan without "Step 2:"


def test_simple_reflection_and_no_reflection_use_the_plain_proposal_prompt():
    for mode, first_phase in (("simple", PROPOSE), ("none", PROPOSE)):
        model = scripted()
        outcome, _ = run(model, config(search__reflection=mode), [PROBLEM])["p1"]
        assert re.match(first_phase, model.calls[0][0][0])  # the root is never asked whether it is done
        asked = [p for prompts, _ in model.calls for p in prompts]
        assert not any(re.match(REFLECT, p) for p in asked) and all("Analysis:" not in p for p in asked if re.match(PROPOSE, p))
        assert any(re.match(REFLECT_SIMPLE, p) for p in asked) == (mode == "simple")
        assert outcome.plan


def test_invalid_proposals_are_asked_again_up_to_three_times():
    def flaky(prompt, k):
        return "```python\nx = 1\n```" if k < 2 else option_step(prompt, k - 2)
    model = scripted(**{PROPOSE: flaky})
    outcome, _ = run(model, config(search__iteration_limit=1, search__branch=1, search__roll_branch=1), [PROBLEM])["p1"]
    assert list(Node.from_dict(outcome.tree).children) == ["Step 1: option a1\n"]
    model = scripted(**{PROPOSE: "```python\nx = 1\n```"})
    outcome, usage = run(model, config(search__iteration_limit=1, search__branch=2), [PROBLEM])["p1"]
    tree = Node.from_dict(outcome.tree)
    assert not tree.children and tree.reflection == END
    assert usage.calls == 1 + 2 * 3 + 1  # reflection, two proposals three times each, the (empty) plan's translation


def test_history_shows_earlier_siblings():
    model = scripted()
    run(model, config(search__iteration_limit=1, search__proposal_history=True), [PROBLEM])
    expand_prompts = [p for prompts, _ in model.calls for p in prompts if re.match(PROPOSE, p) and "Analysis:" in p]
    assert [p.count("History ") for p in expand_prompts] == [0, 1, 2]
    assert "History 0: option a1" in expand_prompts[1]


def test_critic_scores_are_cached_by_exact_steps():
    model = scripted(**{PROPOSE: "Next step: same idea"})
    run(model, config(), [PROBLEM])
    critic_prompts = [p for prompts, _ in model.calls for p in prompts if re.match(CRITIC, p)]
    assert len(critic_prompts) == len(set(critic_prompts))


def test_the_critic_never_loses_steps_to_the_budget():
    # the reference right-truncates the critic prompt at 1,024 tokens, so long problems lose the very
    # steps being scored (docs/spec/sra_mcts.md §7.4): here few-shot examples go first, then the problem's middle
    long_problem = "Start of the statement. " + "filler words " * 600 + "End of the statement."
    model = scripted()
    chat = ChatModel(model, count_tokens=lambda conv: sum(len(m["content"].split()) for m in conv))
    cfg = config(critic={"max_prompt_tokens": 500, "max_new_tokens": 1024}, search__iteration_limit=1)
    run(model, cfg, [Problem("long", long_problem)], chat=chat)
    critic_prompts = [p for prompts, _ in model.calls for p in prompts if re.match(CRITIC, p)]
    assert critic_prompts and all(len(p.split()) <= 500 for p in critic_prompts)
    for prompt in critic_prompts:
        assert "**Example" not in prompt and "middle of the problem omitted" in prompt
        assert problem_of(prompt).startswith("Start of the statement.") and problem_of(prompt).endswith("End of the statement.")
        assert steps_of(prompt)[-1].startswith("Step ")
    short = [p for prompts, _ in model.calls for p in prompts if re.match(PROPOSE, p)]
    assert all("filler words " * 600 in p for p in short)  # other roles had no budget set: whole problem


def test_steps_over_the_budget_fail_loudly_or_skip_the_problem():
    wordy = scripted(**{PROPOSE: lambda prompt, k: "Next step: " + "very " * 600 + f"long {k}"})
    chat = ChatModel(wordy, count_tokens=lambda conv: sum(len(m["content"].split()) for m in conv))
    cfg = config(critic={"max_prompt_tokens": 500})
    with pytest.raises(PromptTooLongError, match="problem p1: .*steps are never cut"):
        run(wordy, cfg, [PROBLEM], chat=chat)
    skipping = config(critic={"max_prompt_tokens": 500}, on_prompt_too_long="skip")
    results = run(wordy, skipping, [PROBLEM], chat=chat)
    reason, usage = results["p1"]
    assert reason.startswith("prompt_too_long:") and usage.calls == 4  # reflection and three proposals


class RefusingStreamingModel(StreamingScriptedModel):
    """Streams, and refuses any prompt of the problem named "Problem two" as too long (the engine's own
    token count, where the prompt budget's estimate fell short)."""

    def submit(self, prompts, params):
        if any("Problem two" in p for p in prompts):
            raise PromptTooLongError("prompt 0 has 900 tokens but the model's context is 512")
        return super().submit(prompts, params)


def test_a_prompt_the_streaming_model_refuses_stops_or_skips_its_problem_only():
    problems = [PROBLEM, Problem("p2", "Problem two: return the product of a list.")]
    with pytest.raises(PromptTooLongError, match="problem p2: prompt 0 has 900 tokens"):
        run(scripted(model=RefusingStreamingModel), config(), problems)
    results = run(scripted(model=RefusingStreamingModel), config(on_prompt_too_long="skip"), problems)
    reason, usage = results["p2"]
    assert reason.startswith("prompt_too_long:") and usage.calls == 0
    assert results["p1"][0].status == "kept"


def test_tot_scores_with_the_problem_in_the_critic_prompt():
    # the reference's ToT concatenates the critic template unformatted: the critic saw a literal
    # "{problem}" (docs/spec/sra_mcts.md §7.5)
    model = scripted(**{CRITIC: lambda prompt, k: f"Score: {4 + len(steps_of(prompt))}"})  # deeper is better, < 8.8
    outcome, usage = run(model, config(method="tot"), [PROBLEM])["p1"]
    critic_prompts = [p for prompts, _ in model.calls for p in prompts if re.match(CRITIC, p)]
    assert critic_prompts and all(PROBLEM.question in p and "{problem}" not in p and "{existing_steps}" not in p
                                  for p in critic_prompts)
    # depth first, keep 1, max depth 4, nothing reaches 8.8: four levels of three proposals, then the
    # best V (ties to the later node): the last proposal of the deepest level
    assert outcome.plan == "Step 1: option a1\nStep 2: option a2\nStep 3: option a3\nStep 4: option c4\n"
    assert outcome.finish is None
    assert usage.calls == 4 * (3 + 3) + 2  # + judge + translate
    proposal_budgets = {params.max_new_tokens for prompts, params in model.calls if re.match(PROPOSE, prompts[0])}
    assert proposal_budgets == {256}


def test_tot_stops_at_the_first_proposal_over_the_gate():
    model = scripted(**{CRITIC: lambda prompt, k: "Score: 9" if "option b2" in prompt else "Score: 6"})
    outcome, _ = run(model, config(method="tot"), [PROBLEM])["p1"]
    assert outcome.plan.endswith("Step 2: option b2\n") and outcome.finish == 2


def test_cot_answers_in_one_call():
    model = ScriptedModel([(r"Both natural language analysis and code", "We add them up.\n" + CODE)])
    outcome, usage = run(model, config(method="cot"), [PROBLEM])["p1"]
    assert usage.calls == 1 and outcome.status == "kept" and outcome.record["solution"] == "We add them up.\n" + CODE
    assert model.calls[0][1].max_new_tokens == 1024


def test_an_ask_without_prompts_is_refused():
    """The engine answers an ask when all its prompts are back; one with none would wait forever."""
    with pytest.raises(ValueError, match="no prompts would never be answered"):
        Ask("score", ())


def test_a_time_limit_replaces_the_round_limit():
    ticks = iter(range(100))
    cfg = config(search__iteration_limit=None, search__time_limit_ms=2500)
    chat = ChatModel(scripted())
    sampling = sampling_params(cfg)
    engine = Engine({kind: chat for kind in ROLE_OF}, sampling)
    results = {}
    context = Context.for_problem(PROBLEM, cfg, clock=lambda: float(next(ticks)))  # one second per look
    engine.run([("p1", synthesize(context))], lambda pid, outcome, usage: results.__setitem__(pid, outcome))
    assert Node.from_dict(results["p1"].tree).N == 2  # rounds started at 1 s and 2 s; at 3 s the limit had passed


def test_a_random_rollout_scores_one_of_its_proposals():
    model = scripted()
    outcome, usage = run(model, config(search__iteration_limit=1, search__roll_policy="random"), [PROBLEM])["p1"]
    rolled = [p for prompts, _ in model.calls for p in prompts if re.match(CRITIC, p) and len(steps_of(p)) == 2]
    assert len(rolled) == 1
    # reflect, propose x3, score x3; rollout: reflect, propose x2, score x1; a one-step plan is not judged; translate
    assert usage.calls == 1 + 3 + 3 + 1 + 2 + 1 + 1
