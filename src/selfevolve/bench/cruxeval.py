"""CRUXEval output (O) and input (I) prediction, with CRUXEval's own prompts and answer extraction
(facebookresearch/cruxeval@190faf1: `prompts.py`, `inference/tasks/{output,input}_prediction.py`,
`evaluation/utils_general.py`). Generation stops at "[/ANSWER]".

Scoring:
  * O: the answer must be a Python literal equal (`==`) to the recorded output. CRUXEval itself
    executes `assert <output> == <answer>`; we never execute the answer, so an answer that is an
    expression rather than a literal (which the prompt forbids) counts as wrong.
  * I: the answer must be one call `f(...)`; the task's function runs on those arguments in the sandbox
    (3 s, as CRUXEval) and its result, sent back as text, must equal the recorded output (`==`, in this
    process). An answer without "f(" is wrong, as in CRUXEval.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

from selfevolve.bench import harness
from selfevolve.bench.data import dataset_path, read_jsonl
from selfevolve.bench.execution import SuiteRunner, CallSuite
from selfevolve.bench.suite import Prompt, ScoreOptions, Verdicts
from selfevolve.bench.values import DecodeError, decode, measurement
from selfevolve.sandbox.compare import parse_literal

DATA = "cruxeval/cruxeval.jsonl"
STOP = ("[/ANSWER]",)
TIMEOUT = 3.0  # seconds, CRUXEval's check_correctness


@dataclass(frozen=True)
class CruxTask:
    task_id: str
    code: str
    input: str
    output: str


DIRECT_OUTPUT = '''You are given a Python function and an assertion containing an input to the function. Complete the assertion with a literal (no unsimplified expressions, no function calls) containing the output when executing the provided code on the given input, even if the function is incorrect or incomplete. Do NOT output any extra information. Provide the full assertion with the correct output in [ANSWER] and [/ANSWER] tags, following the examples.

[PYTHON]
def f(n):
    return n
assert f(17) == ??
[/PYTHON]
[ANSWER]
assert f(17) == 17
[/ANSWER]

[PYTHON]
def f(s):
    return s + "a"
assert f("x9j") == ??
[/PYTHON]
[ANSWER]
assert f("x9j") == "x9ja"
[/ANSWER]

[PYTHON]
{code}
assert f({input}) == ??
[/PYTHON]
[ANSWER]
'''

COT_OUTPUT = '''You are given a Python function and an assertion containing an input to the function. Complete the assertion with a literal (no unsimplified expressions, no function calls) containing the output when executing the provided code on the given input, even if the function is incorrect or incomplete. Do NOT output any extra information. Execute the program step by step before arriving at an answer, and provide the full assertion with the correct output in [ANSWER] and [/ANSWER] tags, following the examples.

[PYTHON]
def f(s):
    s = s + s
    return "b" + s + "a"
assert f("hi") == ??
[/PYTHON]
[THOUGHT]
Let's execute the code step by step:

1. The function f is defined, which takes a single argument s.
2. The function is called with the argument "hi", so within the function, s is initially "hi".
3. Inside the function, s is concatenated with itself, so s becomes "hihi".
4. The function then returns a new string that starts with "b", followed by the value of s (which is now "hihi"), and ends with "a".
5. The return value of the function is therefore "bhihia".
[/THOUGHT]
[ANSWER]
assert f("hi") == "bhihia"
[/ANSWER]

[PYTHON]
{code}
assert f({input}) == ??
[/PYTHON]
[THOUGHT]
'''

DIRECT_INPUT = '''You will be given a function f and an output in the form f(??) == output. Find any input such that executing f on the input leads to the given output. There may be multiple answers, but you should only output one. In [ANSWER] and [/ANSWER] tags, complete the assertion with one such input that will produce the output when executing the function.

[PYTHON]
def f(my_list):
    count = 0
    for i in my_list:
        if len(i) % 2 == 0:
            count += 1
    return count
assert f(??) == 3
[/PYTHON]
[ANSWER]
assert f(["mq", "px", "zy"]) == 3
[/ANSWER]

[PYTHON]
def f(s1, s2):
    return s1 + s2
assert f(??) == "banana"
[/PYTHON]
[ANSWER]
assert f("ba", "nana") == "banana"
[/ANSWER]

[PYTHON]
{code}
assert f(??) == {output}
[/PYTHON]
[ANSWER]
'''

COT_INPUT = '''You will be given a function f and an output in the form f(??) == output. Your task is to find any input such that executing f on the input leads to the given output. There may be multiple answers, but only output one. First, think step by step. You MUST surround the answer with [ANSWER] and [/ANSWER] tags. Express your answer as a passing assertion containing the input and the given output.

[PYTHON]
def f(x):
    return x + 1
assert f(??) == 17
[/PYTHON]
[THOUGHT]
To find an input such that executing f on the input leads to the given output, we can work backwards from the given assertion. We know that f(??) == 17. 

Since the function f(x) returns x + 1, for f(??) to be equal to 17, the value of ?? should be 16. 
[/THOUGHT]
[ANSWER]
assert f(16) == 17
[/ANSWER]

[PYTHON]
{code}
assert f(??) == {output}
[/PYTHON]
[THOUGHT]
'''


def extract_output_answer(generation: str, cot: bool) -> str:
    """CRUXEval's OutputPrediction.postprocess_generation (the text after the prompt)."""
    if cot and "[ANSWER]" in generation:
        generation = generation.split("[ANSWER]")[1].strip()
    if "==" in generation:
        generation = generation.split("==")[1].strip()
    return generation.strip()


