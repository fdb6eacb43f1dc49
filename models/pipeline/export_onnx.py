"""Export a trained checkpoint as a Hugging Face-style causal LM folder for onnxruntime.

Layout (what optimum / transformers.js use for a GPT-2 decoder with past):
  config.json, tokenizer.json, tokenizer_config.json, generation_config.json, onnx/model.onnx
ONNX inputs:  input_ids [batch_size, sequence_length], attention_mask [batch_size, total_sequence_length],
              position_ids [batch_size, sequence_length], past_key_values.{i}.key|value
              [batch_size, n_head, past_sequence_length, head_dim]
ONNX outputs: logits [batch_size, sequence_length, vocab], present.{i}.key|value
The batch axis must be called `batch_size` and n_head/head_dim must be fixed numbers,
or transformers.js cannot build its first empty cache (NOTES.md).
Usage: export_onnx.py CHECKPOINT_DIR OUT_DIR
"""
from __future__ import annotations

import json
import os
import shutil
import sys

import torch

from model import GPT, GPTConfig


class DecoderWithPast(torch.nn.Module):
    def __init__(self, model: GPT):
        super().__init__()
        self.model = model

    def forward(self, input_ids, attention_mask, position_ids, *past_flat):
        past = [(past_flat[2 * i], past_flat[2 * i + 1]) for i in range(len(past_flat) // 2)]
        logits, presents = self.model(input_ids, attention_mask, position_ids, past)
        return (logits, *[t for kv in presents for t in kv])


def load_checkpoint(ckpt_dir: str) -> GPT:
    ckpt = torch.load(os.path.join(ckpt_dir, "checkpoint.pt"), map_location="cpu")
    model = GPT(GPTConfig(**ckpt["config"]))
    model.load_state_dict(ckpt["state_dict"])
    return model.eval()


def hf_config(cfg: GPTConfig, eos_id: int) -> dict:
    # GPT-2 field names so transformers.js / optimum tooling recognise the folder.
    return {
        "architectures": ["GPT2LMHeadModel"], "model_type": "gpt2",
        "vocab_size": cfg.vocab_size, "n_positions": cfg.n_positions, "n_ctx": cfg.n_positions,
        "n_embd": cfg.n_embd, "n_layer": cfg.n_layer, "n_head": cfg.n_head, "n_inner": 4 * cfg.n_embd,
        "activation_function": "gelu_new", "layer_norm_epsilon": 1e-5, "tie_word_embeddings": True,
        "bos_token_id": eos_id, "eos_token_id": eos_id, "use_cache": True,
    }


def export(ckpt_dir: str, out_dir: str) -> None:
    model = load_checkpoint(ckpt_dir)
    cfg = model.cfg
    os.makedirs(os.path.join(out_dir, "onnx"), exist_ok=True)
    for f in ("tokenizer.json", "tokenizer_config.json"):
        shutil.copy(os.path.join(ckpt_dir, f), os.path.join(out_dir, f))
    eos_id = cfg.vocab_size - 1  # bpe.py puts <|endoftext|> last
    with open(os.path.join(out_dir, "config.json"), "w") as f:
        json.dump(hf_config(cfg, eos_id), f, indent=1)
    with open(os.path.join(out_dir, "generation_config.json"), "w") as f:
        json.dump({"bos_token_id": eos_id, "eos_token_id": eos_id, "do_sample": True, "temperature": 0.8,
                   "top_k": 40, "max_length": cfg.n_positions}, f, indent=1)

    head_dim = cfg.n_embd // cfg.n_head
    B, T, P = 1, 3, 2  # non-trivial sizes so no shape is frozen into the graph
    past = []
    for _ in range(cfg.n_layer):
        past += [torch.randn(B, cfg.n_head, P, head_dim), torch.randn(B, cfg.n_head, P, head_dim)]
    ids = torch.randint(0, cfg.vocab_size, (B, T))
    mask = torch.ones(B, P + T, dtype=torch.int64)
    pos = torch.arange(P, P + T).unsqueeze(0)
    in_names = ["input_ids", "attention_mask", "position_ids"]
    out_names = ["logits"]
    axes = {"input_ids": {0: "batch_size", 1: "sequence_length"},
            "attention_mask": {0: "batch_size", 1: "total_sequence_length"},
            "position_ids": {0: "batch_size", 1: "sequence_length"},
            "logits": {0: "batch_size", 1: "sequence_length"}}
    for i in range(cfg.n_layer):
        for kind in ("key", "value"):
            in_names.append(f"past_key_values.{i}.{kind}")
            out_names.append(f"present.{i}.{kind}")
            axes[in_names[-1]] = {0: "batch_size", 2: "past_sequence_length"}
            axes[out_names[-1]] = {0: "batch_size", 2: "total_sequence_length"}
    path = os.path.join(out_dir, "onnx", "model.onnx")
    with torch.no_grad():
        torch.onnx.export(DecoderWithPast(model), (ids, mask, pos, *past), path, input_names=in_names,
                          output_names=out_names, dynamic_axes=axes, opset_version=14, do_constant_folding=True)
    import onnx
    onnx.checker.check_model(onnx.load(path))
    print(json.dumps({"exported": path, "bytes": os.path.getsize(path), "params": model.num_parameters()}))


if __name__ == "__main__":
    export(sys.argv[1], sys.argv[2])
