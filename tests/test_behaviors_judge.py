"""LLM judge: count parsing, caching, and the shapes real judge replies take (fake chat callable)."""

import logging

import pytest

from selfevolve.behaviors.cache import ReplyCache
from selfevolve.behaviors.judge import BehaviorJudge, client_chat, judge_messages, parse_count

TRACE = "12+2 = 14. 14 is not 24, so let's try something else. 12*2=24. This works!"


@pytest.mark.parametrize(
    "reply, expected",
    [
        ("The model checks twice.\n<count>2</count>", 2),
        ("<count> 3 </count>", 3),  # the study's strict regex read this as 0
        ("<COUNT>\n4\n</Count>", 4),
        ("First I thought <count>1</count>, but recounting: <count>5</count>", 5),
        ("Count: 2", None),
        ("<count>9999</count>", 100),
    ],
)
def test_parse_count(reply, expected):
    assert parse_count(reply) == expected


class FakeChat:
    """Answers like real judges: prose, then a count tag, per behaviour named in the prompt."""

    def __init__(self, replies):
        self.replies, self.calls = replies, []

    def __call__(self, messages):
        self.calls.append(messages)
        user = messages[-1]["content"]
        for key, reply in self.replies.items():
            if key in user:
                return reply
        return "I cannot tell."


REPLIES = {
    "verification steps": "The model checks 14 against 24 and says 'This works!'.\n\n<count>2</count>",
    "backtracking": "It abandons 12+2 and tries 12*2. <count> 1 </count>",
    "subgoals": "No intermediate goals are set.\n<count>0</count>",
}


def test_judge_one_call_per_behaviour_with_system_prompt_and_parse_failures(caplog):
    chat = FakeChat(REPLIES)
    judge = BehaviorJudge(chat)
    with caplog.at_level(logging.WARNING):
        result = judge.judge([12, 2], 24, TRACE)
    assert result.counts == {"verification": 2, "backtracking": 1, "subgoal": 0, "backward": None}
    assert result.parse_failures == ["backward"] and "no <count> tag" in caplog.text
    assert len(chat.calls) == 4
    assert all(c[0] == {"role": "system", "content": "You are a helpful assistant that analyzes mathematical reasoning."} for c in chat.calls)
    assert "[12, 2]" in chat.calls[0][1]["content"] and TRACE in chat.calls[0][1]["content"]
    assert BehaviorJudge(FakeChat(REPLIES), missing_as_zero=True).judge([12, 2], 24, TRACE).counts["backward"] == 0


def test_cache_on_disk_avoids_repeat_calls(tmp_path):
    path = tmp_path / "judge.sqlite"
    first = FakeChat(REPLIES)
    BehaviorJudge(first, ReplyCache(path), namespace="m").judge([12, 2], 24, TRACE)
    second = FakeChat({})
    counts = BehaviorJudge(second, ReplyCache(path), namespace="m").judge([12, 2], 24, TRACE).counts
    assert second.calls == [] and counts["verification"] == 2
    other = FakeChat(REPLIES)
    BehaviorJudge(other, ReplyCache(path), namespace="other-model").judge([12, 2], 24, TRACE)
    assert len(other.calls) == 4


def test_client_adapter_and_bad_reply_type():
    class Reply:
        text = "<count>1</count>"

    class Client:
        def chat(self, messages, params=None):
            return [Reply()]

    assert parse_count(client_chat(Client(), params={"temperature": 0})(judge_messages("subgoal", [1], 2, "x"))) == 1
    with pytest.raises(TypeError, match="must return the reply text"):
        BehaviorJudge(lambda m: 3).judge([1], 2, "x")
    with pytest.raises(ValueError, match="unknown behaviours"):
        judge_messages("planning", [1], 2, "x")
