"""LiveCodeBench code generation from a folder in the official `code_generation_lite` format.

The user provides the data (`<data-dir>/livecodebench/*.jsonl`, rows as published: question_content,
starter_code, contest_date, public_test_cases, private_test_cases, metadata with `func_name` for
LeetCode-style problems). Private tests are stored either as JSON text or as base64(zlib(pickle(JSON
text))). Unpickling untrusted bytes can run arbitrary code, so we unpickle with an `Unpickler` that
refuses every global: a pickled str needs none, anything else is rejected (`decode_tests`).

Prompt and extraction: LiveCodeBench's generic chat format (`lcb_runner/prompts/code_generation.py`,
`get_generic_question_template_answer` with SYSTEM_MESSAGE_GENERIC) and its code extraction (the last
fenced block, `lcb_runner/utils/extraction_utils.py`). For a model without a chat template, the same
question text is the raw prompt (LiveCodeBench's base-model format is few-shot; not reproduced).

Grading (`lcb_runner/evaluation/testing_util.py`): every public and private test must pass, 6 s each.
Functional tests call `Solution().<func_name>` (or the function) on the JSON-decoded argument lines
and compare with `==` (a tuple counts as a list). Stdin tests run the program (wrapped in a function
as LiveCodeBench does) on the input text and compare stdout line by line after stripping, with a
Decimal comparison for lines of numbers. All code runs in the sandbox; comparisons happen here.
"""

from __future__ import annotations

import ast
import base64
import io
import json
import pickle
import zlib
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Sequence

from selfevolve.bench import harness
from selfevolve.bench.data import DataNotFound, dataset_path
from selfevolve.bench.execution import SuiteRunner, CallSuite
from selfevolve.bench.suite import Prompt, ScoreOptions, Verdicts
from selfevolve.bench.values import DecodeError, decode, measurement

FOLDER = "livecodebench"
TEST_TIMEOUT = 6.0  # seconds per test (testing_util.run_test's default)
TESTS_PER_JOB = 8  # a test that never returns costs at most this many tests' limits

SYSTEM_MESSAGE = (
    "You are an expert Python programmer. You will be given a question (problem specification) and will "
    "generate a correct Python program that matches the specification and passes all tests."
)
FORMAT_WITH_STARTER = (
    "You will use the following starter code to write the solution to the problem and enclose your code within delimiters."
)
FORMAT_STDIN = (
    "Read the inputs from stdin solve the problem and write the answer to stdout (do not directly test on the sample "
    "inputs). Enclose your code within delimiters as follows. Ensure that when the python program runs, it reads the "
    "inputs, runs the algorithm and writes output to STDOUT."
)
# testing_util.import_string: what LiveCodeBench puts before every program
IMPORTS = (
    "from string import *\nfrom re import *\nfrom datetime import *\nfrom collections import *\nfrom heapq import *\n"
    "from bisect import *\nfrom copy import *\nfrom math import *\nfrom random import *\nfrom statistics import *\n"
    "from itertools import *\nfrom functools import *\nfrom operator import *\nfrom io import *\nfrom sys import *\n"
    "from json import *\nfrom builtins import *\nfrom typing import *\nimport string\nimport re\nimport datetime\n"
    "import collections\nimport heapq\nimport bisect\nimport copy\nimport math\nimport random\nimport statistics\n"
    "import itertools\nimport functools\nimport operator\nimport io\nimport sys\nimport json\nsys.setrecursionlimit(50000)\n"
    # LiveCodeBench execs the program as a module named tmp_sol
    "__name__ = 'tmp_sol'\n"
)
# After a stdin program: LiveCodeBench's patches of stdin, input() and open(), as plain functions
# (the sandbox refuses the real input()); the program's stdout is captured per test.
STDIN_RUNNER = '''
import io as _se_io
import sys as _se_lcb_sys
_se_stdin_text = [""]


def input(prompt=""):
    line = _se_lcb_sys.stdin.readline()
    if not line:
        raise EOFError("EOF when reading a line")
    return line[:-1] if line.endswith("\\n") else line


def open(*args, **kwargs):
    return _se_io.StringIO(_se_stdin_text[0])


def _se_lcb_stdin(text):
    lines = iter(text.split("\\n"))
    stream = _se_io.StringIO(text)
    stream.readline = lambda *a: next(lines)
    stream.readlines = lambda *a: text.split("\\n")
    stream.read = lambda *a: text
    captured = _se_io.StringIO()
    saved = _se_lcb_sys.stdin, _se_lcb_sys.stdout
    _se_lcb_sys.stdin, _se_lcb_sys.stdout, _se_stdin_text[0] = stream, captured, text
    try:
        wrapped_function()
    except SystemExit:
        pass
    finally:
        _se_lcb_sys.stdin, _se_lcb_sys.stdout = saved
    return captured.getvalue()
'''


