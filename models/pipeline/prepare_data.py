"""Turn the raw corpora into one speaker-prefixed format and split train/validation.

Why one format: the runtime's prompt builder (models/runtime/prompt.ts) writes
one line per speech, `NAME: text` for English and `名前　台詞` for Japanese, so
the model must see speeches as single lines. Shakespeare's multi-line verse is
joined with spaces; the Japanese plays are already one speech per line.

Validation is the LAST 5% of each corpus (cut at a speech boundary), so the
held-out text is unseen plays/scenes, not shuffled lines from the training set.
"""
from __future__ import annotations

import json
import re
import sys
from dataclasses import dataclass, asdict

DOC_SEPARATOR = "<|endoftext|>"


@dataclass
class Split:
    corpus: str
    path: str
    chars_total: int
    train_chars: int
    validation_from_char: int


def split_tail(text: str, fraction: float, boundary: str) -> int:
    """Index where validation starts: at `fraction` from the end, moved forward to `boundary`."""
    cut = int(len(text) * (1.0 - fraction))
    nxt = text.find(boundary, cut)
    return len(text) if nxt < 0 else nxt + len(boundary)


def shakespeare_to_lines(text: str) -> str:
    """`NAME:\\nverse\\nverse\\n\\n` blocks -> `NAME: verse verse` lines."""
    out = []
    for block in re.split(r"\n\s*\n", text.strip()):
        rows = [r.strip() for r in block.split("\n") if r.strip()]
        if len(rows) >= 2 and rows[0].endswith(":"):
            out.append(f"{rows[0]} {' '.join(rows[1:])}")
        elif rows:
            out.append(" ".join(rows))
    return "\n".join(out) + "\n"


def japanese_to_lines(text: str) -> str:
    """Keep speeches and indented stage directions; a work title starts a new document."""
    out: list[str] = []
    for row in text.split("\n"):
        if not row.strip():
            continue
        if row.startswith("=== "):
            out.append(DOC_SEPARATOR)
        # A speech continues on lines indented by exactly one full-width space;
        # stage directions are indented deeper. Join continuations to the speech.
        is_continuation = row.startswith("\u3000") and not row.startswith("\u3000\u3000")
        if is_continuation and out and not out[-1].startswith("\u3000") and out[-1] != DOC_SEPARATOR:
            out[-1] += row.strip()
            continue
        out.append(row.rstrip())
    return "\n".join(out) + "\n"


def prepare(ja_path: str, en_path: str, fraction: float = 0.05):
    """Returns (train_text, validation_texts{name: text}, splits)."""
    ja_raw = open(ja_path, encoding="utf-8").read()
    en_raw = open(en_path, encoding="utf-8").read()
    ja_cut = split_tail(ja_raw, fraction, "\n")
    en_cut = split_tail(en_raw, fraction, "\n\n")
    ja_train, ja_val = japanese_to_lines(ja_raw[:ja_cut]), japanese_to_lines(ja_raw[ja_cut:])
    en_train, en_val = shakespeare_to_lines(en_raw[:en_cut]), shakespeare_to_lines(en_raw[en_cut:])
    train = ja_train + DOC_SEPARATOR + "\n" + en_train
    splits = [
        Split("ja_plays", ja_path, len(ja_raw), ja_cut, ja_cut),
        Split("tinyshakespeare", en_path, len(en_raw), en_cut, en_cut),
    ]
    return train, {"ja_plays": ja_val, "tinyshakespeare": en_val}, splits


if __name__ == "__main__":
    train, val, splits = prepare(sys.argv[1], sys.argv[2])
    print(json.dumps([asdict(s) for s in splits], ensure_ascii=False, indent=1))
    print(train[:300])
    print("...")
    print(val["tinyshakespeare"][:300])
    print(val["ja_plays"][:300])
