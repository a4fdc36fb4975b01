"""Write a tiny Llama GGUF (random weights, mostly Q8_0) the way llama.cpp lays one out, for prepare tests.

Its tokenizer is the shipped tiny-coder's byte-level BPE, written as GGUF tokenizer fields, so the
file exercises the same transformers conversion path (config, tokenizer, dequantisation) as the real
registry models, in well under a second.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from gguf import GGMLQuantizationType, GGUFWriter, TokenType
from gguf.quants import quantize

from selfevolve.models import SHIPPED_DIR

HIDDEN, LAYERS, HEADS, KV_HEADS, FFN, CONTEXT = 64, 2, 4, 2, 128, 256
CHAT_TEMPLATE = (SHIPPED_DIR / "tiny-coder" / "chat_template.jinja").read_text()


def _tokenizer_fields() -> tuple[list[str], list[int], list[str]]:
    spec = json.loads((SHIPPED_DIR / "tiny-coder" / "tokenizer.json").read_text())
    vocab = spec["model"]["vocab"]
    tokens = sorted(vocab, key=vocab.get)
    special = {t["content"] for t in spec["added_tokens"] if t["special"]}
    types = [TokenType.CONTROL if t in special else TokenType.NORMAL for t in tokens]
    merges = [" ".join(m) if isinstance(m, list) else m for m in spec["model"]["merges"]]
    return tokens, types, merges


def _shapes(vocab_size: int) -> dict[str, tuple[int, ...]]:
    head_dim = HIDDEN // HEADS
    shapes = {"token_embd.weight": (vocab_size, HIDDEN), "output_norm.weight": (HIDDEN,)}
    for i in range(LAYERS):
        shapes |= {
            f"blk.{i}.attn_norm.weight": (HIDDEN,),
            f"blk.{i}.attn_q.weight": (HIDDEN, HIDDEN),
            f"blk.{i}.attn_k.weight": (KV_HEADS * head_dim, HIDDEN),
            f"blk.{i}.attn_v.weight": (KV_HEADS * head_dim, HIDDEN),
            f"blk.{i}.attn_output.weight": (HIDDEN, HIDDEN),
            f"blk.{i}.ffn_norm.weight": (HIDDEN,),
            f"blk.{i}.ffn_gate.weight": (FFN, HIDDEN),
            f"blk.{i}.ffn_up.weight": (FFN, HIDDEN),
            f"blk.{i}.ffn_down.weight": (HIDDEN, FFN),
        }
    return shapes


def write_tiny_gguf(path: Path, name: str = "Tiny Llama Test", seed: int = 0) -> int:
    """Write the file and return its parameter count (embeddings tied, as in SmolLM2)."""
    tokens, types, merges = _tokenizer_fields()
    rng = np.random.default_rng(seed)
    writer = GGUFWriter(path, "llama")
    writer.add_name(name)
    writer.add_license("apache-2.0")
    writer.add_context_length(CONTEXT)
    writer.add_embedding_length(HIDDEN)
    writer.add_block_count(LAYERS)
    writer.add_feed_forward_length(FFN)
    writer.add_head_count(HEADS)
    writer.add_head_count_kv(KV_HEADS)
    writer.add_rope_dimension_count(HIDDEN // HEADS)
    writer.add_rope_freq_base(10000.0)
    writer.add_layer_norm_rms_eps(1e-5)
    writer.add_vocab_size(len(tokens))
    writer.add_file_type(7)  # MOSTLY_Q8_0
    writer.add_tokenizer_model("gpt2")
    writer.add_token_list(tokens)
    writer.add_token_types(types)
    writer.add_token_merges(merges)
    writer.add_bos_token_id(tokens.index("<|endoftext|>"))
    writer.add_eos_token_id(tokens.index("<|endoftext|>"))
    writer.add_pad_token_id(tokens.index("<|pad|>"))
    writer.add_chat_template(CHAT_TEMPLATE)
    params = 0
    for tensor_name, shape in _shapes(len(tokens)).items():
        if len(shape) == 1:  # norms stay F32, as llama.cpp keeps them
            writer.add_tensor(tensor_name, (1.0 + 0.1 * rng.standard_normal(shape)).astype(np.float32))
        else:
            weights = (0.05 * rng.standard_normal(shape)).astype(np.float32)
            quantised = quantize(weights, GGMLQuantizationType.Q8_0)
            writer.add_tensor(tensor_name, quantised, raw_dtype=GGMLQuantizationType.Q8_0)
        params += int(np.prod(shape))
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    return params
