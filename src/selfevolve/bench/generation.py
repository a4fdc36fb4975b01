"""Suite prompts to model text, through the project's one generation interface (`selfevolve.llm`).

A local transformers model gets chat prompts rendered with its own chat template (instruct models) or
raw text (models without one); an OpenAI-compatible endpoint gets chat messages on /chat/completions
and raw text on /completions. A chat prompt with a `prefill` (EvalPlus's response prefix) is rendered
as EvalPlus does: the template is applied to the conversation with the assistant turn holding the
prefill and a marker, and cut at the marker, so the model continues the assistant's turn.

A prompt longer than a local model's context is not sent: its sample is empty (finish reason
`prompt_too_long`) and so scores as wrong, and the run goes on.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from selfevolve.bench.suite import Prompt
from selfevolve.llm import Completion, OpenAIClient, SamplingParams, TransformersGenerator

_MARKER = "-[[]]-selfevolve-bench-split-[[]]-"
# finish reason of a sample whose prompt does not fit the model's context: an empty, wrong answer
PROMPT_TOO_LONG = "prompt_too_long"


def render_chat(tokenizer, prompt: Prompt) -> str:
    """The text a chat prompt becomes under the tokenizer's chat template."""
    messages = [{"role": role, "content": content} for role, content in prompt.messages]
    if not prompt.prefill:
        return tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
    messages.append({"role": "assistant", "content": prompt.prefill + _MARKER})
    text = tokenizer.apply_chat_template(messages, tokenize=False)
    if _MARKER not in text:
        raise ValueError("the chat template dropped the assistant turn; this model cannot take a prefilled reply")
    return text.split(_MARKER)[0]


class BenchGenerator:
    """Generates one completion per prompt. `style` tells suites which prompt form to make."""

    def __init__(self, backend: TransformersGenerator | OpenAIClient):
        self.backend = backend
        if isinstance(backend, OpenAIClient):
            self.style = "api"
        else:
            self.style = "chat" if getattr(backend.tokenizer, "chat_template", None) else "base"

    def generate(self, prompts: Sequence[Prompt], params: SamplingParams) -> list[Completion]:
        """One completion per prompt, in order; prompts are grouped by their stop strings."""
        out: list[Completion | None] = [None] * len(prompts)
        groups: dict[tuple[str, ...], list[int]] = {}
        for i, p in enumerate(prompts):
            groups.setdefault(p.stop, []).append(i)
        for stop, members in groups.items():
            group_params = replace(params, n=1, stop=tuple(stop))
            for i, completion in zip(members, self._generate([prompts[i] for i in members], group_params)):
                out[i] = completion
        return out  # type: ignore[return-value]

    def _generate(self, prompts: list[Prompt], params: SamplingParams) -> list[Completion]:
        backend = self.backend
        if isinstance(backend, OpenAIClient):
            texts = [p for p in prompts if p.text is not None]
            if texts and len(texts) != len(prompts):
                raise ValueError("a batch mixes raw-text and chat prompts")
            if texts:
                return [c[0] for c in backend.generate([p.text for p in prompts], params)]
            conversations = [[{"role": r, "content": c} for r, c in p.messages] for p in prompts]
            return [c[0] for c in backend.chat_many(conversations, params)]
        tok = backend.tokenizer
        ids = [tok(p.text)["input_ids"] if p.text is not None
               else tok(render_chat(tok, p), add_special_tokens=False)["input_ids"] for p in prompts]
        fits = [i for i, x in enumerate(ids) if len(x) < backend.context_length]
        out = [Completion("", finish_reason=PROMPT_TOO_LONG)] * len(prompts)
        for i, completions in zip(fits, backend.generate_ids([ids[i] for i in fits], params) if fits else []):
            out[i] = completions[0]
        return out
