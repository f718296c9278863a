"""Stage 2, extract: text -> every numeric mention -> the catalog's figures, with provenance.

The generic tokenizer (pipeline.numbers) finds the mentions; the catalog (catalog/figures.yaml)
says which mention is which figure by anchor patterns, never by value. The stage fails when
an anchor matches no mention or several, and when a quantity mention is left unaccounted for.
"""

from __future__ import annotations

import argparse
import json
import re
from bisect import bisect_left, bisect_right
from pathlib import Path

from pipeline import config, entities, metadata
from pipeline.errors import ValidationFailed, join_capped, report
from pipeline.numbers import PUNCTUATION, Mention, decimals, iso_date, iter_mentions, parse_chinese

CN_NUMERALS = "零〇一二两三四五六七八九十百千"

_START, _REST = "\ue000", "\ue001"
_MENTION = f"{_START}{_REST}*+"
_MARKER = re.compile(r"\{\}|\{\*\}")
_LINE_BREAK = re.compile("\n")


class Skeleton:
    """The text with each mention masked, so anchor patterns can name mentions by position.

    Each mention's span becomes one start marker followed by continuation markers: the
    skeleton keeps the text's length, so a match offset is a text offset.
    """

    def __init__(self, text: str, mentions: list[Mention], sections: list[dict]):
        chars = list(text.translate(PUNCTUATION))
        for m in mentions:
            chars[m.char_start:m.char_end] = _START + _REST * (m.char_end - m.char_start - 1)
        self.text = "".join(chars)
        self.by_start = {m.char_start: i for i, m in enumerate(mentions)}
        self.sections = {s["section_id"]: (s["char_start"], s["char_end"]) for s in sections}

    def find(self, pattern: str, section: str) -> list[re.Match[str]]:
        if section not in self.sections:
            return []
        start, end = self.sections[section]
        return Anchor(pattern).finditer(self.text, start, end)


def _regex(pattern: str) -> str:
    """A pattern without `{items}` as a regular expression over the skeleton. A mention is matched whole
    (possessively), so the attempt at a position never backtracks into one."""
    parts, position = [], 0
    for token in _MARKER.finditer(pattern):
        parts.append(re.escape(pattern[position:token.start()].translate(PUNCTUATION)))
        parts.append(f"({_MENTION})" if token.group() == "{}" else _MENTION)
        position = token.end()
    parts.append(re.escape(pattern[position:].translate(PUNCTUATION)))
    return "".join(parts)


class Anchor:
    """An anchor pattern over the skeleton. `{items}` (one or more characters of one line, as few as
    possible) is not left to the regex engine, whose lazy `(.+?)` would scan to the end of the line
    from every place the text before it matches: a line that repeats that text took quadratic time.
    Instead the places where the text after it can start are found once, and each candidate takes
    the first of them by bisection. The matches are the ones `re.finditer` would give for
    `before(.+?)after`, in time linear in the section."""

    def __init__(self, pattern: str):
        before, items, after = pattern.partition("{items}")
        self.before = re.compile(_regex(before))
        # Every place the text after {items} can start (a lookahead matches at each), and the whole pattern.
        self.after = re.compile(f"(?={_regex(after)})") if items else None
        self.whole = re.compile(f"{self.before.pattern}(.+?){_regex(after)}") if items else None

    def finditer(self, text: str, start: int, end: int) -> list[re.Match[str]]:
        if self.after is None:
            return list(self.before.finditer(text, start, end))
        after_starts = [m.start() for m in self.after.finditer(text, start, end)]
        breaks = [m.start() for m in _LINE_BREAK.finditer(text, start, end)]
        matches, position = [], start
        while position < end and (head := self.before.search(text, position, end)) is not None:
            items_start = head.end()
            first = bisect_left(after_starts, items_start + 1)
            line_break = bisect_left(breaks, items_start)
            line_end = breaks[line_break] if line_break < len(breaks) else end
            if first < len(after_starts) and after_starts[first] <= line_end:
                # The whole pattern anchored at this start finds the same match, as a re.Match.
                match = self.whole.match(text, head.start(), end)
                matches.append(match)
                position = match.end()
            else:
                position = head.start() + 1
        return matches


class SpanIndex:
    """Which section or sentence a text offset falls in, by bisection over their starts (built once, so
    locating every mention stays linear in the text)."""

    def __init__(self, spans: list[dict]):
        self.spans = spans
        self.starts = [s["char_start"] for s in spans]

    def at(self, position: int) -> dict:
        return self.spans[max(bisect_right(self.starts, position) - 1, 0)]


