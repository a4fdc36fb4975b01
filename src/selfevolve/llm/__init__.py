"""One generation interface over local transformers models, OpenAI-compatible endpoints, and our tiny models.

    model, tokenizer = load_model("tiny-coder")            # a path, a shipped name, or a cached hub id
    gen = TransformersGenerator(model, tokenizer, batch_size=32)
    outs = gen.generate(["def f(x):"], SamplingParams(n=4, max_new_tokens=64, stop=("\\n\\n",)))

    client = OpenAIClient("http://127.0.0.1:8000/v1")      # same Generator interface over HTTP
    gen = VLLMGenerator("tiny-coder")                       # an in-process vLLM engine (the vllm extras)
    gen = open_generator("tiny-coder", generator="vllm")    # any of the three by name (llm/open.py)
"""

from selfevolve.llm.errors import InvalidSamplingParams, LLMRequestError, ModelLoadError, PromptTooLongError
from selfevolve.llm.loading import load_model, resolve_model_path, shipped_models
from selfevolve.llm.logprobs import token_logprobs
from selfevolve.llm.openai_client import OpenAIClient
from selfevolve.llm.sampling import validate_params
from selfevolve.llm.transformers_backend import TransformersGenerator
from selfevolve.llm.types import Completion, Generator, SamplingParams
from selfevolve.llm.vllm_backend import VLLMGenerator

__all__ = [
    "Completion",
    "Generator",
    "InvalidSamplingParams",
    "LLMRequestError",
    "ModelLoadError",
    "OpenAIClient",
    "PromptTooLongError",
    "SamplingParams",
    "TransformersGenerator",
    "VLLMGenerator",
    "load_model",
    "resolve_model_path",
    "shipped_models",
    "token_logprobs",
    "validate_params",
]
