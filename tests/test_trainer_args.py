"""The activation-checkpointing argument reaches TRL's configs under the name this transformers release uses,
without the deprecation warning of the old name, and switches checkpointing off where TRL turns it on."""

import dataclasses
import warnings

from transformers import TrainingArguments
from trl import DPOConfig, SFTConfig

from selfevolve.recipes.trainer_args import checkpointing


def test_checkpointing_uses_a_field_this_transformers_has_and_sets_it_in_trl_configs(tmp_path):
    (name, value), = checkpointing(False).items()
    assert name in {f.name for f in dataclasses.fields(TrainingArguments)} and value is False
    for config in (SFTConfig, DPOConfig):
        with warnings.catch_warnings():
            warnings.simplefilter("error", FutureWarning)
            args = config(output_dir=str(tmp_path), use_cpu=True, report_to=[], **checkpointing(False))
        assert getattr(args, name) is False
        on = config(output_dir=str(tmp_path), use_cpu=True, report_to=[], **checkpointing(True))
        assert getattr(on, name) is True
