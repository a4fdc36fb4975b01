"""Every prompt of SRA-MCTS and its baselines, and fitting a prompt into a token budget.

Prompts are conversations (a list of `{"role", "content"}` messages); `llm.open.ChatModel` renders
them with the model's chat template (the reference wraps each prompt as one user message; the
translator has a system sentence). Two styles: `full` (the reference's instructions, in our words)
and `compact` (a few lines each, for tiny models with a 512-token context).

Fitting (docs/spec/sra_mcts.md §7, defect 4): a prompt over its budget first loses critic few-shot examples, then the middle
of the problem statement (head and tail kept, the cut marked); the steps being judged are never cut.
If that is still too long, `PromptTooLongError` says so.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from selfevolve.llm.errors import PromptTooLongError

Conversation = list[dict[str, str]]

CUT_MARK = "\n[... middle of the problem omitted ...]\n"
MIN_PROBLEM_CHARS = 256  # a problem is never cut below this many characters (or its whole length)

_DECOMPOSE = (
    "We break a complex problem into a series of simpler sub-problems and write one step for each, in order; "
    "together the steps must form one coherent solution to the original problem, without contradictions."
)

TRANSLATOR_SYSTEM = (
    "You will play the role of a code implementer, writing a complete code based on the given problem and the "
    "step-by-step analysis of the problem. Your code must strictly follow the analysis steps provided and should "
    "not include your own opinions."
)

# The paper's five SFT instruction sentences (docs/spec/sra_mcts.md §4).
INSTRUCTIONS = (
    "Thoroughly analyze the given problem to understand its requirements. Break it down into logical steps, and "
    "propose a detailed approach for solving it. Then, generate the Python code that implements your solution.",
    "Reflect on the problem's underlying structure and decompose it into smaller tasks. For each task, explain how "
    "it contributes to solving the overall problem, and provide the Python code to implement these steps.",
    "Examine the problem critically to uncover any hidden complexities or challenges. Based on this analysis, "
    "design a step-by-step solution strategy, and then write the corresponding Python code.",
    "Think deeply about the problem to identify the best approach. Formulate a well-reasoned plan, explaining each "
    "step of the process in detail before generating the Python code to execute your solution.",
    "Consider all aspects of the problem carefully and develop a structured problem-solving strategy. After "
    "outlining the necessary steps, create the Python code that brings this strategy to life.",
)

# Two scored examples for the critic (ours; the rubric's format).
CRITIC_EXAMPLES = (
    (
        "Given an integer array `nums` and an integer `k`, return the number of contiguous subarrays whose sum equals `k`.",
        "Step 1: Keep a running prefix sum and a hash map counting how often each prefix sum has occurred, starting with {0: 1}.\n"
        "Step 2: For each element, add it to the running sum, then add the count of (running sum - k) from the map to the answer, "
        "because each such earlier prefix starts a subarray ending here with sum k.\n"
        "Step 3: Record the running sum in the map after counting, and return the answer once all elements are processed.\n",
        "The steps describe the standard prefix-sum counting method completely and correctly, including the initial empty prefix.",
        10,
    ),
    (
        "Given a string `s`, return the length of the longest substring without repeating characters.",
        "Step 1: Use a sliding window over `s` with a left and a right pointer.\n"
        "Step 2: Keep the characters of the current window in a set.\n",
        "Both steps are correct, but the solution does not yet say how the window shrinks on a repeat or how the answer is tracked.",
        6,
    ),
)


@dataclass(frozen=True)
class Budget:
    """A prompt limit: `count` gives a conversation's tokens as it will be sent; `limit` the most allowed."""

    count: Callable[[Conversation], int]
    limit: int


def _steps(y: str) -> str:
    return y if y.strip() else "None\n"


def _user(text: str) -> Conversation:
    return [{"role": "user", "content": text}]


def _history(history: list[str]) -> str:
    if not history:
        return ""
    lines = "".join(f"History {i}: {h.strip()}\n" for i, h in enumerate(history))
    return "Do not follow the same line of thought as the proposals below.\n" + lines


# ------------------------------------------------------------------ the prompts


