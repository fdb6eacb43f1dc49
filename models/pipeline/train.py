"""Train the default node model: BPE tokenizer + small GPT on speaker-prefixed play dialogue.

Usage: train.py --ja JA_PLAYS --en TINYSHAKESPEARE --out DIR [--time-budget-s 2400] [size flags]
Writes DIR/checkpoint.pt, DIR/tokenizer.json, DIR/tokenizer_config.json, DIR/train_meta.json
and DIR/data/{train,val_*}.bin (token ids, for evaluation; not shipped).
Single-threaded on purpose (see ../shared/NOTES.md): torch.set_num_threads(1) + OpenBLAS.
"""
from __future__ import annotations

import argparse
import json
import math
import os
import time
from dataclasses import asdict

import numpy as np
import torch

import bpe
from model import GPT, GPTConfig
from prepare_data import prepare


def log(msg: str, **kv) -> None:
    print(json.dumps({"t": round(time.time(), 1), "msg": msg, **kv}, ensure_ascii=False), flush=True)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--ja", required=True)
    ap.add_argument("--en", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--vocab-size", type=int, default=4096)
    ap.add_argument("--n-positions", type=int, default=256)
    ap.add_argument("--n-embd", type=int, default=192)
    ap.add_argument("--n-layer", type=int, default=4)
    ap.add_argument("--n-head", type=int, default=4)
    ap.add_argument("--batch-size", type=int, default=16)
    ap.add_argument("--lr", type=float, default=3e-3)
    ap.add_argument("--time-budget-s", type=float, default=2400)
    ap.add_argument("--seed", type=int, default=1234)
    args = ap.parse_args()

    torch.set_num_threads(1)
    torch.manual_seed(args.seed)
    rng = np.random.default_rng(args.seed)
    os.makedirs(os.path.join(args.out, "data"), exist_ok=True)

    train_text, val_texts, splits = prepare(args.ja, args.en)
    t0 = time.time()
    symbols, merges = bpe.train_bpe(train_text, args.vocab_size)
    enc = bpe.Encoder(symbols, merges)
    log("bpe trained", seconds=round(time.time() - t0, 1), vocab=len(symbols))
    with open(os.path.join(args.out, "tokenizer.json"), "w", encoding="utf-8") as f:
        json.dump(bpe.tokenizer_json(symbols, merges), f, ensure_ascii=False)
    with open(os.path.join(args.out, "tokenizer_config.json"), "w", encoding="utf-8") as f:
        json.dump(bpe.tokenizer_config(args.n_positions), f, ensure_ascii=False, indent=1)

    train_ids = np.array(enc.encode(train_text), dtype=np.uint16)
    train_ids.tofile(os.path.join(args.out, "data", "train.bin"))
    val_stats = {}
    for name, text in val_texts.items():
        ids = np.array(enc.encode(text), dtype=np.uint16)
        ids.tofile(os.path.join(args.out, "data", f"val_{name}.bin"))
        val_stats[name] = {"tokens": int(len(ids)), "chars": len(text)}
    log("encoded", train_tokens=int(len(train_ids)), train_chars=len(train_text), val=val_stats)

    cfg = GPTConfig(vocab_size=len(symbols), n_positions=args.n_positions, n_embd=args.n_embd,
                    n_layer=args.n_layer, n_head=args.n_head)
    model = GPT(cfg)
    log("model", params=model.num_parameters(), config=cfg.to_dict())
    decay = [p for n, p in model.named_parameters() if p.dim() >= 2]
    no_decay = [p for n, p in model.named_parameters() if p.dim() < 2]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": 0.1}, {"params": no_decay, "weight_decay": 0.0}],
                            lr=args.lr, betas=(0.9, 0.95))
    T, B = args.n_positions, args.batch_size
    data = torch.from_numpy(train_ids.astype(np.int64))

    def batch():
        starts = rng.integers(0, len(data) - T - 1, size=B)
        x = torch.stack([data[s : s + T] for s in starts])
        y = torch.stack([data[s + 1 : s + T + 1] for s in starts])
        return x, y

    # Size the run by wall time: time a few steps, then fix the step count so the cosine
    # schedule ends when the budget does (the schedule itself stays deterministic afterwards).
    warmup, probe_steps, step, total_steps = 50, 10, 0, None
    t_train = time.time()
    model.train()
    while total_steps is None or step < total_steps:
        if step == probe_steps:
            per_step = (time.time() - t_train) / probe_steps
            remaining = args.time_budget_s - (time.time() - t0)
            total_steps = max(probe_steps + 1, int(remaining / per_step * 0.97) + probe_steps)
            log("schedule", seconds_per_step=round(per_step, 3), total_steps=total_steps)
        horizon = total_steps or 10**9
        lr = args.lr * min(1.0, (step + 1) / warmup) * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * min(1.0, step / horizon))))
        for g in opt.param_groups:
            g["lr"] = lr
        x, y = batch()
        logits, _ = model(x)
        loss = torch.nn.functional.cross_entropy(logits.reshape(-1, logits.size(-1)), y.reshape(-1))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        step += 1
        if step % 50 == 0 or step == total_steps:
            log("step", step=step, of=total_steps, loss=round(loss.item(), 4), lr=round(lr, 6),
                elapsed=round(time.time() - t0, 1))
        if step % 500 == 0:
            save(args, model, cfg, splits, step, t0, val_stats, len(train_ids))
    save(args, model, cfg, splits, step, t0, val_stats, len(train_ids))
    log("done", seconds=round(time.time() - t0, 1))


def save(args, model, cfg, splits, step, t0, val_stats, n_train_tokens):
    torch.save({"config": cfg.to_dict(), "state_dict": model.state_dict()}, os.path.join(args.out, "checkpoint.pt"))
    meta = {"steps": step, "batch_size": args.batch_size, "lr": args.lr, "seed": args.seed,
            "train_seconds": round(time.time() - t0, 1), "train_tokens": n_train_tokens,
            "splits": [asdict(s) for s in splits], "validation": val_stats, "config": cfg.to_dict(),
            "params": model.num_parameters()}
    with open(os.path.join(args.out, "train_meta.json"), "w") as f:
        json.dump(meta, f, ensure_ascii=False, indent=1)


if __name__ == "__main__":
    main()
