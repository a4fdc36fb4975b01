"""Generator, solver, exclusion list, prompts and the TinyZero schema."""

from collections import Counter

import pytest
from hypothesis import given, settings, strategies as st

from selfevolve.tasks.countdown import (
    CountdownProblem, GeneratorConfig, find_steps, game24_exclusion, generate_problems, problem_from_record,
    render_prompt, score, solve, to_training_row, tinyzero_split,
)


def test_generator_is_seeded_solvable_and_in_range():
    a, b = generate_problems(40, 7, "priming"), generate_problems(40, 7, "priming")
    assert a == b and a != generate_problems(40, 8, "priming")
    for p in a:
        assert 10 <= p.target <= 25 and len(p.nums) in (3, 4) and all(1 <= n <= 24 for n in p.nums)
        assert score(f"<answer>{p.solution}</answer>", p)[0] == 1.0


def test_rejection_skews_sizes_towards_four():
    sizes = Counter(len(p.nums) for p in generate_problems(400, 1, "priming"))
    assert sizes[4] > sizes[3]


def test_incorrect_preset_ranges_and_bulk_includes_pairs():
    assert all(10 <= p.target <= 100 and max(p.nums) <= 99 for p in generate_problems(20, 2, "incorrect"))
    assert 2 in {len(p.nums) for p in generate_problems(300, 2, "bulk")}


def test_larger_sizes_and_config_errors():
    config = GeneratorConfig(start_probs=(0, 0, 0, 0.5, 0.5), min_target=50, max_target=200, max_number=50)
    assert {len(p.nums) for p in generate_problems(10, 3, config)} <= {5, 6}
    with pytest.raises(ValueError, match="start_probs"):
        GeneratorConfig(start_probs=(0, 0, 0, 0, 0, 1))
    with pytest.raises(ValueError, match="unknown preset"):
        generate_problems(1, 0, "huge")


def test_game24_exclusion_shape_and_use():
    excluded = game24_exclusion()
    assert len(excluded) == 200 and all(len(t) == 4 and max(t) <= 13 for t in excluded)
    assert sum(find_steps(t, 24) is not None for t in excluded) == 197
    drawn = generate_problems(300, 5, GeneratorConfig((0, 0, 1), 24, 24, 1, 13))
    assert not any(tuple(sorted(p.nums)) in excluded for p in drawn)


def test_solver_known_cases():
    assert solve([4, 4, 10, 10], 24) == ["(10 * 10 - 4) / 4"]
    assert solve([1, 5, 5, 5], 24) == ["(5 - 1 / 5) * 5"]
    assert solve([1, 1, 1, 1], 24) == []
    # each listed once whatever the order or grouping; dividing by 1 is a different expression
    assert solve([1, 2, 3], 6) == ["1 * 3 * 2", "1 + 3 + 2", "3 / 1 * 2"]
    with pytest.raises(ValueError, match="1 to 7 numbers"):
        solve(list(range(1, 10)), 5)


@settings(max_examples=25, deadline=None)
@given(st.lists(st.integers(1, 12), min_size=2, max_size=4), st.integers(1, 30))
def test_every_solution_scores_one(nums, target):
    problem = CountdownProblem(tuple(nums), target)
    solutions = solve(nums, target)
    for expression in solutions:
        assert score(f"<answer>{expression}</answer>", problem)[0] == 1.0
    assert len(set(solutions)) == len(solutions)
    if find_steps(nums, target) is not None:  # integer-only solvable implies rationally solvable
        assert solutions


@settings(max_examples=15, deadline=None)
@given(st.integers(0, 10_000))
def test_generated_problems_always_solvable(seed):
    for p in generate_problems(3, seed, "bulk"):
        assert solve(p.nums, p.target) and score(f"<answer>{p.solution}</answer>", p)[0] == 1.0


def test_prompt_templates_exact():
    p = CountdownProblem((1, 2, 3), 6)
    base = render_prompt(p)
    assert base.startswith("A conversation between User and Assistant.")
    assert "User: Using the numbers [1, 2, 3], create an equation that equals 6." in base
    assert base.endswith("</answer>.\nAssistant: Let me solve this step by step.\n<think>")
    assert render_prompt(p, "priming") == base[: -len("\n<think>")]
    qwen = render_prompt(p, "qwen-instruct")
    assert qwen.startswith("<|im_start|>system\nYou are a helpful assistant. You first thinks")
    assert "<|im_start|>user\n Using the numbers [1, 2, 3]" in qwen
    assert qwen.endswith("<|im_end|>\n<|im_start|>assistant\nLet me solve this step by step.\n<think>")
    with pytest.raises(ValueError, match="unknown template"):
        render_prompt(p, "llama")


def test_tinyzero_schema_round_trip_and_split():
    p = CountdownProblem((3, 7, 25), 50)
    row = to_training_row(p, render_prompt(p), "train", 5)
    assert row["data_source"] == "countdown" and row["ability"] == "math"
    assert row["reward_model"] == {"style": "rule", "ground_truth": {"target": 50, "numbers": [3, 7, 25]}}
    assert row["extra_info"] == {"split": "train", "index": 5} and row["prompt"][0]["role"] == "user"
    assert problem_from_record(row) == p == problem_from_record({"target": 50, "nums": [3, 7, 25]})
    train, test = tinyzero_split(list(range(10)), train_size=6, test_size=3)
    assert train == list(range(6)) and test == [6, 7, 8]
    with pytest.raises(ValueError, match="expected keys"):
        problem_from_record({"question": 1})
