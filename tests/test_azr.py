"""Absolute Zero self-play: the step's wiring with a scripted policy, controls, and kill -9 resume."""

from __future__ import annotations

import json
import os
import random
import re
import signal
import sqlite3
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest
import torch
import yaml

from selfevolve.llm.types import Completion
from selfevolve.recipes.azr.config import AZRConfig
from selfevolve.recipes.rundir import checkpoints
from selfevolve.recipes.azr.step import (
    PhaseTimer,
    Players,
    ProposerSlot,
    Role,
    SolverAttempt,
    TrainedSequence,
    apply_control,
    commit_step,
    learnability_reward,
    self_play_step,
    update_batch,
)
from selfevolve.sandbox import Sandbox
from selfevolve.store.db import RunStore
from selfevolve.tasks.code_io import (
    AnswerReason,
    AnswerVerdict,
    CodeIOConfig,
    CodeTask,
    TaskBuffer,
    TaskType,
    render_proposer_completion,
    render_solver_completion,
    solver_prompt,
    zero_induction,
    zero_triplet,
)
from selfevolve.tinymodels.build import build_tiny
from selfevolve.tinymodels.corpus import write_corpus

SEEDS = [CodeTask(TaskType.DEDUCTION, f"def f(x):\n    return x * {k} + 1", (f"{k}",), (f"{k * k + 1}",)) for k in range(2, 6)]


