"""The suites by name, as the command line takes them."""

from __future__ import annotations

from selfevolve.bench.cruxeval import CruxEvalSuite
from selfevolve.bench.evalplus import EvalPlusSuite
from selfevolve.bench.livecodebench import LiveCodeBenchSuite
from selfevolve.bench.mathsets import FOLDERS, TEMPLATES, MathSuite
from selfevolve.bench.suite import Suite

EVALPLUS_SUITES = ("humaneval", "humaneval+", "mbpp", "mbpp+", "mbpp-heldout", "mbpp+-heldout")
CRUX_SUITES = ("cruxeval-o", "cruxeval-i")
MATH_SUITES = tuple(FOLDERS)
SUITE_NAMES = EVALPLUS_SUITES + CRUX_SUITES + MATH_SUITES + ("livecodebench",)
MATH_TEMPLATES = tuple(TEMPLATES)


def make_suite(name: str, cot: bool = False, math_template: str = "azr", lcb_start_date: str | None = None,
               lcb_end_date: str | None = None) -> Suite:
    """The suite `name` (`cruxeval-o-cot` is `cruxeval-o` with `cot`)."""
    if name.endswith("-cot") and name[: -len("-cot")] in CRUX_SUITES:
        name, cot = name[: -len("-cot")], True
    if name in EVALPLUS_SUITES:
        base = name.removesuffix("-heldout")
        return EvalPlusSuite(base.rstrip("+"), plus=base.endswith("+"), heldout=name.endswith("-heldout"))
    if name in CRUX_SUITES:
        return CruxEvalSuite("output" if name == "cruxeval-o" else "input", cot=cot)
    if name in MATH_SUITES:
        return MathSuite(name, template=math_template)
    if name == "livecodebench":
        return LiveCodeBenchSuite(lcb_start_date, lcb_end_date)
    raise ValueError(f"unknown suite {name!r}; choose from {', '.join(SUITE_NAMES)}")
