"""A randomly initialised model of a given shape, exported like the real one, for speed checks only.

Speed does not depend on the weights, so this lets `npm run bench:model` measure the brief's
node-model shape (d_model 768, 6 layers) without training it. The output is NOT a usable model.
Usage: make_shape_model.py OUT_DIR TOKENIZER_FROM_DIR [--n-embd 768 --n-layer 6 --n-head 12 --vocab-size 32000 --n-positions 1024]
"""
from __future__ import annotations

import argparse
import os
import shutil

import torch

from export_onnx import export
from model import GPT, GPTConfig
from quantize import quantize_model

if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    ap.add_argument("tokenizer_from")
    ap.add_argument("--n-embd", type=int, default=768)
    ap.add_argument("--n-layer", type=int, default=6)
    ap.add_argument("--n-head", type=int, default=12)
    ap.add_argument("--vocab-size", type=int, default=32000)
    ap.add_argument("--n-positions", type=int, default=1024)
    a = ap.parse_args()
    torch.manual_seed(0)
    cfg = GPTConfig(a.vocab_size, a.n_positions, a.n_embd, a.n_layer, a.n_head)
    work = a.out + "-work"
    os.makedirs(work, exist_ok=True)
    model = GPT(cfg)
    with torch.no_grad():  # fresh LayerNorms/biases are all 1s/0s, and the exporter would merge equal tensors
        for p in model.parameters():
            if p.dim() == 1:
                p.add_(torch.randn_like(p) * 0.01)
    torch.save({"config": cfg.to_dict(), "state_dict": model.state_dict()}, os.path.join(work, "checkpoint.pt"))
    for f in ("tokenizer.json", "tokenizer_config.json"):  # any tokenizer with ids < vocab_size will do
        shutil.copy(os.path.join(a.tokenizer_from, f), os.path.join(work, f))
    export(work, a.out)
    print(quantize_model(os.path.join(a.out, "onnx", "model.onnx"), os.path.join(a.out, "onnx", "model_int8.onnx")))
