"""Errors raised by the generation layer: each message names the problem and the fix."""

from __future__ import annotations


class ModelLoadError(RuntimeError):
    """A model name, path or directory could not be turned into a model and tokenizer."""


class PromptTooLongError(ValueError):
    """A prompt does not fit in the model's context window."""


class InvalidSamplingParams(ValueError):
    """A SamplingParams field is out of range."""


class LLMRequestError(RuntimeError):
    """An HTTP generation request failed after all retries (or with a non-retryable status)."""
