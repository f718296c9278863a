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
from collections.abc import Generator, Iterable, Iterator
from typing import NamedTuple, TextIO

KINDS = (
    "quantity",  # a count, amount, rate or range: the only kind that can be a figure
    "date",
    "year",
    "document_number",  # 保民政发〔2020〕2号, 第0132号
    "index_number",  # catalogue / disclosure identifiers such as 01525512-9-/2021-0729011
    "name",  # a name that contains a number: 长江265基金会, “12345”, “十三五”
    "ordinal",  # section and session ordinals: 一、, (二), 第三, 四届六次
    "idiom",  # set phrases built from numerals: 一肩挑, 两不愁三保障
    "date_range",  # a span of years or months: （2023—2025年）, 1970—2019年, 1-4月
    "time",  # a clock time: 18:02, 17:03:09
    "reference_marker",  # a footnote or citation marker: [1]
    "phone",  # a telephone number: 0991-3532125, 4008-919-185, a mobile number
    "identifier",  # licence, registration, account and QQ numbers: 新B2-20050008, 12650000457601957
    "word",  # an ordinary word holding a numeral character: 进一步, 一般, 上一年
)

QUALIFIERS = ("exact", "at_least", "below", "more_than", "approx", "range")

# The words that qualify a number, by where they stand: before it (至少3名), between it and its
# counter (300余人), or after it (300人以上). Everything that finds a qualifier is generated from this
# table, so a word added here is found everywhere, including a short verb away from its number.
QUALIFIER_WORDS = {
    "before": {"至少": "at_least", "不少于": "at_least", "不低于": "at_least", "超过": "more_than",
               "逾": "more_than", "不足": "below", "不到": "below", "不超过": "below", "不高于": "below",
               "大约": "approx", "近": "approx", "约": "approx"},
    "inside": {"余": "more_than", "多": "more_than"},
    "after": {"及以上": "at_least", "以上": "at_least", "以下": "below", "以内": "below", "左右": "approx"},
}
# A lower bound may stand a short verb away from its number (至少参与1项, 不少于配备2名); other words
# must touch it, because 约 and 近 also end ordinary words (节约, 最近).
GAP_QUALIFIERS = ("at_least",)


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
# Full-width and ASCII punctuation are matched alike; one-to-one, so offsets hold.
PUNCTUATION = str.maketrans("，（）：；！？", ",():;!?")

# Every quantifier below is bounded, so a match attempt at one position examines at most
# MAX_REACH characters after it (lookaheads included) and MAX_BEHIND before it (lookbehinds, and
# the handlers' look at the text before a match). That makes scanning linear in the input, and it
# lets long lines be scanned in windows that overlap by MAX_REACH with MAX_BEHIND characters of
# context: a test checks both bounds against the compiled pattern. The limits are far beyond any
# real number (32 digits, 24-character Chinese numerals, codes of 8 parts); a longer run is read as
# several mentions rather than one.
MAX_DIGITS = 32
MAX_CN = 24
MAX_REACH = 400
MAX_BEHIND = 8
_DOCNUM_PREFIX = 12  # CJK characters a document number's prefix may have before its bracketed year

_D = "0-9０-９"
# An optional part, written (?:...|) rather than (?:...)?, which means the same (the part first, then
# nothing) but which the regular-expression engine runs as a branch: a repeat, which is what ? is
# for a group, allocates a context each time it is tried, and a number tries about ten optional parts.
def _opt(part: str) -> str:
    return f"(?:{part}|)"


# A number, with thousands separators or not, and decimals. The lookahead before the separators
# skips that repeat unless a separator follows.
_GROUPS = 10  # thousands groups after the first: 1,234,567 has two
_NUM = (rf"(?:(?=[{_D}]{{1,3}}+,)[{_D}]{{1,3}}(?:,[{_D}]{{3}}){{1,{_GROUPS}}}(?![{_D}])|[{_D}]{{1,{MAX_DIGITS}}}+)"
        + _opt(rf"[.．][{_D}]{{1,{MAX_DIGITS}}}+"))
_NUM_LENGTH = max(3 + 4 * _GROUPS, MAX_DIGITS) + 1 + MAX_DIGITS  # the longest number _NUM reads
_CN_DIGITS = "零〇一二两三四五六七八九"
_CN = _CN_DIGITS + "十百千万亿"
# A Chinese numeral, with decimals read after 点 (三十五点五, 二点五亿). Possessive: no counter word
# starts with a numeral character, so giving characters back could never find one.
_CN_RUN = rf"[{_CN}]{{1,{MAX_CN}}}+"
_CN_NUM = _CN_RUN + _opt(rf"点[{_CN_DIGITS}]{{1,{MAX_CN}}}+[万亿]?")
_YEAR4 = rf"(?:[1１][9９]|[2２][0０])[{_D}]{{2}}"

# Counter words and units, longest first so that 平方米 wins over 米. Administrative and place
# nouns are units too, so that a numeral before one is a quantity (两地, 三县, 五乡, 3个社区 or 3社区).
# 个百分点 is percentage points, reported as 百分点 like 百分点 itself.
COUNTERS = sorted(
    """个月 人次 户次 件次 平方公里 平方米 公里 千米 公顷 公斤 千克 小时 分钟 个百分点 百分点 美元
    个 名 人 户 项 件 类 种 年 岁 元 次 位 家 所 座 处 条 份 支 队 批 台 辆 套 张 本 篇
    场 天 秒 米 亩 吨 斤 倍 间 栋 幢 层 床 期 轮 届 部 块 辆 株 头 只 匹 棵 宗 笔 口 眼 所 克 ℃
    個 戶 項 類 種 歲 處 條 張 場 間 層 輛 頭 隻 畝 噸 萬元 億元""".split(),
    key=len,
    reverse=True,
)
PLACE_NOUNS = sorted("省 市 县 区 州 盟 旗 乡 镇 村 组 街道 社区 片区 地".split(), key=len, reverse=True)
# Nouns a Chinese numeral counts through 大 (三大门类, 四大板块): a count with no counter word.
# Only these, because 二十大 and 十九大 name party congresses.
BIG_NOUNS = sorted("""门类 类别 板块 产业 行业 领域 工程 任务 体系 战略 行动 片区 区域 攻坚战 方面 功能区 基地
    平台 阶梯 水系 流域 支柱产业 经济圈 城市群 主题 目标 重点""".split(), key=len, reverse=True)


