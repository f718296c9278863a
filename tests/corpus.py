"""Deterministic synthetic Chinese corpus for the tokenizer benchmark.

Sentences of the source letter are shuffled into paragraphs and every figure in them is
replaced by a random one, so the text is not a repeated string and the tokenizer sees
fresh numbers everywhere. The corpus is streamed to a file, never held in memory.
"""

from __future__ import annotations

import random
import re
from pathlib import Path

from pipeline import config

_SENTENCE = re.compile(r"[^。；;！？\n]+[。；;！？]?")
_DIGITS = re.compile(r"[0-9]+")
_FULLWIDTH = str.maketrans("0123456789", "０１２３４５６７８９")


def sentences(text: str) -> list[str]:
    """The letter's sentences, without the `key | value |` header lines."""
    body = "\n".join(line for line in text.splitlines() if "|" not in line)
    return [s.strip() for s in _SENTENCE.findall(body) if len(s.strip()) >= 4]


def _new_figure(match: re.Match[str], rng: random.Random) -> str:
    digits = match.group()
    if len(digits) == 4 and digits[:2] in ("19", "20"):
        figure = str(rng.randrange(1990, 2031))  # keep years looking like years
    elif len(digits) == 1:
        figure = str(rng.randrange(10))
    else:
        figure = str(rng.randrange(10 ** (len(digits) - 1), 10 ** len(digits)))
    # A few full-width figures, as found in scanned or hand-typed sources.
    return figure.translate(_FULLWIDTH) if rng.random() < 0.05 else figure


def write_corpus(path: Path, size: int, seed: int = 6, source: Path = config.RAW_FILE) -> int:
    """Write at least `size` bytes of UTF-8 text to `path`, one paragraph per line; return the size."""
    rng = random.Random(seed)
    pool = sentences(source.read_text(encoding="utf-8"))
    written = 0
    with open(path, "w", encoding="utf-8", newline="\n") as out:
        while written < size:
            paragraph = "".join(_DIGITS.sub(lambda m: _new_figure(m, rng), s)
                                for s in rng.choices(pool, k=rng.randint(2, 12))) + "\n"
            out.write(paragraph)
            written += len(paragraph.encode("utf-8"))
    return written
