"""Prompts to token ids for the local engines (transformers, vLLM): one implementation of the text and
chat entry points of `Generator`, over the engine's tokenizer and its `generate_ids`.

Text prompts get the tokenizer's default special tokens; a chat is rendered with the tokenizer's chat
template, which already holds any BOS, so no special tokens are added on top.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any, Mapping, Sequence

from selfevolve.llm.errors import PromptTooLongError
from selfevolve.llm.sampling import validate_params
from selfevolve.llm.types import Completion, SamplingParams

Message = Mapping[str, str]


class PromptFrontend(ABC):
    """Base of the local engines; a subclass sets `tokenizer` and `context_length` and implements
    `generate_ids`, which checks its request with `_check_request`."""

    tokenizer: Any
    context_length: int

    @abstractmethod
    def generate_ids(self, prompt_ids: Sequence[list[int]], params: SamplingParams) -> list[list[Completion]]:
        """`params.n` completions per prompt of token ids, in prompt order (the engine's own decoding)."""

    def encode(self, prompt: str) -> list[int]:
        """Prompt token ids exactly as `generate` uses them (the tokenizer's default special tokens)."""
        return self.tokenizer(prompt)["input_ids"]

    def render_chat(self, messages: Sequence[Message]) -> str:
        if not getattr(self.tokenizer, "chat_template", None):
            raise ValueError(
                "this model's tokenizer has no chat template; call generate() with a raw text prompt, "
                "or set tokenizer.chat_template before chatting"
            )
        return self.tokenizer.apply_chat_template(list(messages), tokenize=False, add_generation_prompt=True)

    def prompt_ids(self, prompts: Sequence[str]) -> list[list[int]]:
        """The token ids `generate` sends for text prompts: one tokenizer call for all, the same ids as
        `encode` one by one, with less overhead."""
        if isinstance(prompts, str):
            raise TypeError("prompts must be a list of strings; wrap a single prompt as [prompt]")
        return self.tokenizer(list(prompts))["input_ids"] if prompts else []

    def chat_prompt_ids(self, conversations: Sequence[Sequence[Message]]) -> list[list[int]]:
        """The token ids `chat_many` sends: each conversation rendered with the chat template."""
        return [self.tokenizer(self.render_chat(m), add_special_tokens=False)["input_ids"] for m in conversations]

    def generate(self, prompts: Sequence[str], params: SamplingParams) -> list[list[Completion]]:
        return self.generate_ids(self.prompt_ids(prompts), params)

    def chat(self, messages: Sequence[Message], params: SamplingParams) -> list[Completion]:
        """`params.n` completions of one conversation, rendered with the tokenizer's chat template."""
        return self.chat_many([messages], params)[0]

    def chat_many(self, conversations: Sequence[Sequence[Message]], params: SamplingParams) -> list[list[Completion]]:
        return self.generate_ids(self.chat_prompt_ids(conversations), params)

    def _check_request(self, prompt_ids: Sequence[list[int]], params: SamplingParams) -> None:
        """Valid sampling, and every prompt non-empty with room for one new token (before any work starts)."""
        validate_params(params)
        for i, ids in enumerate(prompt_ids):
            self._check_fits(i, ids)

    def _check_fits(self, index: int, ids: list[int]) -> None:
        if not ids:
            raise ValueError(f"prompt {index} is empty after tokenisation; pass at least one token of text")
        if len(ids) >= self.context_length:
            raise PromptTooLongError(
                f"prompt {index} has {len(ids)} tokens but the model's context is {self.context_length} "
                f"(prompt + at least 1 new token must fit); shorten the prompt or use a longer-context model"
            )
