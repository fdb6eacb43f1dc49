"""Byte-level BPE (GPT-2 style) trainer and encoder, written out as a Hugging Face tokenizer.json.

Why hand-written: PyPI (and so the `tokenizers` package) is unreachable here and Debian does
not package it. The runtime never uses this encoder: it loads tokenizer.json with
@huggingface/transformers. So the pre-tokenizer below must split text exactly as
transformers.js' ByteLevel pre-tokenizer does (the GPT-2 regex with \\p{L}, \\p{N}, JS \\s);
Python's `re` has no \\p{..}, so the classes are built from unicodedata.
"""
from __future__ import annotations

import heapq
import json
import re
import sys
import unicodedata
from collections import Counter, defaultdict

SPECIAL_TOKEN = "<|endoftext|>"

# JavaScript's \s (ECMAScript WhiteSpace + LineTerminator), which differs from Python's.
_JS_SPACE = "\t\n\v\f\r \u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\ufeff"


def _class_of(prefix: str) -> str:
    """A regex character class body for every code point whose category starts with `prefix`."""
    ranges, start, prev = [], None, None
    for cp in range(0x110000):
        if unicodedata.category(chr(cp)).startswith(prefix):
            if start is None:
                start = cp
            elif cp != prev + 1:
                ranges.append((start, prev))
                start = cp
            prev = cp
    if start is not None:
        ranges.append((start, prev))
    esc = lambda c: re.escape(chr(c))
    return "".join(esc(a) if a == b else f"{esc(a)}-{esc(b)}" for a, b in ranges)


_L, _N = _class_of("L"), _class_of("N")
PRETOKENIZE = re.compile(
    rf"'s|'t|'re|'ve|'m|'ll|'d| ?[{_L}]+| ?[{_N}]+| ?[^{_JS_SPACE}{_L}{_N}]+|[{_JS_SPACE}]+(?![^{_JS_SPACE}])|[{_JS_SPACE}]+"
)


def bytes_to_unicode() -> dict[int, str]:
    """GPT-2's reversible byte -> printable character map (so symbols never contain spaces)."""
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + list(range(ord("®"), ord("ÿ") + 1))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return {b: chr(c) for b, c in zip(bs, cs)}


BYTE_CHAR = bytes_to_unicode()


def pretokenize(text: str) -> list[str]:
    return PRETOKENIZE.findall(text)


def train_bpe(text: str, vocab_size: int) -> tuple[list[str], list[tuple[str, str]]]:
    """Returns (id -> token string, merges). Ids: 256 byte symbols, merges, then SPECIAL_TOKEN last."""
    word_counts: Counter[str] = Counter()
    for doc in text.split(SPECIAL_TOKEN):
        word_counts.update(pretokenize(doc))
    symbols = [BYTE_CHAR[b] for b in range(256)]
    sym_id = {s: i for i, s in enumerate(symbols)}
    words = [[sym_id[BYTE_CHAR[b]] for b in w.encode("utf-8")] for w in word_counts]
    counts = list(word_counts.values())

    pair_count: defaultdict[tuple[int, int], int] = defaultdict(int)
    pair_words: defaultdict[tuple[int, int], set[int]] = defaultdict(set)
    for wi, w in enumerate(words):
        for p in zip(w, w[1:]):
            pair_count[p] += counts[wi]
            pair_words[p].add(wi)
    # Max-heap with lazy invalidation; ties broken by the pair itself so training is deterministic.
    heap = [(-c, p) for p, c in pair_count.items()]
    heapq.heapify(heap)

    merges: list[tuple[int, int]] = []
    n_merges = vocab_size - 256 - 1
    while len(merges) < n_merges and heap:
        neg, pair = heapq.heappop(heap)
        if pair_count.get(pair, 0) != -neg or -neg < 2:
            if pair_count.get(pair, 0) >= 2 and pair_count[pair] != -neg:
                heapq.heappush(heap, (-pair_count[pair], pair))
            continue
        new_id = len(symbols)
        symbols.append(symbols[pair[0]] + symbols[pair[1]])
        merges.append(pair)
        changed: set[tuple[int, int]] = set()
        for wi in list(pair_words[pair]):
            w, c = words[wi], counts[wi]
            for p in zip(w, w[1:]):
                pair_count[p] -= c
                changed.add(p)
            merged, i = [], 0
            while i < len(w):
                if i + 1 < len(w) and w[i] == pair[0] and w[i + 1] == pair[1]:
                    merged.append(new_id)
                    i += 2
                else:
                    merged.append(w[i])
                    i += 1
            words[wi] = merged
            for p in zip(merged, merged[1:]):
                pair_count[p] += c
                pair_words[p].add(wi)
                changed.add(p)
        del pair_count[pair]
        pair_words.pop(pair, None)
        for p in changed:
            if p in pair_count and pair_count[p] >= 2:
                heapq.heappush(heap, (-pair_count[p], p))
    symbols.append(SPECIAL_TOKEN)
    return symbols, [(symbols[a], symbols[b]) for a, b in merges]