def literal_alternation(words: Iterable[str]) -> str:
    """A pattern that matches what the alternation of ``words``, longest first, matches, in the same
    order of preference, as a trie: the words that can match at one position are prefixes of each
    other, so trying the longer first at each node (a greedy ``?``) is trying the longest first. The
    regular-expression engine tries each alternative of a plain alternation in turn (about 90 for the
    units, at every number); the trie tests one character class and a few branches."""
    words = list(dict.fromkeys(words))
    if "" in words:
        raise ValueError("an empty word")
    by_first: dict[str, list[str]] = {}
    for word in words:
        by_first.setdefault(word[0], []).append(word[1:])
    single, branches = [], []
    for first, rests in by_first.items():
        longer = [rest for rest in rests if rest]
        if not longer:
            single.append(re.escape(first))
            continue
        inner = literal_alternation(longer)
        optional = "?" if "" in rests else ""
        branches.append(f"{re.escape(first)}(?:{inner}){optional}")
    if single:
        branches.append(single[0] if len(single) == 1 else f"[{''.join(single)}]")
    return "|".join(branches)


_COUNTER = literal_alternation(COUNTERS)
_UNIT = literal_alternation([*COUNTERS, *PLACE_NOUNS])
_BIG_NOUN = "|".join(BIG_NOUNS)
_PERCENT = "[%％‰]"
_LONGEST_UNIT = max(map(len, [*COUNTERS, *PLACE_NOUNS]))
# Scales after Arabic digits, compound ones first so that 2万亿 is one number (2 * 10^12).
SCALES = {"万亿": 10**12, "千亿": 10**11, "百亿": 10**10, "十亿": 10**9, "千万": 10**7, "百万": 10**6,
          "十万": 10**5, "万": 10**4, "亿": 10**8,
          # The traditional forms (Taiwan, Hong Kong, and pages converted to them: 4.71億元).
          "萬億": 10**12, "千億": 10**11, "百億": 10**10, "十億": 10**9, "千萬": 10**7, "百萬": 10**6, "十萬": 10**5,
          "萬": 10**4, "億": 10**8}
_SCALE = "|".join(SCALES)

# Set phrases built from numerals. They are words, not quantities; the lookaheads
# keep a real quantity such as 四小时 from being swallowed. 一X一Y phrases (一户一策,
# 一村一警, 一社区(村)一警(辅警)) share one pattern.
_ONE_PER = (r"一(?:社区|村|乡|镇|县|户|人|企|事|岗|校|院)" + _opt(r"[(（][\u4e00-\u9fff]{1,3}[)）]")
            + r"一[\u4e00-\u9fff]" + _opt(r"[(（][\u4e00-\u9fff]{1,3}[)）]"))
IDIOMS = {
    "idiom": [
        "两不愁三保障", "三保障", "一肩挑", "一减一增", "一增一减", "一人多岗", "不漏一人", "一窝蜂",
        "最多跑一次", "一网通办", "一站式", "一事一议", "一村一品",
        "一户一策", "两委", "三农", "三会一课", "四步法", "双好双强", "两学一做", "一把手", "几大员",
        "四小(?!时)", _ONE_PER,
    ],
    # Names that contain a numeral: plans, an app, an organisation and place names.
    "name": ["十一五", "十二五", "十三五", "十四五", "十五五", "一部手机办事通", "四叶草", "九峰"],
}
# Ordinary words that contain a numeral character: reported as kind "word", never a quantity.
# 千万 and 万分 are words only when no counter or fraction follows (千万不要; 千万人 is a count).
WORDS = ["进一步", "统一", "唯一", "之一", "万一", "一起", "一致", "一些", "一定", "一样", "一般", "一直",
         "一切", "一旦", "一线", "同一", "单一", "某一", "逐一", "新一届", "上一届", "下一届", "上一年度",
         "上一年", "下一年", "上一步", "下一步", "上一个", "下一个", "一体化", "一系列", "一方面", "另一方面",
         "第一时间", "一次性", "一批", "千万(?![万亿]|{unit})", "万分(?!之)"]
_WORDS = [word.replace("{unit}", _UNIT) for word in WORDS]

_PRE = "|".join(sorted(QUALIFIER_WORDS["before"], key=len, reverse=True))
_INSIDE = "|".join(QUALIFIER_WORDS["inside"])
_POST = "|".join(sorted(QUALIFIER_WORDS["after"], key=len, reverse=True))
_QUALIFIER_OF = {word: q for words in QUALIFIER_WORDS.values() for word, q in words.items()}
# A range's separator: 至, 到, ——, —, ... as one character class (—— before —, the longer first).
_RANGE_CHARS = "至到－~～–-"
_RANGE = f"——?|[{_RANGE_CHARS}]"
_DATE_RANGE = _RANGE
# Every bracket a document number's year is written in, full- and half-width.
_OPEN, _CLOSE = r"〔\[［【(（﹝〖﹙", r"〕\]］】)）﹞〗﹚"
_MONTH = r"(?:[1１][0-2０-２]|[0０]?[1-9１-９])"