def extract_input_answer(generation: str, cot: bool) -> str:
    """CRUXEval's InputPrediction.postprocess_generation: the call `f(...)`."""
    if cot and "[ANSWER]" in generation:
        generation = generation.split("[ANSWER]")[1].strip()
    if "==" in generation:
        generation = generation.split("==")[0].strip()
    if "assert f" in generation:
        generation = "f" + generation.split("assert f")[1].strip()
    return generation.strip()


def call_arguments(answer: str) -> str | None:
    """The argument list of an answer that is exactly one call of `f` (rebuilt from its syntax tree, so
    nothing after the call survives), or None."""
    try:
        tree = ast.parse(answer, mode="eval")
    except (SyntaxError, ValueError, MemoryError, RecursionError):
        return None
    call = tree.body
    if not (isinstance(call, ast.Call) and isinstance(call.func, ast.Name) and call.func.id == "f"):
        return None
    return ", ".join([ast.unparse(a) for a in call.args] + [ast.unparse(k) for k in call.keywords])


class CruxEvalSuite:
    """`cruxeval-o` / `cruxeval-i`, direct or with chain of thought (`-cot`)."""

    default_max_new_tokens = 1024  # CRUXEval's max_length_generation

    def __init__(self, mode: str, cot: bool = False):
        if mode not in ("output", "input"):
            raise ValueError(f"CRUXEval mode is 'output' or 'input', not {mode!r}")
        self.mode, self.cot = mode, cot
        self.name = f"cruxeval-{mode[0]}" + ("-cot" if cot else "")

    def load(self, data_dir: str | Path | None) -> list[CruxTask]:
        rows = read_jsonl(dataset_path(DATA, data_dir))
        return [CruxTask(r["id"], r["code"], r["input"], r["output"]) for r in rows]

    def prompt(self, task: CruxTask, style: str) -> Prompt:
        if self.mode == "output":
            template = COT_OUTPUT if self.cot else DIRECT_OUTPUT
            return Prompt(text=template.format(code=task.code, input=task.input), stop=STOP)
        template = COT_INPUT if self.cot else DIRECT_INPUT
        return Prompt(text=template.format(code=task.code, output=task.output), stop=STOP)

    def record(self, task: CruxTask, text: str, style: str) -> dict:
        return {"completion": text}

    def score(self, tasks: Sequence[CruxTask], samples: dict[str, list[dict]], options: ScoreOptions) -> Verdicts:
        by_id = {t.task_id: t for t in tasks}
        answers = {tid: [_completion(r, tid) for r in recs] for tid, recs in samples.items()}
        if self.mode == "output":
            return Verdicts(correct={tid: [_output_correct(by_id[tid], a, self.cot) for a in texts]
                                     for tid, texts in answers.items()})
        return Verdicts(correct=self._score_inputs(by_id, answers, options))

    def _score_inputs(self, by_id: dict[str, CruxTask], answers: dict[str, list[str]],
                      options: ScoreOptions) -> dict[str, list[bool]]:
        arguments = {(tid, k): call_arguments(extract_input_answer(text, self.cot))
                     for tid, texts in answers.items() for k, text in enumerate(texts)}
        runnable = sorted({(tid, args) for (tid, _), args in arguments.items() if args is not None})
        suites = [CallSuite(f"crux-{n}", by_id[tid].code, harness.Call("f"), [TIMEOUT], sources=[args], budget=TIMEOUT,
                            slack=1.0) for n, (tid, args) in enumerate(runnable)]
        with SuiteRunner(options.workers) as runner:
            results = dict(zip(runnable, runner.run(suites)))
        return {tid: [arguments[(tid, k)] is not None
                      and _matches_output(by_id[tid], results[(tid, arguments[(tid, k)])])
                      for k in range(len(texts))]
                for tid, texts in answers.items()}


def _completion(record: dict, task_id: str) -> str:
    if not isinstance(record.get("completion"), str):
        raise ValueError(f"sample of {task_id} has no `completion` string (the model's text after the prompt)")
    return record["completion"]


def _output_correct(task: CruxTask, generation: str, cot: bool) -> bool:
    answer = extract_output_answer(generation, cot)
    try:
        return bool(parse_literal(answer) == parse_literal(task.output))
    except (ValueError, TypeError, RecursionError):
        return False


def _matches_output(task: CruxTask, result) -> bool:
    if not result.ok:
        return False
    try:
        _, text = measurement(result.outputs[0])
        return bool(decode(text) == parse_literal(task.output))
    except (DecodeError, ValueError, TypeError, RecursionError):
        return False
