"""LLM judge for the four behaviours: one call per behaviour per trace, as in the study.

The judge talks to any chat model through an injected callable `chat(messages) -> str` (OpenAI-style
message dicts in, reply text out). Replies are cached by a hash of the exact messages, so re-judging a
trace costs nothing; parsing happens after the cache, so a parser change needs no new calls.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from selfevolve.behaviors.cache import ReplyCache, message_key
from selfevolve.behaviors.rules import think_text
from selfevolve.behaviors.types import BEHAVIORS, check_behaviors

log = logging.getLogger(__name__)

ChatFn = Callable[[list[dict]], str]

SYSTEM_PROMPT = "You are a helpful assistant that analyzes mathematical reasoning."

_FRAME = (
    "Here is a chain of reasoning written by a model that was playing the game of Countdown with the "
    "numbers {numbers}. The goal is to reach the target number {target} by combining the numbers with "
    "+, -, *, / and using each number once.\n\nChain of reasoning:\n{reasoning}\n\n"
)
_ASK = (
    "\n\nCount the distinct instances. Give your reasoning first, then the total inside <count> </count> "
    "tags, for example <count>2</count>. If there are none, answer <count>0</count>."
)

_TASKS = {
    "verification": (
        "Evaluate whether the reasoning contains any verification steps: explicit checks where the model "
        "compares a result with the target. Explicit examples: 'This sequence results in 1, which is not "
        "equal to {target}', 'Since 25 is not equal to {target}'. Implicit verdicts count too, such as "
        "'Too high!' or 'This works!'."
    ),
    "backtracking": (
        "Evaluate whether the reasoning contains backtracking: places where the model realises a path "
        "will not work and explicitly goes back to try another, for example 'Let me try again' or 'This "
        "approach won't work, so...'. In Countdown, any new combination of the numbers that does not build "
        "on the previous result counts as backtracking. For example, a trace on [20, 7, 11, 78] that "
        "returns to the initial numbers five times to try different combinations has 5 instances."
    ),
    "subgoal": (
        "Evaluate whether the reasoning sets explicit subgoals: intermediate targets that break the "
        "problem into smaller steps, for example 'First, I'll try to get close to {half}, then...' or "
        "'Let's aim for a multiple of 5 first'. A subgoal is an intermediate value, not the target itself."
    ),
    "backward": (
        "Evaluate whether the reasoning uses backward chaining: working from the target back toward the "
        "given numbers. For example, with target 24 and numbers [12, 2]: '24/2 = 12. So, 12*2=24'; with "
        "target 22 and numbers [25, 3]: 'Since the target is 22, and 22 + 3 = 25, ...'."
    ),
}

_COUNT = re.compile(r"<count>\s*(\d+)\s*</count>", re.IGNORECASE)


def judge_messages(behavior: str, nums: Sequence[int], target: int, reasoning: str) -> list[dict]:
    """The exact messages sent for one behaviour (system prompt + one user prompt)."""
    check_behaviors([behavior])
    frame = _FRAME.format(numbers=list(nums), target=target, reasoning=reasoning)
    task = _TASKS[behavior].format(target=target, half=target // 2)
    return [{"role": "system", "content": SYSTEM_PROMPT}, {"role": "user", "content": frame + task + _ASK}]


def parse_count(reply: str, max_count: int = 100) -> int | None:
    """The last `<count> n </count>` (any case, spaces allowed), clamped to `max_count`; None if absent."""
    matches = _COUNT.findall(reply)
    return min(int(matches[-1]), max_count) if matches else None


@dataclass
class JudgeResult:
    counts: dict[str, int | None]
    replies: dict[str, str]
    parse_failures: list[str] = field(default_factory=list)


class BehaviorJudge:
    """Counts behaviours with an LLM.

    chat: callable taking OpenAI-style messages and returning the reply text.
    cache: where replies are kept (in memory when not given).
    namespace: part of the cache key; set it to the judge model's name so judges never share entries.
    max_count: outliers above this are clamped.
    missing_as_zero: a reply without `<count>` becomes 0 instead of None (None is left out of means).
    """

    def __init__(
        self,
        chat: ChatFn,
        cache: ReplyCache | None = None,
        namespace: str = "",
        max_count: int = 100,
        missing_as_zero: bool = False,
    ):
        self.chat = chat
        self.cache = cache if cache is not None else ReplyCache()
        self.namespace = namespace
        self.max_count = max_count
        self.missing_as_zero = missing_as_zero

    def reply(self, messages: list[dict]) -> str:
        key = message_key(messages, self.namespace)
        cached = self.cache.get(key)
        if cached is not None:
            return cached
        text = self.chat(messages)
        if not isinstance(text, str):
            raise TypeError(f"chat callable must return the reply text (str), got {type(text).__name__}.")
        self.cache.put(key, text)
        return text

    def judge(
        self, nums: Sequence[int], target: int, reasoning: str, behaviors: Sequence[str] = BEHAVIORS
    ) -> JudgeResult:
        result = JudgeResult({}, {})
        for behavior in behaviors:
            reply = self.reply(judge_messages(behavior, nums, target, reasoning))
            count = parse_count(reply, self.max_count)
            if count is None:
                log.warning("judge reply for %s has no <count> tag: %.200r", behavior, reply)
                result.parse_failures.append(behavior)
                count = 0 if self.missing_as_zero else None
            result.counts[behavior] = count
            result.replies[behavior] = reply
        return result

    def classify(self, completion: str, nums: Sequence[int], target: int) -> dict[str, int | None]:
        """Counts for a completion, judged on its thoughts (same signature as the rule classifier)."""
        return self.judge(nums, target, think_text(completion)).counts


def client_chat(client, params=None) -> ChatFn:
    """Adapt an object with `chat(messages, params)` (e.g. the project's LLM backends) to a ChatFn.

    The reply may be a string, an object with `.text`, or a list of those (the first is used).
    """

    def chat(messages: list[dict]) -> str:
        reply = client.chat(messages, params) if params is not None else client.chat(messages)
        if isinstance(reply, list):
            if not reply:
                raise ValueError("chat client returned no completions.")
            reply = reply[0]
        return reply if isinstance(reply, str) else reply.text

    return chat
