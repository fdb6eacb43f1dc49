"""A small GPT-2-style decoder (pre-LayerNorm, learned positions, tied embeddings) in plain torch.

Written here instead of importing `transformers` because only Debian's torch is available.
The forward signature mirrors Hugging Face's decoder-with-past so the ONNX export has the
same inputs/outputs optimum produces (see export_onnx.py).
"""
from __future__ import annotations

import math
from dataclasses import dataclass, asdict

import torch
import torch.nn as nn
import torch.nn.functional as F


@dataclass
class GPTConfig:
    vocab_size: int
    n_positions: int = 256
    n_embd: int = 192
    n_layer: int = 4
    n_head: int = 4
    dropout: float = 0.0

    def to_dict(self) -> dict:
        return asdict(self)


def gelu_new(x: torch.Tensor) -> torch.Tensor:
    # GPT-2's tanh approximation; exports to plain ONNX ops at opset 14.
    return 0.5 * x * (1.0 + torch.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * torch.pow(x, 3.0))))


class Block(nn.Module):
    def __init__(self, cfg: GPTConfig):
        super().__init__()
        self.n_head, self.head_dim = cfg.n_head, cfg.n_embd // cfg.n_head
        self.ln_1 = nn.LayerNorm(cfg.n_embd)
        self.c_attn = nn.Linear(cfg.n_embd, 3 * cfg.n_embd)
        self.attn_proj = nn.Linear(cfg.n_embd, cfg.n_embd)
        self.ln_2 = nn.LayerNorm(cfg.n_embd)
        self.c_fc = nn.Linear(cfg.n_embd, 4 * cfg.n_embd)
        self.mlp_proj = nn.Linear(4 * cfg.n_embd, cfg.n_embd)
        self.drop = nn.Dropout(cfg.dropout)

    def forward(self, x, bias, past_k=None, past_v=None):
        """x [B,T,C]; bias additive [B,1,T,S]; past [B,H,P,D]. Returns (x, k, v) with k,v [B,H,S,D]."""
        B, T, C = x.shape
        q, k, v = self.c_attn(self.ln_1(x)).split(C, dim=2)
        q = q.view(B, T, self.n_head, self.head_dim).transpose(1, 2)
        k = k.view(B, T, self.n_head, self.head_dim).transpose(1, 2)
        v = v.view(B, T, self.n_head, self.head_dim).transpose(1, 2)
        if past_k is not None:
            k = torch.cat([past_k, k], dim=2)
            v = torch.cat([past_v, v], dim=2)
        att = torch.matmul(q, k.transpose(-1, -2)) * (1.0 / math.sqrt(self.head_dim)) + bias
        att = self.drop(torch.softmax(att, dim=-1))
        y = torch.matmul(att, v).transpose(1, 2).reshape(B, T, C)
        x = x + self.drop(self.attn_proj(y))
        x = x + self.drop(self.mlp_proj(gelu_new(self.c_fc(self.ln_2(x)))))
        return x, k, v


class GPT(nn.Module):
    def __init__(self, cfg: GPTConfig):
        super().__init__()
        self.cfg = cfg
        self.wte = nn.Embedding(cfg.vocab_size, cfg.n_embd)
        self.wpe = nn.Embedding(cfg.n_positions, cfg.n_embd)
        self.blocks = nn.ModuleList(Block(cfg) for _ in range(cfg.n_layer))
        self.ln_f = nn.LayerNorm(cfg.n_embd)
        self.apply(self._init)
        for b in self.blocks:  # GPT-2's scaled init of residual projections
            nn.init.normal_(b.attn_proj.weight, std=0.02 / math.sqrt(2 * cfg.n_layer))
            nn.init.normal_(b.mlp_proj.weight, std=0.02 / math.sqrt(2 * cfg.n_layer))

    @staticmethod
    def _init(m):
        if isinstance(m, nn.Linear):
            nn.init.normal_(m.weight, std=0.02)
            nn.init.zeros_(m.bias)
        elif isinstance(m, nn.Embedding):
            nn.init.normal_(m.weight, std=0.02)

    def num_parameters(self) -> int:
        return sum(p.numel() for p in self.parameters())

    def forward(self, input_ids, attention_mask=None, position_ids=None, past=None):
        """Returns (logits [B,T,V], presents [(k, v)] per layer).

        attention_mask [B, P+T] (1 = attend) covers past and new tokens, as in Hugging Face.
        The embedding matrix is used transposed for both lookup and output so the ONNX
        export holds it once (a tied weight otherwise appears twice after constant folding).
        """
        B, T = input_ids.shape
        P = 0 if past is None else past[0][0].shape[2]
        if position_ids is None:
            position_ids = torch.arange(P, P + T, device=input_ids.device).unsqueeze(0).expand(B, T)
        exporting = torch.onnx.is_in_onnx_export()
        if exporting:
            w_t = self.wte.weight.t()  # [C, V], folded into one initializer shared by lookup and output
            tok = torch.index_select(w_t, 1, input_ids.reshape(-1)).t().reshape(B, T, -1)
        else:
            # eager: indexing the transposed view would copy the whole matrix on every call
            tok = F.embedding(input_ids, self.wte.weight)
        x = tok + self.wpe(position_ids)
        # causal: query i (absolute P+i) may see key j <= P+i
        q_pos = torch.arange(T, device=input_ids.device).unsqueeze(1) + P
        k_pos = torch.arange(P + T, device=input_ids.device).unsqueeze(0)
        allowed = (k_pos <= q_pos).unsqueeze(0).unsqueeze(0)  # [1,1,T,S]
        if attention_mask is not None:
            allowed = allowed & (attention_mask[:, None, None, :] > 0)
        bias = (~allowed).to(x.dtype) * -1e9
        presents = []
        for i, blk in enumerate(self.blocks):
            pk, pv = (None, None) if past is None else past[i]
            x, k, v = blk(x, bias, pk, pv)
            presents.append((k, v))
        logits = torch.matmul(self.ln_f(x), w_t) if exporting else F.linear(self.ln_f(x), self.wte.weight)
        return logits, presents