@pytest.fixture(scope="module")
def nano_dir(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("azr_nano")
    docs = [render_solver_completion(t) + render_proposer_completion(t) for t in SEEDS] * 10
    write_corpus(root / "corpus.jsonl", docs)
    return build_tiny("nano", root / "corpus.jsonl", root / "model")


@pytest.fixture(scope="module")
def sandbox():
    with Sandbox(CodeIOConfig().sandbox_config(workers=2, timeout=5)) as sb:
        yield sb


class ScriptedPolicy:
    """Answers like a policy that proposes a fresh valid program each time and solves deduction."""

    def __init__(self, tokenizer):
        self.tokenizer = tokenizer
        self.context_length = 10**6  # no window of its own: only max_prompt_tokens limits prompts
        self.counter = 0
        self.filler_lines = 0  # padding lines in proposed programs (to make their solver prompts long)
        self.solves_even = False  # answer `x + k` deduction right the first time it is asked, for even k
        self.asked = Counter()

    def generate(self, prompts, params):
        return [[self._one(p) for _ in range(params.n)] for p in prompts]

    def _one(self, prompt: str) -> Completion:
        self.counter += 1
        if "Propose induction" in prompt:
            inputs = tuple(str(i) for i in range(10))
            text = render_proposer_completion(CodeTask(TaskType.INDUCTION, "", inputs, inputs, "adds"), "ten ints")
        elif "Propose" in prompt:
            k = self.counter
            task = CodeTask(TaskType.DEDUCTION, "def g(x):\n" + "    y = 0\n" * self.filler_lines + f"    return x + {k}", ("1",), ("",))
            text = render_proposer_completion(task, "new")
        elif "Solve deduction" in prompt:
            self.asked[prompt] += 1
            k = re.search(r"return x \+ (\d+)", prompt)
            right = self.solves_even and k and int(k[1]) % 2 == 0 and self.asked[prompt] == 1
            text = f"\nno idea\n</think>\n<answer>\n```output\n{1 + int(k[1]) if right else 3}\n```\n</answer>"
        else:
            text = "unformatted"
        ids = self.tokenizer(text)["input_ids"]
        return Completion(text, ids, [], "stop")


def _config(**over) -> AZRConfig:
    base = dict(model="unused", steps=2, batch_size=3, prompt_style="compact", seeding="zero",
                code_io={"num_references": 2, "learnability_samples": 2, "timeout": 5.0},
                sampling={"max_prompt_tokens": 400})
    return AZRConfig.model_validate({**base, **over})


def _players(nano_dir, sandbox, store):
    from selfevolve.llm.loading import load_model

    _, tok = load_model(nano_dir, device="cpu", dtype=torch.float32)
    buffers = {t: TaskBuffer(store, t) for t in TaskType}
    for t in (TaskType.ABDUCTION, TaskType.DEDUCTION):
        buffers[t].add([zero_triplet(t), *SEEDS], step=0)
    buffers[TaskType.INDUCTION].add([zero_induction()], step=0)
    return Players(ScriptedPolicy(tok), tok, sandbox, buffers, random.Random(0))


def test_step_trains_both_roles_and_grows_buffers(nano_dir, sandbox):
    cfg, store = _config(), RunStore()
    p = _players(nano_dir, sandbox, store)
    before = {t: len(b) for t, b in p.buffers.items()}
    outcome = self_play_step(cfg, p, step=1, timer=PhaseTimer())
    keys = {(s.task_type.long_name, s.role) for s in outcome.sequences}
    assert keys == {(t, r) for t in ("abduction", "deduction", "induction") for r in ("propose", "solve")}
    assert len(outcome.sequences) == 6 * cfg.batch_size
    # every scripted proposal is valid; the scripted solver is always wrong, so learnability is extreme -> 0.0
    proposer_rewards = {s.reward for s in outcome.sequences if s.role == "propose"}
    assert proposer_rewards == {cfg.code_io.proposer_extreme_reward}
    assert outcome.stats["propose/deduction/valid_rate"] == 1.0
    # deduction answers "3" are right only for seeds whose output is 3 (none here): formatted but wrong
    assert {s.reward for s in outcome.sequences if s.role == "solve" and s.task_type is TaskType.DEDUCTION} == {-0.5}
    # abduction/induction solver answers are unformatted: format failure
    assert {s.reward for s in outcome.sequences if s.role == "solve" and s.task_type is TaskType.INDUCTION} == {-1.0}
    commit_step(store, p.buffers, outcome, step=1)
    assert all(len(p.buffers[t]) > before[t] for t in TaskType)
    assert all(task.step == 1 for task in p.buffers[TaskType.DEDUCTION].tasks(step=1))
    # induction proposals reuse existing programs: the buffer grows, its program diversity does not
    assert p.buffers[TaskType.DEDUCTION].distinct_programs() > before[TaskType.DEDUCTION]
    assert p.buffers[TaskType.INDUCTION].distinct_programs() <= len(SEEDS) + 1
    batch = update_batch(outcome.sequences, p.tokenizer)
    assert batch.old_logprobs is None  # scripted completions carry no log-probs: the trainer recomputes them
    assert set(batch.keys) == keys


def test_each_proposal_is_rewarded_by_the_learnability_samples_of_its_own_task(nano_dir, sandbox):
    """Learnability samples and drawn solver tasks share one generation call; each proposal must
    still get the solve rate of its own n samples."""
    p = _players(nano_dir, sandbox, RunStore())
    p.generator.solves_even = True  # x + k tasks: 1 right of 2 samples for even k (reward 0.5), 0 for odd k
    cfg = _config()
    outcome = self_play_step(cfg, p, step=1, timer=PhaseTimer())
    proposals = [s for s in outcome.sequences if s.role == "propose" and s.task_type is TaskType.DEDUCTION]
    rewards = {int(re.search(r"return x \+ (\d+)", s.completion.text)[1]): s.reward for s in proposals}
    assert {k % 2 for k in rewards} == {0, 1}
    assert rewards == {k: 0.5 if k % 2 == 0 else cfg.code_io.proposer_extreme_reward for k in rewards}


def test_proposer_training_off_leaves_only_solver_sequences(nano_dir, sandbox):
    p = _players(nano_dir, sandbox, RunStore())
    outcome = self_play_step(_config(train_proposer=False), p, step=1, timer=PhaseTimer())
    assert {s.role for s in outcome.sequences} == {"solve"}


def test_valid_proposal_whose_solver_prompt_does_not_fit_counts_as_invalid(nano_dir, sandbox):
    """A long proposal can make a solver prompt longer than the model's context: it once stopped a run
    at the learnability samples. Such a task is invalid: no samples, no buffer entry, reward -1."""
    p = _players(nano_dir, sandbox, RunStore())
    p.generator.filler_lines = 40
    held = [t for b in p.buffers.values() for t in b.tasks()]
    limit = max(len(p.tokenizer(solver_prompt(t, style="compact"))["input_ids"]) for t in held) + 10
    outcome = self_play_step(_config(sampling={"max_prompt_tokens": limit}), p, step=1, timer=PhaseTimer())
    for t in (TaskType.ABDUCTION, TaskType.DEDUCTION):
        assert outcome.new_tasks[t] == [] and outcome.stats[f"propose/{t.long_name}/valid_rate"] == 0.0
        assert {s.reward for s in outcome.sequences if s.role == "propose" and s.task_type is t} == {-1.0}
    # with room for them the same proposals are valid
    p.generator.counter = 0
    outcome = self_play_step(_config(sampling={"max_prompt_tokens": 4 * limit}), p, step=2, timer=PhaseTimer())
    assert outcome.stats["propose/deduction/valid_rate"] == 1.0, limit


def test_learnability_samples_can_be_trained_as_extra_solver_sequences(nano_dir, sandbox):
    cfg = _config(train_on_learnability_samples=True)
    p = _players(nano_dir, sandbox, RunStore())
    outcome = self_play_step(cfg, p, step=1, timer=PhaseTimer())
    solves = [s for s in outcome.sequences if s.role == "solve"]
    # every scripted proposal is valid: B drawn solver tasks + n learnability solves per proposal, per type
    n = cfg.code_io.learnability_samples
    assert len(solves) == 3 * cfg.batch_size * (1 + n)
    fresh = [s for s in solves if s.task_id is None]  # learnability solves are of this step's new tasks
    assert len(fresh) == 3 * cfg.batch_size * n
    # they are rewarded like any solver answer: deduction "3" is formatted but wrong on the new tasks
    assert {s.reward for s in fresh if s.task_type is TaskType.DEDUCTION} == {-0.5}
    assert {s.reward for s in fresh if s.task_type is TaskType.INDUCTION} == {-1.0}


def test_chat_template_prompts_are_the_same_tokens_in_generation_and_in_the_update(sandbox):
    """With `chat_template`, each prompt is templated once (`Players.render`): the sampler and the
    trainer must read the very same token ids, or the update would train on a context the policy
    never saw. The shipped tiny-coder has a chat template (`User: ...\nAssistant:`)."""
    from selfevolve.llm.loading import load_model
    from selfevolve.llm.logprobs import token_logprobs
    from selfevolve.llm.transformers_backend import TransformersGenerator

    class Recording(TransformersGenerator):
        def generate_ids(self, prompt_ids, params):
            self.seen.update(tuple(ids) for ids in prompt_ids)
            return super().generate_ids(prompt_ids, params)

    model, tok = load_model("tiny-coder", device="cpu", dtype=torch.float32)
    generator = Recording(model, tok, batch_size=64)
    generator.seen = set()
    store = RunStore()
    buffers = {t: TaskBuffer(store, t) for t in TaskType}
    for t in (TaskType.ABDUCTION, TaskType.DEDUCTION):
        buffers[t].add([zero_triplet(t), *SEEDS], step=0)
    buffers[TaskType.INDUCTION].add([zero_induction()], step=0)
    players = Players(generator, tok, sandbox, buffers, random.Random(0), chat_template=True)
    cfg = _config(chat_template=True, batch_size=2, sampling={"max_prompt_tokens": 400, "proposer_max_new_tokens": 24,
                                                              "solver_max_new_tokens": 16})
    outcome = self_play_step(cfg, players, step=1, timer=PhaseTimer())
    assert len(outcome.sequences) == 12
    for s in outcome.sequences:  # templated: the compact prompt is the user message of tiny-coder's template
        assert s.prompt.startswith("User: User: ") and s.prompt.endswith("Assistant: <think>\nAssistant:"), s.prompt
    batch = update_batch(outcome.sequences, tok)
    p = batch.prompt_width
    trained = [tuple(row[mask.bool()].tolist()) for row, mask in zip(batch.input_ids[:, :p], batch.attention_mask[:, :p])]
    assert all(ids in generator.seen for ids in trained)
    # the trainer's log-probs of the sampled tokens, in the update's context, are the sampler's own
    with torch.no_grad():
        recomputed = token_logprobs(model, batch.input_ids, batch.attention_mask)[:, p - 1:]
    mask = batch.completion_mask.bool()
    assert torch.allclose(recomputed[mask], batch.old_logprobs[mask], atol=1e-3)


def test_chat_template_needs_a_tokenizer_that_has_one(nano_dir, sandbox):
    from selfevolve.llm.loading import load_model

    _, tok = load_model(nano_dir, device="cpu", dtype=torch.float32)
    tok.chat_template = None
    with pytest.raises(ValueError, match="set chat_template=false"):
        Players(ScriptedPolicy(tok), tok, sandbox, {}, random.Random(0), chat_template=True)
    assert Players(ScriptedPolicy(tok), tok, sandbox, {}, random.Random(0)).render("User: x") == "User: x"


def test_learnability_reward_leaves_out_samples_the_executor_could_not_judge():
    task = SEEDS[0]
    slot = ProposerSlot(task.type, "prompt", None, Completion(render_proposer_completion(task)), task=task)
    verdicts = [AnswerVerdict(True, AnswerReason.CORRECT, 1.0), AnswerVerdict(False, AnswerReason.SANDBOX_ERROR),
                AnswerVerdict(False, AnswerReason.WRONG, 0.0)]
    slot.learnability = [SolverAttempt(task, "p", Completion("c"), v) for v in verdicts]
    cfg = _config()
    assert learnability_reward(cfg, slot) == 0.5  # 1 of the 2 judged samples solved it
    slot.learnability = slot.learnability[1:2]  # nothing judged: the task counts as extreme
    assert learnability_reward(cfg, slot) == cfg.code_io.proposer_extreme_reward
    assert learnability_reward(cfg, ProposerSlot(task.type, "prompt", None, Completion("unformatted"))) == -1.0


def _seq(role, t, reward):
    return TrainedSequence("p", Completion("c"), reward, t, role)


def test_controls_replace_learnability_or_shuffle_solver_rewards():
    seqs = [_seq(Role.PROPOSE, TaskType.DEDUCTION, 0.75), _seq(Role.PROPOSE, TaskType.DEDUCTION, -1.0)]
    seqs += [_seq(Role.SOLVE, TaskType.DEDUCTION, r) for r in (1.0, -0.5, -1.0, 1.0)]
    const = apply_control(_config(control="constant_proposer_reward"), seqs, random.Random(0))
    assert [s.reward for s in const[:2]] == [0.5, -1.0]  # invalid proposals keep their penalty
    assert [s.reward for s in const[2:]] == [1.0, -0.5, -1.0, 1.0]
    shuffled = apply_control(_config(control="shuffled_solver_rewards"), seqs, random.Random(3))
    assert sorted(s.reward for s in shuffled[2:]) == sorted(s.reward for s in seqs[2:])
    assert [s.reward for s in shuffled[:2]] == [0.75, -1.0]


def _run_cli(args, **kw):
    return subprocess.Popen([sys.executable, "-m", "selfevolve", "azr", *args], stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, start_new_session=True, **kw)


def _seed_file(tmp_path: Path) -> Path:
    """SEEDS as an AZR seed file (triplet schema)."""
    path = tmp_path / "seeds.jsonl"
    path.write_text("".join(json.dumps({"snippet": t.program, "input": t.input, "output": t.output, "imports": []}) + "\n" for t in SEEDS))
    return path


def _latest_step(run: Path) -> int:
    """The step of the newest complete checkpoint of `run` (0 when none)."""
    ckpts = checkpoints(run) if (run / "checkpoints").is_dir() else []
    return int(ckpts[-1].name.removeprefix("step_")) if ckpts else 0


@pytest.mark.slow
def test_kill_9_then_resume_continues_from_checkpoint_with_buffers_intact(nano_dir, tmp_path):
    """Killed once a checkpoint of step >= 2 exists (on a fast idle machine a 5-step run could finish
    between two polls, so the run is longer and the kill waits for any such checkpoint)."""
    STEPS = 20  # noqa: N806
    run = tmp_path / "run"
    seed_file = _seed_file(tmp_path)
    args = ["--out", str(run), "--set", f"model={nano_dir}", "--set", f"steps={STEPS}", "--set", "batch_size=2",
            "--set", "seeding=file", "--set", f"seed_files=[{seed_file}]", "--set", "checkpoint_every=1",
            "--set", "eval.every=0", "--set", "eval.limit=3", "--set", "eval.max_new_tokens=8",
            "--set", "sampling.proposer_max_new_tokens=12", "--set", "sampling.solver_max_new_tokens=8",
            "--set", "code_io.learnability_samples=2", "--set", "sandbox_workers=1", "--set", "device=cpu"]
    proc = _run_cli(args)
    deadline = time.time() + 240
    # kill as soon as a checkpoint of step >= 2 exists (older ones are pruned, so poll for any)
    while time.time() < deadline and proc.poll() is None and _latest_step(run) < 2:
        time.sleep(0.02)
    assert proc.poll() is None and _latest_step(run) >= 2, proc.stdout.read().decode()[-2000:]
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    killed_at = _latest_step(run)
    assert killed_at < STEPS, "the run finished before the kill"
    with sqlite3.connect(run / "store.sqlite") as db:
        kept_before = db.execute("SELECT id, buffer, program FROM tasks WHERE step <= ? ORDER BY id", (killed_at,)).fetchall()
    done = _run_cli(["--resume", str(run)])
    out = done.communicate(timeout=300)[0].decode()
    assert done.returncode == 0, out[-3000:]
    assert "resumed" in out
    steps = [json.loads(line)["step"] for line in (run / "metrics.jsonl").read_text().splitlines()]
    assert sorted(set(steps)) == list(range(0, STEPS + 1)) and steps == sorted(steps)
    with sqlite3.connect(run / "store.sqlite") as db:
        kept_after = db.execute("SELECT id, buffer, program FROM tasks WHERE step <= ? ORDER BY id", (killed_at,)).fetchall()
        per_step = dict(db.execute("SELECT step, COUNT(*) FROM rollouts GROUP BY step").fetchall())
    assert kept_after == kept_before and len(kept_before) >= 2 * len(SEEDS)
    assert per_step == {s: 6 * 2 for s in range(1, STEPS + 1)}  # every step's sequences exactly once
    assert (run / "report.html").is_file() and (run / "tasks_deduction.jsonl").is_file()


@pytest.mark.slow
def test_kl_penalty_runs_against_a_frozen_copy_of_the_starting_model(nano_dir, tmp_path):
    """`rl.kl_coef > 0` used to stop the run at start-up (the trainer wants a reference the recipe did
    not load); now a frozen copy of the starting model is loaded and the KL is trained and logged."""
    from selfevolve.recipes.azr.run import run_azr

    seed_file = _seed_file(tmp_path)
    cfg = _config(model=str(nano_dir), steps=1, batch_size=2, seeding="file", seed_files=[str(seed_file)],
                  device="cpu", sandbox_workers=1, eval={"every": 0, "limit": 3, "samples": 0, "max_new_tokens": 8},
                  sampling={"max_prompt_tokens": 400, "proposer_max_new_tokens": 12, "solver_max_new_tokens": 8},
                  rl={"advantage_estimator": "trr_pp", "learning_rate": 1e-4, "kl_coef": 0.05})
    run_azr(cfg, tmp_path / "run")
    [step] = [m for m in map(json.loads, (tmp_path / "run" / "metrics.jsonl").read_text().splitlines()) if m["step"] == 1 and "kl" in m]
    assert step["kl"] >= 0.0 and step["time/update"] > 0


def test_tiny_preset_budgets_fit_the_shipped_models_own_completions(sandbox):
    """Budgets shorter than tiny-coder's corpus completions truncate them into format failures (session 1
    ran with 160 proposer tokens: 98 % of induction proposals were cut off)."""
    from selfevolve.config import load_config
    from selfevolve.llm.loading import load_model
    from selfevolve.tinymodels.coder_eval import PROPOSER_TOKENS, SOLVER_TOKENS
    from selfevolve.tasks.code_io import synth_programs

    cfg = load_config(AZRConfig, "azr", "tiny")
    _, tok = load_model(cfg.model, device="cpu", dtype=torch.float32)
    tasks = synth_programs(60, 123, runner=sandbox)
    longest = {}
    for t in tasks:
        for role, text in (("propose", render_proposer_completion(t)), ("solve", render_solver_completion(t))):
            longest[role] = max(longest.get(role, 0), len(tok(text)["input_ids"]))
    assert longest["propose"] <= cfg.sampling.proposer_max_new_tokens
    assert longest["solve"] <= cfg.sampling.solver_max_new_tokens
    assert longest["solve"] <= cfg.eval.max_new_tokens
    assert longest["propose"] <= PROPOSER_TOKENS and longest["solve"] <= SOLVER_TOKENS  # the model card's eval


def test_heldout_evaluation_reports_greedy_t1_mean_and_pass_at_k(sandbox):
    from selfevolve.recipes.azr.run import evaluate_generator

    tasks = {f"t{i}": t for i, t in enumerate(SEEDS)}  # 4 deduction tasks
    right = {solver_prompt(t, style="compact"): render_solver_completion(t) for t in SEEDS[:1]}
    wrong = render_solver_completion(CodeTask(TaskType.DEDUCTION, SEEDS[0].program, ("0",), ("-7",)))

    class Answers:  # greedy: right on task 0 only; sampled: right on tasks 0 and 1, once in two answers
        def generate(self, prompts, params):
            def answer(p, i):
                if params.temperature == 0:
                    return right.get(p, wrong)
                return render_solver_completion(tasks[f"t{prompts.index(p)}"]) if prompts.index(p) < 2 and i == 0 else wrong
            return [[Completion(answer(p, i), [], [], "stop") for i in range(params.n)] for p in prompts]

    metrics = evaluate_generator(Answers(), tasks, sandbox, _config(eval={"samples": 2}))
    assert metrics["eval/deduction/accuracy"] == metrics["eval/all/accuracy"] == 0.25
    assert metrics["eval/deduction/accuracy_t1"] == 0.25  # 2 right of 8 answers
    assert metrics["eval/deduction/pass@2"] == 0.5
    assert "eval/all/accuracy_t1" not in evaluate_generator(Answers(), tasks, sandbox, _config())


def test_resume_with_set_extends_the_run_and_refuses_what_made_it(nano_dir, tmp_path):
    """`selfevolve azr --resume DIR --set ...` used to ignore --set; now the fields a run may change on
    resume are applied, and any other is refused with its name."""
    from typer.testing import CliRunner

    from selfevolve.cli import _register, app
    from selfevolve.recipes.azr.run import run_azr
    from selfevolve.store.metrics import read_metrics

    cfg = _config(model=str(nano_dir), steps=1, batch_size=2, seeding="file", seed_files=[str(_seed_file(tmp_path))],
                  device="cpu", sandbox_workers=1, eval={"every": 0, "limit": 3, "samples": 0, "max_new_tokens": 8},
                  sampling={"max_prompt_tokens": 400, "proposer_max_new_tokens": 12, "solver_max_new_tokens": 8})
    run = tmp_path / "run"
    run_azr(cfg, run)
    _register()
    refused = CliRunner().invoke(app, ["azr", "--resume", str(run), "--set", "steps=3", "--set", "seed=1"])
    assert refused.exit_code == 2 and "cannot change seed when resuming" in refused.output, refused.output
    refused = CliRunner().invoke(app, ["azr", "--resume", str(run), "--preset", "tiny"])
    assert refused.exit_code == 2 and "--preset do not apply with --resume" in refused.output, refused.output
    done = CliRunner().invoke(app, ["azr", "--resume", str(run), "--set", "steps=3", "--set", "eval.every=2"])
    assert done.exit_code == 0, done.output
    records = read_metrics(run / "metrics.jsonl")
    assert [r["step"] for r in records] == [0, 1, 2, 3]
    # 2: eval.every=2 took effect (the saved eval.every=0 evaluates the first and the last step only)
    assert [r["step"] for r in records if "eval/all/accuracy" in r] == [0, 1, 2, 3]
    assert AZRConfig.model_validate(yaml.safe_load((run / "config.yaml").read_text())).steps == 3
    report = (run / "report.html").read_text()
    assert "held-out accuracy, all types (greedy)" in report and "3 of 3" in report and "--set steps=3" in report