@dataclass(frozen=True)
class LcbTask:
    task_id: str
    title: str
    content: str
    starter_code: str
    contest_date: str
    func_name: str | None
    inputs: tuple[str, ...]
    outputs: tuple[str, ...]


class _NoGlobals(pickle.Unpickler):
    def find_class(self, module: str, name: str):
        raise pickle.UnpicklingError(f"refused to load {module}.{name}: only plain data may be unpickled")


def decode_tests(field: str) -> list[dict]:
    """A test-case field: JSON text, or base64(zlib(pickle(JSON text))) unpickled without any globals."""
    try:
        return json.loads(field)
    except json.JSONDecodeError:
        pass
    raw = zlib.decompress(base64.b64decode(field.encode("utf-8")))
    text = _NoGlobals(io.BytesIO(raw)).load()
    if not isinstance(text, str):
        raise ValueError(f"private tests unpickled to a {type(text).__name__}, expected JSON text")
    return json.loads(text)


def parse_row(row: dict) -> LcbTask:
    tests = decode_tests(row["public_test_cases"]) + decode_tests(row["private_test_cases"])
    metadata = json.loads(row.get("metadata") or "{}")
    return LcbTask(
        task_id=str(row["question_id"]), title=row.get("question_title", ""), content=row["question_content"],
        starter_code=row.get("starter_code") or "", contest_date=str(row.get("contest_date", "")),
        func_name=metadata.get("func_name"), inputs=tuple(t["input"] for t in tests),
        outputs=tuple(t["output"] for t in tests),
    )


def question_prompt(task: LcbTask) -> str:
    """`get_generic_question_template_answer`."""
    prompt = f"### Question:\n{task.content}\n\n"
    if task.starter_code:
        prompt += f"### Format: {FORMAT_WITH_STARTER}\n```python\n{task.starter_code}\n```\n\n"
    else:
        prompt += f"### Format: {FORMAT_STDIN}\n```python\n# YOUR CODE HERE\n```\n\n"
    return prompt + "### Answer: (use the provided format with backticks)\n\n"


def extract_code(text: str) -> str:
    """The last fenced block (between the last two lines holding ```), or "" when there is none."""
    lines = text.split("\n")
    fences = [i for i, line in enumerate(lines) if "```" in line]
    if len(fences) < 2:
        return ""
    return "\n".join(lines[fences[-2] + 1 : fences[-1]])


def wrap_stdin_program(code: str) -> str | None:
    """LiveCodeBench's `clean_if_name` + `make_function`: imports stay at the top, every other
    statement becomes the body of `wrapped_function()`. None when the code does not parse."""
    try:
        tree = ast.parse(code)
    except (SyntaxError, ValueError, MemoryError, RecursionError):
        return None
    body = tree.body
    if body and isinstance(body[-1], ast.If) and ast.unparse(body[-1].test).strip() == "__name__ == '__main__'":
        body = body[:-1] + body[-1].body
    imports = [s for s in body if isinstance(s, (ast.Import, ast.ImportFrom))]
    others = [s for s in body if not isinstance(s, (ast.Import, ast.ImportFrom))]
    function = ast.FunctionDef(name="wrapped_function", args=ast.arguments(posonlyargs=[], args=[], kwonlyargs=[],
                               kw_defaults=[], defaults=[]), body=others or [ast.Pass()], decorator_list=[], lineno=1)
    return IMPORTS + "\n" + ast.unparse(ast.Module(body=imports, type_ignores=[])) + "\n" + ast.unparse(function)


def functional_target(task: LcbTask, code: str) -> str:
    """Defines `_se_lcb_target()`: the method of one `Solution()` (LiveCodeBench makes one instance
    when the code has "class Solution") or the module-level function."""
    name = task.func_name
    make = f"getattr(Solution(), {name!r})" if "class Solution" in code else name
    return (f"_se_lcb_cache = []\n\n\ndef _se_lcb_target():\n    if not _se_lcb_cache:\n"
            f"        _se_lcb_cache.append({make})\n    return _se_lcb_cache[0]\n")


