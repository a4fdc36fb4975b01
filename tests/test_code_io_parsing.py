"""Parsers, prompts, literal checks and rewards: pure code, no sandbox."""

import random
import string

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from selfevolve.tasks.code_io.literals import literal_arguments
from selfevolve.tasks.code_io.parsing import (
    ParseError, collect_imports, parse_proposal, parse_solver_answer, rename_entry,
    strip_after_entry, strip_comments,
)
from selfevolve.tasks.code_io.prompts import (
    proposer_prompt, render_proposer_completion, render_solver_completion, solver_prompt,
)
from selfevolve.tasks.code_io.rewards import format_ok, proposer_reward, solver_reward
from selfevolve.tasks.code_io.synth import synth_program
from selfevolve.tasks.code_io.types import CodeTask, Proposal, TaskType

literals = st.recursive(
    st.none() | st.booleans() | st.integers(-10**6, 10**6) | st.text(alphabet=string.ascii_letters + " ,'\"", max_size=12),
    lambda kids: st.lists(kids, max_size=4) | st.tuples(kids, kids) | st.dictionaries(st.text(string.ascii_lowercase, max_size=3), kids, max_size=3),
    max_leaves=8,
)
names = st.from_regex(r"[a-z][a-z0-9_]{0,8}", fullmatch=True).filter(lambda s: s not in {"f", "if", "in", "is", "or", "as", "def", "for", "and", "not", "del", "try"})


def _task(kind: TaskType, seed: int, value) -> CodeTask:
    sp = synth_program(random.Random(seed))
    if kind is TaskType.INDUCTION:
        return CodeTask(kind, sp.program, sp.inputs, tuple(repr(value) for _ in sp.inputs), message=sp.message)
    return CodeTask(kind, sp.program, (sp.inputs[0],), (repr(value),))


@settings(max_examples=60, deadline=None)
@given(kind=st.sampled_from(list(TaskType)), seed=st.integers(0, 10**6), value=literals, thought=st.text(string.printable.replace("<", ""), max_size=40))
def test_solver_completion_round_trips(kind, seed, value, thought):
    task = _task(kind, seed, value)
    text = render_solver_completion(task, thought=thought)
    assert format_ok(text)
    expected = {TaskType.ABDUCTION: task.input, TaskType.DEDUCTION: task.output, TaskType.INDUCTION: task.program}[kind]
    assert parse_solver_answer(text, kind) == expected


@settings(max_examples=60, deadline=None)
@given(kind=st.sampled_from(list(TaskType)), seed=st.integers(0, 10**6), value=literals)
def test_proposer_completion_round_trips(kind, seed, value):
    task = _task(kind, seed, value)
    text = render_proposer_completion(Proposal(kind, task.program, task.inputs, task.message))
    p = parse_proposal(text, kind, program=task.program, num_inputs=len(task.inputs))
    assert (p.program, p.inputs, p.message) == (task.program, task.inputs, task.message)


@settings(max_examples=40, deadline=None)
@given(name=names, arg=names)
def test_rename_entry_renames_recursive_calls(name, arg):
    src = f"def {name}({arg}_x):\n    # {name} stays in comments\n    return {name}({arg}_x - 1) if {arg}_x else '{name}'\n"
    out = rename_entry(src)
    assert out == src.replace(f"def {name}(", "def f(").replace(f"return {name}(", "return f(")


def test_rename_keeps_nested_defs_and_conflicts_are_errors():
    src = "import math\ndef solve(xs):\n    def helper(y):\n        return solve([]) if y else 0\n    return helper(len(xs))\n"
    assert "return f([])" in rename_entry(src) and "def f(xs)" in rename_entry(src)
    with pytest.raises(ParseError) as e:
        rename_entry("def g(x):\n    return x\ndef f(y):\n    return g(y)")
    assert e.value.reason == "name_conflict"
    assert collect_imports(src) == ("import math",)


def test_proposal_parsing_rules():
    text = "<think>x</think><answer>```python\ndef g(a):\n    return a\n```\n```input\n3\n```</answer>"
    p = parse_proposal(text, "abduction")
    assert p.program.startswith("def f(a)") and p.inputs == ("3",)
    # the last <answer> wins; an input-tagged block is never the code
    two = text + "<answer>```input\n1\n```\n```python\ndef h(b):\n    return b\n```</answer>"
    assert parse_proposal(two, "deduction").program.startswith("def f(b)")
    # fallback '# Input:'
    assert parse_proposal("<answer>```python\ndef f(a):\n    return a\n```\n# Input: 'x'</answer>", "code_o").inputs == ("'x'",)
    for bad, reason in [("no tags", "no_answer"), ("<answer>```input\n1\n```</answer>", "no_code"),
                        ("<answer>```python\nx = 1\n```\n```input\n1\n```</answer>", "no_function")]:
        with pytest.raises(ParseError) as e:
            parse_proposal(bad, "abduction")
        assert e.value.reason == reason


