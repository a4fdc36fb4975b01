"""Math answer benchmarks: MATH500, GSM8K, AIME 2024/2025, AMC 2023, Minerva math, OlympiadBench.

Data: the Qwen2.5-Math evaluation layout (`math/<name>/test.jsonl`), questions and gold answers read as
its `parse_question` / `parse_ground_truth` do (AZR vendors that harness in `evaluation/math_eval`).

Prompt: AZR's math template, `azr` in AZR's `evaluation/math_eval/eval/utils.py`, which AZR's
`evaluation/math_eval/run.sh` passes for every reported model, applied as raw text as `math_eval.py`
does. (The project spec, shared/spec/azr.md, does not give it.) The Qwen2.5-Math CoT prompt
(`qwen25-math-cot`, same file) is the alternative. Answers are extracted as each template's harness
does (`extract_azr_answer` / `extract_answer`), and graded with math-verify (`mathgrade`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

from selfevolve.bench.data import dataset_path, read_jsonl
from selfevolve.bench.mathgrade import MathGrader
from selfevolve.bench.suite import Prompt, ScoreOptions, Verdicts

AZR_TEMPLATE = (
    "A conversation between User and Assistant. The user asks a question, and the Assistant solves it. The "
    "assistant first thinks about the reasoning process in the mind and then provides the user with the answer. "
    "The reasoning process and answer are enclosed within <think> </think> and <answer> </answer> tags, "
    "respectively, i.e., <think> reasoning process here </think> <answer> answer here </answer>. "
    "User: {input}\nAssistant:"
)
QWEN25_MATH_COT_TEMPLATE = (
    "<|im_start|>system\nPlease reason step by step, and put your final answer within \\boxed{{}}.<|im_end|>\n"
    "<|im_start|>user\n{input}<|im_end|>\n<|im_start|>assistant\n"
)
# math_eval.py: every prompt type stops at these; "qwen" prompt types also at the chat-markup words
BASE_STOP = ("</s>", "<|im_end|>", "<|endoftext|>")
TEMPLATES = {
    "azr": (AZR_TEMPLATE, BASE_STOP),
    "qwen25-math-cot": (QWEN25_MATH_COT_TEMPLATE, BASE_STOP + ("assistant", "user", "_end", "_start")),
}

# suite name -> the data folder of the Qwen2.5-Math layout
FOLDERS = {
    "math500": "math500", "gsm8k": "gsm8k", "aime24": "aime24", "aime25": "aime25", "amc23": "amc23",
    "minerva": "minerva_math", "olympiadbench": "olympiadbench",
}


@dataclass(frozen=True)
class MathTask:
    task_id: str
    question: str
    answer: str


def gold_answer(suite: str, row: dict) -> str:
    """The gold answer of a record, as Qwen2.5-Math's `parse_ground_truth` reads it."""
    if suite == "gsm8k":
        return row["answer"].split("####")[-1].strip().replace(",", "")
    if suite == "minerva":
        return extract_qwen(row["solution"])  # the boxed answer of the reference solution
    if suite == "olympiadbench":
        return row["final_answer"][0].strip("$")
    answer = row["answer"]
    if isinstance(answer, float) and answer.is_integer():
        return str(int(answer))  # AMC 2023 stores 27.0
    return str(answer)


def question_text(row: dict, gold: str) -> str:
    """Qwen2.5-Math's `parse_question` for these sets (a yes/no or true/false answer is announced)."""
    key = next((k for k in ("question", "problem", "Question", "input") if k in row), None)
    if key is None:
        raise ValueError(f"a math record without a question field (keys: {sorted(row)})")
    question = row[key]
    if gold.lower() in ("true", "false"):
        question += " (True or False)"
    if gold.lower() in ("yes", "no"):
        question += " (Yes or No)"
    return question.strip()


def last_boxed(text: str) -> str | None:
    """The last `\\boxed{...}` (or `\\fbox{...}`) with its command, braces balanced, or the text after
    the last `\\boxed ` up to a `$` when the text has that form anywhere: Qwen2.5-Math's
    `last_boxed_only_string`. None when there is none, or it is not closed."""
    if "\\boxed " in text:
        return "\\boxed " + text.split("\\boxed ")[-1].split("$")[0]
    idx = text.rfind("\\boxed")
    if idx < 0:
        idx = text.rfind("\\fbox")
        if idx < 0:
            return None
    depth = 0
    for i in range(idx, len(text)):
        if text[i] == "{":
            depth += 1
        elif text[i] == "}":
            depth -= 1
            if depth == 0:
                return text[idx : i + 1]
    return None


