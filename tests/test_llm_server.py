"""The OpenAI-compatible server and client, talking over loopback (127.0.0.1) for real."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time

import httpx
import pytest
import torch

from selfevolve.llm import (
    InvalidSamplingParams,
    LLMRequestError,
    OpenAIClient,
    SamplingParams,
    TransformersGenerator,
    load_model,
)
from selfevolve.llm.server import create_app
from selfevolve.tinymodels.build import build_tiny
from selfevolve.tinymodels.corpus import write_corpus

from local_server import STARTUP_LIMIT_S, free_port, serve_in_thread


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory):
    root = tmp_path_factory.mktemp("served")
    corpus = root / "corpus.jsonl"
    write_corpus(corpus, [f"Q: {i} + {i}?\nA: {2 * i}" for i in range(80)])
    return build_tiny("nano", corpus, root / "model")


@pytest.fixture(scope="module")
def generator(model_dir):
    model, tokenizer = load_model(model_dir, device="cpu", dtype=torch.float32)
    return TransformersGenerator(model, tokenizer, batch_size=16)


@pytest.fixture(scope="module")
def base_url(generator):
    """uvicorn in a thread of this process, on a free loopback port."""
    with serve_in_thread(create_app(generator, "nano-test")) as url:
        yield url


def test_models_endpoint_lists_the_served_model(base_url):
    body = httpx.get(f"{base_url}/models", timeout=10).json()
    assert [m["id"] for m in body["data"]] == ["nano-test"]
    with OpenAIClient(base_url) as client:
        assert client.model == "nano-test"


def test_concurrent_completions_match_local_generation(base_url, generator):
    prompts = [f"Q: {i} + {i}?\nA:" for i in range(12)]
    params = SamplingParams(n=2, max_new_tokens=8, temperature=1.0, seed=3)
    with OpenAIClient(base_url, model="nano-test", concurrency=6, logprobs=True) as client:
        remote = client.generate(prompts, params)
    assert [len(r) for r in remote] == [2] * len(prompts)
    for prompt, outs in zip(prompts, remote):
        local = generator.generate([prompt], params)[0]  # the server runs each request with its seed
        assert [c.token_ids for c in outs] == [c.token_ids for c in local]
        assert [c.text for c in outs] == [c.text for c in local]
        for r, loc in zip(outs, local):
            assert r.logprobs == pytest.approx(loc.logprobs, abs=1e-5)


def test_chat_completions(base_url):
    with OpenAIClient(base_url, model="nano-test", logprobs=True) as client:
        outs = client.chat([{"role": "user", "content": "Q: 2 + 2?"}], SamplingParams(n=3, max_new_tokens=6, seed=0))
    assert len(outs) == 3
    assert all(len(c.logprobs) == len(c.token_ids) <= 6 and c.finish_reason in ("stop", "length") for c in outs)


def test_submitted_requests_come_back_from_step_as_generate_answers_them(base_url):
    """Requests sent while others run (what SRA-MCTS's continuous batching uses with an endpoint): each
    comes back once, with what `generate` gives; a rejected one raises at `step`."""
    prompts = [f"Q: {i} + {i}?\nA:" for i in range(6)]
    params = SamplingParams(max_new_tokens=6, temperature=0.0)
    chats = [[{"role": "user", "content": p}] for p in prompts[:2]]
    with OpenAIClient(base_url, model="nano-test", concurrency=3) as client:
        assert client.step() == []
        expected = [c[0] for c in client.generate(prompts, params) + client.chat_many(chats, params)]
        request_ids = client.submit(prompts[:3], params)
        answered = dict(client.step())
        request_ids += client.submit(prompts[3:], params) + client.submit_chats(chats, params)
        while len(answered) < len(request_ids):
            for request_id, completions in client.step():
                assert request_id not in answered
                answered[request_id] = completions
        assert [answered[r][0] for r in request_ids] == expected
        client.submit(["word " * 2000], SamplingParams(max_new_tokens=2))
        with pytest.raises(LLMRequestError, match="HTTP 400"):
            client.step()  # the only request out: step waits for it


def test_stop_and_usage_over_http(base_url):
    body = {"prompt": "Q: 1 + 1?\nA:", "max_tokens": 5, "temperature": 0, "stop": "\n", "logprobs": 1}
    r = httpx.post(f"{base_url}/completions", json=body, timeout=30).json()
    choice = r["choices"][0]
    assert "\n" not in choice["text"] and len(choice["logprobs"]["token_logprobs"]) == len(choice["token_ids"])
    assert r["usage"]["completion_tokens"] == len(choice["token_ids"])


def test_bad_requests_get_400_with_the_reason(base_url):
    r = httpx.post(f"{base_url}/completions", json={"prompt": "x", "temperature": -1}, timeout=30)
    assert r.status_code == 400 and "temperature=-1" in r.json()["error"]["message"]
    r = httpx.post(f"{base_url}/completions", json={"max_tokens": 3}, timeout=30)
    assert r.status_code == 400 and "prompt" in r.json()["error"]["message"]
    with OpenAIClient(base_url, model="nano-test", retries=3) as client:
        started = time.monotonic()
        with pytest.raises(LLMRequestError, match=r"rejected \(HTTP 400: prompt 0 has \d+ tokens but the model's context is 512"):
            client.generate(["word " * 2000], SamplingParams(max_new_tokens=2))
        assert time.monotonic() - started < STARTUP_LIMIT_S  # not retried with backoff
        with pytest.raises(InvalidSamplingParams, match="top_p"):
            client.generate(["x"], SamplingParams(top_p=2.0))  # checked before any request


def test_response_cache_replays_reproducible_requests(base_url, tmp_path):
    params = SamplingParams(max_new_tokens=6, temperature=0.0)
    with OpenAIClient(base_url, model="nano-test", cache_dir=tmp_path) as client:
        first = client.generate(["Q: 5 + 5?\nA:"], params)
        assert len(list(tmp_path.glob("*.json"))) == 1
        second = client.generate(["Q: 5 + 5?\nA:"], params)
        client.generate(["Q: 5 + 5?\nA:"], SamplingParams(max_new_tokens=6, temperature=1.0))  # unseeded: not cached
    assert first == second and len(list(tmp_path.glob("*.json"))) == 1
    with OpenAIClient("http://127.0.0.1:9/v1", model="nano-test", cache_dir=tmp_path, retries=0) as offline:
        assert offline.generate(["Q: 5 + 5?\nA:"], params) == first  # served from disk, no server needed


def test_server_killed_mid_request_gives_clean_error_after_retries(model_dir):
    port = free_port()
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "selfevolve", "serve", str(model_dir), "--port", str(port), "--device", "cpu"],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}/v1"
    try:
        deadline = time.monotonic() + STARTUP_LIMIT_S
        while True:
            assert proc.poll() is None and time.monotonic() < deadline, "server subprocess did not come up"
            try:
                httpx.get(f"{base}/models", timeout=2)
                break
            except httpx.TransportError:
                time.sleep(0.2)
        outcome: dict = {}

        def requests_until_failure():
            """Back-to-back requests, so one is in flight whenever the kill comes, however fast the machine."""
            client = OpenAIClient(base, model="m", retries=2, backoff=0.1, timeout=20)
            try:
                while True:
                    client.generate(["Q: 1 + 1?\nA:"], SamplingParams(n=64, max_new_tokens=400, temperature=1.0))
                    outcome["answered"] = outcome.get("answered", 0) + 1
            except Exception as e:  # noqa: BLE001 - the test inspects whatever came out
                outcome["error"] = e
            finally:
                client.close()

        worker = threading.Thread(target=requests_until_failure)
        worker.start()
        time.sleep(1.5)
        assert worker.is_alive(), f"the requests failed before the kill: {outcome.get('error')!r}"
        proc.send_signal(signal.SIGKILL)
        worker.join(timeout=STARTUP_LIMIT_S)
        assert not worker.is_alive(), "client hung after the server died"
        error = outcome["error"]
        assert isinstance(error, LLMRequestError)
        assert "failed after 3 attempts" in str(error) and "Check that the server is running" in str(error)
    finally:
        proc.kill()
        proc.wait(timeout=30)
