"""A recipe under a multi-process launch (`torchrun --nproc-per-node N -m selfevolve azr ...`, or
`accelerate launch`): every rank runs the same recipe in step, and the work is split where it is spent.

- Generation (`ShardedGenerator`) and sandbox runs (`ShardedRunner`) give each rank its share of the
  prompts or jobs and gather the results, so each is done once and every rank sees the same
  completions and verdicts. Everything else in a step (prompts, parsing, rewards, buffers, the
  recipe's random draws) follows deterministically from those, so every rank builds the same global
  batch, which `Trainer.step` splits over the ranks (DDP or FSDP: `rl.data_parallel`).
- Rank 0 owns the run directory: config, metrics, report, final model. The other ranks work in
  `ranks/rank<k>/`, a fresh copy of rank 0's directory at every start and resume (their run stores then
  hold the same buffers as rank 0's). Checkpoints are written by all ranks together into rank 0's
  directory (`rundir.save_checkpoint`), so a run resumes on any number of ranks, or on one.

Not distributed yet: the vLLM engine (`generator: vllm`), whose colocated set-up across ranks is untested.
"""

from __future__ import annotations

import shutil
from dataclasses import replace
from pathlib import Path
from typing import Sequence

from selfevolve.llm.types import Completion, Generator, SamplingParams
from selfevolve.rl.distributed import barrier, map_shares, rank, world_size

SEED_STRIDE = 1_000_003  # rank k samples with seed + k * SEED_STRIDE: its own random numbers, still reproducible
_NOT_COPIED = ("checkpoints", "model", "ranks", "tensorboard")  # rank 0's alone, or large


class ShardedGenerator:
    """A `Generator` whose prompts are split over the ranks; every rank gets all completions, in order."""

    def __init__(self, inner: Generator):
        self.inner = inner

    def generate(self, prompts: Sequence[str], params: SamplingParams) -> list[list[Completion]]:
        if params.seed is not None:
            params = replace(params, seed=params.seed + rank() * SEED_STRIDE)
        return map_shares(lambda share: self.inner.generate(share, params), list(prompts))

    def __getattr__(self, name: str):  # context_length, tokenizer, load_weights, ...
        return getattr(self.inner, name)


class ShardedRunner:
    """A sandbox (`run(jobs) -> results`) whose jobs are split over the ranks; every rank gets all results.
    Each job runs once, so a verdict that depends on timing (a timeout) is the same on every rank."""

    def __init__(self, inner):
        self.inner = inner

    def run(self, jobs: Sequence) -> list:
        return map_shares(self.inner.run, list(jobs))

    def __getattr__(self, name: str):  # config, close, ...
        return getattr(self.inner, name)


def sharded_generator(generator: Generator) -> Generator:
    """`generator`, split over the ranks when there are several."""
    return ShardedGenerator(generator) if world_size() > 1 else generator


def sharded_runner(runner):
    """`runner`, split over the ranks when there are several."""
    return ShardedRunner(runner) if world_size() > 1 else runner


def working_dir(run_dir: Path) -> Path:
    """Where this rank's recipe keeps its files: `run_dir` on rank 0; on rank k, `run_dir/ranks/rank<k>`,
    made afresh as a copy of rank 0's files (a collective: every rank calls it once rank 0's are there)."""
    if rank() == 0:
        barrier()
        return run_dir
    own = run_dir / "ranks" / f"rank{rank()}"
    shutil.rmtree(own, ignore_errors=True)
    shutil.copytree(run_dir, own, ignore=lambda folder, names: _NOT_COPIED if Path(folder) == run_dir else ())
    barrier()  # rank 0 opens (and may change) its files only once every copy is made
    return own

