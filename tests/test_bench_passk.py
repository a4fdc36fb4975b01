"""Unbiased pass@k against its definition, and which k a results file reports."""

from itertools import combinations
from math import comb

import pytest

from selfevolve.bench.passk import mean_pass_at_k, pass_at_k
from selfevolve.bench.results import results_dict
from selfevolve.bench.suite import Verdicts


@pytest.mark.parametrize("n,c,k", [(1, 0, 1), (1, 1, 1), (5, 2, 1), (5, 2, 3), (6, 0, 2), (7, 7, 4), (10, 3, 10)])
def test_pass_at_k_is_the_chance_that_a_k_subset_holds_a_correct_sample(n, c, k):
    samples = [True] * c + [False] * (n - c)
    subsets = list(combinations(range(n), k))
    by_enumeration = sum(any(samples[i] for i in s) for s in subsets) / len(subsets)
    assert pass_at_k(n, c, k) == pytest.approx(by_enumeration)
    assert pass_at_k(n, c, k) == pytest.approx(1 - comb(n - c, k) / comb(n, k))


def test_pass_at_k_stays_exact_for_large_n():
    assert pass_at_k(200, 1, 100) == pytest.approx(0.5)
    assert pass_at_k(200, 0, 100) == 0.0


def test_bad_counts_are_refused():
    with pytest.raises(ValueError, match="1 <= k <= n"):
        pass_at_k(3, 1, 10)
    with pytest.raises(ValueError):
        pass_at_k(3, 4, 1)


def test_mean_reports_only_the_k_every_task_has_samples_for():
    correct = {"a": [True] * 10 + [False] * 5, "b": [False] * 12}
    metrics = mean_pass_at_k(correct)
    assert set(metrics) == {"pass@1", "pass@10"}
    assert metrics["pass@1"] == pytest.approx((10 / 15 + 0) / 2)
    assert mean_pass_at_k({"a": [True]}, prefix="base_") == {"base_pass@1": 1.0}


def test_results_have_exactly_the_documented_keys():
    v = Verdicts(correct={"t/0": [True, False], "t/1": [False, False]}, base={"t/0": [True, True], "t/1": [True, False]},
                 plus={"t/0": [True, False], "t/1": [False, False]})
    data = results_dict("humaneval+", "m", v)
    assert set(data) == {"suite", "model", "n_samples", "metrics", "tasks"}
    assert data["n_samples"] == 2
    assert data["tasks"]["t/0"] == {"correct": [True, False], "base": [True, True], "plus": [True, False]}
    assert data["metrics"] == {"pass@1": 0.25, "base_pass@1": 0.75}
