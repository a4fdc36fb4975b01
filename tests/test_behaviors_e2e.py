"""`behaviors classify --judge llm` and `behaviors filter` end to end against the project's own server.

The served model is a randomly initialised nano model whose every token ends generation, so its
replies are one junk token: never a `<count>` tag, never "problem: yes". The test checks the
plumbing, not the judging: every request made, every reply recorded as a parse failure, every input
accounted for in the outputs, and the reply cache honoured.
"""

from __future__ import annotations

import json

import pytest
import torch
from transformers import AutoModelForCausalLM
from typer.testing import CliRunner

from selfevolve.behaviors.conditions import prime_data
from selfevolve.behaviors.judge import BehaviorJudge, client_chat, judge_messages
from selfevolve.behaviors.types import BEHAVIORS
from selfevolve.cli import _register, app
from selfevolve.llm import OpenAIClient, SamplingParams, TransformersGenerator
from selfevolve.llm.server import create_app
from selfevolve.store.jsonl import write_jsonl
from selfevolve.tinymodels.presets import SizePreset, qwen2_config
from selfevolve.tinymodels.tokenizer import train_tokenizer

from local_server import serve_in_thread

DOCS = ["Find x if 2x + 3 = 7.\nFirst subtract 3: 2x = 4. Check: 2*2+3 = 7. So x = 2.",
        "A square has side 3; its area is 9.", "Let me try again: 5 * 5 = 25, too high."]


@pytest.fixture(scope="module")
def records():
    return prime_data("all_strategies", 2, seed=7)


@pytest.fixture(scope="module")
def served(records):
    """(base URL, request log) of a nano model served on a free loopback port by a thread of this process."""
    texts = [m["content"] for r in records for b in BEHAVIORS for m in judge_messages(b, r["nums"], r["target"], r["completion"])]
    tokenizer = train_tokenizer(texts + DOCS, 512)
    preset = SizePreset(64, 2, 4, 2, 192, 4096, 512)  # nano with a context long enough for the judge prompts
    torch.manual_seed(0)
    config = qwen2_config(preset, len(tokenizer), tokenizer.bos_token_id, tokenizer.eos_token_id, tokenizer.pad_token_id)
    model = AutoModelForCausalLM.from_config(config).eval()
    model.generation_config.eos_token_id = list(range(len(tokenizer)))  # one token per reply
    server_app = create_app(TransformersGenerator(model, tokenizer, batch_size=4), "nano-judge")
    log: list[str] = []

    @server_app.middleware("http")
    async def record(request, call_next):
        log.append(request.url.path)
        return await call_next(request)

    with serve_in_thread(server_app) as base_url:
        yield base_url, log


def chat_requests(log: list[str]) -> int:
    return sum(path.endswith("/chat/completions") for path in log)


def test_judge_records_every_unparsable_reply(served, records):
    base_url, log = served
    before = chat_requests(log)
    with OpenAIClient(base_url, model="nano-judge") as client:
        judge = BehaviorJudge(client_chat(client, SamplingParams(max_new_tokens=512, temperature=0.0)))
        results = [judge.judge(r["nums"], r["target"], r["completion"]) for r in records]
    assert chat_requests(log) - before == 4 * len(records)
    for result in results:
        assert sorted(result.parse_failures) == sorted(BEHAVIORS)
        assert result.counts == dict.fromkeys(BEHAVIORS) and set(result.replies) == set(BEHAVIORS)


def test_classify_cli_with_llm_judge_and_cache(served, records, tmp_path):
    base_url, log = served
    data = tmp_path / "samples.jsonl"
    write_jsonl([{k: r[k] for k in ("nums", "target", "completion")} for r in records] + [{"nums": [1]}], data)
    _register()
    args = ["behaviors", "classify", str(data), "--judge", "llm", "--base-url", base_url, "--model", "nano-judge",
            "--cache", str(tmp_path / "cache.sqlite")]
    before = chat_requests(log)
    first = CliRunner().invoke(app, args)
    assert first.exit_code == 0, first.output
    assert chat_requests(log) - before == 4 * len(records)
    assert "1 skipped" in first.output and all(b in first.output for b in BEHAVIORS)
    again = CliRunner().invoke(app, args)  # every reply is cached now
    assert again.exit_code == 0 and chat_requests(log) - before == 4 * len(records)


def test_filter_cli_accounts_for_every_document(served, tmp_path):
    base_url, log = served
    corpus = tmp_path / "corpus.jsonl"
    write_jsonl([{"text": d} for d in DOCS] + [{"body": "no text field"}], corpus)
    out = tmp_path / "filtered.jsonl"
    _register()
    before = chat_requests(log)
    result = CliRunner().invoke(app, ["behaviors", "filter", str(corpus), "--base-url", base_url, "--model", "nano-judge",
                                      "-o", str(out)])
    assert result.exit_code == 0, result.output
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert [r["index"] for r in rows] == [1, 2, 3]  # the 4th line lacks the text field and is reported
    assert "4" in result.output and "text" in result.output
    assert chat_requests(log) - before == 5 * len(DOCS)  # 4 labels + 1 screen each; no rewrite for rejected
    for r in rows:
        assert r["split"] == "rejected" and r["counts"] == dict.fromkeys(BEHAVIORS) and r["completion"] is None
