"""The generic tokenizer: table-driven cases and hypothesis properties."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pipeline import numbers
from pipeline.numbers import iter_mentions, parse_chinese, scan_lines
from tests.conftest import RAW_TEXT
from tests.corpus import write_corpus

FULLWIDTH = str.maketrans("0123456789.%", "０１２３４５６７８９．％")


def only(text: str):
    mentions = list(iter_mentions(text))
    assert len(mentions) == 1, mentions
    return mentions[0]


@pytest.mark.parametrize(
    ("text", "span", "value", "value_max", "unit", "qualifier"),
    [
        ("建设了210个安置点", "210个", 210, None, "个", "exact"),
        ("覆盖率47.1%。", "47.1%", 47.1, None, "%", "exact"),
        ("覆盖率４７．１％。", "４７．１％", 47.1, None, "%", "exact"),
        ("共1,234,567元", "1,234,567元", 1234567, None, "元", "exact"),
        ("资金500万元", "500万元", 5_000_000, None, "元", "exact"),
        ("投资3.5亿元", "3.5亿元", 350_000_000, None, "元", "exact"),
        ("占百分之五十", "百分之五十", 50, None, "%", "exact"),
        ("占百分之12.5", "百分之12.5", 12.5, None, "%", "exact"),
        ("人口3000至5000人的", "3000至5000人", 3000, 5000, "人", "range"),
        ("1000—10000人的有", "1000—10000人", 1000, 10000, "人", "range"),
        ("10-20人", "10-20人", 10, 20, "人", "range"),
        ("5~8个", "5~8个", 5, 8, "个", "range"),
        ("3到5年", "3到5年", 3, 5, "年", "range"),
        ("3万至5万元", "3万至5万元", 30_000, 50_000, "元", "range"),
        ("3至5万元", "3至5万元", 30_000, 50_000, "元", "range"),  # 万 on the upper bound scales both
        ("1.5-2亿元", "1.5-2亿元", 150_000_000, 200_000_000, "元", "range"),
        ("800人以上的", "800人以上", 800, None, "人", "at_least"),
        ("1000人以下的", "1000人以下", 1000, None, "人", "below"),
        ("每队至少3名", "至少3名", 3, None, "名", "at_least"),
        ("共300余人", "300余人", 300, None, "人", "more_than"),
        ("共三百余人", "三百余人", 300, None, "人", "more_than"),  # 余 after a Chinese numeral
        ("共20多个", "20多个", 20, None, "个", "more_than"),
        ("近5年来", "近5年", 5, None, "年", "approx"),
        ("约200户", "约200户", 200, None, "户", "approx"),
        ("五年来", "五年", 5, None, "年", "exact"),
        ("两个社会组织", "两个", 2, None, "个", "exact"),
        ("4类设施", "4类", 4, None, "类", "exact"),
        ("四类设施", "四类", 4, None, "类", "exact"),
        ("十二个村", "十二个", 12, None, "个", "exact"),
        ("一百零五户", "一百零五户", 105, None, "户", "exact"),
        ("万亩规模", "万亩", 10_000, None, "亩", "exact"),
        ("平均0.76件", "0.76件", 0.76, None, "件", "exact"),
        ("占百分之三十五点五", "百分之三十五点五", 35.5, None, "%", "exact"),
        ("投资二点五亿元", "二点五亿元", 250_000_000, None, "元", "exact"),
        ("投入100余万元", "100余万元", 1_000_000, None, "元", "more_than"),
        ("共２０多个", "２０多个", 20, None, "个", "more_than"),
        ("新建饮水井35口", "35口", 35, None, "口", "exact"),
        ("惠及37家", "37家", 37, None, "家", "exact"),
        ("新增35座水窖", "35座", 35, None, "座", "exact"),
        # A lower bound a short verb away from its number: the text stays the number and counter.
        ("确保贫困户至少参与1项产业", "1项", 1, None, "项", "at_least"),
        ("每村不少于配备2名", "2名", 2, None, "名", "at_least"),
        ("至少有一半以上的3个村", "3个", 3, None, "个", "exact"),  # 一半以上的 is more than 3 characters
        ("至少参与一项", "一项", 1, None, "项", "at_least"),
        # A Chinese numeral before an administrative or place noun, with no counter.
        ("涉及两地的", "两地", 2, None, "地", "exact"),
        ("覆盖三县", "三县", 3, None, "县", "exact"),
        ("辐射五乡", "五乡", 5, None, "乡", "exact"),
        ("全市十二社区", "十二社区", 12, None, "社区", "exact"),
        ("共12社区", "12社区", 12, None, "社区", "exact"),
        ("共3个社区", "3个", 3, None, "个", "exact"),
    ],
)
def test_quantities(text, span, value, value_max, unit, qualifier):
    mention = only(text)
    assert (mention.text, mention.kind) == (span, "quantity")
    assert text[mention.char_start:mention.char_end] == span
    assert mention.value == pytest.approx(value)
    assert mention.value_max == (None if value_max is None else pytest.approx(value_max))
    assert (mention.unit, mention.qualifier) == (unit, qualifier)


@pytest.mark.parametrize(
    ("text", "span", "kind"),
    [
        ("发布日期 | 2021-07-29 |", "2021-07-29", "date"),
        ("截止2021年3月,", "2021年3月", "date"),
        ("至6月底", "6月", "date"),
        ("于2021年7月29日", "2021年7月29日", "date"),
        ("自2020年起", "2020年", "year"),
        ("(保民政发〔2020〕2号)文件", "保民政发〔2020〕2号", "document_number"),
        ("提案(第0132号)", "第0132号", "document_number"),
        ("索引号 | 01525512-9-/2021-0729011 |", "01525512-9-/2021-0729011", "index_number"),
        ("引入了长江265基金会", "265", "name"),
        ("建设4G基站", "4", "name"),
        ("建成“12345”政务热线", "12345", "name"),
        ("“十三五”以来", "十三五", "name"),
        ("市政协四届六次会议", "四届六次", "ordinal"),
        ("一、建立健全", "一、", "ordinal"),
        ("第三章", "第三", "ordinal"),
        ("主任“一肩挑”", "一肩挑", "idiom"),
        ("实现“两不愁三保障”目标", "两不愁三保障", "idiom"),
        ("效能“一减一增”", "一减一增", "idiom"),
        ("落实“一社区(村)一警(辅警)”制度", "一社区(村)一警(辅警)", "idiom"),
        ("落实“一社区（村）一警（辅警）”制度", "一社区（村）一警（辅警）", "idiom"),
        ("推行一社区一警", "一社区一警", "idiom"),
        ("推行一村一警", "一村一警", "idiom"),
        ("实行一户一策", "一户一策", "idiom"),
        ("将“几大员”整合", "几大员", "idiom"),
        ("“四叶草”社会工作服务中心", "四叶草", "name"),
        ("蒲缥镇九峰社区", "九峰", "name"),
        ("文件(保民政发﹝2021﹞1号)", "保民政发﹝2021﹞1号", "document_number"),
        ("保民政发〔2021〕12号", "保民政发〔2021〕12号", "document_number"),
        ("保民政发[2021]12号", "保民政发[2021]12号", "document_number"),
        ("保民政发［2021］12号", "保民政发［2021］12号", "document_number"),
        ("保民政发【2021】12号", "保民政发【2021】12号", "document_number"),
        ("保民政发(2021)12号", "保民政发(2021)12号", "document_number"),
        ("保民政发（2021）12号", "保民政发（2021）12号", "document_number"),
        ("保民政发〖2021〗12号", "保民政发〖2021〗12号", "document_number"),
        ("保民政发﹙２０２１﹚１２号", "保民政发﹙２０２１﹚１２号", "document_number"),
    ],
)
def test_non_figure_kinds(text, span, kind):
    mention = only(text)
    assert (mention.text, mention.kind) == (span, kind)
    assert text[mention.char_start:mention.char_end] == span


@pytest.mark.parametrize("text", ["进一步加强", "统一部署", "一定成效", "一些地方", "一线发展", "统一市场", "同一地区",
                                  "单一地", "某一区域", "逐一村组",
                                  # Yunnan Daily, 2019-08-18, on award funds for resettlement sites
                                  "每个安置点一次性奖补", "对一批安置点典型"])
def test_words_with_numerals_are_words_not_quantities(text):
    assert [m.kind for m in iter_mentions(text)] == ["word"]


@pytest.mark.parametrize("text", ["两委班子", "“三农”工作"])
def test_idioms_are_not_quantities(text):
    assert only(text).kind == "idiom"


@pytest.mark.parametrize("text", ["至少，参与1项", "至少要求每户参与1项", "至少3名,另有2名", "至少一年内完成5个",
                                  "至少1,参与2项"])
def test_a_lower_bound_does_not_reach_past_punctuation_numbers_or_three_characters(text):
    last = list(iter_mentions(text))[-1]
    assert last.qualifier == "exact", last


def test_idiom_lookahead_keeps_real_quantities():
    assert only("用时四小时").text == "四小时"


@given(st.integers(min_value=0, max_value=10**12))
def test_fullwidth_digits_parse_to_the_same_value(n):
    half = only(f"共{n}人")
    full = only(f"共{str(n).translate(FULLWIDTH)}人")
    assert half.value == full.value == n


@given(st.integers(min_value=1000, max_value=10**12))
def test_thousands_separators_parse_to_the_same_value(n):
    assert only(f"共{n:,}元").value == n


@given(st.integers(min_value=0, max_value=10**6), st.integers(min_value=0, max_value=99))
def test_percentages_keep_their_decimals(whole, fraction):
    text = f"比例{whole}.{fraction:02d}%"
    assert only(text).value == pytest.approx(whole + fraction / 100)
    assert only(text.translate(FULLWIDTH)).value == pytest.approx(whole + fraction / 100)


@given(st.integers(min_value=1, max_value=99_999_999))
def test_chinese_numerals_round_trip(n):
    assert parse_chinese(to_chinese(n)) == n


@given(st.lists(st.sampled_from(["共12人,", "占4.5%;", "自2020年起", "五年来\n", "其中", "\n"]), max_size=30))
def test_offsets_always_point_at_the_mention(pieces):
    text = "".join(pieces)
    lines = text.splitlines(keepends=True)
    assert list(scan_lines(lines)) == list(iter_mentions(text))
    for mention in iter_mentions(text):
        assert text[mention.char_start:mention.char_end] == mention.text


# Fragments that start, end or nearly make every kind of mention, to shuffle into texts.
PIECES = [*"0123456789０１２３４５６７８９,.．%％一二三四十百千万亿两零〇第届次年月日号个人户元、“”()（）〔〕[]-/~—",
          " ", "\u3000", "\n", "保民政发", "〔2020〕", "2021", "四届六次", "会议", "百分之", "进一步", "一肩挑",
          "四小", "时", "长江", "基金会", "以上", "余", "至少", "不少于", "约", "十三五", "A", "政务",
          # The kinds of issue 22 and their near misses.
          ":", "：", "18:02", "0991-", "3532125", "（0875）", "4008-919-185", "[1]", "B2-", "ICP备", "新", "强",
          "分之", "千分之", "‰", "和", "个百分点", "大", "门类", "QQ", "编号", "日", "日内", "/", "07/26", "@",
          "上一年", "千万", "万分", "不低于", "2023—2025", "1-4月", "万亿", "千亿", "“3 1 1”"]


@settings(max_examples=500)
@given(st.lists(st.sampled_from(PIECES), min_size=10, max_size=60))
def test_start_guard_keeps_every_match_of_the_plain_alternation(pieces):
    text = "".join(pieces)
    plain = [(m.span(), m.lastgroup) for m in re.finditer("|".join(numbers._ALTERNATIVES), text)]
    assert [(m.span(), m.lastgroup) for m in numbers._PATTERN.finditer(text)] == plain
    ends = [m.char_end for m in iter_mentions(text)]  # starts differ by an ordinal's indent, a licence's province
    assert ends == [end for (_, end), _kind in plain]


def test_start_guard_on_a_corpus_of_the_letters_sentences(tmp_path):
    corpus = tmp_path / "corpus.txt"
    write_corpus(corpus, 300_000)
    text = corpus.read_text(encoding="utf-8") + RAW_TEXT
    plain = [(m.span(), m.lastgroup) for m in re.finditer("|".join(numbers._ALTERNATIVES), text)]
    assert [(m.span(), m.lastgroup) for m in numbers._PATTERN.finditer(text)] == plain
    assert len(list(scan_lines(text.splitlines(keepends=True)))) == len(plain)


def to_chinese(n: int) -> str:
    digits = "零一二三四五六七八九"

    def below_10000(x: int) -> str:
        out, zero = "", False
        for value, unit in ((1000, "千"), (100, "百"), (10, "十"), (1, "")):
            d = x // value % 10
            if d:
                out += ("零" if zero and out else "") + digits[d] + unit
                zero = False
            else:
                zero = True
        return out

    high, low = divmod(n, 10_000)
    if not high:
        return below_10000(low)
    return below_10000(high) + "万" + ("零" if 0 < low < 1000 else "") + below_10000(low)


def test_a_number_with_an_unknown_counter_stays_a_quantity():
    """Only a number glued into a name is a name; otherwise it must be accounted for as a figure."""
    mention = only("新建水渠35条渠")
    assert (mention.kind, mention.value) == ("quantity", 35)
    bare = only("其中35为新建")
    assert (bare.kind, bare.value, bare.unit) == ("quantity", 35, None)


def test_tokenizer_vocabulary_is_the_published_one():
    """The mention kinds and qualifiers the tokenizer emits are the ones the tables declare and label."""
    from pipeline import metadata
    from pipeline.numbers import KINDS, QUALIFIERS

    vocabularies = metadata.label_vocabularies()
    assert list(vocabularies["mention_kind"]) == list(KINDS)
    assert list(vocabularies["qualifier"]) == list(QUALIFIERS)


# --- Linear time and bounded memory -----------------------------------------------------------

def _reach(items) -> tuple[float, float, float]:
    """(widest match, furthest character looked at ahead, furthest behind) of a parsed pattern,
    relative to where the attempt starts; inf when a quantifier is unbounded."""
    from re import _constants as c

    width = ahead = behind = 0.0
    for op, av in items:
        if op in (c.LITERAL, c.NOT_LITERAL, c.IN, c.ANY, c.RANGE, c.CATEGORY):
            width += 1
            ahead = max(ahead, width)
        elif op is c.BRANCH:
            parts = [_reach(alternative) for alternative in av[1]]
            ahead = max(ahead, width + max(p[1] for p in parts))
            behind = max(behind, *(p[2] for p in parts))
            width += max(p[0] for p in parts)
        elif op in (c.SUBPATTERN, c.ATOMIC_GROUP):
            w, a, b = _reach(av[-1] if op is c.SUBPATTERN else av)
            ahead, behind, width = max(ahead, width + a), max(behind, b), width + w
        elif op in (c.MAX_REPEAT, c.MIN_REPEAT, c.POSSESSIVE_REPEAT):
            low, high, item = av
            w, a, b = _reach(item)
            times = float("inf") if high == c.MAXREPEAT else high
            ahead = max(ahead, width + times * max(w, a) if times else width)
            behind = max(behind, b)
            width += times * w if times else 0
        elif op in (c.ASSERT, c.ASSERT_NOT):
            direction, item = av
            w, a, b = _reach(item)
            if direction == 1:
                ahead, behind = max(ahead, width + a), max(behind, b)
            else:
                behind = max(behind, w, b)
        elif op is c.AT:
            behind = max(behind, 1)  # ^ in multiline mode looks at the character before
        else:
            raise AssertionError(f"opcode {op} not understood")
    return width, ahead, behind


def reach(pattern: re.Pattern[str]) -> tuple[float, float, float]:
    from re import _parser

    return _reach(_parser.parse(pattern.pattern, pattern.flags))


def test_every_attempt_looks_at_a_bounded_stretch_of_text():
    """Scanning is linear: the attempt at each position examines at most MAX_REACH characters after
    it and MAX_BEHIND before, whatever the input (no unbounded quantifier anywhere), so no run of
    digits or numerals is rescanned beyond that. The same bounds make windowed scanning exact."""
    for pattern in (numbers._PATTERN, numbers._PATTERN_WITHOUT_DOCNUM_START):
        width, ahead, behind = reach(pattern)
        # _looks_like_name looks at the text after a match, _gap_qualifier at the text before it.
        assert ahead + reach(numbers._NAME_AFTER)[1] <= numbers.MAX_REACH, (width, ahead)
        assert max(behind, 1) <= numbers.MAX_BEHIND
    assert reach(numbers._GAP_QUALIFIER)[0] <= numbers.MAX_BEHIND
    assert reach(re.compile(r"a+"))[0] == float("inf")  # the measure sees an unbounded quantifier


def test_reach_of_a_known_pattern():
    assert reach(re.compile(r"(?<=x)ab{2,3}(?=cd)")) == (4, 6, 1)


WINDOW_SAMPLES = ["保民政发﹝2021﹞1号", "1,234,567元", "01525512-9-/2021-0729011", "至少参与1项", "四届六次会议",
                  "“12345”", "长江265基金会", "3000至5000人", "百分之三十五点五", "一社区(村)一警(辅警)",
                  "2021年7月29日", "\n二、", "统一两个", "四小时", "二点五亿元"]


@pytest.mark.parametrize("sample", WINDOW_SAMPLES)
def test_mentions_at_every_offset_around_a_window_edge_survive(sample):
    """A mention placed at every offset across several window edges is found once, whole, as in
    one scan of the whole text, whatever the window and however the text is cut into pieces."""
    window = 40
    for before in range(0, 2 * (window + numbers.MAX_REACH), 7):
        text = "其中" * (before // 2) + "其" * (before % 2) + sample + "的情况。" * 30
        whole = list(numbers._scan_window(text, 0, 0, final=True))
        assert whole, sample
        assert list(numbers.scan([text], window=window)) == whole
        pieces = [text[i:i + 13] for i in range(0, len(text), 13)]
        assert list(numbers.scan(pieces, window=window)) == whole


@settings(max_examples=200)
@given(st.lists(st.sampled_from(PIECES), min_size=50, max_size=400), st.integers(min_value=1, max_value=300),
       st.integers(min_value=1, max_value=50))
def test_windowed_scan_equals_one_scan_of_the_whole_text(pieces, window, piece_size):
    text = "".join(pieces)
    whole = list(numbers._scan_window(text, 0, 0, final=True))
    chunks = [text[i:i + piece_size] for i in range(0, len(text), piece_size)]
    assert list(numbers.scan(chunks, window=window)) == whole


def test_scan_file_reads_in_chunks(tmp_path):
    path = tmp_path / "one-line.txt"
    text = "共12人，" * 5000 + "保民政发﹝2021﹞1号"
    path.write_text(text, encoding="utf-8")
    with open(path, encoding="utf-8", newline="") as f:
        found = list(numbers.scan_file(f, chunk=1000))
    assert found == list(iter_mentions(text))
    assert len(found) == 5001 and found[-1].kind == "document_number"


@pytest.mark.parametrize("run", ["一二三四五六七八九十百千万亿" * 200, "（" + "一十百千万亿" * 400, "1-" * 2000,
                                 "1," + "111," * 2000, "9" * 5000, "《甲》" * 2000])
def test_hostile_runs_are_read_as_bounded_mentions(run):
    """A run longer than any real number is read as several mentions, each within the bounds."""
    for mention in iter_mentions(run):
        assert mention.char_end - mention.char_start <= numbers.MAX_REACH
        assert run[mention.char_start:mention.char_end] == mention.text


# --- The kinds real Chinese statistics use (issue 22) ------------------------------------------
# Sentences quoted from public texts (source in the comment), and sentences of our own in the same
# style. Each case checks the span, the kind, the value, the upper bound, the unit and the qualifier.
MNW = "http://m.mnw.cn/news/china/2117181.html"  # 国家统计局 2018 births, 中国网财经
XJN = "https://xjnnet.com/baoliao/2023-03-06/137706.html"  # 2023 政府工作报告, as reported
XH = "http://news.xinhuanet.com/politics/2015-03/05/c_1114523861.htm"  # 新华网, 2015 政府工作报告
CV = "https://chinavalue.com.cn/article/2012/9/3/927834.html"  # 2012 中国企业500强
GZ = "https://czj.gz.gov.cn/zzzs/zdlyxxgk/content/post_9663016.html"  # 广州市财政局, 1-4月 budget
DY = "http://dayao.gov.cn/info/egovinfo/1007/overt_centent/dyx009-/2024-0516001.htm"  # 大姚县 budget
FX = "https://fx361.cc/page/2022/0215/16618355.shtml"  # 财政监督 2022年1期
HKO = "https://my.weather.gov.hk/sc/climate_change/obs_global_temp.htm"  # 香港天文台
MLZ = "http://xinwen.mlzgw.cn/news/redian/2019/1206/30165.html"  # 工人日报, WMO 2019
YZ = "https://fx361.cc/page/2023/1030/22842775.shtml"  # 长江经济带, 武汉大学课题组
BD = "http://baodinews.com/news/20210119/2077.html"  # 第六次人口普查公报, 新华社
RP = "https://staging.reportify.cn/tags/concept?page=7&tagValue=%E4%BF%83%E6%B6%88%E8%B4%B9"  # 搜狐财经 summary

Q, N = "quantity", None
REAL = [
    # 1. Compound scales scale once, as one number; ranges too.
    (XJN, "我国国内生产总值增加到121万亿元", "121万亿元", Q, 121e12, N, "元", "exact"),
    (XJN, "十年增加近70万亿元", "近70万亿元", Q, 70e12, N, "元", "approx"),
    (XJN, "财政收入增加到20.4万亿元。", "20.4万亿元", Q, 20.4e12, N, "元", "exact"),
    (XJN, "粮食产量连年稳定在1.3万亿斤以上。", "1.3万亿斤以上", Q, 1.3e12, N, "斤", "at_least"),
    (XJN, "外汇储备稳定在3万亿美元以上。", "3万亿美元以上", Q, 3e12, N, "美元", "at_least"),
    (XJN, "城镇新增就业年均1270多万人。", "1270多万人", Q, 12.7e6, N, "人", "more_than"),
    (XH, "全国经济规模超过10万亿美元", "超过10万亿美元", Q, 10e12, N, "美元", "more_than"),
    (CV, "中石化、中石油的营业收入均突破2万亿元。", "2万亿元", Q, 2e12, N, "元", "exact"),
    (N, "带动就业千万人以上", "千万人以上", Q, 1e7, N, "人", "at_least"),
    (N, "营业收入2.4万亿元", "2.4万亿元", Q, 2.4e12, N, "元", "exact"),
    (N, "形成3千亿元产业集群", "3千亿元", Q, 3e11, N, "元", "exact"),
    (N, "覆盖5百万户", "5百万户", Q, 5e6, N, "户", "exact"),
    (N, "投入1千万元", "1千万元", Q, 1e7, N, "元", "exact"),
    (N, "规模1万亿至2万亿元", "1万亿至2万亿元", Q, 1e12, 2e12, "元", "range"),
    (N, "规模1至2万亿元", "1至2万亿元", Q, 1e12, 2e12, "元", "range"),
    (N, "共两万亿元", "两万亿元", Q, 2e12, N, "元", "exact"),
    # 2. Percentage points (also the first of a pair), per mille.
    (CV, "收入利润率为4.7%,比上年下降了1.07个百分点;", "1.07个百分点", Q, 1.07, N, "百分点", "exact"),
    (GZ, "完成年初预算36.7%,快于序时进度3.4个百分点,下降4%。", "3.4个百分点", Q, 3.4, N, "百分点", "exact"),
    (BD, "东部地区在全国人口中所占的比例比10年前上升了2.41个百分点。", "2.41个百分点", Q, 2.41, N, "百分点", "exact"),
    (XH, "如今一个百分点的经济增长", "一个百分点", Q, 1, N, "百分点", "exact"),
    (N, "分别提高4.2和2.1个百分点", "4.2", Q, 4.2, N, "百分点", "exact"),
    (N, "分别提高4.2、3.5和2.1个百分点", "4.2", Q, 4.2, N, "百分点", "exact"),
    (N, "分别增长5.2和4.9%", "5.2", Q, 5.2, N, "%", "exact"),
    (MNW, "2018年我国出生人口1523万人,人口出生率为10.94‰;", "10.94‰", Q, 10.94, N, "‰", "exact"),
    (MNW, "人口自然增长率为3.81‰。", "3.81‰", Q, 3.81, N, "‰", "exact"),
    (N, "出生率为千分之12.13", "千分之12.13", Q, 12.13, N, "‰", "exact"),
    (N, "坡降千分之五以上", "千分之五以上", Q, 5, N, "‰", "at_least"),
    (N, "坡降12‰~15‰", "12‰~15‰", Q, 12, 15, "‰", "range"),
    (N, "占百分之五十以上", "百分之五十以上", Q, 50, N, "%", "at_least"),
    # 3. Fractions, and Chinese-numeral counts through 大 before a noun.
    (N, "贫困人口近三分之一", "近三分之一", Q, 1 / 3, N, N, "approx"),
    (N, "占全县三分之二以上", "三分之二以上", Q, 2 / 3, N, N, "at_least"),
    (N, "万分之一的概率", "万分之一", Q, 1e-4, N, N, "exact"),
    (N, "产业分三大门类", "三大门类", Q, 3, N, "门类", "exact"),
    (YZ, "必须推动长江经济带三大板块高质量协同发展", "三大板块", Q, 3, N, "板块", "exact"),
    (YZ, "横跨我国地势三大阶梯,", "三大阶梯", Q, 3, N, "阶梯", "exact"),
    (BD, "公报称,广东省常住人口为104303132,是全国", "104303132", Q, 104303132, N, N, "exact"),
    (N, "累计12,345,678,901元", "12,345,678,901元", Q, 12_345_678_901, N, "元", "exact"),
    (N, "合计12,345,678,901", "12,345,678,901", Q, 12_345_678_901, N, N, "exact"),
    (DY, "完成年初预算数60999万元的40.4%,", "60999万元", Q, 609_990_000, N, "元", "exact"),
    (HKO, "较1850-1900年高出1.09℃。", "1.09℃", Q, 1.09, N, "℃", "exact"),
    # 4. Not quantities: each kind has its own name, no value, unit or qualifier unless it is a span of years.
    (N, "行动方案（2023—2025年）", "2023—2025年", "date_range", 2023, 2025, N, N),
    (N, "1970—2019年全省平均气温上升", "1970—2019年", "date_range", 1970, 2019, N, N),
    (FX, "“十一五”时期(2006—2010年)为最高峰", "2006—2010年", "date_range", 2006, 2010, N, N),
    (FX, "1978至2021年的43年间", "1978至2021年", "date_range", 1978, 2021, N, N),
    (HKO, "2011-2020年全球表面温度", "2011-2020年", "date_range", 2011, 2020, N, N),
    (MLZ, "2015年至2019年这5年", "2015年至2019年", "date_range", 2015, 2019, N, N),
    (N, "规划（2021-2025）提出", "2021-2025", "date_range", 2021, 2025, N, N),
    (GZ, "1-4月,全市一般公共预算收入700.4亿元,增长1.9%。", "1-4月", "date_range", N, N, N, N),
    (N, "发布时间：2023-07-26 18:02", "18:02", "time", N, N, N, N),
    (MLZ, "2019-12-06 14:14:29    来源:《工人日报》", "14:14:29", "time", N, N, N, N),
    (MNW, "中国网财经 2019-01-21 10:27", "10:27", "time", N, N, N, N),
    (N, "更新于 08:32", "08:32", "time", N, N, N, N),
    (N, "07/26 新闻", "07/26", "date", N, N, N, N),
    (N, "本报讯 4日，全县召开", "4日", "date", N, N, N, N),
    (YZ, "也是许多发达国家在现代化进程中的共同经历[1]。", "[1]", "reference_marker", N, N, N, N),
    (N, "联系电话：0991-3532125", "0991-3532125", "phone", N, N, N, N),
    (N, "咨询电话（0875）2211234", "（0875）2211234", "phone", N, N, N, N),
    (N, "服务热线4008-919-185", "4008-919-185", "phone", N, N, N, N),
    (N, "联系人手机13812345678", "13812345678", "phone", N, N, N, N),
    (N, "增值电信业务经营许可证：新B2-20050008", "新B2-20050008", "identifier", N, N, N, N),
    (N, "备案号：京ICP备12345678号", "京ICP备12345678号", "identifier", N, N, N, N),
    (N, "统一社会信用代码12650000457601957", "12650000457601957", "identifier", N, N, N, N),
    (N, "登记证号65120170002", "65120170002", "identifier", N, N, N, N),
    (N, "咨询QQ：123456789", "123456789", "identifier", N, N, N, N),
    (N, "邮编830063", "830063", "identifier", N, N, N, N),
    (N, "文章编号:1000-8659", "1000-8659", "identifier", N, N, N, N),
    (N, "联系邮箱:happy56812@qq.com", "56812", "identifier", N, N, N, N),
    (CV, "今年中国企业500强的入围门槛", "500强", "name", N, N, N, N),
    (N, "开展“3 1 1”专项行动", "3 1 1", "name", N, N, N, N),
    (N, "进入全国百强县", "百强", "name", N, N, N, N),
    (CV, "比上一年度提高了", "上一年度", "word", N, N, N, N),
    (N, "比上一年增长", "上一年", "word", N, N, N, N),
    (GZ, "全市一般公共预算支出", "一般", "word", N, N, N, N),
    (N, "进一步加强", "进一步", "word", N, N, N, N),
    (N, "千万不要大意", "千万", "word", N, N, N, N),
]


@pytest.mark.parametrize(("source", "text", "span", "kind", "value", "value_max", "unit", "qualifier"), REAL,
                         ids=[f"{case[1]}" for case in REAL])
def test_real_texts_give_each_kind_its_value_unit_and_qualifier(source, text, span, kind, value, value_max, unit,
                                                                 qualifier):
    found = [m for m in iter_mentions(text) if m.text == span]
    assert len(found) == 1, list(iter_mentions(text))
    mention = found[0]
    assert text[mention.char_start:mention.char_end] == span
    assert mention.kind == kind
    assert mention.value == (None if value is None else pytest.approx(value))
    assert mention.value_max == (None if value_max is None else pytest.approx(value_max))
    assert (mention.unit, mention.qualifier) == (unit, qualifier)


@pytest.mark.parametrize("text", [
    # 上一年 is a word, not the count 一年; a congress (二十大) is not a count of anything.
    "比上一年增长", "深入贯彻党的二十大精神", "党的十九大以来",
    # The first kind of every mention below is not a quantity, so none of them can become a figure.
    "（2023—2025年）", "1970—2019年", "18:02", "17:03:58", "07/26", "4日", "[1]", "0991-3532125",
    "新B2-20050008", "12650000457601957", "65120170002", "QQ：123456789", "500强", "“3 1 1”", "一般", "进一步",
])
def test_non_quantities_never_become_quantities(text):
    assert all(m.kind != "quantity" for m in iter_mentions(text)), list(iter_mentions(text))


def test_every_kind_the_tokenizer_emits_is_declared_and_each_has_an_example():
    """KINDS is the tokenizer's vocabulary: every kind it emits on the cases above is in it, and every
    kind in it is emitted by at least one case."""
    emitted = {m.kind for case in REAL for m in iter_mentions(case[1])}
    emitted |= {m.kind for m in iter_mentions("自2020年起，保民政发〔2020〕2号，索引号 01525512-9-/2021-0729011，"
                                              "第三章，一肩挑")}
    assert emitted == set(numbers.KINDS)


def test_accounted_as_covers_every_non_figure_kind_the_dataset_keeps():
    """A build of any text records a non-quantity mention's kind in accounted_as; words are not kept."""
    from pipeline import metadata

    vocabularies = metadata.label_vocabularies()
    kept = set(numbers.KINDS) - {"quantity", "word"}
    assert kept <= set(vocabularies["accounted_as"])