def gap_qualifier_pattern(table: dict[str, dict[str, str]]) -> tuple[re.Pattern[str], re.Pattern[str]]:
    """The pattern of a qualifier a short verb away from its number (至少参与1项: up to 3 CJK characters
    that are not numerals, nothing else between), and a one-character pre-check for it: the last
    characters of those words. Both come from the qualifier table, so a word added there is found."""
    words = sorted((w for w, q in table["before"].items() if q in GAP_QUALIFIERS), key=len, reverse=True)
    found = re.compile(rf"({'|'.join(words)})(?:(?![{_CN}])[\u4e00-\u9fff]){{1,3}}$")
    return found, re.compile("[" + "".join(sorted({w[-1] for w in words})) + "]")


_GAP_QUALIFIER, _GAP_HINT = gap_qualifier_pattern(QUALIFIER_WORDS)
# A bare number right after one of these labels is an identifier (QQ：12345678, 邮编830063).
_IDENTIFIER_LABEL = re.compile(r"(?:QQ群?号?|qq|邮编|邮政编码|编号|代码|证号|备案号|许可证|登记号|注册号|账号|卡号"
                               r"|标识码)"
                               r"[:：\s]{0,2}$")
_MOBILE = re.compile(r"1[3-9]\d{9}")
_HOTLINE_LABEL = re.compile(r"热线[:：\s]{0,2}$")  # 政务服务便民热线:12345
# After a bare number: the blank and the 年, 月 or 日 of a date written with blanks between its parts.
_SPACED_DATE_PART = re.compile(r"[ \u3000]{1,2}(年度|年|月|日)")
_LIST_MARKER = re.compile(r"[.．](?![0-9０-９])")  # 1.紧抓产业: a list item's number, not 1.5


def _at_line_start(text: str, start: int) -> bool:
    """Only blanks (at most a few) between the start of the line, or of the text, and `start`: looked at
    within a bounded reach, so that the scan stays linear."""
    reach = text[max(0, start - 4):start]
    blanks = reach.rstrip(" \t\u3000")
    return blanks.endswith("\n") or (blanks == "" and start == len(reach))
_MIN_IDENTIFIER_DIGITS = 11  # a bare run this long with no unit is a code, not a count (10 digits can be a population)
# Province abbreviations that open a licence number (新B2-20050008, 京ICP备12345678号).
_PROVINCES = set("京津沪渝冀晋辽吉黑苏浙皖闽赣鲁豫鄂湘粤琼川贵黔云滇陕甘陇青蒙桂藏宁新港澳台")

