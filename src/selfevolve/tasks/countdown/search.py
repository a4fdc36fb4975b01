"""Exhaustive search over Countdown problems.

Two searches with different rules, on purpose:

* `find_steps` is the generator's pair reduction from docs/spec/countdown_and_behaviors.md §1: repeatedly replace an unordered pair by
  a+b, a*b, larger-smaller, or larger/smaller when exact, so every intermediate is a non-negative integer.
* `solve` lists every expression the reward accepts (rational intermediates, any order of subtraction),
  distinct up to commutativity and associativity of + and *.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from functools import lru_cache

Step = tuple[int, str, int, int]  # (left, op, right, result) with op in "+-*/"


def _pair_results(a: int, b: int) -> list[tuple[int, str, int, int]]:
    big, small = max(a, b), min(a, b)
    out = [(big, "+", small, big + small), (big, "*", small, big * small), (big, "-", small, big - small)]
    if small and big % small == 0:
        out.append((big, "/", small, big // small))
    return out


@lru_cache(maxsize=200_000)
def _reduce(pool: tuple[int, ...], target: int) -> tuple[Step, ...] | None:
    if len(pool) == 1:
        return () if pool[0] == target else None
    for i in range(len(pool)):
        for j in range(i + 1, len(pool)):
            rest = pool[:i] + pool[i + 1 : j] + pool[j + 1 :]
            for step in _pair_results(pool[i], pool[j]):
                tail = _reduce(tuple(sorted(rest + (step[3],))), target)
                if tail is not None:
                    return (step,) + tail
    return None


def find_steps(nums: tuple[int, ...] | list[int], target: int) -> list[Step] | None:
    """One pair-reduction solution as steps `(a, op, b, c)`, or None if the search finds none."""
    steps = _reduce(tuple(sorted(nums)), target)
    return None if steps is None else list(steps)


def steps_to_expression(nums: tuple[int, ...] | list[int], steps: list[Step]) -> str:
    """Fold pair-reduction steps back into one fully parenthesised expression over `nums`."""
    pool: list[tuple[int, str]] = [(n, str(n)) for n in nums]
    for left, op, right, result in steps:
        lhs = _take(pool, left)
        rhs = _take(pool, right)
        pool.append((result, f"({lhs} {op} {rhs})"))
    if len(pool) != 1:
        raise ValueError(f"steps do not use all numbers of {list(nums)}: {steps}")
    text = pool[0][1]
    return text[1:-1] if text.startswith("(") and text.endswith(")") and len(steps) else text


def _take(pool: list[tuple[int, str]], value: int) -> str:
    for index, (v, text) in enumerate(pool):
        if v == value:
            return pool.pop(index)[1]
    raise ValueError(f"step uses {value}, which is not available in the pool {[v for v, _ in pool]}")


# ---- all solutions over the rationals -------------------------------------------------------------

@dataclass(frozen=True)
class _Expr:
    text: str
    prec: int  # 3 atom, 2 product, 1 sum
    kind: str  # "num" | "sum" | "prod"
    terms: tuple[tuple[int, str], ...]  # flattened (sign or exponent, canonical key) for sums/products

    @property
    def key(self) -> str:
        if self.kind == "num":
            return self.text
        return self.kind[0].upper() + "(" + ",".join(f"{s}:{k}" for s, k in self.terms) + ")"


def _flat(expr: _Expr, kind: str, sign: int) -> list[tuple[int, str]]:
    if expr.kind == kind:
        return [(s * sign, k) for s, k in expr.terms]
    return [(sign, expr.key)]


def _combine(a: _Expr, op: str, b: _Expr) -> _Expr:
    if op in "+-":
        right = f"({b.text})" if op == "-" and b.prec == 1 else b.text
        terms = _flat(a, "sum", 1) + _flat(b, "sum", 1 if op == "+" else -1)
        return _Expr(f"{a.text} {op} {right}", 1, "sum", tuple(sorted(terms)))
    left = f"({a.text})" if a.prec == 1 else a.text
    right = f"({b.text})" if b.prec == 1 or (op == "/" and b.prec == 2) else b.text
    terms = _flat(a, "prod", 1) + _flat(b, "prod", 1 if op == "*" else -1)
    return _Expr(f"{left} {op} {right}", 2, "prod", tuple(sorted(terms)))


class _Solver:
    def __init__(self, nums: tuple[int, ...]):
        self.nums = nums
        self.values: dict[int, set[Fraction]] = {}
        self.memo: dict[tuple[int, Fraction], list[_Expr]] = {}

    def value_set(self, mask: int) -> set[Fraction]:
        if mask not in self.values:
            self.values[mask] = self._compute_values(mask)
        return self.values[mask]

    def _compute_values(self, mask: int) -> set[Fraction]:
        if mask & (mask - 1) == 0:
            return {Fraction(self.nums[mask.bit_length() - 1])}
        out: set[Fraction] = set()
        for left, right in _splits(mask):
            for a in self.value_set(left):
                for b in self.value_set(right):
                    out.update((a + b, a - b, b - a, a * b))
                    if b:
                        out.add(a / b)
                    if a:
                        out.add(b / a)
        return out

    def exprs(self, mask: int, value: Fraction) -> list[_Expr]:
        key = (mask, value)
        if key not in self.memo:
            self.memo[key] = self._build(mask, value)
        return self.memo[key]

    def _build(self, mask: int, value: Fraction) -> list[_Expr]:
        if mask & (mask - 1) == 0:
            n = self.nums[mask.bit_length() - 1]
            return [_Expr(str(n), 3, "num", ())] if n == value else []
        found: dict[str, _Expr] = {}
        for left, right in _splits(mask):
            right_values = self.value_set(right)
            for a in self.value_set(left):
                for b, op, swap in _needed(a, value, right_values):
                    for ea in self.exprs(left, a):
                        for eb in self.exprs(right, b):
                            expr = _combine(eb, op, ea) if swap else _combine(ea, op, eb)
                            found.setdefault(expr.key, expr)
        return list(found.values())


def _splits(mask: int) -> list[tuple[int, int]]:
    """Unordered splits of `mask` into two non-empty parts; the left part holds the lowest bit."""
    low = mask & -mask
    out, sub = [], (mask - 1) & mask
    while sub:
        if sub & low and sub != mask:
            out.append((sub, mask ^ sub))
        sub = (sub - 1) & mask
    return out


def _needed(a: Fraction, v: Fraction, candidates: set[Fraction]) -> list[tuple[Fraction, str, bool]]:
    """Right-hand values b (from `candidates`) with a op b = v or b op a = v; `swap` marks b op a."""
    wanted: list[tuple[Fraction, str, bool]] = [(v - a, "+", False), (a - v, "-", False), (v + a, "-", True)]
    if a:
        wanted += [(v / a, "*", False), (v * a, "/", True)]
        if v:
            wanted.append((a / v, "/", False))
    else:
        if v == 0:  # 0 * b and 0 / b are 0 for any (non-zero) b
            wanted += [(b, "*", False) for b in candidates] + [(b, "/", False) for b in candidates if b]
    return [(b, op, swap) for b, op, swap in wanted if b in candidates]


def solve(nums: tuple[int, ...] | list[int], target: int, limit: int | None = None) -> list[str]:
    """Every expression using each number exactly once that equals `target` exactly, sorted.

    Intermediates may be fractions or negative (the reward accepts both). Expressions that differ only
    by the order of operands of + and * or by regrouping them are listed once. `limit` caps the count.
    """
    nums = tuple(int(n) for n in nums)
    if not 1 <= len(nums) <= 7:
        raise ValueError(f"solve handles 1 to 7 numbers, got {len(nums)}; the search is exponential.")
    full = (1 << len(nums)) - 1
    texts = sorted(e.text for e in _Solver(nums).exprs(full, Fraction(target)))
    return texts if limit is None else texts[:limit]
