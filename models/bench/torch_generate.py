"""PyTorch eager generation with a KV cache, for models/bench/model.bench.ts (run as a child process).

Usage: torch_generate.py MODEL_DIR '{"prompt_ids": [...], "new_tokens": 200, "runs": 3, "seed": 1}'
Prints JSON: per-run ttft_ms and total_ms, tokens, peak RSS. One torch thread, like the ORT runs.
"""
from __future__ import annotations

import json
import os
import resource
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "pipeline"))
import torch  # noqa: E402

from onnx_to_torch import load_gpt_from_onnx  # noqa: E402


@torch.no_grad()
def generate(model, prompt_ids: list[int], new_tokens: int, seed: int, temperature=0.8, top_k=40):
    gen = torch.Generator().manual_seed(seed)
    t0 = time.perf_counter()
    ids = torch.tensor([prompt_ids])
    past, out, ttft = None, [], None
    for _ in range(new_tokens):
        logits, past = model(ids, past=past if past is None else [(k, v) for k, v in past])
        row = logits[0, -1] / temperature
        vals, idx = torch.topk(row, top_k)
        nxt = idx[torch.multinomial(torch.softmax(vals, -1), 1, generator=gen)]
        if ttft is None:
            ttft = (time.perf_counter() - t0) * 1000
        out.append(int(nxt))
        ids = nxt.view(1, 1)
    return out, ttft, (time.perf_counter() - t0) * 1000


if __name__ == "__main__":
    torch.set_num_threads(1)
    model = load_gpt_from_onnx(sys.argv[1])
    args = json.loads(sys.argv[2])
    generate(model, args["prompt_ids"], 8, 0)  # warm-up
    runs = []
    for r in range(args["runs"]):
        toks, ttft, total = generate(model, args["prompt_ids"], args["new_tokens"], args["seed"] + r)
        runs.append({"ttft_ms": ttft, "total_ms": total, "tokens": len(toks)})
    print(json.dumps({"runtime": f"torch {torch.__version__} eager", "runs": runs,
                      "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