_DOCNUM_WITH_YEAR = rf"[\u4e00-\u9fff]{{1,{_DOCNUM_PREFIX}}}+[{_OPEN}]{_YEAR4}[{_CLOSE}][{_D}]{{1,{MAX_DIGITS}}}+号"
_DOCNUM_ORDINAL = rf"第[{_D}]{{1,{MAX_DIGITS}}}+号"
_ALTERNATIVES = [
    r"(?P<word>" + "|".join(_WORDS) + ")",
    r"(?P<idiom>" + "|".join(IDIOMS["idiom"]) + ")",
    r"(?P<plan>" + "|".join(IDIOMS["name"]) + ")",
    rf"(?P<docnum>{_DOCNUM_WITH_YEAR}|{_DOCNUM_ORDINAL})",
    # Telephone numbers: an area code and a local number, or a 400 service number.
    rf"(?P<phone>(?<![{_D}])(?:0[{_D}]{{2,3}}[-－][{_D}]{{7,8}}|[(（]0[{_D}]{{2,3}}[)）][{_D}]{{7,8}}"
    rf"|[48]00[{_D}]?[-－][{_D}]{{3}}[-－][{_D}]{{3,4}})(?![{_D}]))",
    # Licence and registration numbers with letters: B2-20050008, ICP备12345678号.
    rf"(?P<ident>[A-Z]{{1,4}}[0-9]{{0,2}}[-－][0-9]{{5,{MAX_DIGITS}}}+|[A-Z]{{2,4}}[备证][0-9]{{4,{MAX_DIGITS}}}+号"
    rf"{_opt('-[0-9]{1,4}+')})",
    # Spans of years (2023—2025年, （2023—2025）, 2015年至2019年) and of months (1-4月).
    rf"(?P<drange>{_YEAR4}{_opt('年度?')}(?:{_DATE_RANGE}){_YEAR4}(?:年度?|(?=[)）]))"
    rf"|(?<![{_D}.．]){_MONTH}(?:{_DATE_RANGE}){_MONTH}月)",
    rf"(?P<time>(?<![{_D}])(?:[01０１]?[{_D}]|[2２][0-3０-３])[:：][0-5０-５][{_D}]{_opt(f'[:：][0-5０-５][{_D}]')}"
    rf"(?![{_D}:：]))",
    rf"(?P<ref>[\[［][{_D}]{{1,3}}[\]］])",
    rf"(?P<date>{_YEAR4}(?:[-/.][{_D}]{{1,2}}[-/.][{_D}]{{1,2}}(?![{_D}])"
    rf"|年[{_D}]{{1,2}}月{_opt(f'[{_D}]{{1,2}}日')})|(?<![{_D}])[{_D}]{{1,2}}月{_opt(f'[{_D}]{{1,2}}日')}"
    rf"|(?<![{_D}/])[{_D}]{{2}}/[{_D}]{{2}}(?![{_D}/])|(?<![{_D}])[{_D}]{{1,2}}日(?![内以之]))",
    rf"(?P<code>[{_D}]{{1,{MAX_DIGITS}}}+(?:[-/]{{1,4}}+[0-9A-Za-z{_D[3:]}]{{1,{MAX_DIGITS}}}+){{2,8}})",
    rf"(?P<year>{_YEAR4}年度?|[〇零一二三四五六七八九]{{4}}年)",
    rf"(?P<session>{_CN_RUN}届{_opt(f'{_CN_RUN}次')}|{_CN_RUN}次(?=会议|全会|全体会议))",
    rf"(?P<ordinal>第(?:{_NUM}|{_CN_RUN})|(?m:^)[ \t\u3000]{{0,{MAX_CN}}}+{_CN_RUN}、|[(（]{_CN_RUN}[)）])",
    # Names: a number in quotes (“12345”, a campaign “3 1 1”) and a ranking (100强, 百强县).
    rf"(?P<quoted>(?<=[“\"「『])[{_D}](?:[ \u3000]{{0,2}}+[{_D}]){{0,{MAX_CN}}}+(?=[”\"」』]))",
    rf"(?P<rank>(?:{_NUM}|[{_CN}]{{1,4}}+)强(?![化调度大劲]))",
    rf"(?P<pct>{_opt(f'(?P<pct_pre>{_PRE})')}(?P<pct_scale>[百千])分之(?P<pct_num>{_NUM}|{_CN_NUM})"
    rf"{_opt(f'(?P<pct_post>{_POST})')})",
    # A fraction: 三分之一, 近三分之一. The denominator starts with a non-zero digit or numeral.
    rf"(?P<frac>{_opt(f'(?P<frac_pre>{_PRE})')}(?P<frac_den>[1-9１-９][{_D}]{{0,{MAX_DIGITS}}}+"
    rf"|[一二两三四五六七八九十百千万亿][{_CN}]{{0,{MAX_CN}}}+)分之(?P<frac_num>{_NUM}|{_CN_NUM})"
    rf"{_opt(f'(?P<frac_post>{_POST})')})",
    rf"(?P<q>{_opt(f'(?P<q_pre>{_PRE})')}(?P<q_num>{_NUM}){_opt(f'(?P<q_approx0>{_INSIDE})')}"
    rf"{_opt(f'(?P<q_mult>{_SCALE})')}"
    # A range's separator follows the first number or its unit, which holds no separator.
    + _opt(rf"(?=[^—{_RANGE_CHARS}]{{0,{_LONGEST_UNIT}}}+[—{_RANGE_CHARS}])"
           rf"{_opt(f'(?P<q_unit1>{_UNIT}|{_PERCENT})')}(?P<q_sep>{_RANGE})(?P<q_num2>{_NUM})"
           rf"{_opt(f'(?P<q_mult2>{_SCALE})')}")
    + rf"{_opt(f'(?P<q_approx>{_INSIDE})')}{_opt(f'(?P<q_unit>{_UNIT}|{_PERCENT})')}{_opt(f'(?P<q_post>{_POST})')}"
    # The first of a pair that shares its unit: 4.2和2.1个百分点, 5.2和4.9%.
    + _opt(rf"(?P<q_pair>(?=[和与及、])(?=(?:[和与及、][{_D}]{{1,12}}+(?:[.．][{_D}]{{1,6}}+)?){{1,3}}"
           rf"(?:个?百分点|{_PERCENT})))") + ")",
    rf"(?P<c>{_opt(f'(?P<c_pre>{_PRE})')}(?P<c_num>{_CN_NUM}){_opt(f'(?P<c_approx>{_INSIDE})')}"
    rf"(?:大(?P<c_noun>{_BIG_NOUN})|(?P<c_unit>{_UNIT})){_opt(f'(?P<c_post>{_POST})')})",
]

# Python's regex engine tries every alternative at every position, which made scanning cost
# about 1 µs per character. Every alternative but one starts with a character of its guard below;
# a document number starts up to 12 CJK characters before a bracketed year. The lookahead on
# _START tests the union, so most positions fail after one character test, and each alternative's
# own guard rejects a position in one test instead of entering its groups and lookbehinds. A guard
# only rejects positions where its alternative cannot match, so the matches are those of the plain
# alternation (tests compare the two on random and corpus text).
# Each guard is the inside of a character class: the characters its alternative can start with.
_PRE_FIRST = "".join(sorted({word[0] for word in QUALIFIER_WORDS["before"]}))
_GUARDS = {
    "word": "".join(sorted({word[0] for word in _WORDS})),
    "idiom": "".join(sorted({word[0] for word in IDIOMS["idiom"]})),
    "plan": "".join(sorted({word[0] for word in IDIOMS["name"]})),
    "docnum": None, "phone": f"{_D}(（", "ident": "A-Z", "drange": _D, "time": _D, "ref": r"\[［", "date": _D,
    "code": _D, "year": f"{_D}〇零一二三四五六七八九", "session": _CN, "ordinal": f"第(（ \t\u3000{_CN}",
    "quoted": _D, "rank": _D + _CN, "pct": f"{_PRE_FIRST}百千", "frac": _PRE_FIRST + _D + _CN, "q": _PRE_FIRST + _D,
    "c": _PRE_FIRST + _CN,
}


