"""Every prompt METEOR sends, as conversations (lists of {"role", "content"} messages).

Distillation has two variants (docs/spec/meteor.md §2): the paper's, where the weak model is told that a stronger
model will answer and the domain fills {specific field}, and the reference code's "Title/Content"
prompts. The judges' prompts are ours: they ask for the structured replies `parsing` reads (the
reference asked for free text and looked for the substring "Correct", docs/spec/meteor.md §8.2).
"""

from __future__ import annotations

import json

from selfevolve.recipes.meteor.config import CRITERIA, PromptsConfig
from selfevolve.recipes.meteor.records import Record

Conversation = list[dict[str, str]]

EVALUATOR_SYSTEM = "You are an expert evaluator for educational content."
ANSWERER_SYSTEM = "You are a professional educational assistant skilled at providing detailed and accurate answers."


def user(text: str) -> Conversation:
    return [{"role": "user", "content": text}]


def guideline_prompt(record: Record, variant: str) -> Conversation:
    """The weak model writes a guideline for answering, not an answer."""
    if variant == "code":
        return user(f"Title: {record.question_title}\nContent: {record.question_content}\n\n"
                    "Based on the above, please provide guidelines for solving this problem.")
    return user(
        f"You are an expert in the field of {record.domain}. I have a question in this field: {record.question}\n\n"
        "You do not need to answer this question yourself, as I will use a more powerful model to answer it. "
        "Please provide a detailed guideline for answering it: the knowledge it needs, the steps to follow and the "
        "points to watch out for, so that the more powerful model can give a precise and accurate answer.\n\n"
        "The guideline is:")


def distilled_answer_prompt(record: Record, guideline: str, variant: str) -> Conversation:
    """The strong model answers the question with the weak model's guideline."""
    if variant == "code":
        return [{"role": "system", "content": ANSWERER_SYSTEM}, *user(
            "Please provide a detailed, accurate answer to the following question. The answer should follow the "
            "guideline and include the necessary reasoning steps.\n\n"
            f"### Question Title:\n{record.question_title}\n\n### Question Content:\n{record.question_content}\n\n"
            f"### Guideline:\n{guideline}\n\n### Answer:")]
    return user(
        f"Below is a guideline provided by an expert in the field of {record.domain}, followed by a specific question. "
        "Please use the provided guideline to generate a precise and accurate answer to the question.\n\n"
        f"Guideline: {guideline}\n\nQuestion: {record.question}")


def answer_prompt(record: Record, prompts: PromptsConfig) -> Conversation:
    return user(prompts.answer.format(question=record.question))


def revise_prompt(record: Record, feedback: str, prompts: PromptsConfig) -> Conversation:
    return user(prompts.revise.format(question=record.question, feedback=feedback))


def sft_prompt(record: Record, prompts: PromptsConfig) -> Conversation:
    return user(prompts.sft.format(question=record.question))


VERDICT_FORMAT = ('{"verdict": "correct", "feedback": "..."} or {"verdict": "incorrect", "feedback": "..."}')


def verdict_prompt(record: Record, answer: str, test_report: str | None = None) -> Conversation:
    """The strong model judges one answer and, when it is wrong, says where and how to fix it."""
    tests = f"### Test results of the answer's code:\n{test_report}\n\n" if test_report else ""
    return [{"role": "system", "content": EVALUATOR_SYSTEM}, *user(
        "You are provided with a question and an answer with reasoning steps. Evaluate whether the answer and its "
        "reasoning are correct.\n\n"
        f"### Question:\n{record.question}\n\n### Answer with Reasoning:\n{answer}\n\n{tests}"
        f"Reply with only a JSON object, {VERDICT_FORMAT}. When the answer is incorrect, the feedback says where it "
        "goes wrong and gives hints for improvement.")]


def scores_format(n_answers: int) -> str:
    item = {c: "<integer 1-10>" for c in CRITERIA} | {"justification": "<one or two sentences>"}
    return "[" + ", ".join(json.dumps(item) for _ in range(n_answers)) + "]"


def scores_prompt(record: Record, answers: list[str]) -> Conversation:
    """The judge scores answers (in the order shown) on the five criteria; see docs/meteor.md, "The judge"."""
    shown = "".join(f"Answer {i}:\n{a}\n\n" for i, a in enumerate(answers, 1))
    return [{"role": "system", "content": EVALUATOR_SYSTEM}, *user(
        f"You will be given a question and {len(answers)} answers. Evaluate each answer on the following criteria: "
        f"{', '.join(CRITERIA)}. For each criterion give an integer score from 1 to 10.\n\n"
        f"### Question:\n{record.question}\n\n### Answers:\n{shown}"
        f"Reply with only a JSON list holding one object per answer, in the order shown:\n{scores_format(len(answers))}")]


def nudge(reply: str, problem: str, expected: str) -> Conversation:
    """The turn appended to a conversation when the judge's reply could not be read: its reply, then a reminder."""
    return [{"role": "assistant", "content": reply},
            *user(f"Your reply could not be read ({problem}). Reply again with only {expected}.")]
