"""Pinyin with pypinyin's phrase and character dictionaries loaded only where a text can use them
(pipeline/reference.py) equals pinyin with the whole dictionaries, for the letter and for text built to
find a difference."""

from __future__ import annotations

import json
import random
import subprocess
import sys
from pathlib import Path

import pypinyin  # the whole dictionary in this process: imported before pipeline.reference can import it
from pypinyin.constants import PHRASES_DICT, PINYIN_DICT

from pipeline import config, reference
from tests.conftest import RAW_TEXT

PHRASE_FILE = Path(pypinyin.__file__).parent / "phrases_dict.json"
LAZY = """
import json, sys
from pipeline import reference
texts = json.load(sys.stdin)
out = [[reference.term_pinyin(t), reference.romanize(t), reference.place_pinyin(t, ""), reference.person_name(t)]
       for t in texts]
from pypinyin.constants import PHRASES_DICT, PINYIN_DICT
json.dump({"out": out, "phrases_loaded": len(PHRASES_DICT), "characters_loaded": len(PINYIN_DICT)}, sys.stdout)
"""


def readings(texts: list[str]) -> list[list[str]]:
    return [[reference.term_pinyin(t), reference.romanize(t), reference.place_pinyin(t, ""), reference.person_name(t)]
            for t in texts]


def lazy_readings(texts: list[str]) -> tuple[list[list[str]], int, int]:
    done = subprocess.run([sys.executable, "-c", LAZY], cwd=config.ROOT, input=json.dumps(texts), text=True,
                          capture_output=True, check=True)
    result = json.loads(done.stdout)
    return result["out"], result["phrases_loaded"], result["characters_loaded"]


def segmenter_traps(phrases: dict) -> list[str]:
    """Texts whose every prefix starts a phrase but is none, holding a later phrase read differently
    from its characters: the maximum-matching segmenter must not see that phrase. Loading only the
    phrases inside the text, without the phrases the text starts, gets these wrong."""
    traps = []
    for phrase in phrases:
        for n in range(3, len(phrase)):
            text = phrase[:n]
            if any(text[:m] in phrases for m in range(1, n + 1)):
                break
            if any(text[i:j] in phrases for i in range(1, n - 1) for j in range(i + 2, n + 1)):
                traps.append(text)
    return traps


def test_the_lazily_read_dictionary_is_the_whole_dictionary():
    whole = json.loads(PHRASE_FILE.read_text(encoding="utf-8"))
    assert list(whole) == sorted(whole), "the reader bisects phrases_dict.json, which must be sorted"
    read = {}
    for char in sorted({phrase[0] for phrase in whole}):
        keys, entries = reference._phrases_starting_with(char)
        assert keys == sorted(entries) and all(key.startswith(char) for key in keys)
        read |= entries
    assert read == whole
    assert reference._phrases_starting_with("a") == ([], {})


def test_lazy_phrases_give_the_readings_of_the_whole_dictionary():
    assert len(PHRASES_DICT) > 40_000, "this process should hold pypinyin's whole phrase dictionary"
    whole = json.loads(PHRASE_FILE.read_text(encoding="utf-8"))
    rng = random.Random(14)
    phrases = list(whole)
    texts = [line for line in RAW_TEXT.splitlines() if line.strip()]
    texts += [RAW_TEXT[i:i + rng.randint(1, 12)] for i in range(0, len(RAW_TEXT), 5)]
    traps = segmenter_traps(whole)
    texts += rng.sample(traps, min(len(traps), 300))
    for _ in range(800):  # fragments of phrases run together, with a little punctuation and Latin
        parts = []
        for _ in range(rng.randint(1, 5)):
            phrase = rng.choice(phrases)
            start = rng.randrange(len(phrase))
            parts.append(phrase if rng.random() < 0.3 else phrase[start:rng.randint(start + 1, len(phrase))])
            if rng.random() < 0.1:
                parts.append(rng.choice(["，", "1", "a", "（", " ", "〇"]))
        texts.append("".join(parts))
    lazy, loaded, characters = lazy_readings(texts)
    assert loaded < len(whole) // 4, "the subprocess should have loaded only the phrases its texts use"
    assert characters < len(PINYIN_DICT) // 4, "and only the characters its texts use"
    expected = readings(texts)
    wrong = [(text, want, got) for text, want, got in zip(texts, expected, lazy, strict=True) if want != got]
    assert not wrong, f"{len(wrong)} texts read differently, e.g. {wrong[:3]}"
    assert len(traps) > 10


def test_the_lazily_read_character_dictionary_is_the_whole_dictionary():
    whole = {int(code): readings for code, readings in
             json.loads((PHRASE_FILE.parent / "pinyin_dict.json").read_text(encoding="utf-8")).items()}
    assert list(whole) == sorted(whole), "the reader bisects pinyin_dict.json, which must be in code-point order"
    rng = random.Random(15)
    codes = sorted({*map(ord, RAW_TEXT), *rng.sample(sorted(whole), 3000), min(whole), max(whole)})
    assert all(reference._character_readings(code) == whole[code] for code in codes if code in whole)
    absent = [code for code in (0, ord("a"), ord("，"), min(whole) - 1, max(whole) + 1) if code not in whole]
    assert absent and all(reference._character_readings(code) is None for code in absent)