class Resolver:
    """Finds the one mention an anchor pattern points at, collecting every failure."""

    def __init__(self, text: str, mentions: list[Mention], sections: list[dict]):
        self.text = text
        self.mentions = mentions
        self.skeleton = Skeleton(text, mentions, sections)
        self.index_of = {m.char_start: i for i, m in enumerate(mentions)}
        self.errors: list[str] = []

    def one(self, pattern: str, section: str, who: str) -> Mention | None:
        if section not in self.skeleton.sections:
            self.errors.append(f"{who}: section {section} is missing from the text, so {pattern!r} cannot match")
            return None
        matches = self.skeleton.find(pattern, section)
        if len(matches) != 1:
            where = "; ".join(f"[{m.start()}:{m.end()}] {self.text[m.start():m.end()]!r}" for m in matches)
            count = "no mention" if not matches else f"{len(matches)} places ({where})"
            self.errors.append(f"{who}: anchor {pattern!r} in {section} matched {count}")
            return None
        return self.mentions[self.skeleton.by_start[matches[0].start(1)]]

    def figure(self, pattern: str, section: str, who: str, unit: str, claims: dict, owner: str) -> Mention | None:
        """The one quantity an anchor points at, counted in `unit` and not yet claimed; it is claimed for `owner`
        ({mention index: (owner, None)}). The letter's figures and the other texts' are found by this one rule."""
        mention = self.one(pattern, section, who)
        if mention is None:
            return None
        if mention.kind != "quantity":
            self.errors.append(f"{who}: anchor points at {mention.text!r}, a {mention.kind}, not a quantity")
            return None
        counters = metadata.figures()["units"][unit]["counters"]
        if mention.unit not in counters:
            self.errors.append(f"{who}: {mention.text!r} at [{mention.char_start}:{mention.char_end}] is counted in "
                               f"{mention.unit!r}, which does not fit unit {unit!r} (expects {counters})")
            return None
        index = self.index_of[mention.char_start]
        if index in claims:
            self.errors.append(f"{who}: {mention.text!r} is already claimed by {claims[index][0]}")
            return None
        claims[index] = (owner, None)
        return mention

    def phrase(self, pattern: str, section: str, who: str) -> tuple[re.Match[str], Mention | None] | None:
        """The one place a phrase matches; with its mention when the pattern marks one with `{}`."""
        matches = self.skeleton.find(pattern, section)
        if len(matches) != 1:
            count = "nothing" if not matches else f"{len(matches)} places"
            self.errors.append(f"{who}: phrase {pattern!r} in {section} matched {count}")
            return None
        match = matches[0]
        return match, (self.mentions[self.skeleton.by_start[match.start(1)]] if match.re.groups else None)

    def span(self, pattern: str, section: str, who: str) -> tuple[int, int] | None:
        matches = self.skeleton.find(pattern, section)
        if len(matches) != 1:
            count = "nothing" if not matches else f"{len(matches)} places"
            self.errors.append(f"{who}: list anchor {pattern!r} in {section} matched {count}")
            return None
        return matches[0].span(1)


def resolve_facts(resolver: Resolver, catalog: dict) -> tuple[list[dict], dict[int, tuple[str, str]]]:
    """Match each catalog figure to its mention. Returns facts and {mention index: (claim, note)}."""
    facts, claims = [], {}
    for entry in catalog["facts"]:
        who = f"{entry['fact_id']} ({entry['metric_en']})"
        mention = resolver.figure(entry["find"], entry["section"], who, entry["unit"], claims, entry["fact_id"])
        if mention is None:
            continue
        table = entry["table"]
        facts.append({
            "fact_id": entry["fact_id"],
            "section": entry["section"],
            "metric_zh": entry["metric_zh"],
            "metric_en": entry["metric_en"],
            "population": entry["population"],
            "hedge_en": entry.get("hedge_en"),
            "hedge_zh": entry.get("hedge_zh"),
            "value": mention.value,
            "value_max": mention.value_max,
            "unit": entry["unit"],
            "qualifier": entry.get("qualifier", mention.qualifier),
            "decimals": decimals(mention.text),
            "area_zh": entry.get("area", catalog["default_area"]),
            "quote": mention.text,
            "char_start": mention.char_start,
            "char_end": mention.char_end,
            "table_name": table,
            "row": entry.get("row"),
            "column": entry.get("column"),
            "sign": entry.get("sign", 1),
        })
    for entry in catalog.get("non_figures", []):
        mention = resolver.one(entry["find"], entry["section"], f"non-figure {entry['find']!r}")
        if mention is not None:
            claims[resolver.index_of[mention.char_start]] = (entry["kind"], entry["reason"])
    return facts, claims


