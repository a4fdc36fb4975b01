"""An OpenAI-compatible HTTP server over the transformers backend (FastAPI app; run it with uvicorn).

Endpoints: GET /v1/models, POST /v1/completions, POST /v1/chat/completions. Requests are served
one generation at a time (a lock around the model); each request's prompts and `n` samples are
batched together. Extensions beyond the OpenAI schema: `top_k` in requests, and `token_ids` in each
choice (the generated ids, so RL clients can train on exactly what was sampled).
"""

from __future__ import annotations

import threading
import time
import uuid
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from selfevolve.llm.errors import InvalidSamplingParams, PromptTooLongError
from selfevolve.llm.transformers_backend import TransformersGenerator
from selfevolve.llm.types import Completion, SamplingParams


class _Sampling(BaseModel):
    model: str | None = None
    n: int = 1
    max_tokens: int = 256
    temperature: float = 1.0
    top_p: float = 1.0
    top_k: int = 0
    stop: str | list[str] | None = None
    seed: int | None = None

    def params(self) -> SamplingParams:
        stop = (self.stop,) if isinstance(self.stop, str) else tuple(self.stop or ())
        return SamplingParams(
            n=self.n, max_new_tokens=self.max_tokens, temperature=self.temperature,
            top_p=self.top_p, top_k=self.top_k, stop=stop, seed=self.seed,
        )


class CompletionRequest(_Sampling):
    prompt: str | list[str]
    logprobs: int | None = None  # any non-null value returns the sampled tokens' log-probs


class ChatMessage(BaseModel):
    role: str
    content: str


class ChatRequest(_Sampling):
    messages: list[ChatMessage] = Field(min_length=1)
    logprobs: bool = False


def create_app(generator: TransformersGenerator, model_name: str) -> FastAPI:
    app = FastAPI(title="selfevolve OpenAI-compatible server")
    lock = threading.Lock()

    @app.exception_handler(InvalidSamplingParams)
    @app.exception_handler(PromptTooLongError)
    @app.exception_handler(ValueError)
    async def _bad_request(_: Request, exc: Exception) -> JSONResponse:
        return _error(400, str(exc))

    @app.exception_handler(RequestValidationError)
    async def _invalid_body(_: Request, exc: RequestValidationError) -> JSONResponse:
        problems = "; ".join(f"{'.'.join(map(str, e['loc'][1:]))}: {e['msg']}" for e in exc.errors())
        return _error(400, f"invalid request body: {problems}")

    @app.get("/v1/models")
    def models() -> dict[str, Any]:
        return {"object": "list", "data": [{"id": model_name, "object": "model", "owned_by": "selfevolve"}]}

    @app.post("/v1/completions")
    def completions(req: CompletionRequest) -> dict[str, Any]:
        prompts = [req.prompt] if isinstance(req.prompt, str) else req.prompt
        params = req.params()
        prompt_ids = [generator.encode(p) for p in prompts]
        with lock:
            results = generator.generate_ids(prompt_ids, params)
        choices = [
            _text_choice(i * params.n + j, c, generator, req.logprobs is not None)
            for i, outs in enumerate(results)
            for j, c in enumerate(outs)
        ]
        return _response("text_completion", model_name, choices, sum(map(len, prompt_ids)), results)

    @app.post("/v1/chat/completions")
    def chat(req: ChatRequest) -> dict[str, Any]:
        messages = [m.model_dump() for m in req.messages]
        prompt_len = len(generator.encode(generator.render_chat(messages)))
        with lock:
            outs = generator.chat(messages, req.params())
        choices = [_chat_choice(i, c, generator, req.logprobs) for i, c in enumerate(outs)]
        return _response("chat.completion", model_name, choices, prompt_len, [outs])

    return app


def _text_choice(index: int, c: Completion, generator: TransformersGenerator, logprobs: bool) -> dict[str, Any]:
    choice: dict[str, Any] = {"index": index, "text": c.text, "finish_reason": c.finish_reason, "token_ids": c.token_ids, "logprobs": None}
    if logprobs:
        choice["logprobs"] = {"tokens": _pieces(generator, c), "token_logprobs": c.logprobs}
    return choice


def _chat_choice(index: int, c: Completion, generator: TransformersGenerator, logprobs: bool) -> dict[str, Any]:
    choice: dict[str, Any] = {
        "index": index,
        "message": {"role": "assistant", "content": c.text},
        "finish_reason": c.finish_reason,
        "token_ids": c.token_ids,
        "logprobs": None,
    }
    if logprobs:
        choice["logprobs"] = {"content": [{"token": t, "logprob": lp} for t, lp in zip(_pieces(generator, c), c.logprobs)]}
    return choice


def _pieces(generator: TransformersGenerator, c: Completion) -> list[str]:
    return [generator.tokenizer.decode([t]) for t in c.token_ids]


def _response(kind: str, model: str, choices: list, prompt_tokens: int, results: list[list[Completion]]) -> dict[str, Any]:
    completion_tokens = sum(len(c.token_ids) for outs in results for c in outs)
    return {
        "id": f"{'cmpl' if kind == 'text_completion' else 'chatcmpl'}-{uuid.uuid4().hex[:24]}",
        "object": kind,
        "created": int(time.time()),
        "model": model,
        "choices": choices,
        "usage": {"prompt_tokens": prompt_tokens, "completion_tokens": completion_tokens, "total_tokens": prompt_tokens + completion_tokens},
    }


def _error(status: int, message: str) -> JSONResponse:
    return JSONResponse(status_code=status, content={"error": {"message": message, "type": "invalid_request_error"}})
