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


# Government prose that is not the letter: statistical bulletins, work reports and replies, dense
# with dates, document numbers, index numbers, codes, ranges, lists, percentages and Chinese
# numerals. Each template is filled with fresh random values; {} fields are drawn by _FIELDS.
_PLACES = ["全市", "全县", "全省", "各乡镇", "各街道", "市区", "开发区", "各社区", "全州", "各村"]
_ORGANS = ["市人民政府办公室", "县民政局", "省发展和改革委员会", "州财政局", "市住房和城乡建设局",
           "区人力资源和社会保障局"]
_CODES = ["云政办发", "保民政发", "国办发", "财社", "民发", "人社部发", "昆政发", "滇发改"]
_OPEN_CLOSE = ["〔〕", "﹝﹞", "[]", "［］", "【】", "()", "（）"]
_CN_NUMERALS = ["一", "两", "三", "四", "五", "六", "七", "八", "九", "十", "十二", "二十", "三十五", "一百"]
_COUNTERS = ["个", "项", "名", "户", "人", "所", "家", "座", "条", "次", "县", "乡", "镇", "村", "类", "批"]
_TEMPLATES = [
    "{date}，{place}共完成固定资产投资{money}，同比增长{pct}，其中民间投资{money}，占{pct}。",
    "根据《{organ}关于印发{place}养老服务体系建设实施方案的通知》（{docnum}）要求，{place}新建{n}{counter}。",
    "{ord}{place}城镇新增就业{n}人，城镇登记失业率{pct}，控制在{pct}以内。",
    "索引号：{index}；发布机构：{organ}；发文日期：{date}；文号：{docnum}。",
    "截至{date}，{place}累计发放低保金{money}，惠及{n}户{n}人，月人均补助水平{n}元至{n}元。",
    "{cn}{counter}{cn}{counter}同步推进，覆盖{cn}县{cn}乡，{n}个行政村实现“一村一品”。",
    "规模在{n}-{n}人的安置点{n}个，{n}人以上的{n}个，至少配备{n}名专职工作人员。",
    "（{cnord}）{place}财政一般公共预算收入{money}，增长{pct}；支出{money}，下降{pct}。",
    "项目编号{code}，合同金额{money}，工期{n}天，自{date}至{date}。",
    "全年接待游客{n}万人次，旅游总收入{money}，分别增长{pct}和{pct}。",
    "会议由{organ}主持，第{n}次常务会议研究了{cn}项议题，进一步统一思想。",
    "{place}共有医疗卫生机构{n}个，床位{n}张，卫生技术人员{n}人，每千人口执业医师{dec}人。",
    "粮食播种面积{n}亩，总产量{n}吨，约{n}万元；近{cn}年来年均增长{pct}。",
    "按照“两不愁三保障”标准，{place}{n}户{n}人全部脱贫，不少于{n}项产业覆盖到户。",
    "{year}年度考核中，{n}个单位为优秀等次，占比百分之{cn}，较上年提高{dec}个百分点。",
    "联系电话：{phone}，邮编{zip}，办公地址{place}{n}号。",
    # Prose between the figures, as in any report: a few numerals, mostly words.
    "坚持以人民为中心的发展思想，统筹发展和安全，进一步加强基层治理体系和治理能力现代化建设。",
    "{place}各级各部门要切实提高政治站位，压实工作责任，确保各项任务落地见效。",
    "健全完善党组织领导下的自治、法治、德治相结合的城乡基层治理体系，推动社会治理重心向基层下移。",
    "下一步，我们将认真研究吸纳您提出的意见建议，加强统筹协调，形成工作合力，推动{place}高质量发展。",
    "聚焦群众急难愁盼问题，持续深化“放管服”改革，推行“一网通办”“最多跑一次”，不断优化营商环境。",
]


def _year(rng: random.Random) -> int:
    return rng.randrange(2015, 2026)


def _docnum(rng: random.Random) -> str:
    brackets = rng.choice(_OPEN_CLOSE)
    return f"{rng.choice(_CODES)}{brackets[0]}{_year(rng)}{brackets[1]}{rng.randrange(1, 300)}号"


_FIELDS = {
    "date": lambda rng: rng.choice([
        f"{_year(rng)}年{rng.randrange(1, 13)}月{rng.randrange(1, 29)}日", f"{_year(rng)}年{rng.randrange(1, 13)}月",
        f"{_year(rng)}-{rng.randrange(1, 13):02d}-{rng.randrange(1, 29):02d}", f"{rng.randrange(1, 13)}月底"]),
    "year": lambda rng: str(_year(rng)),
    "place": lambda rng: rng.choice(_PLACES),
    "organ": lambda rng: rng.choice(_ORGANS),
    "money": lambda rng: rng.choice([f"{rng.randrange(1, 999)}.{rng.randrange(10, 99)}亿元",
                                     f"{rng.randrange(1, 99_999):,}万元", f"{rng.randrange(100, 9999)}元"]),
    "pct": lambda rng: f"{rng.randrange(0, 100)}.{rng.randrange(0, 10)}%",
    "n": lambda rng: str(rng.randrange(1, 10 ** rng.randrange(1, 6))),
    "dec": lambda rng: f"{rng.randrange(0, 20)}.{rng.randrange(0, 100):02d}",
    "counter": lambda rng: rng.choice(_COUNTERS),
    "cn": lambda rng: rng.choice(_CN_NUMERALS),
    "ord": lambda rng: rng.choice(["一、", "二、", "三、", "四、", "五、", "六、"]),
    "cnord": lambda rng: rng.choice("一二三四五六七八九十"),
    "docnum": _docnum,
    "index": lambda rng: (f"{rng.randrange(10**7, 10**8)}-{rng.randrange(10)}-/{_year(rng)}-"
                          f"{rng.randrange(10**6, 10**7)}"),
    "code": lambda rng: f"{rng.randrange(100000, 999999)}-{_year(rng)}-{rng.randrange(1, 99999):05d}",
    "phone": lambda rng: f"0875-{rng.randrange(2000000, 9999999)}",
    "zip": lambda rng: str(rng.randrange(100000, 999999)),
}
_FIELD = re.compile(r"\{(\w+)\}")


def write_government_corpus(path: Path, size: int, seed: int = 11) -> int:
    """Write at least `size` bytes of government-style prose to `path`, one paragraph per line."""
    rng = random.Random(seed)
    written = 0
    with open(path, "w", encoding="utf-8", newline="\n") as out:
        while written < size:
            paragraph = "".join(_FIELD.sub(lambda m: _FIELDS[m.group(1)](rng), template)
                                for template in rng.choices(_TEMPLATES, k=rng.randint(2, 10))) + "\n"
            out.write(paragraph)
            written += len(paragraph.encode("utf-8"))
    return written