def five_year_plan_years(numeral: int) -> tuple[int, int]:
    """Years of the n-th Five-Year Plan. Plans ran five years from 1953, except that the third began
    in 1966 after the 1963-65 readjustment; so the 13th (十三五) is 2016-2020."""
    start = 1953 + 5 * (numeral - 1) if numeral < 3 else 1966 + 5 * (numeral - 3)
    return start, start + 4


def resolve_periods(resolver: Resolver, catalog: dict, publication_date: str) -> list[dict]:
    """The phrases that date figures (目前, 截止…, 年内, “十三五”以来 ...), with the period each gives."""
    periods = []
    for entry in catalog["periods"]:
        found = resolver.phrase(entry["find"], entry["section"], f"period {entry['period_id']}")
        if found is None:
            continue
        match, mention = found
        means = entry["means"]
        if means == "reply_date":
            as_of = publication_date
        elif means == "reply_year":
            as_of = publication_date[:4]
        elif means == "mention_date" and mention is not None and mention.kind in ("date", "year"):
            as_of = iso_date(mention.text)
        elif means == "five_year_plan" and mention is not None and (numeral := re.search(f"([{CN_NUMERALS}]+)五",
                                                                                         mention.text)):
            # 十三五: the plan's ordinal (十三) and 五, for five-year. “…”以来 is "since": from the plan's
            # first year to the reply, not only to the plan's last year.
            as_of = f"{five_year_plan_years(int(parse_chinese(numeral.group(1))))[0]}/{publication_date}"
        else:
            resolver.errors.append(f"period {entry['period_id']}: {match.group()!r} gives no {means}")
            continue
        # A date is quoted as itself; any other period as its phrase (目前, 年内, “十三五”以来).
        start, end = (mention.char_start, mention.char_end) if means == "mention_date" else match.span()
        periods.append({**entry, "as_of": as_of, "quote": resolver.text[start:end], "char_start": start,
                        "char_end": end})
    return periods


def _reach(period: dict, sentences: list[dict]) -> float:
    """Where a period phrase stops dating later sentences: `full_stop`, at the end of the sentence, split at
    ；, that ends with 。！？ (the Chinese sentence the phrase heads); `paragraph`, never within its section."""
    if period["scope"] != "full_stop":
        return float("inf")
    for sentence in sentences:
        if sentence["char_end"] > period["char_start"] and sentence["text_zh"].rstrip()[-1:] in "。！？!?":
            return sentence["char_end"]
    return float("inf")


def date_facts(facts: list[dict], periods: list[dict], sentences: list[dict], publication_date: str) -> None:
    """Give every figure its sentence and its reference period: a phrase in its sentence, else the nearest
    earlier one of its paragraph, else the reply's date (the latest the figure can describe)."""
    index = SpanIndex(sentences)
    reach = {id(p): _reach(p, sentences) for p in periods}
    for fact in facts:
        sentence = index.at(fact["char_start"])
        fact["sentence_id"] = sentence["sentence_id"]
        in_sentence = [p for p in periods if sentence["char_start"] <= p["char_start"] < sentence["char_end"]]
        earlier = [p for p in periods if p["scope"] != "sentence" and p["section"] == fact["section"]
                   and p["char_end"] <= sentence["char_start"] < reach[id(p)]]
        period = in_sentence[0] if in_sentence else (earlier[-1] if earlier else None)
        if period is None:
            fact.update(as_of=publication_date, as_of_basis="reply_date", as_of_quote=None,
                        as_of_char_start=None, as_of_char_end=None)
            continue
        basis = "programme_period" if period["means"] == "five_year_plan" else \
            "stated_in_sentence" if in_sentence else "stated_for_paragraph"
        fact.update(as_of=period["as_of"], as_of_basis=basis, as_of_quote=period["quote"],
                    as_of_char_start=period["char_start"], as_of_char_end=period["char_end"])


def resolve_lists(resolver: Resolver, catalog: dict) -> list[dict]:
    items = []
    for entry in catalog.get("lists", []):
        span = resolver.span(entry["find"], entry["section"], f"list {entry['list_id']}")
        if span is None:
            continue
        separators = "|".join(map(re.escape, entry["separators"]))
        start, end = span
        position = 0
        for piece in re.finditer(rf"(?:(?!{separators}).)+", resolver.text[start:end]):
            name = piece.group().strip().strip("“”\"《》")
            offset = start + piece.start() + piece.group().find(name)
            position += 1
            items.append({
                "list_id": entry["list_id"],
                "list_en": entry["title_en"],
                "position": position,
                "name_zh": name,
                "char_start": offset,
                "char_end": offset + len(name),
                "count_fact_id": entry.get("count_fact"),
            })
    return items