@pytest.mark.parametrize("word", [w for w, q in numbers.QUALIFIER_WORDS["before"].items()
                                  if q in numbers.GAP_QUALIFIERS])
def test_every_lower_bound_word_of_the_table_is_found_a_short_verb_away(word):
    """The pre-check for a qualifier a few characters before its number comes from the table: a word
    added to QUALIFIER_WORDS (不低于) is found, not silently read as exact."""
    mention = only(f"每村{word}配备2名")
    assert (mention.text, mention.qualifier) == ("2名", numbers.QUALIFIER_WORDS["before"][word])


def test_the_gap_qualifier_pattern_follows_a_word_added_to_the_table():
    table = {**numbers.QUALIFIER_WORDS, "before": {**numbers.QUALIFIER_WORDS["before"], "起码": "at_least"}}
    found, hint = numbers.gap_qualifier_pattern(table)
    assert hint.search("起码") and found.search("起码配备").group(1) == "起码"


@pytest.mark.parametrize("word", sorted({w for words in numbers.QUALIFIER_WORDS.values() for w in words}))
def test_every_qualifier_word_of_the_table_qualifies_its_number(word):
    position = next(place for place, words in numbers.QUALIFIER_WORDS.items() if word in words)
    text = {"before": f"共{word}12人。", "inside": f"共12{word}人。", "after": f"共12人{word}。"}[position]
    mention = only(text)
    assert (mention.value, mention.qualifier) == (12, numbers.QUALIFIER_WORDS[position][word])


