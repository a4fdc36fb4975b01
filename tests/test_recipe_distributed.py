"""A recipe under a 2-process launch (gloo, as `torchrun --nproc-per-node 2` starts it): work split over the
ranks is done once and seen by all, FSDP generation keeps ranks in step, and an AZR run trains on the same
data on every rank, writes one run directory, and resumes on one process."""

import json
import sqlite3
from pathlib import Path

import pytest
import torch
from transformers import AutoModelForCausalLM
from test_azr import _seed_file, nano_dir  # noqa: F401 - nano_dir is a fixture used below
from two_processes import on_two_processes

from selfevolve.llm import SamplingParams, TransformersGenerator
from selfevolve.recipes.azr.config import AZRConfig
from selfevolve.recipes.ranks import ShardedGenerator
from selfevolve.rl import RLConfig, Trainer, toy
from selfevolve.rl.distributed import map_shares, world_size


def shares_of_five() -> dict:
    """map_shares over 5 items on this rank: its results and which items each rank's calls received."""
    calls: list[list[int]] = []
    results = map_shares(lambda share: calls.append(share) or [10 * x for x in share], [1, 2, 3, 4, 5])
    everyone = [None] * world_size()
    torch.distributed.all_gather_object(everyone, calls)
    return {"results": results, "calls": everyone}


def test_map_shares_gives_every_rank_all_results_in_order_each_item_processed_once(tmp_path):
    out = on_two_processes(tmp_path, shares_of_five)
    assert out["results"] == [10, 20, 30, 40, 50]
    # rank 0 gets items 1-3, rank 1 items 4-5 plus a copy of item 1 so that both make the same calls
    assert out["calls"] == [[[1, 2, 3]], [[4, 5, 1]]]
    assert map_shares(lambda share: [x + 1 for x in share], [1, 2]) == [2, 3]  # one process: a plain call


# Rank 0 gets the two short prompts (12 new tokens each: the untrained model never stops early), rank 1
# the two that fill the 32-position window after 4 tokens: rank 1 finishes first and must keep stepping
# while rank 0's FSDP forward passes still need it.
PROMPTS = ["1+2=", "3+4=", "1+2=" * 7, "5+6=" * 7]


def greedy_completions(data_parallel: str | None) -> list[list[int]]:
    tokenizer = toy.char_tokenizer()
    policy = toy.tiny_policy(tokenizer, seed=0)
    if data_parallel:
        Trainer(policy, RLConfig(data_parallel=data_parallel, mini_batch_size=2))  # shards the policy under FSDP
    generator = ShardedGenerator(TransformersGenerator(policy, tokenizer, batch_size=2))
    out = generator.generate(PROMPTS, SamplingParams(max_new_tokens=12, temperature=0.0))
    return [c[0].token_ids for c in out]


def test_fsdp_sharded_greedy_generation_equals_one_process(tmp_path):
    single = greedy_completions(None)
    assert [len(ids) for ids in single] == [12, 12, 4, 4]
    assert on_two_processes(tmp_path, greedy_completions, "fsdp") == single


def azr_config(model_dir: Path, seed_file: Path, data_parallel: str, steps: int) -> AZRConfig:
    return AZRConfig.model_validate(dict(
        model=str(model_dir), device="cpu", steps=steps, batch_size=2, prompt_style="compact", seeding="file",
        seed_files=[str(seed_file)], checkpoint_every=1, sandbox_workers=1,
        eval={"every": 0, "limit": 3, "samples": 2, "max_new_tokens": 8},
        sampling={"max_prompt_tokens": 400, "proposer_max_new_tokens": 12, "solver_max_new_tokens": 8},
        code_io={"learnability_samples": 2, "timeout": 5.0},
        rl={"advantage_estimator": "trr_pp", "learning_rate": 1e-3, "mini_batch_size": 4, "data_parallel": data_parallel},
    ))


def azr_run(cfg: AZRConfig, run_dir: str) -> None:
    from selfevolve.recipes.azr.run import run_azr

    run_azr(cfg, Path(run_dir))


def table(db_path: Path, query: str) -> list:
    with sqlite3.connect(db_path) as db:
        return db.execute(query).fetchall()


@pytest.mark.slow
@pytest.mark.parametrize("data_parallel", ["ddp", "fsdp"])
def test_two_process_azr_run_trains_the_same_data_on_every_rank_and_resumes_on_one(nano_dir, tmp_path, data_parallel):  # noqa: F811
    from selfevolve.recipes.azr.run import run_azr

    run = tmp_path / "run"
    cfg = azr_config(nano_dir, _seed_file(tmp_path), data_parallel, steps=2)
    on_two_processes(tmp_path, azr_run, cfg, str(run), timeout=300)

    # rank 0 owns the run directory; rank 1 worked in a copy of it
    assert (run / "report.html").is_file() and (run / "model" / "config.json").is_file()
    assert not (run / "ranks" / "rank1" / "report.html").exists() and not (run / "ranks" / "rank1" / "model").exists()
    # every rank proposed, validated and trained on the same tasks and sequences: both stores agree row for row
    rows = "SELECT step, role, prompt, completion, reward FROM rollouts ORDER BY id"
    tasks = "SELECT step, buffer, program, inputs, outputs FROM tasks ORDER BY id"
    for query in (rows, tasks):
        assert table(run / "store.sqlite", query) == table(run / "ranks" / "rank1" / "store.sqlite", query)
    per_step = dict(table(run / "store.sqlite", "SELECT step, COUNT(*) FROM rollouts GROUP BY step"))
    assert per_step == {1: 6 * 2, 2: 6 * 2}  # each prompt generated once over the two ranks, as in one process
    metrics = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
    assert [m["step"] for m in metrics] == [0, 1, 2] and all("grad_norm" in m for m in metrics[1:])  # updates ran

    # the saved model is the whole policy (under FSDP gathered from the shards), as trained
    saved = AutoModelForCausalLM.from_pretrained(run / "model").state_dict()
    trained = torch.load(run / "checkpoints" / "step_000002" / "trainer.pt", weights_only=False)["model"]
    assert all(torch.equal(saved[name], tensor) for name, tensor in trained.items())

    # the 2-process checkpoint resumes on one process, which continues the run
    report = run_azr(None, run, resume=True, overrides=["steps=3"])
    assert report == run / "report.html"
    metrics = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
    assert [m["step"] for m in metrics] == [0, 1, 2, 3]
    assert dict(table(run / "store.sqlite", "SELECT step, COUNT(*) FROM rollouts GROUP BY step"))[3] == 6 * 2


def refused_vllm(cfg: AZRConfig, run_dir: str) -> str:
    from selfevolve.recipes.azr.run import run_azr

    try:
        run_azr(cfg, Path(run_dir))
    except ValueError as error:
        return str(error)
    return "not refused"


def test_vllm_under_a_multi_process_launch_is_refused_before_the_run_directory_is_made(tmp_path):
    cfg = AZRConfig(generator="vllm")
    message = on_two_processes(tmp_path, refused_vllm, cfg, str(tmp_path / "run"))
    assert "generator=vllm under a 2-process launch" in message and "generator=transformers" in message
    assert not (tmp_path / "run").exists()
