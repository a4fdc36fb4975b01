"""Batched sampling from a local transformers causal LM: left padding, KV cache, per-token log-probs.

Log-probs convention: `Completion.logprobs[t]` is log p(token_t | prefix) under the *unmodified*
model at temperature 1 — before temperature, top-k and top-p are applied — so it equals what
`selfevolve.llm.logprobs.token_logprobs(model, ids, mask)` recomputes on the prompt + completion
(the RL trainer's "old policy" log-probs). On CPU in fp32 the two agree to ~1e-4.

Token ids include the token that ended generation (EOS, or the token completing a stop string);
`text` excludes EOS and is cut before the stop string (OpenAI semantics).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Mapping, Sequence

import torch

from selfevolve.llm.errors import PromptTooLongError
from selfevolve.llm.sampling import next_tokens, validate_params
from selfevolve.llm.types import Completion, SamplingParams

Message = Mapping[str, str]


@dataclass
class _Row:
    """One sequence being generated: its prompt ids, its budget, and what it has produced."""

    prompt_ids: list[int]
    budget: int
    ids: list[int] = field(default_factory=list)
    logprobs: list[float] = field(default_factory=list)
    finish_reason: str | None = None


def context_length(model, tokenizer) -> int:
    n = getattr(model.config, "max_position_embeddings", None)
    return int(n) if n else int(tokenizer.model_max_length)


class TransformersGenerator:
    """Implements `Generator` over a loaded `(model, tokenizer)` pair (see `load_model`)."""

    def __init__(self, model, tokenizer, batch_size: int = 16):
        if batch_size < 1:
            raise ValueError(f"batch_size={batch_size} is invalid; use an integer >= 1")
        self.model = model
        self.tokenizer = tokenizer
        self.batch_size = batch_size
        self.context_length = context_length(model, tokenizer)
        self.pad_id = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else tokenizer.eos_token_id
        self.eos_ids = _eos_ids(model, tokenizer)

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

    def generate(self, prompts: Sequence[str], params: SamplingParams) -> list[list[Completion]]:
        if isinstance(prompts, str):
            raise TypeError("generate() takes a list of prompts; wrap a single prompt as [prompt]")
        return self.generate_ids([self.encode(p) for p in prompts], params)

    def chat(self, messages: Sequence[Message], params: SamplingParams) -> list[Completion]:
        """`params.n` completions of one conversation, rendered with the tokenizer's chat template."""
        return self.chat_many([messages], params)[0]

    def chat_many(self, conversations: Sequence[Sequence[Message]], params: SamplingParams) -> list[list[Completion]]:
        # the template already holds any BOS, so no special tokens are added on top
        ids = [self.tokenizer(self.render_chat(m), add_special_tokens=False)["input_ids"] for m in conversations]
        return self.generate_ids(ids, params)

    def generate_ids(self, prompt_ids: Sequence[list[int]], params: SamplingParams) -> list[list[Completion]]:
        """Like `generate`, from token ids; rows are `n` copies of each prompt, run `batch_size` at a time."""
        validate_params(params)
        for i, ids in enumerate(prompt_ids):
            self._check_fits(i, ids)
        rows = [
            _Row(list(ids), min(params.max_new_tokens, self.context_length - len(ids)))
            for ids in prompt_ids
            for _ in range(params.n)
        ]
        rng = None
        if params.seed is not None:
            rng = torch.Generator(device=self.model.device).manual_seed(params.seed)
        for start in range(0, len(rows), self.batch_size):
            self._run_batch(rows[start : start + self.batch_size], params, rng)
        completions = [self._completion(r, params.stop) for r in rows]
        return [completions[i * params.n : (i + 1) * params.n] for i in range(len(prompt_ids))]

    def _check_fits(self, index: int, ids: list[int]) -> None:
        if not ids:
            raise ValueError(f"prompt {index} is empty after tokenisation; pass at least one token of text")
        if len(ids) >= self.context_length:
            raise PromptTooLongError(
                f"prompt {index} has {len(ids)} tokens but the model's context is {self.context_length} "
                f"(prompt + at least 1 new token must fit); shorten the prompt or use a longer-context model"
            )

    @torch.inference_mode()
    def _run_batch(self, rows: list[_Row], params: SamplingParams, rng: torch.Generator | None) -> None:
        device = self.model.device
        width = max(len(r.prompt_ids) for r in rows)
        input_ids = torch.full((len(rows), width), self.pad_id, dtype=torch.long)
        mask = torch.zeros((len(rows), width), dtype=torch.long)
        for i, r in enumerate(rows):
            input_ids[i, width - len(r.prompt_ids) :] = torch.tensor(r.prompt_ids)
            mask[i, width - len(r.prompt_ids) :] = 1
        input_ids, mask = input_ids.to(device), mask.to(device)
        positions = (mask.cumsum(-1) - 1).clamp(min=0)
        out = self.model(input_ids=input_ids, attention_mask=mask, position_ids=positions, use_cache=True)
        stop_window = max((len(s.encode()) for s in params.stop), default=0) + 1
        while True:
            logits = out.logits[:, -1].float()
            tokens = next_tokens(logits, params, rng)
            logprobs = torch.log_softmax(logits, dim=-1).gather(-1, tokens[:, None]).squeeze(-1)
            for r, tok, lp in zip(rows, tokens.tolist(), logprobs.tolist()):
                if r.finish_reason is None:
                    self._append(r, tok, lp, params.stop, stop_window)
            if all(r.finish_reason is not None for r in rows):
                return
            mask = torch.cat([mask, mask.new_ones((len(rows), 1))], dim=-1)
            positions = positions[:, -1:] + 1
            out = self.model(
                input_ids=tokens[:, None],
                attention_mask=mask,
                position_ids=positions,
                past_key_values=out.past_key_values,
                use_cache=True,
            )

    def _append(self, row: _Row, tok: int, lp: float, stop: tuple[str, ...], stop_window: int) -> None:
        row.ids.append(tok)
        row.logprobs.append(lp)
        if tok in self.eos_ids:
            row.finish_reason = "stop"
        elif stop and any(s in self.tokenizer.decode(row.ids[-stop_window:]) for s in stop):
            row.finish_reason = "stop"
        elif len(row.ids) >= row.budget:
            row.finish_reason = "length"

    def _completion(self, row: _Row, stop: tuple[str, ...]) -> Completion:
        text = self.tokenizer.decode(row.ids, skip_special_tokens=True)
        cuts = [text.find(s) for s in stop if s in text]
        if cuts:
            text = text[: min(cuts)]
        return Completion(text=text, token_ids=row.ids, logprobs=row.logprobs, finish_reason=row.finish_reason or "length")


def _eos_ids(model, tokenizer) -> set[int]:
    """EOS ids from the generation config (may be a list, e.g. Llama-3 instruct) and the tokenizer."""
    ids: set[int] = set()
    gen_cfg = getattr(model, "generation_config", None)
    for source in (getattr(gen_cfg, "eos_token_id", None), tokenizer.eos_token_id):
        if isinstance(source, int):
            ids.add(source)
        elif source:
            ids.update(source)
    return ids