# Where a character test is too weak (a digit starts ten alternatives), an alternative's guard is a
# lookahead that every match of it satisfies, a cheap prefix of the alternative itself: the run of
# digits before a date's 年月日, a time's colon or a code's dash, the numeral before a fraction's 分之.
# Each holds whenever its alternative matches (checked by the same tests as the guards), so it only
# rejects positions sooner. The possessive runs are right because the character after each run is
# not in the run's class (a digit run ends where 年, a dash or 强 begins).
_AFTER_PRE = _opt(_PRE)
_LOOKAHEADS = {
    "phone": rf"0[{_D}]{{2,3}}+[-－]|[(（]0|[48]00",
    "drange": rf"[{_D}]{{1,4}}+{_opt('年度?')}(?:{_DATE_RANGE})",
    "time": rf"[{_D}]{{1,2}}+[:：]",
    "date": rf"[{_D}]{{1,4}}+[-/.年月日]",
    "code": rf"[{_D}]{{1,{MAX_DIGITS}}}+[-/]",
    "year": rf"[{_D}]{{4}}年|[〇零一二三四五六七八九]{{4}}年",
    "session": rf"[{_CN}]{{1,{MAX_CN}}}+[届次]",
    "ordinal": rf"第|[(（][{_CN}]|[ \t\u3000]{{0,{MAX_CN}}}+[{_CN}]{{1,{MAX_CN}}}+、",
    # A rank's number is at most _NUM_LENGTH digits, separators and points, or 4 numerals.
    "rank": rf"[{_D},.．{_CN}]{{1,{_NUM_LENGTH}}}+强",
    "pct": rf"{_AFTER_PRE}[百千]分之",
    # A denominator is at most MAX_DIGITS + 1 digits or MAX_CN + 1 numerals.
    "frac": rf"{_AFTER_PRE}[{_D}{_CN}]{{1,{max(MAX_DIGITS, MAX_CN) + 1}}}+分之",
}


def _guarded(alternative: str) -> str:
    name = re.match(r"\(\?P<(\w+)>", alternative).group(1)
    guard = _GUARDS[name]
    if name in _LOOKAHEADS:
        return f"(?={_LOOKAHEADS[name]}){alternative}"
    return alternative if guard is None else f"(?=[{guard}]){alternative}"


_START = "[" + "".join(guard for guard in _GUARDS.values() if guard) + "]"
# Possessive: brackets are not CJK, so giving back CJK characters could never find one.
_DOCNUM_START = rf"[\u4e00-\u9fff]{{1,{_DOCNUM_PREFIX}}}+[{_OPEN}]{_YEAR4}"
# At a digit the engine would still test the guard of each alternative in turn, and nine of them
# cannot start with a digit: those come first, behind one test. This order differs from that of
# _ALTERNATIVES only for alternatives that can never match at the same position, so the matches
# are the same (tests compare the pattern with the plain alternation). ident and ref share no first
# character with the alternatives they now precede; session, ordinal and pct now precede phone,
# year and rank, but at a numeral a session's run ends in 届 or 次, an ordinal's in 、, a
# percentage's 百 or 千 in 分之, a year's in 年 and a rank's in 强, and after ( an ordinal has a
# numeral where a phone number has 0.
_NOT_AT_DIGIT = ("word", "idiom", "plan", "docnum", "ident", "ref", "session", "ordinal", "pct")
_BY_NAME = {re.match(r"\(\?P<(\w+)>", alternative).group(1): alternative for alternative in _ALTERNATIVES}
_BODY = (f"(?![{_D}])(?:{'|'.join(_guarded(_BY_NAME[name]) for name in _NOT_AT_DIGIT)})|"
         + "|".join(_guarded(alternative) for name, alternative in _BY_NAME.items() if name not in _NOT_AT_DIGIT))
_PATTERN = re.compile(rf"(?={_START}|{_DOCNUM_START})(?:{_BODY})")
# Most text has no bracketed year, so no document number can start at a CJK character there.
_BRACKETED_YEAR = re.compile(rf"[{_OPEN}]{_YEAR4}")
# The year of a document number: 〔2020〕, ﹝2021﹞, (２０２１), ... (int() reads full-width digits).
YEAR_IN_BRACKETS = re.compile(rf"[{_OPEN}]({_YEAR4})[{_CLOSE}]")
# Where no bracketed year is within reach, a document number with a year cannot match either, so
# that pattern leaves it out instead of scanning up to 12 CJK characters at every numeral.
_PATTERN_WITHOUT_DOCNUM_START = re.compile(
    rf"(?={_START})(?:{_BODY.replace(_DOCNUM_WITH_YEAR + '|', '', 1)})")

_CJK = re.compile(r"[\u4e00-\u9fffA-Za-z]")
_NAME_AFTER = re.compile(r"基金会|公司|集团|协会|学会|研究院|学院|大学|中学|小学|医院|热线|工程|部队|[A-Za-z]")
_DECIMALS = re.compile(rf"[.．]([{_D}]+)")
_MULTIPLIERS = {"万": 10_000, "亿": 100_000_000}
_CN_VALUES = {c: i for i, c in enumerate("零一二三四五六七八九")} | {"〇": 0, "两": 2}
_CN_SMALL_UNITS = {"十": 10, "百": 100, "千": 1000}
_YEAR_DIGITS = re.compile(rf"{_YEAR4}")


def parse_arabic(text: str) -> float:
    """Parse Arabic digits, half- or full-width, with optional separators and decimals."""
    try:
        # float() reads full-width digits itself; only separators and a full-width point need work.
        return float(text)
    except ValueError:
        return float(text.translate(_FULLWIDTH).replace(",", ""))


