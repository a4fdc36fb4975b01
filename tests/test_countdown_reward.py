"""Reward: hardened defaults, the adversarial inputs of docs/spec/countdown_and_behaviors.md §2, and the reference loopholes in compat mode."""

import pytest

from selfevolve.tasks.countdown import CountdownProblem, RewardConfig, Verdict, render_prompt, score

P = CountdownProblem((2, 3), 8)
Q = CountdownProblem((25, 3, 4), 22)


def ans(text: str) -> str:
    return f"<think>working</think>\n<answer>{text}</answer>"


def test_correct_answer_scores_one_and_wrong_value_gets_format_credit():
    assert score(ans("25 - 3 + 4 - 4"), CountdownProblem((25, 3, 4, 4), 22)) == (1.0, Verdict.CORRECT)
    assert score(ans("25 + 3 - 4"), Q) == (0.1, Verdict.WRONG_VALUE)
    assert score(ans("25 - 3"), Q) == (0.1, Verdict.WRONG_NUMBERS)


def test_no_answer_scores_zero_and_prompt_example_is_ignored():
    example_only = render_prompt(Q, "base")  # holds <answer> (1 + 2) / 3 </answer>
    assert score("I give up", Q) == (0.0, Verdict.NO_ANSWER)
    assert score(example_only, CountdownProblem((1, 2, 3), 1))[1] is Verdict.CORRECT  # it is in the text scored
    assert score("no tags here", CountdownProblem((1, 2, 3), 1), prompt=example_only)[1] is Verdict.NO_ANSWER


@pytest.mark.parametrize("text", ["2**3", "2 ** 3"])
def test_power_is_refused_hardened_but_scores_in_compat(text):
    assert score(ans(text), P) == (0.1, Verdict.DISALLOWED_SYNTAX)
    assert score(ans(text), P, mode="tinyzero_compat") == (1.0, Verdict.CORRECT)


def test_floor_division_refused_hardened_but_accepted_in_compat():
    p = CountdownProblem((7, 2), 3)
    assert score(ans("7 // 2"), p)[1] is Verdict.DISALLOWED_SYNTAX
    assert score(ans("7 // 2"), p, mode="tinyzero_compat")[1] is Verdict.CORRECT


def test_huge_exponent_is_bounded_in_both_modes():
    p = CountdownProblem((9, 9, 9), 24)
    assert score(ans("9**9**9"), p)[1] is Verdict.DISALLOWED_SYNTAX
    assert score(ans("9**9**9"), p, mode="tinyzero_compat") == (0.1, Verdict.TOO_LARGE)
    assert score(ans("(9*9)**(9*9*9*9*9)"), CountdownProblem((9,) * 7, 1), mode="tinyzero_compat")[1] is Verdict.TOO_LARGE


def test_extra_line_after_answer_is_fine_hardened_but_zero_in_compat():
    text = ans("25 - 3") + "\nHope this helps."
    q = CountdownProblem((25, 3), 22)
    assert score(text, q) == (1.0, Verdict.CORRECT)
    assert score(text, q, mode="tinyzero_compat") == (0.0, Verdict.NO_ANSWER)


def test_multiline_answer_accepted_hardened():
    assert score("<answer>\n25 -\n3\n</answer>", CountdownProblem((25, 3), 22))[1] is Verdict.CORRECT


@pytest.mark.parametrize("text", ["25 - 3 - 3", "25", "25 - 3 + 0"])
def test_numbers_reused_or_missing_or_extra(text):
    assert score(ans(text), CountdownProblem((25, 3), 22)) == (0.1, Verdict.WRONG_NUMBERS)
    assert score(ans(text), CountdownProblem((25, 3), 22), mode="tinyzero_compat")[1] is Verdict.WRONG_NUMBERS


def test_unicode_digits():
    text = ans("٢٥ - ٣")  # Arabic-Indic 25 - 3
    q = CountdownProblem((25, 3), 22)
    assert score(text, q) == (0.1, Verdict.NON_ASCII)
    # The reference's \d matches them and int() reads them, but eval cannot parse them.
    assert score(text, q, mode="tinyzero_compat") == (0.1, Verdict.SYNTAX_ERROR)


def test_equation_with_equals():
    q = CountdownProblem((25, 3), 22)
    assert score(ans("25 - 3 = 22"), q) == (1.0, Verdict.CORRECT)
    assert score(ans("25 - 3 = 21"), q) == (0.1, Verdict.EQUALS_NOT_TARGET)
    assert score(ans("25 = 25 - 3 = 22"), q)[1] is Verdict.SYNTAX_ERROR
    assert score(ans("25 - 3 = 22"), q, mode="tinyzero_compat") == (0.1, Verdict.WRONG_NUMBERS)


def test_decimal_loophole_in_compat_only():
    four = CountdownProblem((2, 5, 2, 5), 5)  # "2.5" reads as the numbers 2 and 5 in the reference
    assert score(ans("2.5 + 2.5"), four)[1] is Verdict.BAD_CHARACTERS
    assert score(ans("2.5 + 2.5"), four, mode="tinyzero_compat")[1] is Verdict.CORRECT


def test_division_exact_with_fractions_and_by_zero():
    assert score(ans("(5 - 1 / 5) * 5"), CountdownProblem((1, 5, 5, 5), 24))[1] is Verdict.CORRECT
    assert score(ans("3 / (2 - 2)"), CountdownProblem((2, 2, 3), 1))[1] is Verdict.DIVISION_BY_ZERO
    assert score(ans("3 / (2 - 2)"), CountdownProblem((2, 2, 3), 1), mode="tinyzero_compat")[1] is Verdict.DIVISION_BY_ZERO


def test_length_cap_unary_minus_and_letters():
    long = " + ".join(["1"] * 200)
    assert score(ans(long), CountdownProblem((1,) * 200, 200))[1] is Verdict.TOO_LONG
    assert score(ans("-3 + 25"), CountdownProblem((3, 25), 22))[1] is Verdict.DISALLOWED_SYNTAX
    unary = RewardConfig(allow_unary_minus=True)
    assert score(ans("-3 + 25"), CountdownProblem((3, 25), 22), config=unary)[1] is Verdict.CORRECT
    assert score(ans("__import__('os')"), P)[1] is Verdict.BAD_CHARACTERS
    assert score(ans("1_0 - 2"), CountdownProblem((10, 2), 8))[1] is Verdict.BAD_CHARACTERS


def test_accuracy_mode_uses_zero_format_score_and_bad_mode_errors():
    assert score(ans("2 + 3"), P, config=RewardConfig(format_score=0.0)) == (0.0, Verdict.WRONG_VALUE)
    with pytest.raises(ValueError, match="unknown reward mode"):
        score(ans("2 + 3"), P, mode="lenient")


def test_compat_uses_last_line_of_text_after_assistant():
    q = CountdownProblem((25, 3), 22)
    qwen = render_prompt(q, "qwen-instruct")
    assert score("25 - 3 = 22 </think>\n<answer>25 - 3</answer>", q, mode="tinyzero_compat", prompt=qwen)[1] is Verdict.CORRECT
    assert score("<answer>25 - 3</answer>", q, mode="tinyzero_compat", prompt="no marker ")[1] is Verdict.NO_ANSWER