def extract_azr(completion: str) -> str:
    """AZR's `extract_azr_answer`: the <answer> block (its last \\boxed if it has one), else the last
    \\boxed, else the first \\[...\\] display."""
    if "<answer>" in completion:
        answer = completion.split("<answer>")[-1].split("</answer>")[0].strip()
        if "boxed" in answer:
            answer = last_boxed(answer) or ""
            if answer.startswith("\\[") and answer.endswith("\\]"):
                answer = answer[2:-2]
        return answer.strip()
    if "boxed" in completion:
        return (last_boxed(completion) or "").strip()
    match = re.search(r"\\\[(.*?)\\\]", completion)
    return match.group(1).strip() if match else ""


def extract_qwen(completion: str) -> str:
    """Qwen2.5-Math's `extract_answer` for these sets: the last boxed answer, else the text after
    "he answer is" / "final answer is", else the last number."""
    if "final answer is $" in completion and "$. I hope" in completion:  # Minerva's few-shot answer form
        answer = completion.split("final answer is $", 1)[1].split("$. I hope", 1)[0].strip()
    elif "boxed" in completion:
        tail = completion.split("boxed")[-1]
        answer = _braced(tail) if tail.startswith("{") else tail.split("$")[0].strip()
    elif "he answer is" in completion:
        answer = completion.split("he answer is")[-1].strip()
    elif "final answer is" in completion:
        answer = completion.split("final answer is")[-1].strip()
    else:
        numbers = re.findall(r"-?\d*\.?\d+", completion.replace(",", ""))
        answer = numbers[-1] if numbers else ""
    answer = re.sub(r"\n\s*", "", answer)
    if answer.startswith(":"):
        answer = answer[1:]
    return answer.rstrip(".").rstrip("/")


def _braced(text: str) -> str:
    """What `{...}` at the start of `text` holds, braces balanced; the rest of the text if never closed."""
    depth = 0
    for i, ch in enumerate(text):
        depth += (ch == "{") - (ch == "}")
        if depth == 0:
            return text[1:i]
    return text[1:]


EXTRACTORS = {"azr": extract_azr, "qwen25-math-cot": extract_qwen}


class MathSuite:
    default_max_new_tokens = 16_000  # AZR's math evaluation (eval_math_nodes.sh)

    def __init__(self, name: str, template: str = "azr"):
        if name not in FOLDERS:
            raise ValueError(f"unknown math suite {name!r}; use one of {sorted(FOLDERS)}")
        if template not in TEMPLATES:
            raise ValueError(f"unknown math prompt template {template!r}; use one of {sorted(TEMPLATES)}")
        self.name, self.template = name, template

    def load(self, data_dir: str | Path | None) -> list[MathTask]:
        rows = read_jsonl(dataset_path(f"math/{FOLDERS[self.name]}/test.jsonl", data_dir))
        tasks = []
        for i, row in enumerate(rows):
            gold = gold_answer(self.name, row)
            tasks.append(MathTask(f"{self.name}/{i}", question_text(row, gold), gold))
        return tasks

    def prompt(self, task: MathTask, style: str) -> Prompt:
        template, stop = TEMPLATES[self.template]
        return Prompt(text=template.format(input=task.question), stop=stop)

    def record(self, task: MathTask, text: str, style: str) -> dict:
        return {"completion": text}

    def score(self, tasks: Sequence[MathTask], samples: dict[str, list[dict]], options: ScoreOptions) -> Verdicts:
        by_id = {t.task_id: t for t in tasks}
        extract = EXTRACTORS[self.template]
        correct: dict[str, list[bool]] = {}
        with MathGrader(timeout=options.math_timeout) as grader:
            for tid, records in samples.items():
                correct[tid] = [grader.grade(by_id[tid].answer, extract(_completion(r, tid))) for r in records]
        return Verdicts(correct=correct)


def _completion(record: dict, task_id: str) -> str:
    if not isinstance(record.get("completion"), str):
        raise ValueError(f"sample of {task_id} has no `completion` string (the model's text after the prompt)")
    return record["completion"]