def parse_chinese(text: str) -> float:
    """Parse a Chinese numeral such as 两, 十三, 一百零五, 三千五百万, 两万亿 or 二〇二一."""
    digits = _CN_VALUES
    if "点" in text:
        whole, _, rest = text.partition("点")
        fraction = rest.rstrip("万亿")
        value = parse_chinese(whole) + float("0." + "".join(str(digits[c]) for c in fraction))
        return value * _MULTIPLIERS.get(rest[len(fraction):], 1)
    if len(text) > 1 and all(c in digits for c in text):
        return float("".join(str(digits[c]) for c in text))
    total, section, number = 0, 0, 0
    for char in text:
        if char in digits:
            number = digits[char]
        elif char in _CN_SMALL_UNITS:
            section += (number or 1) * _CN_SMALL_UNITS[char]
            number = 0
        elif char == "亿":  # 亿 scales everything before it: 两万亿 is 2 * 10^4 * 10^8
            total = (total + section + number or 1) * _MULTIPLIERS[char]
            section, number = 0, 0
        elif char in _MULTIPLIERS:
            total += (section + number or 1) * _MULTIPLIERS[char]
            section, number = 0, 0
        else:
            raise ValueError(f"not a Chinese numeral: {text!r}")
    return float(total + section + number)


def decimals(text: str) -> int:
    """Decimal places as printed: 12.5% -> 1, 3.40% -> 2, 7个 -> 0."""
    match = _DECIMALS.search(text)
    return len(match.group(1)) if match else 0


def iso_date(text: str) -> str | None:
    """Normalize a date or year mention to ISO 8601 (YYYY, YYYY-MM or YYYY-MM-DD)."""
    parts = [int(p) for p in re.findall(r"\d+", text.translate(_FULLWIDTH))]
    if not parts or parts[0] < 1000:
        return None
    return "-".join([f"{parts[0]:04d}"] + [f"{p:02d}" for p in parts[1:3]])


def _scaled(number: str, scale: str | None) -> float:
    return parse_arabic(number) * SCALES[scale] if scale else parse_arabic(number)


def _looks_like_name(text: str, start: int, end: int) -> bool:
    """An integer glued into a name: 长江265基金会, 5G. Anything else stays a quantity, so that a
    number with an unknown counter word is still reported and must be accounted for."""
    before = text[start - 1] if start > 0 else ""
    return bool(before and _CJK.match(before) and _NAME_AFTER.match(text, end))


def _bare_kind(text: str, start: int, end: int) -> str:
    """What a bare integer with no unit or qualifier is: a name glued into one (长江265基金会), an
    identifier (a long code, a QQ or postcode after its label, part of an e-mail address, a run that
    opens with a zero), a mobile phone number or a hotline, a part of a date written with blanks
    (2022 年 9 月 16 日), a list item's number at the start of its line (1.紧抓产业), or else a quantity
    that must be accounted for."""
    if _looks_like_name(text, start, end):
        return "name"
    digits = end - start
    before = text[start - 1] if start > 0 else ""
    part = _SPACED_DATE_PART.match(text, end)
    if part and text[start:end].isdigit():
        value = int(text[start:end].translate(_FULLWIDTH))
        if (part.group(1) in ("年", "年度") and digits == 4 and 1900 <= value <= 2099) \
                or (part.group(1) == "月" and 1 <= value <= 12) or (part.group(1) == "日" and 1 <= value <= 31):
            return "year" if part.group(1).startswith("年") else "date"
    if _LIST_MARKER.match(text, end) and _at_line_start(text, start):
        return "ordinal"
    if digits >= 2 and text[start] in "0０" and text[start:end].isdigit():
        return "identifier"
    if _HOTLINE_LABEL.search(text, max(0, start - MAX_BEHIND), start):
        return "phone"
    if digits >= _MIN_IDENTIFIER_DIGITS and text[start:end].isdigit():  # 12,345,678,901 stays a count
        return "phone" if digits == 11 and _MOBILE.fullmatch(text, start, end) else "identifier"
    if text[end:end + 1] == "@" or ("A" <= before <= "Z" or "a" <= before <= "z"):
        return "identifier"
    if _IDENTIFIER_LABEL.search(text, max(0, start - MAX_BEHIND), start):
        return "identifier"
    return "quantity"


def _gap_qualifier(text: str, start: int) -> str:
    """The qualifier of a lower-bound word a few characters before the number (至少参与1项), else exact."""
    before = max(0, start - MAX_BEHIND)
    if not _GAP_HINT.search(text, before, start):  # most numbers are not near any such word
        return "exact"
    found = _GAP_QUALIFIER.search(text, before, start)
    return _QUALIFIER_OF[found.group(1)] if found else "exact"


# One function per alternative of _PATTERN, each building its Mention directly: tuple.__new__
# skips the NamedTuple's Python-level __new__, which showed up in the profile.
_tuple = tuple.__new__
_Q_GROUPS = ("q_pre", "q_num", "q_approx0", "q_mult", "q_unit1", "q_sep", "q_num2", "q_mult2", "q_approx", "q_unit",
             "q_post", "q_pair")
_C_GROUPS = ("c_pre", "c_num", "c_approx", "c_noun", "c_unit", "c_post")
# Group numbers, the same in both patterns: match.group(*numbers) is cheaper than a lookup by name.
_Q_INDEX = tuple(_PATTERN.groupindex[g] for g in _Q_GROUPS)
_C_INDEX = tuple(_PATTERN.groupindex[g] for g in _C_GROUPS)
assert _PATTERN.groupindex == _PATTERN_WITHOUT_DOCNUM_START.groupindex
_gap_hint = _GAP_HINT.search
_PAIR_UNIT = re.compile(rf"百分点|{_PERCENT}")


_UNIT_NAMES = {"％": "%", "个百分点": "百分点"}


def _unit(unit: str | None) -> str | None:
    return _UNIT_NAMES.get(unit, unit)


