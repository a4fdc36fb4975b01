"""Sentence templates for synthetic traces: several phrasings per behaviour so no classifier can win by
matching one fixed string. Placeholders: T target, r a result, d |r - T|, x/y operands, op/inv operators,
v an intermediate value, nums/rest number lists, expr an expression."""

from __future__ import annotations

INTRO = [
    "I have the numbers {nums} and want to reach {T}.",
    "Numbers: {nums}. Target: {T}.",
    "Let me work with {nums} to get {T}.",
    "We need to combine {nums} into {T} using each number once.",
    "Okay, {nums} and a target of {T}. Let me think.",
]

STEP = {
    "plain": "{a} {op} {b} = {c}",
    "compact": "{a}{op}{b}={c}",
    "numbered": "Step {i}: {a} {op} {b} = {c}",
    "bullet": "- {a} {op} {b} = {c}",
    "verbal": "{a} {op} {b} gives {c}.",
}

VERIFY_WRONG = [
    "{r} is not {T}.",
    "That gives {r}, which is not equal to {T}.",
    "Since {r} is not equal to {T}, this does not work.",
    "{r} != {T}.",
    "Hmm, {r} is {d} away from {T}.",
    "Checking against the target: {r} vs {T}, no match.",
    "{r} misses the target of {T}.",
    "So I end up with {r} instead of {T}.",
]
VERIFY_HIGH = ["{r}? Too high!", "That overshoots: {r} is more than {T}.", "{r} is bigger than {T}, too much."]
VERIFY_LOW = ["{r}? Too low.", "That falls short: {r} is less than {T}.", "{r} is smaller than {T}, not enough."]
VERIFY_RIGHT = [
    "This works!",
    "{r} equals {T}, the target.",
    "Let me verify: {expr} = {T}. Correct!",
    "That's exactly {T}!",
    "Check: {r} = {T}. Yes, that matches.",
]
VERIFY_AND_RESTART = [
    "{r} is not {T}, so let's try something else.",
    "{r} doesn't equal {T}, so I'll try a different combination.",
    "Since {r} isn't {T}, back to the original numbers.",
    "{r} is too far from {T}; let me start over.",
]

RESTART = [
    "Trying something else.",
    "Let me try a different combination.",
    "Another approach:",
    "Let's start over with the original numbers.",
    "What about a different order?",
    "Alternatively, let me try this.",
    "Scratch that. New attempt:",
    "Let me go back to {nums}.",
]

BACKWARD = [
    "Working backwards from {T}: {T} {inv} {y} = {x}, so I need {x} from {rest}.",
    "Since the target is {T}, and {T} {inv} {y} = {x}, I would need to get {x} out of {rest}.",
    "To reach {T}, I could use {y} last: that needs {x} first, because {T} {inv} {y} = {x}.",
    "Let me reason from the target: {T} {inv} {y} = {x}, so the remaining numbers {rest} have to make {x}.",
    "For {T}, the last step could be {x} {op} {y}, which means I have to build {x} from {rest}.",
    "Going back from {T}, if I finish with {op} {y}, I must first reach {x}.",
]

SUBGOAL = [
    "First, I'll try to get close to {v}, then use the rest.",
    "Let me set an intermediate goal: make {v} first.",
    "Plan: build {v} with some of the numbers, then finish with the others.",
    "A useful stepping stone would be {v}.",
    "If I can make {v}, the rest should be easy.",
    "Breaking this down: first get {v}, then adjust.",
    "My sub-goal is {v}; after that I can combine what is left.",
]


# ---- held-out phrasings ---------------------------------------------------------------------------
# Written after the rule-based classifier was frozen and never used to tune it: the honest test set
# for `eval-classifier` mixes these with the main pools.

HELDOUT = {
    "INTRO": [
        "The goal is {T} and the available numbers are {nums}.",
        "Target {T}, numbers {nums}, each used exactly once.",
        "Let's see how {nums} can produce {T}.",
    ],
    "STEP": {
        "arrow": "{a} {op} {b} -> {c}",
        "sentence": "Take {a} {op} {b} = {c}.",
        "spaced": "  {a} {op} {b}  =  {c}",
    },
    "VERIFY_WRONG": [
        "Result {r}, but we want {T}.",
        "{r} does not match the target {T}.",
        "Comparing with {T}: {r} is wrong.",
        "{r}, and the target was {T}, so no.",
    ],
    "VERIFY_HIGH": ["{r} is way above {T}.", "Way too high: {r}."],
    "VERIFY_LOW": ["{r} is below {T}.", "Way too low: {r}."],
    "VERIFY_RIGHT": [
        "{expr} gives {T}, which is what we want!",
        "And that's {T}. Found it.",
        "Double-check: {expr} = {T}. Right.",
    ],
    "VERIFY_AND_RESTART": [
        "{r} isn't {T}. Back to the drawing board.",
        "No, {r} is not {T}; I'll try another way.",
    ],
    "RESTART": [
        "Let me try again from the beginning.",
        "That path leads nowhere, so I'll try another combination.",
        "OK, different idea.",
        "Hmm, let me redo this.",
    ],
    "BACKWARD": [
        "Thinking in reverse: {T} {inv} {y} = {x}, meaning {x} has to come from {rest}.",
        "Since we want {T}, and {x} {op} {y} = {T}, we'd need to produce {x}.",
        "Work backwards: to land on {T} with {y}, the other part must be {x}.",
    ],
    "SUBGOAL": [
        "Step one: try to reach {v} using some of the numbers.",
        "It would help to have {v} as an intermediate result.",
        "Goal for now: get to {v}.",
        "Let's first aim for {v}.",
    ],
}