def test_qualifiers_are_declared_once():
    from pipeline import catalog_models

    assert catalog_models.QUALIFIERS is numbers.QUALIFIERS


@given(st.integers(min_value=1, max_value=9999), st.sampled_from(sorted(numbers.SCALES)))
def test_a_scale_after_digits_multiplies_once(n, scale):
    mention = only(f"共{n}{scale}元")
    assert (mention.text, mention.value, mention.unit) == (f"{n}{scale}元", n * numbers.SCALES[scale], "元")


@given(st.integers(min_value=1, max_value=9999), st.integers(min_value=1, max_value=9999))
def test_chinese_numerals_with_yi_round_trip(high, low):
    """亿 scales all that precedes it: 两万亿 is 2 * 10^12, 三千五百亿零二十 has its tail."""
    assert parse_chinese(to_chinese(high) + "亿" + to_chinese(low)) == high * 10**8 + low
    assert parse_chinese(to_chinese(high) + "万亿") == high * 10**12


def test_docs_give_one_true_example_per_kind():
    """docs/tokenizer.md has a row for every kind, and the tokenizer reads each example as the row says."""
    from pipeline import config

    lines = (config.ROOT / "docs" / "tokenizer.md").read_text(encoding="utf-8").splitlines()
    rows = [[cell.strip().strip("`") for cell in line.strip("|").split("|")] for line in lines
            if re.match(r"\| `\w+` \|", line)]
    assert sorted(row[0] for row in rows) == sorted(numbers.KINDS)
    for kind, example, span, value, value_max, unit, qualifier in rows:
        mention = next(m for m in iter_mentions(example) if m.text == span)
        assert mention.kind == kind
        assert mention.value == (float(value) if value else None)
        assert mention.value_max == (float(value_max) if value_max else None)
        assert (mention.unit, mention.qualifier) == (unit or None, qualifier or None)


