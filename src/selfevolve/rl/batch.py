"""A batch of rollouts as padded tensors: `RolloutBatch` and `assemble_batch`.

Layout (B sequences, prompt width P, completion width T):

    input_ids      [B, P + T]  prompt LEFT-padded to P, then completion RIGHT-padded to T
    attention_mask [B, P + T]  1 on real prompt and completion tokens
    completion_mask[B, T]      1 on real completion tokens (float)

Left-padding prompts makes every completion start at column P, so completion token t sits at
`input_ids[:, P + t]` and its log-prob at column `P - 1 + t` of `token_logprobs(...)` [B, P+T-1].
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Hashable, Sequence

import torch


@dataclass
class RolloutBatch:
    """One batch of rollouts as tensors (see the module docstring for the layout)."""

    input_ids: torch.Tensor  # [B, P + T] long
    attention_mask: torch.Tensor  # [B, P + T] long
    completion_mask: torch.Tensor  # [B, T] float
    prompt_width: int  # P
    group_ids: torch.Tensor  # [B] long: samples of the same prompt share an id (GRPO/RLOO groups)
    keys: list[Hashable]  # B grouping keys for TRR++ baselines and per-key metrics, e.g. (task, role)
    scores: torch.Tensor | None = None  # [B] sequence rewards
    token_rewards: torch.Tensor | None = None  # [B, T] per-token rewards (used instead of scores)
    old_logprobs: torch.Tensor | None = None  # [B, T] sampling log-probs; None = recompute

    def __post_init__(self):
        if self.scores is None and self.token_rewards is None:
            raise ValueError("a RolloutBatch needs `scores` [B] or `token_rewards` [B, T]")
        b, t = self.completion_mask.shape
        if self.input_ids.shape != (b, self.prompt_width + t):
            raise ValueError(
                f"input_ids {tuple(self.input_ids.shape)} does not match prompt_width {self.prompt_width} "
                f"+ completion width {t} for {b} rows"
            )
        if len(self.keys) != b or len(self.group_ids) != b:
            raise ValueError(f"need one group id and one key per row ({b}); got {len(self.group_ids)} and {len(self.keys)}")

    def __len__(self) -> int:
        return self.input_ids.shape[0]

    def rows(self, index: torch.Tensor) -> "RolloutBatch":
        """The sub-batch of rows `index` ([k] long), same widths."""
        pick = lambda x: None if x is None else x[index]  # noqa: E731
        return replace(
            self,
            input_ids=self.input_ids[index],
            attention_mask=self.attention_mask[index],
            completion_mask=self.completion_mask[index],
            group_ids=self.group_ids[index],
            keys=[self.keys[i] for i in index.tolist()],
            scores=pick(self.scores),
            token_rewards=pick(self.token_rewards),
            old_logprobs=pick(self.old_logprobs),
        )

    def trimmed(self) -> "RolloutBatch":
        """The same rows without the padding columns none of them uses: prompt columns left of the
        longest prompt and completion columns right of the longest completion. A sub-batch of short
        rows then costs what its own rows need, not what the longest row of the whole batch needs."""
        p = int(self.attention_mask[:, : self.prompt_width].sum(1).max())
        t = max(1, int(self.completion_mask.sum(1).max()))
        cut = lambda x: None if x is None else x[:, :t]  # noqa: E731
        return replace(
            self,
            input_ids=self.input_ids[:, self.prompt_width - p : self.prompt_width + t],
            attention_mask=self.attention_mask[:, self.prompt_width - p : self.prompt_width + t],
            completion_mask=self.completion_mask[:, :t],
            prompt_width=p,
            token_rewards=cut(self.token_rewards),
            old_logprobs=cut(self.old_logprobs),
        )

    def to(self, device) -> "RolloutBatch":
        move = lambda x: None if x is None else x.to(device)  # noqa: E731
        return replace(
            self,
            input_ids=move(self.input_ids),
            attention_mask=move(self.attention_mask),
            completion_mask=move(self.completion_mask),
            group_ids=move(self.group_ids),
            scores=move(self.scores),
            token_rewards=move(self.token_rewards),
            old_logprobs=move(self.old_logprobs),
        )


def assemble_batch(
    prompt_ids: Sequence[Sequence[int]],
    completion_ids: Sequence[Sequence[int]],
    pad_id: int,
    scores: Sequence[float] | torch.Tensor | None = None,
    old_logprobs: Sequence[Sequence[float]] | None = None,
    group_ids: Sequence[int] | None = None,
    keys: Sequence[Hashable] | None = None,
    token_rewards: Sequence[Sequence[float]] | None = None,
) -> RolloutBatch:
    """Pad token-id lists into a `RolloutBatch` (prompts left, completions right).

    Defaults: every row its own group, every key None. Empty completions are allowed (all-zero mask).
    """
    b = len(prompt_ids)
    if len(completion_ids) != b:
        raise ValueError(f"{b} prompts but {len(completion_ids)} completions; pass one prompt per completion")
    p = max(len(x) for x in prompt_ids)
    t = max(1, max(len(x) for x in completion_ids))
    # one tensor per field from padded Python lists (row-by-row tensor writes cost ~10 us each)
    input_ids = torch.tensor([[pad_id] * (p - len(x)) + list(x) + list(y) + [pad_id] * (t - len(y))
                              for x, y in zip(prompt_ids, completion_ids)], dtype=torch.long)
    attention_mask = torch.tensor([[0] * (p - len(x)) + [1] * (len(x) + len(y)) + [0] * (t - len(y))
                                   for x, y in zip(prompt_ids, completion_ids)], dtype=torch.long)
    completion_mask = torch.tensor([[1.0] * len(y) + [0.0] * (t - len(y)) for y in completion_ids])

    def padded(rows):  # ragged [B][<=T] floats -> [B, T]
        return torch.tensor([[float(v) for v in row] + [0.0] * (t - len(row)) for row in rows], dtype=torch.float)

    return RolloutBatch(
        input_ids=input_ids,
        attention_mask=attention_mask,
        completion_mask=completion_mask,
        prompt_width=p,
        group_ids=torch.tensor(list(group_ids) if group_ids is not None else range(b), dtype=torch.long),
        keys=list(keys) if keys is not None else [None] * b,
        scores=None if scores is None else torch.as_tensor(scores, dtype=torch.float),
        token_rewards=None if token_rewards is None else padded(token_rewards),
        old_logprobs=None if old_logprobs is None else padded(old_logprobs),
    )
