"""HumanEval(+) and MBPP(+) with EvalPlus 0.3.1's protocol.

Prompts (`evalplus/codegen.py`, `provider/utility.py`, `provider/hf.py`, `provider/openai.py`):
  * chat template: the user turn is the instruction prefix and the task prompt in a ``` fence; the
    assistant turn starts with the response prefix and "```python\\n", and the reply ends at "\\n```\\n";
  * no chat template (direct completion): the task prompt itself, stopped at EvalPlus's EOS strings
    plus the dataset's extra ones; the solution is the prompt + the completion;
  * OpenAI-compatible endpoint: system "You are a helpful assistant good at coding.", user = the
    instruction prefix + the prompt in a ```python fence.
Every solution then goes through EvalPlus's sanitiser (`sanitize.py`).

Scoring: each solution runs on the base inputs (HumanEval/MBPP) and, for the + suites, when those pass,
on the plus inputs; a sample is `plus`-correct when both pass. One sandbox job per solution and split
runs all of its inputs; limits and checks as in `evalplus_oracle`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

from selfevolve.bench.data import cache_dir, dataset_path, file_sha256
from selfevolve.bench.evalplus_data import FILES, PlusTask, is_mbpp_pool_task, load_tasks
from selfevolve.bench.evalplus_oracle import (
    Expected, ExpectedCache, candidate_call, check_outputs, run_budget, split_inputs, time_limits,
)
from selfevolve.bench.execution import SuiteRunner, CallSuite
from selfevolve.bench.sanitize import sanitize
from selfevolve.bench.suite import Prompt, ScoreOptions, Verdicts

INSTRUCTION_PREFIX = (
    "Please provide a self-contained Python script that solves the following problem in a markdown code block:"
)
RESPONSE_PREFIX = (
    "Below is a Python script with a self-contained function that solves the problem and passes corresponding tests:"
)
API_SYSTEM = "You are a helpful assistant good at coding."
EOS = ("<|endoftext|>", "<|endofmask|>", "</s>", "\nif __name__", "\ndef main(", "\nprint(")
DIRECT_EOS = {
    "humaneval": ("\ndef ", "\nclass ", "\nimport ", "\nfrom ", "\nassert "),
    "mbpp": ('\n"""', "\nassert"),
}


class EvalPlusSuite:
    """`humaneval`, `humaneval+`, `mbpp`, `mbpp+`: the plus suites report base and plus verdicts.
    `heldout` (MBPP only, `mbpp+-heldout`): the odd-numbered tasks, which no recipe trains on."""

    default_max_new_tokens = 768  # EvalPlus's DecoderBase default

    def __init__(self, dataset: str, plus: bool, heldout: bool = False):
        if heldout and dataset != "mbpp":
            raise ValueError("only MBPP+ has a held-out half (its odd-numbered tasks); HumanEval+ is held out whole")
        self.dataset, self.plus, self.heldout = dataset, plus, heldout
        self.name = dataset + ("+" if plus else "") + ("-heldout" if heldout else "")
        self.sha256: str | None = None

    def load(self, data_dir: str | Path | None) -> list[PlusTask]:
        path = dataset_path(FILES[self.dataset], data_dir)
        self.sha256 = file_sha256(path)
        tasks = load_tasks(self.dataset, path)
        return [t for t in tasks if not is_mbpp_pool_task(t.task_id)] if self.heldout else tasks

    def prompt(self, task: PlusTask, style: str) -> Prompt:
        text = task.prompt.strip() + "\n"
        if style == "base":
            return Prompt(text=text, stop=EOS + DIRECT_EOS[self.dataset])
        if style == "api":
            return Prompt(messages=(("system", API_SYSTEM),
                                    ("user", f"{INSTRUCTION_PREFIX}\n```python\n{text.strip()}\n```")))
        return Prompt(messages=(("user", f"{INSTRUCTION_PREFIX}\n```\n{text.strip()}\n```\n"),),
                      prefill=f"{RESPONSE_PREFIX}\n```python\n", stop=EOS + ("\n```\n",))

    def record(self, task: PlusTask, text: str, style: str) -> dict:
        body = text if style == "api" else text.replace("\t", "    ")  # the HF provider replaces tabs
        solution = task.prompt.strip() + "\n" + body if style == "base" else body
        return {"solution": sanitize(solution, task.entry_point), "raw": text}

    def score(self, tasks: Sequence[PlusTask], samples: dict[str, list[dict]], options: ScoreOptions) -> Verdicts:
        if self.sha256 is None:
            raise RuntimeError("EvalPlusSuite.score needs load() first: expected outputs are cached by the dataset's sha256")
        by_id = {t.task_id: t for t in tasks}
        programs = {tid: [self.program(by_id[tid], rec) for rec in recs] for tid, recs in samples.items()}
        scored = [by_id[tid] for tid in samples]
        with SuiteRunner(options.workers) as runner:
            cache = ExpectedCache(options.cache_dir or cache_dir(), self.sha256)
            expected = cache.get(scored, runner)
            unique = sorted({(tid, code) for tid, codes in programs.items() for code in codes})
            base = _run_split(by_id, unique, "base", expected, runner)
            plus = _run_split(by_id, [p for p in unique if base[p]], "plus", expected, runner) if self.plus else {}
        base_v = {tid: [base[(tid, code)] for code in codes] for tid, codes in programs.items()}
        if not self.plus:
            return Verdicts(correct=base_v)
        plus_v = {tid: [base[(tid, c)] and plus.get((tid, c), False) for c in codes] for tid, codes in programs.items()}
        return Verdicts(correct=plus_v, base=base_v, plus=plus_v)

    @staticmethod
    def program(task: PlusTask, record: dict) -> str:
        """EvalPlus's rule: `solution` is the whole program; else the prompt + `completion`."""
        if isinstance(record.get("solution"), str):
            return record["solution"]
        if isinstance(record.get("completion"), str):
            return task.prompt + record["completion"]
        raise ValueError(f"sample of {task.task_id} has neither a `solution` nor a `completion` string")


def _run_split(tasks: dict[str, PlusTask], pairs: list[tuple[str, str]], split: str,
               expected: dict[str, dict[str, Expected]], runner: SuiteRunner) -> dict[tuple[str, str], bool]:
    """Run each (task_id, program) on the split's inputs; True where every output passes."""
    suites = []
    for k, (tid, code) in enumerate(pairs):
        task, exp = tasks[tid], expected[tid][split]
        limits = time_limits(exp.seconds)
        suites.append(CallSuite(f"{split}-{k}", code, candidate_call(task), limits, values=split_inputs(task, split),
                                budget=run_budget(limits), output_chars=exp.longest))
    results = runner.run(suites)
    return {pair: r.ok and check_outputs(tasks[pair[0]], split, r.outputs, expected[pair[0]][split])
            for pair, r in zip(pairs, results)}
