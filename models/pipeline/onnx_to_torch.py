"""Rebuild the PyTorch module from a shipped onnx/model.onnx (fp32) of this project's exporter.

Why: the benchmark compares onnxruntime with PyTorch eager on the *same* weights, and the repo
ships only ONNX files (the training checkpoint stays in var/). Named initializers (LayerNorms,
biases, positions) keep their torch names; the exporter's constant folding renames the
transposed Linear weights, so those are matched by graph order: per block c_attn, attn_proj,
c_fc, mlp_proj, then the tied [C, V] matrix read by the token Gather and the last MatMul.
"""
from __future__ import annotations

import json
import os

import numpy as np
import onnx
import torch
from onnx import numpy_helper

from model import GPT, GPTConfig


def load_gpt_from_onnx(model_dir: str) -> GPT:
    cfg_json = json.load(open(os.path.join(model_dir, "config.json")))
    cfg = GPTConfig(vocab_size=cfg_json["vocab_size"], n_positions=cfg_json["n_positions"], n_embd=cfg_json["n_embd"],
                    n_layer=cfg_json["n_layer"], n_head=cfg_json["n_head"])
    graph = onnx.load(os.path.join(model_dir, "onnx", "model.onnx")).graph
    inits = {i.name: numpy_helper.to_array(i) for i in graph.initializer}
    state: dict[str, torch.Tensor] = {}
    for name, arr in inits.items():
        if name.startswith("model."):
            state[name[len("model."):]] = torch.from_numpy(np.array(arr))
    matmul_weights = [n.input[1] for n in graph.node if n.op_type == "MatMul" and n.input[1] in inits]
    *linear, tied = matmul_weights
    names = ["c_attn", "attn_proj", "c_fc", "mlp_proj"]
    assert len(linear) == len(names) * cfg.n_layer, f"unexpected graph: {len(linear)} MatMul weights"
    for i, w in enumerate(linear):
        state[f"blocks.{i // 4}.{names[i % 4]}.weight"] = torch.from_numpy(np.array(inits[w]).T.copy())
    state["wte.weight"] = torch.from_numpy(np.array(inits[tied]).T.copy())
    model = GPT(cfg)
    model.load_state_dict(state)
    return model.eval()