def _arabic_quantity(match: re.Match[str], text: str, offset: int) -> Mention:
    pre, number, approx0, mult, unit1, sep, number2, mult2, approx, unit, post, pair = match.group(*_Q_INDEX)
    start, end = match.span()
    if sep is not None:
        return _arabic_range(match, text, offset)
    # Without a range there is no unit before a separator (unit1): the unit is the one after.
    if unit is not None:
        if unit in _UNIT_NAMES:
            unit = _UNIT_NAMES[unit]
    elif pair is not None:  # 4.2和2.1个百分点: the pair's unit is this number's too
        unit = _unit(_PAIR_UNIT.search(text, end, end + MAX_REACH).group())
    word = pre or approx0 or approx or post
    if word is not None:
        qualifier = _QUALIFIER_OF[word]
    else:
        # With no unit, word or scale the span is the number alone, whose decimal point (if any)
        # is followed by digits: no point is decimals(span) == 0.
        if unit is None and mult is None and "." not in number and "．" not in number:
            kind = _bare_kind(text, start, end)
            if kind != "quantity":
                year = float(number.translate(_FULLWIDTH)) if kind == "year" else None  # as 2022年 has
                return _tuple(Mention, (start + offset, end + offset, number, year, None, None, None, kind))
        if _gap_hint(text, start - MAX_BEHIND if start > MAX_BEHIND else 0, start) is None:
            qualifier = "exact"  # most numbers: no lower-bound word within reach (_gap_qualifier's first test)
        else:
            qualifier = _gap_qualifier(text, start)
    try:
        value = float(number)  # the common case: ASCII or full-width digits, no separator
    except ValueError:
        value = parse_arabic(number)
    if mult is not None:
        value *= SCALES[mult]
    return _tuple(Mention, (start + offset, end + offset, match.group(), value, None, unit, qualifier, "quantity"))


def _arabic_range(match: re.Match[str], text: str, offset: int) -> Mention:
    """A range (2至3人, 1-2万元), or an identifier after its label (编号1-2)."""
    _, number, _, mult, unit1, _, number2, mult2, _, unit, _, pair = match.group(*_Q_INDEX)
    start, end = match.span()
    span = match.group()
    unit = _unit(unit or unit1)
    if pair is not None and unit is None:
        unit = _unit(_PAIR_UNIT.search(text, end, end + MAX_REACH).group())
    if not (unit or mult or mult2) and _IDENTIFIER_LABEL.search(text, max(0, start - MAX_BEHIND), start):
        return _tuple(Mention, (start + offset, end + offset, span, None, None, None, None, "identifier"))
    value = _scaled(number, mult or mult2)
    value_max = _scaled(number2, mult2 or mult)
    return _tuple(Mention, (start + offset, end + offset, span, value, value_max, unit, "range", "quantity"))


def _chinese_quantity(match: re.Match[str], text: str, offset: int) -> Mention:
    start, end = match.span()
    pre, number, approx, noun, unit, post = match.group(*_C_INDEX)
    word = pre or approx or post
    if word:
        qualifier = _QUALIFIER_OF[word]
    elif _gap_hint(text, start - MAX_BEHIND if start > MAX_BEHIND else 0, start) is None:
        qualifier = "exact"
    else:
        qualifier = _gap_qualifier(text, start)
    return _tuple(Mention, (start + offset, end + offset, text[start:end], parse_chinese(number), None,
                            _unit(noun or unit), qualifier, "quantity"))


def _number(text: str) -> float:
    return parse_chinese(text) if text[0] in _CN else parse_arabic(text)


def _percent(match: re.Match[str], text: str, offset: int) -> Mention:
    """百分之五十 is 50 %, 千分之五 is 5 ‰."""
    start, end = match.span()
    pre, scale, number, post = match.group("pct_pre", "pct_scale", "pct_num", "pct_post")
    word = pre or post
    return _tuple(Mention, (start + offset, end + offset, text[start:end], _number(number), None,
                            "%" if scale == "百" else "‰", _QUALIFIER_OF[word] if word else "exact", "quantity"))


def _fraction(match: re.Match[str], text: str, offset: int) -> Mention:
    """三分之一 is the proportion 1/3: its value is the number itself, with no unit."""
    start, end = match.span()
    pre, denominator, numerator, post = match.group("frac_pre", "frac_den", "frac_num", "frac_post")
    word = pre or post
    value = _number(numerator) / _number(denominator)  # the pattern admits no zero denominator
    return _tuple(Mention, (start + offset, end + offset, text[start:end], value, None, None,
                            _QUALIFIER_OF[word] if word else "exact", "quantity"))


def _year(match: re.Match[str], text: str, offset: int) -> Mention:
    start, end = match.span()
    span = text[start:end]
    digits = span.rstrip("年度")
    value = parse_arabic(digits) if digits[0] in _D or digits[0].isdigit() else parse_chinese(digits)
    return _tuple(Mention, (start + offset, end + offset, span, value, None, None, None, "year"))


def _date_range(match: re.Match[str], text: str, offset: int) -> Mention:
    """A span of years has the first and last year as value and value_max; a span of months has none."""
    start, end = match.span()
    years = _YEAR_DIGITS.findall(text, start, end)
    first, last = (parse_arabic(years[0]), parse_arabic(years[-1])) if len(years) == 2 else (None, None)
    return _tuple(Mention, (start + offset, end + offset, text[start:end], first, last, None, None, "date_range"))


def _identifier(match: re.Match[str], text: str, offset: int) -> Mention:
    """A licence number, with the province abbreviation that opens it (新B2-20050008)."""
    start, end = match.span()
    if start > 0 and text[start - 1] in _PROVINCES:
        start -= 1
    return _tuple(Mention, (start + offset, end + offset, text[start:end], None, None, None, None, "identifier"))


