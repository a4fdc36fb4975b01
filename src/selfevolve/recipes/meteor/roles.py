"""The models of a run (weak, strong, judge), each behind a `Role`: conversations in, reply texts out.

A role talks to any `Generator`. Endpoints and local models with a chat template get conversations
as chat; a model without one (or a weak model asked to use raw text, as the reference does) gets the
messages' contents joined by blank lines. A prompt that does not fit a local model's context gets no
reply (None) instead of failing the batch, and a local model always generates in eval mode (the
reference generated with its model in train mode, dropout on, docs/spec/meteor.md §8.5).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager

from selfevolve.llm.open import ChatModel, is_endpoint, open_generator
from selfevolve.llm.transformers_backend import TransformersGenerator
from selfevolve.llm.types import Generator, SamplingParams
from selfevolve.recipes.meteor.config import RolesConfig
from selfevolve.recipes.meteor.errors import MeteorError

Conversation = Sequence[dict[str, str]]


def render(conversation: Conversation, tokenizer=None, chat: bool = False) -> str:
    """A conversation as prompt text: through the tokenizer's chat template (`chat`), else the messages'
    contents joined by blank lines. Generation and training render the weak model's prompts alike."""
    if chat and tokenizer is not None:
        return tokenizer.apply_chat_template(list(conversation), tokenize=False, add_generation_prompt=True)
    return "\n\n".join(m["content"] for m in conversation)


@contextmanager
def evaluating(model) -> Iterator[None]:
    """`model` in eval mode (no dropout) for the block, its mode restored after."""
    if model is None:
        yield
        return
    was_training = model.training
    model.eval()
    try:
        yield
    finally:
        model.train(was_training)


class Role:
    """One model in one part of METEOR. `chat`: None = chat when the model takes it (an endpoint, a
    local model with a chat template), else raw text; True insists on chat; False sends raw text."""

    def __init__(self, name: str, generator: Generator, chat: bool | None = None):
        self.name = name
        self.generator = generator
        self._chat_model = ChatModel.over(generator)  # whether it takes chat, and a system message
        if chat and not self._chat_model.chat:
            raise MeteorError(f"the {name} model has no chat template; set prompts.chat_template=false to send it raw text")
        self.chat = self._chat_model.chat if chat is None else chat

    @property
    def local(self) -> TransformersGenerator | None:
        """The local generator (model and tokenizer) behind this role, None for an endpoint or a test double."""
        return self.generator if isinstance(self.generator, TransformersGenerator) else None

    def messages(self, conversation: Conversation) -> list[dict[str, str]]:
        """The messages as sent: a system message folded into the first user message where the chat
        template refuses a system role (Gemma's)."""
        return self._chat_model.prepare(conversation) if self.chat else [dict(m) for m in conversation]

    def render(self, conversation: Conversation) -> str:
        """The prompt text a local model sees."""
        return render(self.messages(conversation), self.local.tokenizer if self.local is not None else None, self.chat)

    def prompt_ids(self, conversation: Conversation) -> list[int]:
        """The prompt's token ids as `reply` sends them (local models only)."""
        local = self._require_local("token ids")
        return local.tokenizer(self.render(conversation), add_special_tokens=not self.chat)["input_ids"]

    def count_tokens(self, text: str) -> int:
        return len(self._require_local("token counts").tokenizer(text, add_special_tokens=False)["input_ids"])

    def reply(self, conversations: Sequence[Conversation], params: SamplingParams) -> list[str | None]:
        """One reply per conversation, in order; None where the prompt does not fit a local model's context."""
        if params.n != 1:
            raise ValueError("Role.reply gives one reply per conversation; use SamplingParams(n=1)")
        fits = [self._fits(c) for c in conversations]
        todo = [c for c, ok in zip(conversations, fits) if ok]
        texts = iter(self._generate(todo, params) if todo else [])
        return [next(texts) if ok else None for ok in fits]

    def _generate(self, conversations: Sequence[Conversation], params: SamplingParams) -> list[str]:
        with evaluating(self.local.model if self.local is not None else None):
            if self.chat:
                outputs = self.generator.chat_many([self.messages(c) for c in conversations], params)
            else:
                outputs = self.generator.generate([self.render(c) for c in conversations], params)
        return [completions[0].text for completions in outputs]

    def _fits(self, conversation: Conversation) -> bool:
        return self.local is None or len(self.prompt_ids(conversation)) < self.local.context_length

    def _require_local(self, what: str) -> TransformersGenerator:
        if self.local is None:
            raise MeteorError(f"{what} need the {self.name} model's tokenizer; use a local model for it")
        return self.local


class Roles:
    """The roles of a run. The weak model is reopened at each new version of its weights; the strong
    model and the judge are opened on first use (a stage that needs neither never loads them)."""

    def __init__(self, weak_model: str | None, open_weak: Callable[[str], Role],
                 strong: Callable[[], Role] | None = None, judge: Callable[[], Role] | None = None):
        self.weak_model = weak_model
        self._open_weak = open_weak
        self._openers = {"strong": strong, "judge": judge}
        self._opened: dict[str, Role] = {}

    def weak(self, model: str | None = None) -> Role:
        """The weak model at `model` (a version of its weights; default: the starting weights)."""
        model = model or self.weak_model
        if model is None:
            raise MeteorError("this stage needs the weak model; pass --weak MODEL")
        return self._open_weak(model)

    def strong(self) -> Role:
        return self._role("strong")

    def judge(self) -> Role:
        return self._role("judge")

    def _role(self, name: str) -> Role:
        if name not in self._opened:
            opener = self._openers[name]
            if opener is None:
                raise MeteorError(f"this stage needs the {name} model; pass --{name} MODEL (a local model or an http(s)://.../v1 URL)")
            self._opened[name] = opener()
        return self._opened[name]

    @classmethod
    def from_config(cls, roles: RolesConfig, chat_template: bool) -> "Roles":
        """Roles opened from the config; a local model that plays both strong and judge is loaded once."""
        generators: dict[tuple[str, str | None], Generator] = {}

        def shared(model: str, api_model: str | None) -> Generator:
            if (model, api_model) not in generators:
                generators[(model, api_model)] = _open(roles, model, api_model, roles.generator)
            return generators[(model, api_model)]

        def opener(name: str) -> Callable[[], Role] | None:
            model = getattr(roles, name)
            return None if model is None else lambda: Role(name, shared(model, getattr(roles, f"{name}_api_model")))

        def open_weak(model: str) -> Role:
            api_model = roles.weak_api_model if model == roles.weak else None
            return Role("weak", _open(roles, model, api_model), chat=chat_template)

        return cls(roles.weak, open_weak, opener("strong"), opener("judge"))


def _open(roles: RolesConfig, model: str, api_model: str | None, generator: str | None = None) -> Generator:
    return open_generator(model, api_model, roles.api_key_env, generator=generator, device=roles.device,
                          batch_size=roles.generation_batch_size, concurrency=roles.api_concurrency,
                          vllm_options={"tensor_parallel_size": roles.tensor_parallel_size})


def require_local(model: str, what: str) -> None:
    """Refuse to train a model that is only an endpoint."""
    if is_endpoint(model):
        raise MeteorError(f"{what} trains the weak model, which needs its weights, but {model} is an endpoint; "
                         f"pass a local model (a name or directory) as --weak")
