"""A `Generator` over any OpenAI-compatible HTTP endpoint (OpenAI, vLLM, `selfevolve serve`, ...).

Requests run `concurrency` at a time from a thread pool: `generate` and `chat_many` wait for all of
theirs; `submit`, `submit_chats` and `step` let a caller send new requests while earlier ones run, so
a server that batches continuously (vLLM's) always has `concurrency` requests to batch.

Transport errors, timeouts, 408/409/429 and 5xx responses are retried with exponential backoff and
jitter; after `retries` retries, or on any other 4xx, an `LLMRequestError` names the URL, the attempts
and the last error. Every request has a `timeout`, so a dead server gives an error, never a hang.

Caching: with `cache_dir`, responses to *reproducible* requests (temperature 0, or a fixed seed)
are stored on disk and replayed; sampled requests without a seed always go to the server, so RL
rollouts never repeat cached samples.
"""

from __future__ import annotations

import itertools
import os
import random
import time
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from typing import Any, Callable, Mapping, Sequence

import httpx

from selfevolve.llm.errors import LLMRequestError
from selfevolve.llm.response_cache import ResponseCache
from selfevolve.llm.sampling import validate_params
from selfevolve.llm.types import Completion, SamplingParams

RETRYABLE_STATUS = {408, 409, 429, 500, 502, 503, 504}
MAX_BACKOFF_S = 8.0

Message = Mapping[str, str]


