"""Validation loss of the PyTorch checkpoint (the reference the ONNX fp32/int8 losses are checked against).

Same windowing as models/runtime/perplexity.ts: non-overlapping windows of the context length.
Usage: evaluate_torch.py WORK_DIR  -> prints JSON {corpus: {loss, tokens}}
"""
from __future__ import annotations

import glob
import json
import os
import sys

import numpy as np
import torch

from export_onnx import load_checkpoint


@torch.no_grad()
def held_out_loss(model, ids: np.ndarray) -> tuple[float, int]:
    window = model.cfg.n_positions
    nll, count = 0.0, 0
    for start in range(0, len(ids) - 1, window):
        chunk = torch.from_numpy(ids[start : start + window + 1].astype(np.int64)).unsqueeze(0)
        logits, _ = model(chunk[:, :-1])
        nll += torch.nn.functional.cross_entropy(logits[0], chunk[0, 1:], reduction="sum").item()
        count += chunk.shape[1] - 1
    return nll / count, count


if __name__ == "__main__":
    torch.set_num_threads(1)
    work = sys.argv[1]
    model = load_checkpoint(work)
    out = {}
    for path in sorted(glob.glob(os.path.join(work, "data", "val_*.bin"))):
        name = os.path.basename(path)[4:-4]
        loss, n = held_out_loss(model, np.fromfile(path, dtype=np.uint16))
        out[name] = {"loss": loss, "tokens": n}
    print(json.dumps(out))
