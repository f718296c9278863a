"""Places, referenced documents and glossary terms in the text, each with provenance.

Used by the extract stage. Which places and documents exist comes from the text, found by the
patterns in catalog/entities.yaml; the curated English, codes and pinyin are joined later, in
the tables stage (pipeline/reference.py). Every span returned satisfies text[start:end] == quote.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Callable

from pipeline.catalog_models import PlaceClasses
from pipeline.numbers import PUNCTUATION, YEAR_IN_BRACKETS, Mention

CJK = "\u4e00-\u9fff"
_DOCUMENT_TITLE = re.compile(r"《([^《》]+)》")
_SENTENCE_END = re.compile(r"[。;\n]")
# An issuer is sought in the sentence, at most this many characters before the title's 《, so that
# a sentence of many titles costs time in proportion to its length.
ISSUER_WINDOW = 64


class PlaceFinder:
    """Finds place names by suffix class and context, then every mention of each name found."""

    def __init__(self, catalog: dict):
        self.catalog = catalog
        function = re.escape(catalog["function_characters"])
        stem = rf"(?:(?![{function}])[{CJK}]){{2}}"
        self.suffixes = {cls: sorted(s, key=len, reverse=True) for cls, s in catalog["place_classes"].items()}
        token = {cls: rf"{stem}(?:{'|'.join(map(re.escape, s))})" for cls, s in self.suffixes.items()}
        # `{county}` also admits the suffix of a city: a county-level city sits where a county does.
        token["county"] = rf"{stem}(?:{'|'.join(map(re.escape, self.suffixes['county'] + self.suffixes['city']))})"
        self.patterns = []
        for entry in catalog["place_patterns"]:
            regex = entry["pattern"]
            for cls, expression in token.items():
                regex = regex.replace("{" + cls + "}", f"(?P<{cls}>{expression})")
            self.patterns.append((entry["id"], re.compile(regex, re.M)))

    def _suffix(self, name: str) -> tuple[str, str]:
        """(class, suffix) by the longest suffix the name ends with: 社区 is a village, not a 区."""
        found = [(len(s), cls, s) for cls, suffixes in self.suffixes.items() for s in suffixes if name.endswith(s)]
        return max(found)[1:] if found else ("township", "")

    def place_class(self, name: str) -> str:
        return self._suffix(name)[0]

    def stem(self, name: str) -> str | None:
        suffix = self._suffix(name)[1]
        return name[:-len(suffix)] if suffix and len(name) - len(suffix) >= 2 else None

    def discover(self, text: str) -> dict[str, dict]:
        places: dict[str, dict] = {}
        for pattern_id, pattern in self.patterns:
            for match in pattern.finditer(text):
                parent = None
                for cls in PlaceClasses.model_fields:  # widest first, as the model declares the classes
                    if cls not in match.groupdict() or match.group(cls) is None:
                        continue
                    name = match.group(cls)
                    place = places.setdefault(name, {"name_zh": name, "place_class": self.place_class(name),
                                                     "parent_zh": None, "found_by": pattern_id})
                    place["parent_zh"] = place["parent_zh"] or parent
                    parent = name
        return places

    def sites(self, places: dict[str, dict], items: list[dict], errors: list[str]) -> None:
        """Each item of a settlement-site list is a site, named after its township's stem."""
        stems = {self.stem(name): name for name in places if self.stem(name)}
        for item in items:
            name = item["name_zh"]
            if len(name) < 3:
                errors.append(f"list {item['list_id']} item {name!r} at [{item['char_start']}:{item['char_end']}] "
                              "is too short to be a site named after its township")
                continue
            first = name[:2]
            township = stems.get(first)
            if township is None:
                township = first
                places.setdefault(first, {"name_zh": first, "place_class": "township", "parent_zh": None,
                                          "found_by": f"list:{item['list_id']}", "stem_only": True})
                stems[first] = first
            parent, position = township, 2
            while (known := stems.get(name[position:position + 2])) is not None:
                parent, position = known, position + 2
            places.setdefault(name, {"name_zh": name, "place_class": "settlement_site", "parent_zh": parent,
                                     "found_by": f"list:{item['list_id']}"})

    def mentions(self, text: str, places: dict[str, dict], locate: Callable[[int], str]) -> list[dict]:
        rows = []
        for name, place in places.items():
            full = [(m.start(), m.end()) for m in re.finditer(re.escape(name), text)]
            rows += [{"name_zh": name, "quote": name, "char_start": s, "char_end": e, "section": locate(s),
                      "form": "short" if place.get("stem_only") else "full"} for s, e in full]
            stem = None if place["place_class"] == "settlement_site" else self.stem(name)
            if stem:
                for m in re.finditer(re.escape(stem), text):
                    if not any(s <= m.start() < e for s, e in full):
                        rows.append({"name_zh": name, "quote": stem, "char_start": m.start(), "char_end": m.end(),
                                     "section": locate(m.start()), "form": "short"})
        return sorted(rows, key=lambda r: (r["char_start"], -r["char_end"], r["name_zh"]))


