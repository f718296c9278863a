"""Generic numeric-mention tokenizer for Chinese text.

It knows nothing about any particular document: it finds every number in the
text and says what kind of mention it is (a quantity, a date, a document
number, a name that merely contains digits, ...). Deciding which quantities are
*figures* of a document is the catalog's job, not this module's.

Offsets are code-point offsets into the string that was passed in, so
``text[m.char_start:m.char_end] == m.text`` always holds.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from typing import NamedTuple

KINDS = (
    "quantity",  # a count, amount, rate or range: the only kind that can be a figure
    "date",
    "year",
    "document_number",  # 保民政发〔2020〕2号, 第0132号
    "index_number",  # catalogue / disclosure identifiers such as 01525512-9-/2021-0729011
    "name",  # a name that contains a number: 长江265基金会, “12345”, “十三五”
    "ordinal",  # section and session ordinals: 一、, (二), 第三, 四届六次
    "idiom",  # set phrases built from numerals: 一肩挑, 两不愁三保障
)

QUALIFIERS = ("exact", "at_least", "below", "more_than", "approx", "range")


class Mention(NamedTuple):
    char_start: int
    char_end: int
    text: str
    value: float | None
    value_max: float | None
    unit: str | None
    qualifier: str | None
    kind: str


FIELDS = Mention._fields

_FULLWIDTH = str.maketrans("０１２３４５６７８９．，％", "0123456789.,%")
_D = "0-9０-９"
_NUM = rf"(?:[{_D}]{{1,3}}(?:,[{_D}]{{3}})+(?![{_D}])|[{_D}]+)(?:[.．][{_D}]+)?"
_CN_DIGITS = "零〇一二两三四五六七八九"
_CN = _CN_DIGITS + "十百千万亿"
_YEAR4 = rf"(?:[1１][9９]|[2２][0０])[{_D}]{{2}}"

# Counter words and units, longest first so that 平方米 wins over 米.
COUNTERS = sorted(
    """个月 人次 户次 件次 平方公里 平方米 公里 千米 公顷 公斤 千克 小时 分钟 百分点 美元
    个 名 人 户 项 件 类 种 年 岁 元 次 位 家 所 座 处 条 份 支 队 批 台 辆 套 张 本 篇
    场 天 秒 米 亩 吨 斤 倍 间 栋 幢 层 床 期 轮 届 部 块 辆 株 头 只 匹 棵 宗 笔""".split(),
    key=len,
    reverse=True,
)
_COUNTER = "|".join(map(re.escape, dict.fromkeys(COUNTERS)))

# Set phrases built from numerals. They are words, not quantities; the lookaheads
# keep a real quantity such as 四小时 from being swallowed.
IDIOMS = {
    "idiom": [
        "两不愁三保障", "三保障", "一肩挑", "一减一增", "一增一减", "一人多岗", "不漏一人", "一窝蜂",
        "最多跑一次", "一网通办", "一站式", "一事一议", "一村一品",
        "一户一策", "两委", "三农", "三会一课", "四步法", "双好双强", "两学一做", "一把手",
        "四小(?!时)",
    ],
    "name": ["十一五", "十二五", "十三五", "十四五", "十五五", "一部手机办事通"],
}
# Ordinary words that contain a numeral character; skipped, never reported.
_WORDS = ["进一步", "统一", "唯一", "之一", "万一", "一起", "一致", "一些", "一定", "一样", "一般", "一直",
          "一切", "一旦", "一线", "千万", "万分"]

_QUALIFIER_WORDS = {
    "至少": "at_least", "不少于": "at_least", "以上": "at_least", "及以上": "at_least",
    "以下": "below", "以内": "below", "不足": "below", "不到": "below",
    "余": "more_than", "多": "more_than", "超过": "more_than", "逾": "more_than",
    "近": "approx", "约": "approx", "大约": "approx", "左右": "approx",
}
_PRE = "至少|不少于|超过|不足|不到|大约|近|约|逾"
_POST = "及以上|以上|以下|以内|左右"
_RANGE = "至|到|——|—|－|-|~|～|–"

_PATTERN = re.compile(
    "|".join(
        [
            r"(?P<word>" + "|".join(_WORDS) + ")",
            r"(?P<idiom>" + "|".join(IDIOMS["idiom"]) + ")",
            r"(?P<plan>" + "|".join(IDIOMS["name"]) + ")",
            rf"(?P<docnum>[\u4e00-\u9fff]{{1,12}}[〔\[［【(（]{_YEAR4}[〕\]］】)）][{_D}]+号|第[{_D}]+号)",
            rf"(?P<date>{_YEAR4}(?:[-/.][{_D}]{{1,2}}[-/.][{_D}]{{1,2}}(?![{_D}])"
            rf"|年[{_D}]{{1,2}}月(?:[{_D}]{{1,2}}日)?)|(?<![{_D}])[{_D}]{{1,2}}月[{_D}]{{1,2}}日)",
            rf"(?P<code>[{_D}]+(?:[-/]+[0-9A-Za-z{_D[3:]}]+){{2,}})",
            rf"(?P<year>{_YEAR4}年度?|[〇零一二三四五六七八九]{{4}}年)",
            rf"(?P<session>[{_CN}]+届(?:[{_CN}]+次)?|[{_CN}]+次(?=会议|全会|全体会议))",
            rf"(?P<ordinal>第(?:{_NUM}|[{_CN}]+)|(?m:^)[ \t\u3000]*[{_CN}]+、|[(（][{_CN}]+[)）])",
            rf"(?P<quoted>(?<=[“\"「『]){_NUM}(?=[”\"」』]))",
            rf"(?P<pct>百分之(?P<pct_num>{_NUM}|[{_CN}]+))",
            rf"(?P<q>(?P<q_pre>{_PRE})?(?P<q_num>{_NUM})(?P<q_mult>[万亿])?"
            rf"(?:(?P<q_unit1>{_COUNTER}|[%％])?(?P<q_sep>{_RANGE})(?P<q_num2>{_NUM})(?P<q_mult2>[万亿])?)?"
            rf"(?P<q_approx>余|多)?(?P<q_unit>{_COUNTER}|[%％])?(?P<q_post>{_POST})?)",
            rf"(?P<c>(?P<c_pre>{_PRE})?(?P<c_num>[{_CN}]+)(?P<c_approx>余|多)?(?P<c_unit>{_COUNTER})(?P<c_post>{_POST})?)",
        ]
    )
)

_CJK = re.compile(r"[\u4e00-\u9fffA-Za-z]")
_MULTIPLIERS = {"万": 10_000, "亿": 100_000_000}


def parse_arabic(text: str) -> float:
    """Parse Arabic digits, half- or full-width, with optional separators and decimals."""
    return float(text.translate(_FULLWIDTH).replace(",", ""))


def parse_chinese(text: str) -> float:
    """Parse a Chinese numeral such as 两, 十三, 一百零五, 三千五百万 or 二〇二一."""
    digits = {c: i for i, c in enumerate("零一二三四五六七八九")} | {"〇": 0, "两": 2}
    if len(text) > 1 and all(c in digits for c in text):
        return float("".join(str(digits[c]) for c in text))
    small_units = {"十": 10, "百": 100, "千": 1000}
    total, section, number = 0, 0, 0
    for char in text:
        if char in digits:
            number = digits[char]
        elif char in small_units:
            section += (number or 1) * small_units[char]
            number = 0
        elif char in _MULTIPLIERS:
            total += (section + number or 1) * _MULTIPLIERS[char]
            section, number = 0, 0
        else:
            raise ValueError(f"not a Chinese numeral: {text!r}")
    return float(total + section + number)


def decimals(text: str) -> int:
    """Decimal places as printed: 12.5% -> 1, 3.40% -> 2, 7个 -> 0."""
    match = re.search(rf"[.．]([{_D}]+)", text)
    return len(match.group(1)) if match else 0


def iso_date(text: str) -> str | None:
    """Normalize a date or year mention to ISO 8601 (YYYY, YYYY-MM or YYYY-MM-DD)."""
    parts = [int(p) for p in re.findall(r"\d+", text.translate(_FULLWIDTH))]
    if not parts or parts[0] < 1000:
        return None
    return "-".join([f"{parts[0]:04d}"] + [f"{p:02d}" for p in parts[1:3]])


def _scaled(number: str, multiplier: str | None) -> float:
    return parse_arabic(number) * _MULTIPLIERS.get(multiplier or "", 1)


def _qualifier(*words: str | None) -> str:
    for word in words:
        if word:
            return _QUALIFIER_WORDS[word]
    return "exact"


def _looks_like_name(text: str, start: int, end: int) -> bool:
    """An integer glued between letters, as in 长江265基金会, is part of a name."""
    before = text[start - 1] if start > 0 else ""
    after = text[end] if end < len(text) else ""
    return bool(before and after and _CJK.match(before) and _CJK.match(after))


def _classify(match: re.Match[str], text: str) -> Mention:
    kind = match.lastgroup
    start, end = match.span(kind)
    span = text[start:end]
    if kind in ("idiom", "plan", "quoted", "docnum", "code", "date", "session", "ordinal"):
        kind_name = {"plan": "name", "quoted": "name", "docnum": "document_number",
                     "code": "index_number", "session": "ordinal"}.get(kind, kind)
        if kind_name == "ordinal":
            stripped = span.lstrip(" \t\u3000")
            start += len(span) - len(stripped)
            span = stripped
        return Mention(start, end, span, None, None, None, None, kind_name)
    if kind == "year":
        digits = span.rstrip("年度")
        value = parse_arabic(digits) if digits[0] in _D or digits[0].isdigit() else parse_chinese(digits)
        return Mention(start, end, span, value, None, None, None, "year")
    if kind == "pct":
        number = match.group("pct_num")
        value = parse_chinese(number) if number[0] in _CN else parse_arabic(number)
        return Mention(start, end, span, value, None, "%", "exact", "quantity")
    if kind == "c":
        value = parse_chinese(match.group("c_num"))
        unit = match.group("c_unit")
        qualifier = _qualifier(match.group("c_pre"), match.group("c_approx"), match.group("c_post"))
        return Mention(start, end, span, value, None, unit, qualifier, "quantity")
    # Arabic quantity
    g = match.group
    unit = g("q_unit") or g("q_unit1")
    unit = "%" if unit == "％" else unit
    value = _scaled(g("q_num"), g("q_mult"))
    if g("q_sep"):
        value_max = _scaled(g("q_num2"), g("q_mult2") or g("q_mult"))
        value = _scaled(g("q_num"), g("q_mult") or g("q_mult2"))
        return Mention(start, end, span, value, value_max, unit, "range", "quantity")
    bare = not (unit or g("q_pre") or g("q_post") or g("q_approx") or g("q_mult"))
    if bare and decimals(span) == 0 and _looks_like_name(text, start, end):
        return Mention(start, end, span, None, None, None, None, "name")
    qualifier = _qualifier(g("q_pre"), g("q_approx"), g("q_post"))
    return Mention(start, end, span, value, None, unit, qualifier, "quantity")


def iter_mentions(text: str, offset: int = 0) -> Iterator[Mention]:
    """Yield every numeric mention in ``text``, offsets shifted by ``offset``."""
    for match in _PATTERN.finditer(text):
        if match.lastgroup == "word":
            continue
        mention = _classify(match, text)
        if offset:
            mention = mention._replace(char_start=mention.char_start + offset,
                                       char_end=mention.char_end + offset)
        yield mention


def scan_lines(lines: Iterable[str]) -> Iterator[Mention]:
    """Stream mentions from an iterable of lines (e.g. an open file), keeping global offsets.

    Numbers never span a line break, so scanning line by line is exact and keeps
    memory bounded by the longest line.
    """
    offset = 0
    for line in lines:
        yield from iter_mentions(line, offset)
        offset += len(line)