def test_induction_proposal_needs_ten_inputs_and_message():
    blocks = "".join(f"```input\n{i}\n```\n" for i in range(12))
    p = parse_proposal(f"<answer>{blocks}<message>add one</message></answer>", "induction", program="def f(x):\n    return x")
    assert p.inputs == tuple(str(i) for i in range(2, 12)) and p.message == "add one"
    with pytest.raises(ParseError, match="too_few_inputs"):
        parse_proposal("<answer>```input\n1\n```\n```message\nm\n```</answer>", "induction", program="def f(x):\n    return x")
    with pytest.raises(ParseError, match="no_message"):
        parse_proposal(f"<answer>{blocks}</answer>", "induction", program="def f(x):\n    return x")


def test_solver_answer_fallbacks():
    assert parse_solver_answer("<answer>```input\n1\n```\n```input\n2\n```</answer>", "abduction") == "2"
    assert parse_solver_answer("<answer># Output: [1, 2]</answer>", "deduction") == "[1, 2]"
    assert parse_solver_answer("<answer><output>'a'</output></answer>", "deduction") == "'a'"
    assert parse_solver_answer("<answer>The output is 42.</answer>", "deduction") == "42"
    assert parse_solver_answer("<answer> 7 </answer>", "deduction") == "7"
    with pytest.raises(ParseError, match="no_entry"):
        parse_solver_answer("<answer>```python\ndef g(x):\n    return x\n```</answer>", "induction")


def test_literal_arguments_accept_literals_and_reject_code():
    assert literal_arguments("1, 'a'") == "1, 'a'"
    assert literal_arguments("f([1, -2], k=dict(a=1))") == "[1, -2], k=dict(a=1)"
    assert literal_arguments("{1, 2}, (3+4j), frozenset()") == "{1, 2}, 3 + 4j, frozenset()"
    for bad in ["x) or True or f(x", "__import__('os')", "1 if True else 2", "[i for i in range(3)]", "'a' * 10**9",
                "*[1]", "**{'a': 1}", "list(map(str, [1]))", "x", "open('/tmp/p', 'w')"]:
        with pytest.raises(ParseError):
            literal_arguments(bad)


def test_strip_for_seeding():
    src = "def f(x):\n    # note\n    return x  # tail\nprint(f(1))\ndef g():\n    return '#'\n"
    assert strip_after_entry(strip_comments(src)) == "def f(x):\n    return x\ndef g():\n    return '#'"


def test_prompts_full_and_compact():
    t = CodeTask(TaskType.DEDUCTION, "def f(a):\n    return a", ("1",), ("1",))
    full = proposer_prompt("deduction", [t] * 6, banned_keywords=["random", "os.path"])
    assert full.endswith("Assistant: <think>") and full.count("<snippet_") == 6 and "random, os.path" in full
    assert "f(<|YOUR INPUT WILL BE PLUGGED HERE|>)" in proposer_prompt("induction", [t])
    ind = CodeTask(TaskType.INDUCTION, "def f(a):\n    return a + 12345", tuple(map(str, range(10))), tuple(map(str, range(10))), "m")
    shown = solver_prompt(ind)
    assert "```input_4\n4" in shown and "input_5" not in shown and "12345" not in shown
    compact = solver_prompt(ind, style="compact")
    assert len(compact) < 600 and "```input\n4\n```" in compact and "```input\n5\n```" not in compact
    with pytest.raises(ValueError, match="style"):
        solver_prompt(t, style="tiny")


def test_format_gate_and_rewards():
    assert format_ok(" a </think>\n<answer>1</answer> trailing")
    assert not format_ok("x <answer>1</answer>") and not format_ok("<answer>1</answer></think>")
    assert [solver_reward(True, True), solver_reward(True, False), solver_reward(False, True)] == [1.0, -0.5, -1.0]
    assert proposer_reward(True, True, [1, 0, 0, 0]) == 0.75
    assert proposer_reward(True, True, [1, 1, None]) == 0.0
    assert proposer_reward(True, True, [0, 0], extreme_reward=-0.5) == -0.5
    assert proposer_reward(False, True, [0.5]) == -1.0