class OpenAIClient:
    def __init__(
        self,
        base_url: str,
        api_key_env: str = "OPENAI_API_KEY",
        model: str | None = None,
        concurrency: int = 8,
        retries: int = 3,
        timeout: float = 120.0,
        cache_dir: str | os.PathLike | None = None,
        logprobs: bool = False,
        backoff: float = 0.5,
    ):
        """`base_url` up to and including `/v1`; the key is read from `api_key_env` (no header if unset,
        which local servers accept); `model` defaults to the first id the server lists;
        `logprobs` asks for per-token log-probs (and token ids where the server returns them)."""
        if concurrency < 1 or retries < 0 or timeout <= 0:
            raise ValueError(f"need concurrency >= 1, retries >= 0, timeout > 0; got {concurrency}, {retries}, {timeout}")
        self.base_url = base_url.rstrip("/")
        self.concurrency = concurrency
        self.retries = retries
        self.backoff = backoff
        self.logprobs = logprobs
        self.cache = ResponseCache(cache_dir) if cache_dir else None
        key = os.environ.get(api_key_env)
        headers = {"Authorization": f"Bearer {key}"} if key else {}
        self._http = httpx.Client(
            headers=headers,
            timeout=httpx.Timeout(timeout),
            limits=httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency),
        )
        self._model = model
        self._pool: ThreadPoolExecutor | None = None  # runs submitted requests; made on the first `submit`
        self._running: dict[str, Future] = {}
        self._submitted = itertools.count()

    @property
    def model(self) -> str:
        if self._model is None:
            listed = self._request("GET", "/models", None).get("data") or []
            if not listed:
                raise LLMRequestError(f"{self.base_url}/models lists no models; pass model=NAME to OpenAIClient")
            self._model = listed[0]["id"]
        return self._model

    def generate(self, prompts: Sequence[str], params: SamplingParams) -> list[list[Completion]]:
        responses = self._map("/completions", self._text_payloads(prompts, params))
        return [[_text_completion(c) for c in _choices(r)] for r in responses]

    def chat(self, messages: Sequence[Message], params: SamplingParams) -> list[Completion]:
        """`params.n` completions of one conversation."""
        return self.chat_many([messages], params)[0]

    def chat_many(self, conversations: Sequence[Sequence[Message]], params: SamplingParams) -> list[list[Completion]]:
        responses = self._map("/chat/completions", self._chat_payloads(conversations, params))
        return [[_chat_completion(c) for c in _choices(r)] for r in responses]

    # ------------------------------------------------------------------ requests sent while others run

    def submit(self, prompts: Sequence[str], params: SamplingParams) -> list[str]:
        """Send text prompts without waiting: one request id per prompt; `step` returns its completions."""
        return self._submit("/completions", self._text_payloads(prompts, params), _text_completion)

    def submit_chats(self, conversations: Sequence[Sequence[Message]], params: SamplingParams) -> list[str]:
        """Send conversations without waiting: one request id per conversation; `step` returns its completions."""
        return self._submit("/chat/completions", self._chat_payloads(conversations, params), _chat_completion)

    def step(self) -> list[tuple[str, list[Completion]]]:
        """Wait until at least one submitted request is answered; (request id, completions) of every one
        that is. [] when none is out. A request that failed raises its `LLMRequestError` here."""
        if not self._running:
            return []
        wait(self._running.values(), return_when=FIRST_COMPLETED)
        finished = [request_id for request_id, future in self._running.items() if future.done()]
        return [(request_id, self._running.pop(request_id).result()) for request_id in finished]

    def _submit(self, endpoint: str, payloads: list[dict[str, Any]], parse: Callable[[dict], Completion]) -> list[str]:
        if self._pool is None:
            self._pool = ThreadPoolExecutor(max_workers=self.concurrency)
        request_ids = []
        for payload in payloads:
            request_id = f"submitted-{next(self._submitted)}"
            answer = lambda payload=payload: [parse(c) for c in _choices(self._cached_post(endpoint, payload))]  # noqa: E731
            self._running[request_id] = self._pool.submit(answer)
            request_ids.append(request_id)
        return request_ids

    def close(self) -> None:
        """Drop submitted requests not yet sent, wait for those in flight, and close the connections."""
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._running.clear()
        self._http.close()

    def __enter__(self) -> "OpenAIClient":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def _text_payloads(self, prompts: Sequence[str], params: SamplingParams) -> list[dict[str, Any]]:
        if isinstance(prompts, str):
            raise TypeError("prompts must be a list of strings; wrap a single prompt as [prompt]")
        validate_params(params)
        return [{**self._sampling(params), "prompt": p} | ({"logprobs": 1} if self.logprobs else {}) for p in prompts]

    def _chat_payloads(self, conversations: Sequence[Sequence[Message]], params: SamplingParams) -> list[dict[str, Any]]:
        validate_params(params)
        return [{**self._sampling(params), "messages": [dict(m) for m in conv]} | ({"logprobs": True} if self.logprobs else {})
                for conv in conversations]

    def _sampling(self, params: SamplingParams) -> dict[str, Any]:
        body: dict[str, Any] = {
            "model": self.model,
            "n": params.n,
            "max_tokens": params.max_new_tokens,
            "temperature": params.temperature,
            "top_p": params.top_p,
        }
        if params.stop:
            body["stop"] = list(params.stop)
        if params.seed is not None:
            body["seed"] = params.seed
        if params.top_k:
            body["top_k"] = params.top_k  # an extension that vLLM and `selfevolve serve` accept
        return body

    def _map(self, endpoint: str, payloads: list[dict[str, Any]]) -> list[dict[str, Any]]:
        if len(payloads) <= 1:
            return [self._cached_post(endpoint, p) for p in payloads]
        with ThreadPoolExecutor(max_workers=self.concurrency) as pool:
            futures = [pool.submit(self._cached_post, endpoint, p) for p in payloads]
            try:
                return [f.result() for f in futures]
            except BaseException:
                for f in futures:
                    f.cancel()
                raise

    def _cached_post(self, endpoint: str, payload: dict[str, Any]) -> dict[str, Any]:
        reproducible = payload["temperature"] == 0 or "seed" in payload
        if self.cache and reproducible and (hit := self.cache.get(endpoint, payload)) is not None:
            return hit
        response = self._request("POST", endpoint, payload)
        if self.cache and reproducible:
            self.cache.put(endpoint, payload, response)
        return response

    def _request(self, method: str, endpoint: str, payload: dict[str, Any] | None) -> dict[str, Any]:
        url = self.base_url + endpoint
        last_error = ""
        for attempt in range(self.retries + 1):
            if attempt:
                time.sleep(min(MAX_BACKOFF_S, self.backoff * 2 ** (attempt - 1)) * random.uniform(0.5, 1.0))
            try:
                response = self._http.request(method, url, json=payload)
            except httpx.TransportError as e:
                last_error = f"{type(e).__name__}: {e or 'connection failed'}"
                continue
            if response.status_code == 200:
                return response.json()
            last_error = f"HTTP {response.status_code}: {_server_message(response)}"
            if response.status_code not in RETRYABLE_STATUS:
                raise LLMRequestError(f"{method} {url} was rejected ({last_error}); fix the request")
        raise LLMRequestError(
            f"{method} {url} failed after {self.retries + 1} attempts; last error: {last_error}. "
            f"Check that the server is running and reachable, or raise retries/timeout."
        )


def _server_message(response: httpx.Response) -> str:
    try:
        body = response.json()
        return str(body.get("error", {}).get("message") or body)
    except ValueError:
        return response.text[:500]


def _choices(response: dict[str, Any]) -> list[dict[str, Any]]:
    return sorted(response.get("choices", []), key=lambda c: c.get("index", 0))


def _text_completion(choice: dict[str, Any]) -> Completion:
    logprobs = (choice.get("logprobs") or {}).get("token_logprobs") or []
    return Completion(
        text=choice.get("text", ""),
        token_ids=list(choice.get("token_ids") or []),
        logprobs=[float(x) for x in logprobs],
        finish_reason=choice.get("finish_reason") or "stop",
    )


def _chat_completion(choice: dict[str, Any]) -> Completion:
    content = (choice.get("logprobs") or {}).get("content") or []
    return Completion(
        text=(choice.get("message") or {}).get("content") or "",
        token_ids=list(choice.get("token_ids") or []),
        logprobs=[float(t["logprob"]) for t in content],
        finish_reason=choice.get("finish_reason") or "stop",
    )