def stdout_matches(prediction: str, expected: str) -> bool:
    """`grade_stdio`'s comparison: same number of stripped lines; each equal, or equal as Decimals."""
    got = [line.strip() for line in prediction.strip().split("\n")]
    want = [line.strip() for line in expected.strip().split("\n")]
    if len(got) != len(want):
        return False
    for a, b in zip(got, want):
        if a == b:
            continue
        try:
            if [Decimal(x) for x in a.split()] != [Decimal(x) for x in b.split()]:
                return False
        except (InvalidOperation, ValueError):
            return False
    return True


class LiveCodeBenchSuite:
    name = "livecodebench"
    default_max_new_tokens = 8096  # AZR's run_lcb_gen.sh

    def __init__(self, start_date: str | None = None, end_date: str | None = None):
        self.start_date, self.end_date = start_date, end_date

    def load(self, data_dir: str | Path | None) -> list[LcbTask]:
        try:
            files = sorted(dataset_path(FOLDER, data_dir).glob("*.jsonl"))
        except DataNotFound:
            files = []
        if not files:
            raise DataNotFound(
                f"no LiveCodeBench data: put the official code_generation_lite *.jsonl files in DIR/{FOLDER}/ and "
                f"pass --data-dir DIR (see docs/bench.md, 'LiveCodeBench')")
        tasks = [parse_row(json.loads(line)) for f in files for line in f.read_text().splitlines() if line.strip()]
        return [t for t in tasks if (self.start_date is None or t.contest_date[:10] >= self.start_date)
                and (self.end_date is None or t.contest_date[:10] <= self.end_date)]

    def prompt(self, task: LcbTask, style: str) -> Prompt:
        if style == "base":
            return Prompt(text=question_prompt(task))
        return Prompt(messages=(("system", SYSTEM_MESSAGE), ("user", question_prompt(task))))

    def record(self, task: LcbTask, text: str, style: str) -> dict:
        return {"solution": extract_code(text), "raw": text}

    def score(self, tasks: Sequence[LcbTask], samples: dict[str, list[dict]], options: ScoreOptions) -> Verdicts:
        by_id = {t.task_id: t for t in tasks}
        codes = {tid: [_solution(r, tid) for r in recs] for tid, recs in samples.items()}
        unique = sorted({(tid, code) for tid, cs in codes.items() for code in cs})
        suites, runnable = [], []
        for k, (tid, code) in enumerate(unique):
            suite = _test_suite(f"lcb-{k}", by_id[tid], code)
            if suite is not None:
                suites.append(suite)
                runnable.append((tid, code))
        with SuiteRunner(options.workers) as runner:
            results = dict(zip(runnable, runner.run(suites)))
        passed = {pair: pair in results and _passes(by_id[pair[0]], results[pair]) for pair in unique}
        return Verdicts(correct={tid: [passed[(tid, c)] for c in cs] for tid, cs in codes.items()})


def _solution(record: dict, task_id: str) -> str:
    for key in ("solution", "completion"):
        if isinstance(record.get(key), str):
            return record[key]
    raise ValueError(f"sample of {task_id} has neither a `solution` nor a `completion` string")


def _test_suite(suite_id: str, task: LcbTask, code: str) -> CallSuite | None:
    limits = [TEST_TIMEOUT] * len(task.inputs)
    if task.func_name:
        try:
            arguments = [[json.loads(line) for line in text.split("\n")] for text in task.inputs]
        except (json.JSONDecodeError, TypeError) as e:
            raise ValueError(f"LiveCodeBench task {task.task_id} has a functional test that is not JSON lines: {e}") from None
        program = IMPORTS + "\n" + code + "\n\n" + functional_target(task, code)
        return CallSuite(suite_id, program, harness.Call("_se_lcb_target()", "_se_list_if_tuple"), limits,
                         values=arguments, max_tests_per_job=TESTS_PER_JOB)
    wrapped = wrap_stdin_program(code)
    if wrapped is None:
        return None
    return CallSuite(suite_id, wrapped + "\n" + STDIN_RUNNER, harness.Call("_se_lcb_stdin"), limits,
                     values=[[text] for text in task.inputs], max_tests_per_job=TESTS_PER_JOB)


def _passes(task: LcbTask, result) -> bool:
    if not result.ok:
        return False
    try:
        for raw, expected in zip(result.outputs, task.outputs):
            got = decode(measurement(raw)[1])
            if task.func_name:
                if got != json.loads(expected):
                    return False
            elif not (isinstance(got, str) and stdout_matches(got, expected)):
                return False
    except (DecodeError, ValueError, TypeError, RecursionError):
        return False
    return True
