"""Open a model from one string: a local name or directory, or an OpenAI-compatible base URL.

    gen = open_generator("tiny-coder")                                   # a local model (load_model)
    gen = open_generator("tiny-coder", generator="vllm")                 # the same model in a vLLM engine
    gen = open_generator("http://127.0.0.1:8000/v1", api_model="qwen")  # an endpoint (OpenAIClient)
    chat = ChatModel.over(gen)                                           # conversations in, completions out

`ChatModel` sends conversations (lists of `{"role", "content"}` messages) to any `Generator`: a local
model with a chat template and an endpoint get them as chat (the template, or /chat/completions); a
model without a template, or any other Generator (a scripted one in tests), gets the raw text, the
messages' contents joined by newlines. A template that refuses the system role (Gemma's) gets the
system text prepended to the first user message instead. It also counts prompt tokens where it can
(local models), so callers can fit prompts into the context before sending them.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

from selfevolve.llm.openai_client import OpenAIClient
from selfevolve.llm.transformers_backend import TransformersGenerator
from selfevolve.llm.types import Completion, Generator, SamplingParams
from selfevolve.llm.vllm_backend import VLLMGenerator  # imports vllm only when one is built

Message = Mapping[str, str]
Conversation = Sequence[Message]
GENERATORS = ("transformers", "vllm", "openai")  # the engines `open_generator` can open


def is_endpoint(model: str) -> bool:
    """Whether `model` names an OpenAI-compatible server (`http://host:port/v1`) rather than a local model."""
    return model.startswith(("http://", "https://"))


def open_generator(
    model: str,
    api_model: str | None = None,
    api_key_env: str = "OPENAI_API_KEY",
    *,
    generator: str | None = None,
    device: str | None = None,
    dtype: str | None = None,
    batch_size: int = 16,
    concurrency: int = 8,
    timeout: float = 600.0,
    vllm_options: Mapping[str, object] | None = None,
) -> Generator:
    """The `generator` engine over `model`: "transformers" (`TransformersGenerator` over a shipped name,
    directory, cached hub id or registry name: whatever `load_model` takes), "vllm" (`VLLMGenerator` over
    the same names; `vllm_options` go to it), or "openai" (`OpenAIClient` when `model` is a base URL;
    `api_model` is the endpoint's model id, default the first it lists, its key is read from `api_key_env`).
    None: "openai" for a URL, else "transformers". `device` and `batch_size` apply to transformers (vLLM
    runs on the device its build targets and batches by itself)."""
    generator = generator or ("openai" if is_endpoint(model) else "transformers")
    if generator not in GENERATORS:
        raise ValueError(f"generator={generator!r} is not an engine; use one of {', '.join(GENERATORS)}")
    if (generator == "openai") != is_endpoint(model):
        raise ValueError(f"generator={generator!r} does not fit model {model!r}: openai takes an http(s):// base URL, "
                         f"transformers and vllm a local model; change one of them")
    if generator == "openai":
        return OpenAIClient(model, api_key_env=api_key_env, model=api_model, concurrency=concurrency, timeout=timeout)
    if api_model is not None:
        raise ValueError(f"api_model={api_model!r} applies to endpoint URLs only, but model {model!r} is local; drop it")
    if generator == "vllm":
        return VLLMGenerator(model, dtype=dtype, **(vllm_options or {}))
    from selfevolve.llm.loading import load_model  # torch and transformers load only for local models

    network, tokenizer = load_model(model, device=device, dtype=dtype)
    return TransformersGenerator(network, tokenizer, batch_size=batch_size)


class ChatModel:
    """Conversations in, completions out, over any `Generator` (see the module docstring).

    `chat`: send conversations through the generator's `chat_many`; otherwise as raw text.
    `system_role`: whether the chat template takes a system message.
    `count_tokens`: counts the prompt tokens of a conversation as it will be sent (None: cannot count).
    `context_length`: the model's context in tokens (None when unknown).
    """

    def __init__(
        self,
        generator: Generator,
        *,
        chat: bool = False,
        system_role: bool = True,
        count_tokens: Callable[[Conversation], int] | None = None,
        context_length: int | None = None,
    ):
        if chat and not hasattr(generator, "chat_many"):
            raise ValueError(f"{type(generator).__name__} has no chat_many; open it with chat=False (raw text)")
        self.generator = generator
        self.chat = chat
        self.system_role = system_role
        self.count_tokens = count_tokens
        self.context_length = context_length

    @classmethod
    def over(cls, generator: Generator) -> ChatModel:
        """The right way to talk to `generator`: chat for endpoints and templated local models, raw text otherwise."""
        if isinstance(generator, OpenAIClient):
            return cls(generator, chat=True)
        if isinstance(generator, (TransformersGenerator, VLLMGenerator)):
            tokenizer = generator.tokenizer
            templated = bool(getattr(tokenizer, "chat_template", None))
            system_role = not templated or _takes_system_role(generator)
            model = cls(generator, chat=templated, system_role=system_role, context_length=generator.context_length)
            model.count_tokens = lambda conv: len(tokenizer(model.render(conv), add_special_tokens=not templated)["input_ids"])
            return model
        return cls(generator)

    def prepare(self, conversation: Conversation) -> list[dict[str, str]]:
        """The messages as they will be sent: the system text folded into the first user message when
        the template refuses a system role."""
        messages = [dict(m) for m in conversation]
        if self.system_role or not messages or messages[0]["role"] != "system" or len(messages) < 2:
            return messages
        system, first, *rest = messages
        return [{"role": first["role"], "content": system["content"] + "\n\n" + first["content"]}, *rest]

    def render(self, conversation: Conversation) -> str:
        """The prompt text a local model sees (the chat template's rendering, or the raw text)."""
        messages = self.prepare(conversation)
        if self.chat and hasattr(self.generator, "render_chat"):
            return self.generator.render_chat(messages)
        return "\n".join(m["content"] for m in messages)

    def generate(self, conversations: Sequence[Conversation], params: SamplingParams) -> list[list[Completion]]:
        """`params.n` completions per conversation, in order: one call to the generator for all of them."""
        if self.chat:
            return self.generator.chat_many([self.prepare(c) for c in conversations], params)
        return self.generator.generate([self.render(c) for c in conversations], params)

    @property
    def streams(self) -> bool:
        """Whether the generator takes requests while others run (a `StreamingGenerator`: vLLM's engine, endpoints)."""
        return hasattr(self.generator, "step")

    def submit(self, conversations: Sequence[Conversation], params: SamplingParams) -> list[str]:
        """Start completing each conversation without waiting (a generator that `streams` only): one
        request id per conversation; `step` hands back each request's completions as it finishes."""
        if not self.streams:
            raise TypeError(f"{type(self.generator).__name__} cannot take requests while others run; use generate")
        if self.chat:
            return self.generator.submit_chats([self.prepare(c) for c in conversations], params)
        return self.generator.submit([self.render(c) for c in conversations], params)

    def step(self) -> list[tuple[str, list[Completion]]]:
        """Advance the submitted requests; (request id, completions) of those that finished."""
        return self.generator.step()


def _takes_system_role(generator: TransformersGenerator | VLLMGenerator) -> bool:
    """Whether the chat template renders a system message (Gemma's raises instead)."""
    try:
        generator.render_chat([{"role": "system", "content": "s"}, {"role": "user", "content": "u"}])
    except Exception as e:  # noqa: BLE001 - templates raise jinja2's TemplateError or ValueError
        if "system" in str(e).lower():
            return False
        raise
    return True