def propose(problem: str, y: str, style: str, analysis: str | None = None, history: list[str] = ()) -> Conversation:
    """Ask for the next step; with `analysis` (common reflection) conditioned on it."""
    if style == "compact":
        note = f"Analysis: {analysis}\n" if analysis is not None else ""
        return _user(f"Problem: {problem}\nSteps:\n{_steps(y)}{note}{_history(list(history))}"
                     "Give only the next step, in words, no code.\nNext step:")
    if analysis is None:
        head = (
            "Your task is to give the next step of a solution to a programming problem, given the problem and the steps "
            "written so far (an incomplete solution). Think step by step, but give one step only.\n"
            f"{_DECOMPOSE}\n\n"
            "If there are no steps yet, briefly think about how to approach the problem and give the first step. "
            "Otherwise give the correct next step, following the idea of the existing steps.\n"
            "Keep each step concise and focused on a small part of the solution; do not combine several ideas in one step. "
            "A complete solution has at least three steps, so do not skip necessary ones.\n"
            "Describe the reasoning in natural language only. Do not write any code: an answer with code is discarded.\n"
        )
        tail = ""
    else:
        head = (
            "Your task is to give the correct **next step** of a solution to a programming problem, given the problem, the "
            "steps written so far (an incomplete solution) and an analysis of them. Think step by step, but give one step only.\n"
            f"{_DECOMPOSE}\n\n"
            "- The steps will be handed to a code-generation model, so write them so that such a model can follow them.\n"
            "- Keep each step concise and focused, without too much at once; reason clearly and in order.\n"
            "- You may use a very little code to explain a detail, but you cannot just write code.\n"
            "- Base your answer on the analysis; answer your own way only if the analysis is wrong.\n"
            "- With no existing steps, give the first step based on the analysis; otherwise give the next step (step n+1), "
            "following the analysis and the previous steps.\n"
        )
        tail = f"Analysis: {analysis.strip() or 'None'}\n"
    return _user(
        f"{head}\nOutput format:\nNext step: ...\n\nProblem:\n{problem}\nExisting steps:\n{_steps(y)}{tail}"
        f"{_history(list(history))}\nYour output:"
    )


def reflect(problem: str, y: str, style: str) -> Conversation:
    """Common reflection: <end>, or an analysis giving a direction for the next step."""
    if style == "compact":
        return _user(f"Problem: {problem}\nSteps:\n{_steps(y)}If the steps solve the problem, answer <end>. "
                     "Otherwise answer Analysis: what the next step should do.\n")
    return _user(
        "You are an expert. A programming problem has been partly solved; evaluate the steps so far and give guidance.\n"
        f"{_DECOMPOSE}\n\n"
        "First decide whether the given steps already solve the problem completely.\n"
        '1. If they do: output only "<end>", nothing else.\n'
        "2. If they do not: briefly evaluate the existing steps and suggest a direction for the next step "
        "(for the first step when there are no steps). Do not try to solve the whole problem.\n\n"
        f"Output format:\nAnalysis: ...\n\nProblem:\n{problem}\nExisting steps:\n{_steps(y)}\nOutput:"
    )


def reflect_simple(problem: str, y: str, style: str) -> Conversation:
    """Simple reflection: <continue> or <end> only."""
    if style == "compact":
        return _user(f"Problem: {problem}\nSteps:\n{_steps(y)}Solved? Answer <end> or <continue>.\n")
    return _user(
        "Decide whether the given steps resolve the problem.\n\n"
        f"Read the problem: ```{problem}```\n\nRead the solution steps: ```{_steps(y)}```\n\n"
        'If the steps have not yet worked out everything the problem needs, output "<continue>", nothing else.\n'
        'If they have, output "<end>", nothing else.\n'
    )