def innermost_place(item: dict, mentions: list[dict]) -> str | None:
    """The place named last (the most specific) inside a list item's span."""
    inside = [m for m in mentions if item["char_start"] <= m["char_start"] and m["char_end"] <= item["char_end"]]
    return max(inside, key=lambda m: (m["char_start"], -m["char_end"]))["name_zh"] if inside else None


def find_places(text: str, items: list[dict], catalog: dict, locate: Callable[[int], str]):
    """Returns (places, place mentions, errors); list items naming a place get `place_name_zh`."""
    finder = PlaceFinder(catalog)
    normalized = text.translate(PUNCTUATION)
    places = finder.discover(normalized)
    errors: list[str] = []
    kinds = catalog.get("list_places", {})
    finder.sites(places, [i for i in items if kinds.get(i["list_id"]) == "settlement_site"], errors)
    mentions = finder.mentions(text, places, locate)
    for item in items:
        kind = kinds.get(item["list_id"])
        if kind == "settlement_site":
            item["place_name_zh"] = item["name_zh"]
        elif kind == "contains":
            item["place_name_zh"] = innermost_place(item, mentions)
            if item["place_name_zh"] is None:
                errors.append(f"list {item['list_id']} item {item['name_zh']!r} at [{item['char_start']}:"
                              f"{item['char_end']}] should name a place, but no place was found in it")
    return sorted(places.values(), key=lambda p: p["name_zh"]), mentions, errors


def find_documents(text: str, mentions: list[Mention], catalog: dict, locate: Callable[[int], str]) -> list[dict]:
    """Every 《title》 and every document number, a number right after a title being that title's.

    Linear in the text: each title looks up its number by offset, its sentence start by bisection
    and its issuer in a bounded stretch before it.
    """
    spec = catalog["documents"]
    normalized = text.translate(PUNCTUATION)
    numbers = [m for m in mentions if m.kind == "document_number"]
    number_at = {n.char_start: n for n in numbers}
    sentence_ends = [m.start() for m in _SENTENCE_END.finditer(normalized)]
    after_title = re.compile(spec["number_after_title"])
    issuer_before = re.compile(spec["issuer_pattern"])
    issuer_in_title = re.compile(spec["title_issuer_pattern"])
    rows, used = [], set()
    for match in _DOCUMENT_TITLE.finditer(normalized):
        start, end = match.span()
        bridge = after_title.match(normalized, end - 1)
        number = number_at.get(bridge.end()) if bridge else None
        if number is not None:
            used.add(number.char_start)
            end = number.char_end + (normalized[number.char_end:number.char_end + 1] == ")")
        before = bisect.bisect_left(sentence_ends, start)
        sentence_start = sentence_ends[before - 1] + 1 if before else 0
        issuer = None
        for candidate in issuer_before.finditer(normalized, max(sentence_start, start - ISSUER_WINDOW), match.end(1)):
            if candidate.end() == match.start() + 1:
                issuer = candidate.span(1)
        if issuer is None and (in_title := issuer_in_title.match(match.group(1))):
            issuer = (match.start(1) + in_title.start(1), match.start(1) + in_title.end(1))
        rows.append(_document_row(text, start, end, match.span(1), number, issuer, locate))
    for number in numbers:
        if number.char_start not in used:
            rows.append(_document_row(text, number.char_start, number.char_end, None, number, None, locate))
    rows.sort(key=lambda r: r["char_start"])
    for position, row in enumerate(rows, 1):
        row["reference_id"] = f"ref_{position:02d}"
    return rows


def _document_row(text, start, end, title, number, issuer, locate) -> dict:
    year = YEAR_IN_BRACKETS.search(number.text) if number else None
    return {
        "title_zh": text[title[0]:title[1]] if title else None,
        "title_char_start": title[0] if title else None,
        "title_char_end": title[1] if title else None,
        "document_number": number.text if number else None,
        "number_char_start": number.char_start if number else None,
        "number_char_end": number.char_end if number else None,
        "year": int(year.group(1)) if year else None,
        "issuer_zh": text[issuer[0]:issuer[1]] if issuer else None,
        "issuer_char_start": issuer[0] if issuer else None,
        "issuer_char_end": issuer[1] if issuer else None,
        "quote": text[start:end],
        "char_start": start,
        "char_end": end,
        "section": locate(start),
    }


def term_pattern(term: dict) -> re.Pattern[str]:
    find = term.get("find", term["term_zh"]).translate(PUNCTUATION)
    return re.compile("[0-9０-９]+".join(re.escape(part) for part in find.split("{*}")))


def find_terms(text: str, glossary: list[dict], locate: Callable[[int], str]) -> tuple[list[dict], list[str]]:
    """Where each glossary term first appears, and how often it appears."""
    normalized = text.translate(PUNCTUATION)
    rows, missing = [], []
    for term in glossary:
        matches = list(term_pattern(term).finditer(normalized))
        if not matches:
            missing.append(f"{term['term_id']} ({term['term_zh']}): {term.get('find', term['term_zh'])!r}")
            continue
        start, end = matches[0].span()
        rows.append({"term_id": term["term_id"], "quote": text[start:end], "char_start": start, "char_end": end,
                     "section": locate(start), "occurrences": len(matches)})
    return rows, missing