@pytest.mark.parametrize("text", ["0分之0", "00分之1", "〇分之一", "零分之三"])
def test_a_zero_denominator_is_no_fraction(text):
    """A fraction's denominator starts with a non-zero digit, so its value is always a number."""
    assert all("分之" not in m.text for m in iter_mentions(text))


@pytest.mark.parametrize(("text", "places"), [("12.5%", 1), ("3.40%", 2), ("7个", 0), ("３．４０％", 2),
                                              ("０．７６件", 2)])
def test_decimals_as_printed(text, places):
    """Half a unit of the last printed decimal is every rate check's tolerance: full-width points count too."""
    assert numbers.decimals(text) == places


@settings(max_examples=300)
@given(st.lists(st.text(alphabet="abcd", min_size=1, max_size=4), min_size=1, max_size=12),
       st.text(alphabet="abcdx", max_size=60))
def test_literal_alternation_prefers_as_the_alternation_longest_first(words, text):
    """The trie matches what the alternation sorted longest first matches, in the same order of
    preference, also when what follows makes the engine give back characters (the b after it)."""
    trie = numbers.literal_alternation(words)
    plain = "|".join(sorted(dict.fromkeys(words), key=len, reverse=True))
    for tail in ("", "b", "(?:b|)c"):
        assert ([m.span() for m in re.finditer(f"(?:{trie}){tail}", text)]
                == [m.span() for m in re.finditer(f"(?:{plain}){tail}", text)])