def _ordinal(match: re.Match[str], text: str, offset: int) -> Mention:
    start, end = match.span()
    span = text[start:end]
    stripped = span.lstrip(" \t\u3000")
    start += len(span) - len(stripped)
    return _tuple(Mention, (start + offset, end + offset, stripped, None, None, None, None, "ordinal"))


def _labelled(kind: str):
    def mention(match: re.Match[str], text: str, offset: int) -> Mention:
        start, end = match.span()
        return _tuple(Mention, (start + offset, end + offset, text[start:end], None, None, None, None, kind))
    return mention


_HANDLERS = {
    "q": _arabic_quantity, "c": _chinese_quantity, "pct": _percent, "frac": _fraction, "year": _year,
    "ordinal": _ordinal, "session": _ordinal, "drange": _date_range, "ident": _identifier,
    "idiom": _labelled("idiom"), "plan": _labelled("name"), "quoted": _labelled("name"), "rank": _labelled("name"),
    "docnum": _labelled("document_number"), "code": _labelled("index_number"), "date": _labelled("date"),
    "word": _labelled("word"), "phone": _labelled("phone"), "time": _labelled("time"),
    "ref": _labelled("reference_marker"),
}
# Every alternative has its handler, and every kind a handler emits is declared.
assert set(_HANDLERS) == {name for name in _PATTERN.groupindex if "_" not in name}
# By group number: an alternative's own group closes last, so it is the match's lastindex.
_HANDLER_AT: list = [None] * (_PATTERN.groups + 1)
for _name, _handler in _HANDLERS.items():
    _HANDLER_AT[_PATTERN.groupindex[_name]] = _handler



# Characters per window when scanning: large enough that the per-window work (choosing the
# pattern, keeping MAX_BEHIND + MAX_REACH characters) is small, small enough to bound memory.
WINDOW = 1 << 16


def _scan_window(text: str, pos: int, offset: int, final: bool) -> Generator[Mention, None, int]:
    """Yield the mentions starting at or after ``pos`` in ``text``; return where to resume.

    Unless ``final`` (``text`` ends where the input ends), only matches starting before
    ``len(text) - MAX_REACH`` are taken: the attempt at such a position never looks past the end
    of ``text``, so it finds what a scan of the whole input finds there. The scan resumes at the
    end of the last match taken, or at the first position whose attempt could look past the end.

    A document number can start at a CJK character only up to 12 characters before a bracketed
    year, so the pattern that admits such starts is used only from there: everywhere else the
    cheaper one finds the same matches.
    """
    handlers = _HANDLER_AT
    fast, full = _PATTERN_WITHOUT_DOCNUM_START.finditer, _PATTERN.search
    brackets = [b.start() for b in _BRACKETED_YEAR.finditer(text, pos)]
    brackets.append(len(text) + _DOCNUM_PREFIX)  # a sentinel: no zone after the text
    limit = len(text) if final else len(text) - MAX_REACH
    resume, index = pos, 0
    while True:
        while brackets[index] <= pos:
            index += 1
        zone = brackets[index] - _DOCNUM_PREFIX
        if pos >= zone:  # within reach of a bracketed year: one search per match
            match = full(text, pos)
            if match is None or match.start() >= limit:
                break
            resume = pos = match.end()
            yield handlers[match.lastindex](match, text, offset)
            continue
        # Before the zone, one pass of the fast pattern: finditer resumes each search where the
        # last match ended, as a search from pos would, without a call from Python per match.
        stop = min(zone, limit)
        for match in fast(text, pos):
            if match.start() >= stop:
                break
            resume = pos = match.end()
            yield handlers[match.lastindex](match, text, offset)
        else:
            break  # no match after pos
        if match.start() < zone:  # past the limit
            break
        pos = max(pos, zone)  # a match at or after the zone: search again from it with the full pattern
    return max(resume, limit)


def scan(pieces: Iterable[str], offset: int = 0, window: int = WINDOW) -> Iterator[Mention]:
    """Yield every mention in the concatenation of ``pieces`` (lines, or chunks of any size).

    The text is scanned in windows of about ``window`` characters that overlap by MAX_REACH and
    keep MAX_BEHIND characters before them, so memory is bounded by the window and the longest
    piece, whatever the length of a line, and the mentions are exactly those of one scan of the
    whole text: none is split, lost or found twice at a window edge.
    """
    buffer, base, pos = "", offset, 0  # base: offset of buffer[0]; pos: where scanning resumes
    parts: list[str] = []
    pending = 0  # characters in parts
    for piece in pieces:
        for cut in range(0, len(piece), window):
            part = piece[cut:cut + window] if len(piece) > window else piece
            parts.append(part)
            pending += len(part)
            if pending < window + MAX_REACH:
                continue
            buffer += "".join(parts)
            parts.clear()
            pending = 0
            pos = yield from _scan_window(buffer, pos, base, final=False)
            keep = max(0, pos - MAX_BEHIND)
            buffer, base, pos = buffer[keep:], base + keep, pos - keep
    yield from _scan_window(buffer + "".join(parts), pos, base, final=True)


def iter_mentions(text: str, offset: int = 0) -> Iterator[Mention]:
    """Yield every numeric mention in ``text``, offsets shifted by ``offset``."""
    return scan((text,), offset)


def scan_lines(lines: Iterable[str]) -> Iterator[Mention]:
    """Stream mentions from an iterable of lines (e.g. an open file), keeping global offsets.

    Memory is bounded by the window and the longest line; to bound it whatever the lines, read
    the file in chunks with scan_file.
    """
    return scan(lines)


def scan_file(file: TextIO, chunk: int = WINDOW) -> Iterator[Mention]:
    """Stream mentions from an open text file read in chunks: memory does not grow with line length."""
    return scan(iter(lambda: file.read(chunk), ""))
