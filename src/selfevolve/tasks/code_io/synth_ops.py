"""The grammar of the program synthesiser: typed transformation steps.

Each op turns a value of one type (int, str, list of ints, dict str->int) into another and knows
how to write itself as Python lines plus a one-line English description (used for induction
messages). `k` is the optional second integer parameter of `f`.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Callable

INT, STR, LIST, DICT = "int", "str", "list", "dict"


@dataclass(frozen=True)
class Ctx:
    rng: random.Random
    src: str  # variable holding the input value
    dst: str  # variable to assign
    has_k: bool  # is `k` a parameter of f?


@dataclass(frozen=True)
class Op:
    name: str
    src: str
    dst: str
    write: Callable[[Ctx], tuple[list[str], str]]  # -> (body lines, description)
    weight: float = 1.0


def _const(c: Ctx, lo: int, hi: int) -> tuple[str, str]:
    """A small constant, or `k` when f takes one (then the description says 'k')."""
    if c.has_k and c.rng.random() < 0.4:
        return "k", "k"
    v = c.rng.randint(lo, hi)
    return str(v), str(v)


def _nonzero(c: Ctx, lo: int, hi: int) -> str:
    return str(c.rng.randint(lo, hi))


# ------------------------------------------------------------------ list -> list
def _scale(c: Ctx):
    a, da = _const(c, 2, 5)
    b = c.rng.randint(-3, 3)
    tail = f" + {b}" if b > 0 else (f" - {-b}" if b < 0 else "")
    return [f"{c.dst} = [x * {a}{tail} for x in {c.src}]"], f"maps each x to x*{da}{tail.replace(' ', '')}"


def _filter_mod(c: Ctx):
    m = c.rng.randint(2, 4)
    r = c.rng.randint(0, m - 1)
    return [f"{c.dst} = [x for x in {c.src} if x % {m} == {r}]"], f"keeps numbers with remainder {r} mod {m}"


def _filter_gt(c: Ctx):
    t, dt = _const(c, 2, 12)
    return [f"{c.dst} = [x for x in {c.src} if x > {t}]"], f"keeps numbers greater than {dt}"


def _sort(c: Ctx):
    if c.rng.random() < 0.5:
        return [f"{c.dst} = sorted({c.src})"], "sorts ascending"
    return [f"{c.dst} = sorted({c.src}, reverse=True)"], "sorts descending"


def _reverse(c: Ctx):
    return [f"{c.dst} = {c.src}[::-1]"], "reverses the list"


def _prefix_sums(c: Ctx):
    return [
        f"{c.dst} = []",
        "total = 0",
        f"for x in {c.src}:",
        "    total += x",
        f"    {c.dst}.append(total)",
    ], "takes running totals"


def _pair_diffs(c: Ctx):
    return [f"{c.dst} = [{c.src}[i + 1] - {c.src}[i] for i in range(len({c.src}) - 1)]"], "takes differences of neighbours"


def _enumerate_add(c: Ctx):
    return [f"{c.dst} = [x + i for i, x in enumerate({c.src})]"], "adds each position to its number"


def _dedupe(c: Ctx):
    return [
        f"{c.dst} = []",
        f"for x in {c.src}:",
        f"    if x not in {c.dst}:",
        f"        {c.dst}.append(x)",
    ], "drops repeated numbers"


def _rotate(c: Ctx):
    r, dr = _const(c, 1, 3)
    return [
        f"if {c.src}:",
        f"    {c.dst} = {c.src}[{r} % len({c.src}):] + {c.src}[:{r} % len({c.src})]",
        "else:",
        f"    {c.dst} = []",
    ], f"rotates left by {dr}"


def _clamp(c: Ctx):
    lo, hi = c.rng.randint(0, 4), c.rng.randint(6, 12)
    return [f"{c.dst} = [min(max(x, {lo}), {hi}) for x in {c.src}]"], f"clamps numbers to [{lo}, {hi}]"


def _swap_pairs(c: Ctx):
    return [
        f"{c.dst} = list({c.src})",
        f"for i in range(0, len({c.dst}) - 1, 2):",
        f"    {c.dst}[i], {c.dst}[i + 1] = {c.dst}[i + 1], {c.dst}[i]",
    ], "swaps neighbouring pairs"


def _parity_branch(c: Ctx):
    a = c.rng.randint(2, 3)
    return [
        f"{c.dst} = []",
        f"for x in {c.src}:",
        "    if x % 2 == 0:",
        f"        {c.dst}.append(x // 2)",
        "    else:",
        f"        {c.dst}.append(x * {a} + 1)",
    ], f"halves even numbers and maps odd x to {a}x+1"


# ------------------------------------------------------------------ list -> int
def _sum(c: Ctx):
    return [f"{c.dst} = sum({c.src})"], "sums"


def _len(c: Ctx):
    return [f"{c.dst} = len({c.src})"], "counts the items"


def _max(c: Ctx):
    return [f"{c.dst} = max({c.src}) if {c.src} else 0"], "takes the largest (0 if empty)"


def _count_if(c: Ctx):
    t, dt = _const(c, 3, 10)
    return [
        f"{c.dst} = 0",
        f"for x in {c.src}:",
        f"    if x >= {t}:",
        f"        {c.dst} += 1",
    ], f"counts numbers at least {dt}"


def _alt_sum(c: Ctx):
    return [
        f"{c.dst} = 0",
        f"for i, x in enumerate({c.src}):",
        f"    {c.dst} = {c.dst} + x if i % 2 == 0 else {c.dst} - x",
    ], "adds even positions and subtracts odd positions"


def _product_mod(c: Ctx):
    m = c.rng.choice([7, 10, 11, 13, 97])
    return [
        f"{c.dst} = 1",
        f"for x in {c.src}:",
        f"    {c.dst} = ({c.dst} * (x % {m} + 1)) % {m}",
    ], f"multiplies (x mod {m} + 1) modulo {m}"


# ------------------------------------------------------------------ int -> int
def _affine(c: Ctx):
    a = c.rng.randint(2, 4)
    b, db = _const(c, 1, 9)
    return [f"{c.dst} = {c.src} * {a} + {b}"], f"computes {a}*x+{db}"


def _mod(c: Ctx):
    m = _nonzero(c, 3, 11)
    return [f"{c.dst} = {c.src} % {m}"], f"takes the remainder mod {m}"


def _digit_sum(c: Ctx):
    return [
        f"{c.dst} = 0",
        f"for ch in str(abs({c.src})):",
        f"    {c.dst} += int(ch)",
    ], "sums the digits"


def _recursive_digit_root(c: Ctx):
    return [
        "def root(m):",
        "    if m < 10:",
        "        return m",
        "    return root(sum(int(ch) for ch in str(m)))",
        f"{c.dst} = root(abs({c.src}))",
    ], "takes the repeated digit sum"


def _collatz_steps(c: Ctx):
    return [
        f"m = abs({c.src}) + 1",
        f"{c.dst} = 0",
        f"while m != 1 and {c.dst} < 50:",
        "    m = m // 2 if m % 2 == 0 else 3 * m + 1",
        f"    {c.dst} += 1",
    ], "counts Collatz steps of |x|+1 (at most 50)"


def _triangular(c: Ctx):
    return [
        "def tri(m):",
        "    return 0 if m <= 0 else m + tri(m - 1)",
        f"{c.dst} = tri(abs({c.src}) % 20)",
    ], "takes the triangular number of |x| mod 20"


def _clip_branch(c: Ctx):
    t, dt = _const(c, 5, 30)
    return [
        f"if {c.src} > {t}:",
        f"    {c.dst} = {c.src} - {t}",
        "else:",
        f"    {c.dst} = {t} - {c.src}",
    ], f"takes the distance to {dt}"


# ------------------------------------------------------------------ int -> list / str
def _digits(c: Ctx):
    return [f"{c.dst} = [int(ch) for ch in str(abs({c.src}))]"], "lists the digits"


def _range_list(c: Ctx):
    m = c.rng.randint(4, 8)
    return [f"{c.dst} = [i * i for i in range(abs({c.src}) % {m})]"], f"lists squares below |x| mod {m}"


def _parity_word(c: Ctx):
    return [f"{c.dst} = 'even' if {c.src} % 2 == 0 else 'odd'"], "names the parity"


def _int_to_bin(c: Ctx):
    return [f"{c.dst} = bin(abs({c.src}))[2:]"], "writes |x| in binary"


# ------------------------------------------------------------------ str -> str
def _upper(c: Ctx):
    return [f"{c.dst} = {c.src}.upper()"], "upper-cases"


def _rev_str(c: Ctx):
    return [f"{c.dst} = {c.src}[::-1]"], "reverses the text"


def _caesar(c: Ctx):
    sh, dsh = _const(c, 1, 5)
    return [
        f"{c.dst} = ''",
        f"for ch in {c.src}:",
        "    if ch.isalpha():",
        f"        {c.dst} += chr((ord(ch.lower()) - 97 + {sh}) % 26 + 97)",
        "    else:",
        f"        {c.dst} += ch",
    ], f"shifts letters by {dsh} (lower-cased)"


def _drop_vowels(c: Ctx):
    return [f"{c.dst} = ''.join(ch for ch in {c.src} if ch not in 'aeiou')"], "drops lower-case vowels"


def _sort_chars(c: Ctx):
    return [f"{c.dst} = ''.join(sorted({c.src}))"], "sorts the characters"


def _dedupe_chars(c: Ctx):
    return [
        f"{c.dst} = ''",
        f"for ch in {c.src}:",
        f"    if ch not in {c.dst}:",
        f"        {c.dst} += ch",
    ], "keeps the first copy of each character"


def _every_other(c: Ctx):
    start = c.rng.randint(0, 1)
    return [f"{c.dst} = {c.src}[{start}::2]"], f"keeps every second character from position {start}"


def _title_words(c: Ctx):
    return [f"{c.dst} = ' '.join(w[::-1] for w in {c.src}.split())"], "reverses each word"


def _run_length(c: Ctx):
    return [
        f"{c.dst} = ''",
        "i = 0",
        f"while i < len({c.src}):",
        "    j = i",
        f"    while j < len({c.src}) and {c.src}[j] == {c.src}[i]:",
        "        j += 1",
        f"    {c.dst} += {c.src}[i] + str(j - i)",
        "    i = j",
    ], "run-length encodes"


# ------------------------------------------------------------------ str -> int / list / dict
def _count_vowels(c: Ctx):
    return [f"{c.dst} = sum(1 for ch in {c.src} if ch in 'aeiou')"], "counts vowels"


def _ord_sum(c: Ctx):
    m = c.rng.choice([10, 26, 100])
    return [f"{c.dst} = sum(ord(ch) for ch in {c.src}) % {m}"], f"sums character codes mod {m}"


def _word_lengths(c: Ctx):
    return [f"{c.dst} = [len(w) for w in {c.src}.split()]"], "lists word lengths"


def _char_codes(c: Ctx):
    return [f"{c.dst} = [ord(ch) % 10 for ch in {c.src}]"], "lists character codes mod 10"


def _letter_counts(c: Ctx):
    return [
        f"{c.dst} = {{}}",
        f"for ch in {c.src}:",
        "    if ch != ' ':",
        f"        {c.dst}[ch] = {c.dst}.get(ch, 0) + 1",
    ], "counts each character"


# ------------------------------------------------------------------ dict -> *
def _dict_values_sum(c: Ctx):
    return [f"{c.dst} = sum({c.src}.values())"], "sums the values"


def _dict_sorted_values(c: Ctx):
    return [f"{c.dst} = [{c.src}[key] for key in sorted({c.src})]"], "lists values by sorted key"


def _dict_keys_str(c: Ctx):
    return [f"{c.dst} = ''.join(sorted({c.src}))"], "joins the sorted keys"


def _dict_filter(c: Ctx):
    t, dt = _const(c, 1, 4)
    return [f"{c.dst} = {{key: val * 2 for key, val in {c.src}.items() if val > {t}}}"], f"doubles values above {dt}, dropping the rest"


def _dict_invert_max(c: Ctx):
    return [
        f"{c.dst} = ''",
        "best = None",
        f"for key in sorted({c.src}):",
        f"    if best is None or {c.src}[key] > best:",
        f"        best = {c.src}[key]",
        f"        {c.dst} = key",
    ], "finds the key with the largest value"


# ------------------------------------------------------------------ list -> str
def _join(c: Ctx):
    sep = c.rng.choice(["-", ",", ""])
    return [f"{c.dst} = '{sep}'.join(str(x) for x in {c.src})"], f"joins the numbers with {sep!r}"


OPS: list[Op] = [
    Op("scale", LIST, LIST, _scale), Op("filter_mod", LIST, LIST, _filter_mod), Op("filter_gt", LIST, LIST, _filter_gt),
    Op("sort", LIST, LIST, _sort), Op("reverse", LIST, LIST, _reverse), Op("prefix_sums", LIST, LIST, _prefix_sums),
    Op("pair_diffs", LIST, LIST, _pair_diffs), Op("enumerate_add", LIST, LIST, _enumerate_add),
    Op("dedupe", LIST, LIST, _dedupe), Op("rotate", LIST, LIST, _rotate), Op("clamp", LIST, LIST, _clamp),
    Op("swap_pairs", LIST, LIST, _swap_pairs), Op("parity_branch", LIST, LIST, _parity_branch),
    Op("sum", LIST, INT, _sum), Op("len", LIST, INT, _len, 0.5), Op("max", LIST, INT, _max),
    Op("count_if", LIST, INT, _count_if), Op("alt_sum", LIST, INT, _alt_sum), Op("product_mod", LIST, INT, _product_mod),
    Op("join", LIST, STR, _join),
    Op("affine", INT, INT, _affine), Op("mod", INT, INT, _mod), Op("digit_sum", INT, INT, _digit_sum),
    Op("digit_root", INT, INT, _recursive_digit_root, 0.5), Op("collatz", INT, INT, _collatz_steps, 0.5),
    Op("triangular", INT, INT, _triangular, 0.5), Op("clip_branch", INT, INT, _clip_branch),
    Op("digits", INT, LIST, _digits), Op("range_list", INT, LIST, _range_list),
    Op("parity_word", INT, STR, _parity_word, 0.5), Op("bin", INT, STR, _int_to_bin, 0.5),
    Op("upper", STR, STR, _upper, 0.5), Op("rev_str", STR, STR, _rev_str), Op("caesar", STR, STR, _caesar),
    Op("drop_vowels", STR, STR, _drop_vowels), Op("sort_chars", STR, STR, _sort_chars),
    Op("dedupe_chars", STR, STR, _dedupe_chars), Op("every_other", STR, STR, _every_other),
    Op("rev_words", STR, STR, _title_words), Op("run_length", STR, STR, _run_length, 0.7),
    Op("count_vowels", STR, INT, _count_vowels), Op("ord_sum", STR, INT, _ord_sum),
    Op("word_lengths", STR, LIST, _word_lengths), Op("char_codes", STR, LIST, _char_codes),
    Op("letter_counts", STR, DICT, _letter_counts, 0.7),
    Op("dict_sum", DICT, INT, _dict_values_sum), Op("dict_values", DICT, LIST, _dict_sorted_values),
    Op("dict_keys", DICT, STR, _dict_keys_str), Op("dict_filter", DICT, DICT, _dict_filter),
    Op("dict_argmax", DICT, STR, _dict_invert_max),
]


def ops_from(type_name: str) -> list[Op]:
    return [op for op in OPS if op.src == type_name]