# Kinds met in the related texts of issue 23 (real sentences; raw/related/ and the search corpus's pages).
@pytest.mark.parametrize("text, expected", [
    # 保山市发展和改革委员会, 2023: a date written with blanks between its parts, and a year before 年度
    ("(二)2022 年 9 月 16 日,市易地扶贫搬迁攻坚战指挥部下发",
     [("(二)", "ordinal"), ("2022", "year"), ("9", "date"), ("16", "date")]),
    ("基础设施2023 年度,投入衔接资金2342万元", [("2023", "year"), ("2342万元", "quantity")]),
    # the same reply: a proposal's number in brackets, and a list item's number at the start of its line
    ("的提案(05020053),已交市发展改革委", [("05020053", "identifier")]),
    ("(三)抓实搬迁群众增收\n1.紧抓产业促增收", [("(三)", "ordinal"), ("1", "ordinal")]),
    # a provincial portal's footer: a hotline and a site code
    ("政务服务便民热线:12345 政府网站标识码:5300000033", [("12345", "phone"), ("5300000033", "identifier")]),
])
def test_kinds_met_in_the_related_texts(text, expected):
    assert [(m.text, m.kind) for m in iter_mentions(text) if m.kind != "word"] == expected


@pytest.mark.parametrize("text, value, unit", [
    ("芒寬鄉共有13459戶", 13459, "戶"),  # 芒宽乡乡情简介, in traditional characters
    ("投資4.71億元", 471_000_000, "元"),
    ("共獲得5000萬元獎補", 50_000_000, "元"),
])
def test_traditional_counters_and_scales(text, value, unit):
    [mention] = [m for m in iter_mentions(text) if m.kind == "quantity"]
    assert (mention.value, mention.unit) == (value, unit)


@pytest.mark.parametrize("text", ["共30 年", "1.5万元", "第1.2条", "面积13 月"])
def test_a_blank_or_a_point_alone_does_not_make_a_date_or_an_ordinal(text):
    assert all(m.kind not in ("date", "year", "ordinal") or m.text.startswith("第") for m in iter_mentions(text))
