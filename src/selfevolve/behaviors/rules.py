"""A fast rule-based counter of the four behaviours in Countdown reasoning traces.

The trace is cut into sentences (lines, then `.`/`!`/`?`/`;` boundaries). Each sentence is read for:

* verification: a result compared with the target (the target plus a comparison word and another
  number or a referent like "that", or a "check"/"verify" sentence naming the target), or a stand-alone
  verdict ("Too high!", "This works!"); a run of adjacent checking sentences counts once, and a
  backward sentence ("since we want 22...") is not also a check;
* backward: reasoning from the target (an equation or decomposition that starts at the target, or
  "working backwards", "from the target", "last step") with the target mentioned; a run of adjacent
  backward sentences counts once;
* subgoal: an intermediate value to reach first ("first get 12", "intermediate goal", "aim for",
  "stepping stone", "if I can make 16") naming a number other than the target, outside backward text;
* backtracking: structure, not wording alone. Forward steps `a op b = c` are followed against the pool
  of available numbers; a step that starts a new chain after an earlier one (a restart phrase came
  since the previous step, or its operands are no longer in the pool but are initial numbers) counts 1.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence

from selfevolve.behaviors.types import Counts, zero_counts

_OP = r"[+\-*/×÷xX−]"
_EQUATION = re.compile(
    rf"(?<![\d.])(\d+)\s*({_OP})\s*(\d+)\s*(?:=|\bgives\b|\bmakes\b|\bequals\b|\bis\b|->|→)\s*(\d+)(?!\d|\.\d)"
)
_NUMBER = re.compile(r"(?<![\d.])\d+(?!\d|\.\d)")
_SENTENCE_END = re.compile(r"(?<=[.!?;])\s+")

_COMPARE = re.compile(
    r"\bnot\b|n't\b|\bno match\b|\bequals?\b|\bequal to\b|\bmatch(?:es)?\b|\bexactly\b|\bcorrect\b|"
    r"\bmiss(?:es)?\b|\baway from\b|\bshort\b|\bover(?:shoots?)?\b|\bunder(?:shoots?)?\b|\bmore than\b|"
    r"\bless than\b|\b(?:bigger|smaller|greater|larger|higher|lower) than\b|\boff by\b|\binstead of\b|"
    r"\bvs\.?(?!\w)|!=|≠|\btoo (?:high|low|big|small|large|much|far)\b|\babove\b|\bbelow\b|\bwrong\b|"
    r"\bwant(?:ed)?\b|\btarget was\b|\bso no\b|\bthat's\b|\bthat is\b",
    re.IGNORECASE,
)
_REFERENT = re.compile(r"\b(?:this|that|it|which|result|gives|get|got)\b", re.IGNORECASE)
_VERDICT = re.compile(
    r"\btoo (?:high|low|big|small|large)\b|\b(?:this|that|it) works\b|\bthat's it\b|\bbingo\b|\bno good\b|"
    r"\b(?:this|that|it) (?:matches|checks out|is correct|is right)\b|\bfound it\b",
    re.IGNORECASE,
)
_CHECK_WORD = re.compile(r"\b(?:verify|check|checking|double-check)\b", re.IGNORECASE)
_BACKWARD_CUE = re.compile(
    r"\bwork(?:ing)? backwards?\b|\bin reverse\b|\breverse\b|\bbackwards? from\b|\b(?:reason|start|starting|work|working) from the target\b|"
    r"\bgo(?:ing)? back from\b|\blast step\b|\bfinish with\b|\bend with\b",
    re.IGNORECASE,
)
_NEED = re.compile(
    r"\bneeds?\b|\bhave to\b|\bhas to\b|\bmust\b|\brequire[sd]?\b|\bremaining\b|\bso I\b|\bso we\b",
    re.IGNORECASE,
)
_SUBGOAL_CUE = re.compile(
    r"\bfirst\b[^.]{0,40}\b(?:get|make|reach|build|aim|find|create|obtain)\b|"
    r"\b(?:get|make|reach|build|obtain)\b[^.]{0,20}\bfirst\b|\bintermediate\b|\bstepping[- ]stone\b|"
    r"\bsub-?goals?\b|\baim (?:for|at|to)\b|\bget (?:close|closer) to\b|\bbreak(?:ing)? (?:this|it|the problem) down\b|"
    r"\bif (?:I|we) can (?:get|make|reach|build)\b|\bplan\b|\bgoal\b|\bstep one\b|\bto start\b",
    re.IGNORECASE,
)
_RESTART_CUE = re.compile(
    r"\btry(?:ing)? (?:something|another|a different|again|other)\b|"
    r"\banother (?:approach|combination|way|idea|option|attempt)\b|\bdifferent (?:approach|combination|way|order|idea)\b|"
    r"\bstart(?:ing)? over\b|\bback to (?:the )?(?:original|initial|start|beginning|numbers|\[)|\bfrom scratch\b|"
    r"\binstead\b(?! of)|\balternatively\b|\bwhat (?:about|if)\b|\bhow about\b|\bscratch that\b|\bnew attempt\b|"
    r"\bdead end\b|\bwon't work\b|\bgo(?:ing)? back\b|\breconsider\b|\bretry\b",
    re.IGNORECASE,
)


def sentences(trace: str) -> list[str]:
    out = []
    for line in trace.splitlines():
        out += [s.strip() for s in _SENTENCE_END.split(line) if s.strip()]
    return out


_LIST = re.compile(r"\[[\d,\s]*\]")


def _numbers(sentence: str) -> list[int]:
    return [int(n) for n in _NUMBER.findall(sentence)]


def _loose_numbers(sentence: str) -> list[int]:
    """Numbers outside bracketed lists (a restated list of the inputs is not a result or a goal)."""
    return _numbers(_LIST.sub(" ", sentence))


def _mentions(sentence: str, value: int) -> bool:
    return value in _numbers(sentence)


def is_verification(sentence: str, target: int) -> bool:
    if _VERDICT.search(sentence):
        return True
    if not _mentions(sentence, target):
        return False
    if _CHECK_WORD.search(sentence):
        return True
    if not _COMPARE.search(sentence):
        return False
    if _LIST.search(sentence):
        return False
    others = [n for n in _numbers(sentence) if n != target]
    twice = _numbers(sentence).count(target) > 1
    return bool(others) or twice or bool(_REFERENT.search(sentence))


def _pivots_on_target(sentence: str, target: int) -> bool:
    """An equation that starts at the target, ends at it, or a decomposition `T = a op b`."""
    from_target = any(target in (int(a), int(c)) for a, _, _, c in _EQUATION.findall(sentence))
    decomposed = re.search(rf"(?<![\d.]){target}\s*(?:=|\bis\b)\s*\d+\s*{_OP}\s*\d+", sentence)
    return from_target or bool(decomposed)


def is_backward(sentence: str, target: int) -> bool:
    if not (_mentions(sentence, target) or "target" in sentence.lower()):
        return False
    if _BACKWARD_CUE.search(sentence):
        return True
    return _pivots_on_target(sentence, target) and bool(_NEED.search(sentence))


def is_subgoal(sentence: str, target: int) -> bool:
    if not _SUBGOAL_CUE.search(sentence):
        return False
    return any(n != target for n in _loose_numbers(sentence)) or bool(
        re.search(r"\b(?:half|factor|multiple|close to the target)\b", sentence, re.IGNORECASE)
    )


class _Chains:
    """Follows forward steps against the number pool and counts restarts."""

    def __init__(self, nums: Sequence[int]):
        self.initial = Counter(nums)
        self.pool = Counter(nums)
        self.steps_in_attempt = 0
        self.cue = False
        self.restarts = 0

    def step(self, a: int, b: int, c: int) -> None:
        in_pool = _has(self.pool, a, b)
        if self.steps_in_attempt and (self.cue or (not in_pool and _has(self.initial, a, b))):
            self.restarts += 1
            self.pool, self.steps_in_attempt = Counter(self.initial), 0
        self.cue = False
        if _has(self.pool, a, b):
            self.pool.subtract([a, b])
            self.pool[c] += 1
        self.steps_in_attempt += 1


def _has(pool: Counter, a: int, b: int) -> bool:
    need = Counter([a, b])
    return all(pool[v] >= k for v, k in need.items())


def count_behaviors(trace: str, nums: Sequence[int], target: int) -> Counts:
    """Behaviour counts of one trace (the text inside `<think>`, or a whole completion)."""
    counts = zero_counts()
    chains = _Chains(nums)
    previous_backward = previous_check = False
    for sentence in sentences(trace):
        backward = is_backward(sentence, target)
        check = not backward and is_verification(sentence, target)
        counts["backward"] += backward and not previous_backward
        counts["verification"] += check and not previous_check
        previous_backward, previous_check = backward, check
        counts["subgoal"] += not backward and is_subgoal(sentence, target)
        if backward:
            continue
        if _RESTART_CUE.search(sentence) and chains.steps_in_attempt:
            chains.cue = True
        if _CHECK_WORD.search(sentence):
            continue
        for a, _, b, c in _EQUATION.findall(sentence):
            chains.step(int(a), int(b), int(c))
    counts["backtracking"] = chains.restarts
    return counts


def think_text(completion: str) -> str:
    """The thoughts of a completion: inside the last `<think>...</think>`, or everything before `<answer>`."""
    match = re.findall(r"<think>(.*?)</think>", completion, re.DOTALL)
    if match:
        return match[-1]
    return completion.split("<answer>", 1)[0]
