"""Run directories: what `--resume --set` may change, for every recipe's config, and where runs come from."""

from __future__ import annotations

import json

import pytest

from selfevolve.config import ConfigError, dump_config
from selfevolve.recipes.azr.config import AZRConfig
from selfevolve.recipes.countdown.config import CountdownConfig, StudyConfig
from selfevolve.recipes.countdown.study import run_study
from selfevolve.recipes.rundir import RunDirError, prepare, record_origin


@pytest.mark.parametrize(("cls", "run"), [(AZRConfig, ""), (CountdownConfig, ""), (StudyConfig, "rl.")])
def test_every_changeable_field_exists_and_the_trainer_settings_are_not_among_them(cls, run):
    dumped = cls().model_dump()
    for path in cls.CHANGEABLE_ON_RESUME:
        node = dumped
        for part in path.split("."):
            assert part in node, f"{cls.__name__}.CHANGEABLE_ON_RESUME names {path}, which is no field"
            node = node[part]
    fixed = [run + f for f in ("model", "seed", "rl", "batch_size", "prompts_per_step", "samples_per_prompt", "control")]
    assert not [p for p in cls.CHANGEABLE_ON_RESUME if any(p == f or p.startswith(f + ".") for f in fixed)]


def test_resume_applies_allowed_overrides_and_names_the_refused_field(tmp_path):
    run = tmp_path / "run"
    prepare(AZRConfig, AZRConfig(steps=10), run, resume=False)
    cfg = prepare(AZRConfig, None, run, resume=True, overrides=["steps=20", "eval.every=5", "threads=1"])
    assert (cfg.steps, cfg.eval.every, cfg.threads) == (20, 5, 1)
    assert "steps: 20" in (run / "config.yaml").read_text()
    for override, field in (("seed=1", "seed"), ("batch_size=4", "batch_size"), ("rl.learning_rate=0.1", "rl.learning_rate"),
                            ("model=other", "model"), ("eval.limit=3", "eval.limit")):
        with pytest.raises(ConfigError, match=f"cannot change {field} when resuming") as refused:
            prepare(AZRConfig, None, run, resume=True, overrides=["steps=30", override])
        assert "start a new run with --out" in str(refused.value)
    assert "steps: 20" in (run / "config.yaml").read_text()  # a refused resume leaves the saved config alone
    with pytest.raises(ConfigError, match="held-out"):  # the reason for evaluation settings
        prepare(AZRConfig, None, run, resume=True, overrides=["eval.samples=4"])
    with pytest.raises(ConfigError, match="steps: Input should be greater than 0"):
        prepare(AZRConfig, None, run, resume=True, overrides=["steps=0"])


def test_resuming_a_study_may_add_seeds_but_not_change_the_priming(tmp_path):
    study = tmp_path / "study"
    study.mkdir()
    dump_config(StudyConfig(seeds=[0]), study / "config.yaml")
    with pytest.raises(ConfigError, match="cannot change priming.epochs"):
        run_study(None, study, resume=True, overrides=["seeds=[0, 1]", "priming.epochs=6"])
    with pytest.raises(ConfigError, match="cannot change rl.steps"):
        run_study(None, study, resume=True, overrides=["rl.steps=3"])
    assert prepare(StudyConfig, None, study, resume=True, overrides=["seeds=[0, 1]"]).seeds == [0, 1]


def test_run_json_records_the_origin_and_each_resume(tmp_path):
    record_origin(tmp_path, {"preset": "tiny", "config_file": None, "overrides": ["steps=2"]}, resume=False)
    record_origin(tmp_path, None, resume=True, overrides=["steps=4"])
    assert json.loads((tmp_path / "run.json").read_text()) == {
        "preset": "tiny", "config_file": None, "overrides": ["steps=2"], "resumes": [["steps=4"]]}
    with pytest.raises(RunDirError, match="no run to resume"):
        prepare(AZRConfig, None, tmp_path / "nothing", resume=True)