def account(mentions: list[Mention], claims: dict, sections: list[dict],
            sentences: list[dict]) -> tuple[list[dict], list[str]]:
    """Every mention is a figure, a classified non-figure, or an error."""
    rows, unaccounted = [], []
    sentence_index, section_index = SpanIndex(sentences), SpanIndex(sections)
    for i, m in enumerate(mentions):
        section = section_index.at(m.char_start)["section_id"]
        claim, note = claims.get(i, (None, None))
        if m.kind != "quantity":
            fact_id, accounted_as = None, m.kind
        elif claim is None:
            unaccounted.append(f"{m.text!r} at [{m.char_start}:{m.char_end}] in {section}")
            continue
        elif note is None:
            fact_id, accounted_as = claim, "figure"
        else:
            fact_id, accounted_as = None, claim
        rows.append({"mention_id": i, "section": section,
                     "sentence_id": sentence_index.at(m.char_start)["sentence_id"], **m._asdict(), "kind": m.kind,
                     "fact_id": fact_id, "accounted_as": accounted_as, "note": note})
    return rows, unaccounted


def extract(document: dict) -> dict:
    text, sections = document["text"], document["sections"]
    catalog = metadata.figures()
    # Words that merely hold a numeral character (进一步, 一般) are not numbers: the dataset counts numbers.
    mentions = [m for m in iter_mentions(text) if m.kind != "word"]
    resolver = Resolver(text, mentions, sections)
    facts, claims = resolve_facts(resolver, catalog)
    publication_date = iso_date(document["header"]["发布日期"]["value"])
    date_facts(facts, resolve_periods(resolver, catalog, publication_date), document["sentences"], publication_date)
    items = resolve_lists(resolver, catalog)
    mention_rows, unaccounted = account(mentions, claims, sections, document["sentences"])
    found = find_entities(text, sections, mentions, items)
    problems = found.pop("problems")
    if resolver.errors:
        problems.append("check anchors_resolve failed: these figures could not be found exactly once:\n  "
                        + "\n  ".join(resolver.errors))
    if unaccounted:
        problems.append("check every_number_accounted failed: these quantities are neither a catalog "
                        "figure nor a classified non-figure; add them to pipeline/catalog/figures.yaml "
                        "as a fact or under non_figures:\n  " + join_capped(unaccounted))
    if problems:
        raise ValidationFailed("\n".join(problems))
    return {"facts": facts, "mentions": mention_rows, "named_items": items, **found}


def find_entities(text: str, sections: list[dict], mentions: list[Mention], items: list[dict]) -> dict:
    """Places, referenced documents and glossary terms (pipeline.entities), with named failures."""
    index = SpanIndex(sections)

    def locate(position: int) -> str:
        return index.at(position)["section_id"]

    catalog = metadata.entities()
    places, place_mentions, place_errors = entities.find_places(text, items, catalog, locate)
    terms, missing = entities.find_terms(text, metadata.glossary(), locate)
    problems = []
    if place_errors:
        problems.append("check places_found failed:\n  " + join_capped(place_errors))
    if missing:
        problems.append("check glossary_terms_found failed: these terms of pipeline/catalog/glossary.yaml do not "
                        "appear in the text; fix the term or its `find`:\n  " + "\n  ".join(missing))
    return {"places": places, "place_mentions": place_mentions, "glossary": terms, "problems": problems,
            "referenced_documents": entities.find_documents(text, mentions, catalog, locate)}


def run(in_path: Path | None = None, out_path: Path | None = None) -> dict:
    paths = config.build_paths(config.BUILD_DIR)
    in_path, out_path = in_path or paths["ingest"], out_path or paths["extract"]
    document = json.loads(in_path.read_text(encoding="utf-8"))
    result = extract(document)
    out_path.write_text(json.dumps(result, ensure_ascii=False, indent=1), encoding="utf-8")
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--in", dest="in_path", type=Path, default=None)
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    result = run(args.in_path, args.out)
    print(f"extract: {len(result['facts'])} figures, {len(result['mentions'])} mentions, "
          f"{len(result['named_items'])} list items, {len(result['places'])} places, "
          f"{len(result['referenced_documents'])} document references, {len(result['glossary'])} glossary terms")


if __name__ == "__main__":
    report(main)