def critic(problem: str, y: str, style: str, shots: int = 2) -> Conversation:
    """Score the steps 0-10 by the rubric, after `shots` scored examples."""
    if style == "compact":
        return _user(f"Problem: {problem}\nSteps:\n{_steps(y)}Rate the steps from 0 to 10 "
                     "(10 = they solve it, 5-7 = correct but incomplete, below 3 = the last step is wrong, 0 = code).\nScore:")
    examples = "".join(
        f"**Example {i + 1}**\nProblem: {p}\nExisting steps:\n{steps}Analysis: {why}\nScore: {score}\n\n"
        for i, (p, steps, why, score) in enumerate(CRITIC_EXAMPLES[:shots])
    )
    return _user(
        "You are an evaluator: judge how well the proposed solution steps address the problem, and score them.\n"
        f"{_DECOMPOSE}\n\n"
        "Do not answer the problem and do not write code. First give a short analysis, then the score, an integer from 0 to 10:\n"
        "- 10: the steps solve the problem correctly and completely.\n"
        "- 5 to 7: no step is wrong yet, but the solution is incomplete and a few more steps would solve it.\n"
        "- 3 to 5: a step before the last one is wrong.\n"
        "- below 3: the last step is wrong.\n"
        "- The more steps are wrong, the closer to 0; the closer the steps are to a correct solution, the closer to 10.\n"
        "- 0 if complete code appears in the steps.\n"
        "- 6 or more only if all previous steps are correct; 10 only if all steps are correct and solve the problem.\n"
        "Base the analysis and the score on the given steps only; do not write further steps.\n\n"
        f"{examples}Now the problem and the existing steps to score.\nProblem:\n{problem}\nExisting steps:\n{_steps(y)}\n"
        "Output format:\nAnalysis: ...\nScore: ..."
    )


def judge(problem: str, plan: str, style: str) -> Conversation:
    """The completion judge: <solved> or <unsolved>."""
    if style == "compact":
        return _user(f"Problem: {problem}\nSolution:\n{plan}Do the steps fully solve it? Answer <solved> or <unsolved>.\n")
    return _user(
        f"You will receive a problem and its solution steps. {_DECOMPOSE}\n"
        "Evaluate whether these steps solve the problem, by two criteria:\n"
        "1. Correctness: are the steps accurate and aligned with the problem's requirements?\n"
        "2. Completeness: do the steps cover everything needed to fully address the problem?\n"
        "Both must hold for the problem to count as solved.\n"
        "- If the steps fail either criterion, respond with: <unsolved>\n"
        "- If the steps solve the problem, respond with: <solved>\n\n"
        f"Problem:\n{problem}\nSolution:\n{plan}\nYour response:"
    )


def translate(problem: str, plan: str, style: str) -> Conversation:
    """Plan → code: the translator's system sentence, then `### Question: ...\\n### Solution: \\n{plan}`."""
    system = "Write the Python code that follows the steps." if style == "compact" else TRANSLATOR_SYSTEM
    return [{"role": "system", "content": system},
            {"role": "user", "content": f"### Question: {problem}\n### Solution: \n{plan}"}]


def cot(problem: str, style: str) -> Conversation:
    """The CoT baseline: analysis and code in one answer."""
    if style == "compact":
        return _user(f"Problem: {problem}\nExplain the steps, then give the Python code.\nSolution:")
    return _user(
        "You are supposed to provide a solution to a given problem.\nBoth natural language analysis and code are needed.\n"
        f"Let's think step by step.\nProblem:\n{problem}\nSolution:"
    )


# ------------------------------------------------------------------ fitting


def shorten_middle(problem: str, keep: int) -> str:
    """`problem` with its middle replaced by CUT_MARK so that `keep` of its characters remain."""
    if keep >= len(problem):
        return problem
    head = keep - keep // 2
    return problem[:head] + CUT_MARK + problem[len(problem) - keep // 2:]


def fit(build: Callable[[str, int], Conversation], problem: str, budget: Budget | None, shots: int = 0) -> Conversation:
    """`build(problem_text, shots)` within `budget`: fewer few-shot examples first, then the middle of
    the problem cut (never below MIN_PROBLEM_CHARS); raises PromptTooLongError if it still does not fit."""
    prompt = build(problem, shots)
    if budget is None or budget.count(prompt) <= budget.limit:
        return prompt
    for fewer in range(shots - 1, -1, -1):
        prompt = build(problem, fewer)
        if budget.count(prompt) <= budget.limit:
            return prompt
    floor = min(len(problem), MIN_PROBLEM_CHARS)
    if budget.count(build(shorten_middle(problem, floor), 0)) > budget.limit:
        raise PromptTooLongError(
            f"the prompt needs more than {budget.limit} tokens even without few-shot examples and with the problem cut to "
            f"{floor} characters (the steps are never cut); raise max_prompt_tokens of the role, use a model with a longer "
            f"context, or set on_prompt_too_long=skip"
        )
    low, high = floor, len(problem)  # low fits, high does not
    while high - low > 1:
        mid = (low + high) // 2
        if budget.count(build(shorten_middle(problem, mid), 0)) <= budget.limit:
            low = mid
        else:
            high = mid
    return build(shorten_middle(problem, low), 0)
