"""Opening a model from one string (local name or base URL) and talking to it in conversations."""

from __future__ import annotations

import sys
import types

import pytest
import torch

from scripted import ScriptedModel
from selfevolve.llm.open import ChatModel, is_endpoint, open_generator
from selfevolve.llm.openai_client import OpenAIClient
from selfevolve.llm.transformers_backend import TransformersGenerator
from selfevolve.llm.types import Completion, SamplingParams

CONVERSATION = [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Add 1 and 2."}]


@pytest.fixture(scope="module")
def tiny():
    return open_generator("tiny-coder", device="cpu", dtype="float32", batch_size=4)


def test_a_name_opens_a_local_model_and_a_url_an_endpoint(tiny):
    assert isinstance(tiny, TransformersGenerator) and tiny.batch_size == 4
    client = open_generator("http://127.0.0.1:9/v1", api_model="served-name", api_key_env="NO_SUCH_KEY_VAR")
    assert isinstance(client, OpenAIClient) and client.model == "served-name"  # no request made to know it
    assert is_endpoint("https://api.example.com/v1") and not is_endpoint("tiny-coder")
    with pytest.raises(ValueError, match="api_model=.* applies to endpoint URLs only"):
        open_generator("tiny-coder", api_model="x")


def test_the_generator_switch_names_the_engine_and_must_fit_the_model():
    assert isinstance(open_generator("tiny-coder", generator="transformers", device="cpu"), TransformersGenerator)
    assert isinstance(open_generator("http://127.0.0.1:9/v1", generator="openai", api_model="m"), OpenAIClient)
    with pytest.raises(ValueError, match="not an engine; use one of transformers, vllm, openai"):
        open_generator("tiny-coder", generator="hf")
    with pytest.raises(ValueError, match="does not fit model 'tiny-coder': openai takes an http"):
        open_generator("tiny-coder", generator="openai")
    with pytest.raises(ValueError, match="generator='vllm' does not fit model 'http://127.0.0.1:9/v1'"):
        open_generator("http://127.0.0.1:9/v1", generator="vllm")


def test_local_chat_uses_the_template_and_counts_what_it_sends(tiny):
    chat = ChatModel.over(tiny)
    assert chat.chat and chat.system_role and chat.context_length == 512
    rendered = chat.render(CONVERSATION)
    assert rendered == "System: Be brief.\nUser: Add 1 and 2.\nAssistant:"
    assert chat.count_tokens(CONVERSATION) == len(tiny.tokenizer(rendered, add_special_tokens=False)["input_ids"])
    [[completion]] = chat.generate([CONVERSATION], SamplingParams(max_new_tokens=4, temperature=0))
    [[direct]] = tiny.chat_many([CONVERSATION], SamplingParams(max_new_tokens=4, temperature=0))
    assert completion.text == direct.text and completion.token_ids


def test_a_template_without_a_system_role_gets_the_system_text_in_the_user_message():
    generator = open_generator("tiny-coder", device="cpu", dtype="float32")
    generator.tokenizer.chat_template = (
        "{% if messages[0]['role'] == 'system' %}{{ raise_exception('System role not supported') }}{% endif %}"
        "{% for m in messages %}<{{ m['role'] }}>{{ m['content'] }}{% endfor %}{% if add_generation_prompt %}<model>{% endif %}"
    )
    chat = ChatModel.over(generator)
    assert not chat.system_role
    assert chat.render(CONVERSATION) == "<user>Be brief.\n\nAdd 1 and 2.<model>"


def test_other_generators_get_raw_text_in_one_call():
    model = ScriptedModel([(r"", "ok")])
    chat = ChatModel.over(model)
    assert not chat.chat and chat.count_tokens is None and chat.context_length is None
    out = chat.generate([CONVERSATION, CONVERSATION[1:]], SamplingParams())
    assert [[c.text for c in cs] for cs in out] == [["ok"], ["ok"]]
    assert model.calls[0][0] == ["Be brief.\nAdd 1 and 2.", "Add 1 and 2."]


def test_endpoints_get_conversations_as_chat():
    class Endpoint(OpenAIClient):
        def __init__(self):
            self.sent = []

        def chat_many(self, conversations, params):
            self.sent.append(conversations)
            return [[Completion(text="hi")] for _ in conversations]

    endpoint = Endpoint()
    chat = ChatModel.over(endpoint)
    assert chat.chat and chat.count_tokens is None
    assert chat.generate([CONVERSATION], SamplingParams())[0][0].text == "hi"
    assert endpoint.sent == [[CONVERSATION]]


class EngineStarting(Exception):
    """Raised by the stand-in `vllm.LLM` once it holds the engine's arguments."""


@pytest.fixture
def engine_arguments(monkeypatch) -> dict:
    """A stand-in vllm package (vllm need not be installed): `vllm.LLM(...)` records its keyword arguments
    here and raises EngineStarting instead of starting an engine."""
    seen = {}

    def start(model, **kwargs):
        seen.update(kwargs, model=model)
        raise EngineStarting

    monkeypatch.setitem(sys.modules, "vllm", types.ModuleType("vllm"))
    monkeypatch.setattr(sys.modules["vllm"], "LLM", start, raising=False)
    monkeypatch.setenv("VLLM_ENABLE_V1_MULTIPROCESSING", "1")  # VLLMGenerator sets it to 0; restored afterwards
    return seen


def test_vllm_options_reach_the_engine(engine_arguments):
    with pytest.raises(EngineStarting):
        open_generator("tiny-coder", generator="vllm", vllm_options={"tensor_parallel_size": 2, "kv_cache_gib": 0.5})
    assert engine_arguments["tensor_parallel_size"] == 2 and engine_arguments["kv_cache_memory_bytes"] == 2**29


def _azr_rollout_engine():
    from selfevolve.recipes.azr.config import AZRConfig
    from selfevolve.recipes.models import rollout_generator

    cfg = AZRConfig(generator="vllm", vllm={"tensor_parallel_size": 2})
    rollout_generator(cfg.generator, cfg.model, types.SimpleNamespace(dtype=torch.float32), None, 4, cfg.vllm)


def _countdown_rollout_engine():
    from selfevolve.recipes.countdown.config import CountdownConfig
    from selfevolve.recipes.models import rollout_generator

    cfg = CountdownConfig(model="tiny-coder", generator="vllm", vllm={"tensor_parallel_size": 2})
    rollout_generator(cfg.generator, cfg.model, types.SimpleNamespace(dtype=torch.float32), None, 4, cfg.vllm)


def _sra_mcts_engine():
    from selfevolve.recipes.sra_mcts.config import SRAMCTSConfig
    from selfevolve.recipes.sra_mcts.run import open_models

    open_models(SRAMCTSConfig(model="tiny-coder", generator="vllm", tensor_parallel_size=2))


def _meteor_strong_engine():
    from selfevolve.recipes.meteor.config import RolesConfig
    from selfevolve.recipes.meteor.roles import Roles

    Roles.from_config(RolesConfig(weak="tiny-coder", strong="tiny-coder", generator="vllm", tensor_parallel_size=2),
                      chat_template=False).strong()


@pytest.mark.parametrize("open_engine",
                         [_azr_rollout_engine, _countdown_rollout_engine, _sra_mcts_engine, _meteor_strong_engine])
def test_every_recipe_that_opens_a_vllm_engine_sets_its_tensor_parallel_size(engine_arguments, open_engine):
    with pytest.raises(EngineStarting):
        open_engine()
    assert engine_arguments["tensor_parallel_size"] == 2