class Encoder:
    """Rank-based BPE encoding (the same algorithm as tokenizers/transformers.js) for training data."""

    def __init__(self, symbols: list[str], merges: list[tuple[str, str]]):
        self.vocab = {s: i for i, s in enumerate(symbols)}
        self.ranks = {m: i for i, m in enumerate(merges)}
        self.cache: dict[str, list[int]] = {}
        self.special_id = self.vocab[SPECIAL_TOKEN]

    def _word(self, word: str) -> list[int]:
        hit = self.cache.get(word)
        if hit is not None:
            return hit
        parts = [BYTE_CHAR[b] for b in word.encode("utf-8")]
        while len(parts) > 1:
            best, best_rank = -1, None
            for i in range(len(parts) - 1):
                r = self.ranks.get((parts[i], parts[i + 1]))
                if r is not None and (best_rank is None or r < best_rank):
                    best, best_rank = i, r
            if best < 0:
                break
            parts[best : best + 2] = [parts[best] + parts[best + 1]]
        ids = [self.vocab[p] for p in parts]
        self.cache[word] = ids
        return ids

    def encode(self, text: str) -> list[int]:
        out: list[int] = []
        for k, doc in enumerate(text.split(SPECIAL_TOKEN)):
            if k:
                out.append(self.special_id)
            for w in pretokenize(doc):
                out.extend(self._word(w))
        return out


def tokenizer_json(symbols: list[str], merges: list[tuple[str, str]]) -> dict:
    special_id = symbols.index(SPECIAL_TOKEN)
    byte_level = {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": True, "use_regex": True}
    return {
        "version": "1.0",
        "truncation": None,
        "padding": None,
        "added_tokens": [
            {"id": special_id, "content": SPECIAL_TOKEN, "single_word": False, "lstrip": False,
             "rstrip": False, "normalized": True, "special": True}
        ],
        "normalizer": None,
        "pre_tokenizer": byte_level,
        "post_processor": {**byte_level, "trim_offsets": False},
        "decoder": byte_level,
        "model": {
            "type": "BPE", "dropout": None, "unk_token": None, "continuing_subword_prefix": "",
            "end_of_word_suffix": "", "fuse_unk": False, "byte_fallback": False, "ignore_merges": False,
            "vocab": {s: i for i, s in enumerate(symbols)},
            "merges": [f"{a} {b}" for a, b in merges],
        },
    }


def tokenizer_config(context_length: int) -> dict:
    return {
        "tokenizer_class": "GPT2Tokenizer",
        "bos_token": SPECIAL_TOKEN,
        "eos_token": SPECIAL_TOKEN,
        "unk_token": SPECIAL_TOKEN,
        "add_prefix_space": False,
        # transformers.js would otherwise glue Japanese/English punctuation differently on decode.
        "clean_up_tokenization_spaces": False,
        "model_max_length": context_length,
    }


if __name__ == "__main__":
    import time
    t = time.time()
    text = open(sys.argv[1], encoding="utf-8").read()[: int(sys.argv[2])]
    syms, merges = train_bpe(text, 1024)
    print(len(syms), merges[:10], time.time() - t)
    enc = Encoder(syms, merges)
    ids = enc.encode(text[:2000])
    print(len(ids), len(text[:2000]))
