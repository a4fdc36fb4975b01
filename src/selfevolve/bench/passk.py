"""Unbiased pass@k (Chen et al., 2021, "Evaluating Large Language Models Trained on Code", eq. 1)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

KS = (1, 10, 100)


def pass_at_k(n: int, c: int, k: int) -> float:
    """P(at least one of k samples drawn without replacement from n, of which c are correct, is correct)
    = 1 - C(n-c, k) / C(n, k), computed as a running product (no huge binomials)."""
    if not 0 <= c <= n or k < 1 or k > n:
        raise ValueError(f"pass@k needs 0 <= c <= n and 1 <= k <= n; got n={n}, c={c}, k={k}")
    if n - c < k:
        return 1.0
    miss = 1.0
    for i in range(n - c + 1, n + 1):
        miss *= 1.0 - k / i
    return 1.0 - miss


def mean_pass_at_k(correct: Mapping[str, Sequence[bool]], prefix: str = "") -> dict[str, float]:
    """{f"{prefix}pass@{k}": mean over tasks} for each k of KS that every task has samples for."""
    if not correct:
        return {}
    fewest = min(len(v) for v in correct.values())
    return {
        f"{prefix}pass@{k}": sum(pass_at_k(len(v), sum(map(bool, v)), k) for v in correct.values()) / len(correct)
        for k in KS
        if k <= fewest
    }
