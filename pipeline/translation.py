"""The letter in English: one curated template per sentence, rendered from the data.

A template (pipeline/catalog/translations.yaml) holds no figure. Its placeholders name the
mentions of its sentence: a figure by its fact_id, any other mention by what it was accounted as
and its order among those in the sentence (`{date.1}`, `{year.2}`, `{ordinal.1}`). The Chinese
template is the sentence with those mentions replaced by their placeholders; it is the
fingerprint of the sentence the English translates, so a reworded sentence fails the build while a
changed figure changes the English. Figures are written with English separators and the text's own
decimals.

Placeholders take an optional filter: `{x|words}` spells out a whole number up to twenty, `{x|nth}`
writes the (first) numeral of a mention as an ordinal word and `{x|nth:2}` its second numeral,
`{x|omit}` acknowledges a mention that the English renders in words of its own.
"""

from __future__ import annotations

import re
from bisect import bisect_left
from collections.abc import Callable
from dataclasses import dataclass

from pipeline import expressions
from pipeline.numbers import PUNCTUATION, iso_date, parse_chinese

PLACEHOLDER = expressions.PLACEHOLDER
# A placeholder may name idioms and names, but need not: they carry no value and are translated in words.
OPTIONAL = {"idiom", "name"}
FILTERS = {"words", "nth", "omit"}
_DIGIT = re.compile(r"[0-9０-９]")
_CN_NUMERAL = re.compile(r"[零〇一二两三四五六七八九十百千]+")

_WORDS = ("zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen "
          "sixteen seventeen eighteen nineteen twenty").split()
_NTH = ("zeroth first second third fourth fifth sixth seventh eighth ninth tenth eleventh twelfth thirteenth "
        "fourteenth fifteenth sixteenth seventeenth eighteenth nineteenth twentieth").split()
_MONTHS = ("January February March April May June July August September October November "
           "December").split()


@dataclass(frozen=True)
class Slot:
    """A mention of a sentence, under the name its templates use."""

    name: str
    kind: str  # the mention's accounted_as: figure, date, year, ordinal, idiom, ...
    text: str
    value: float | None
    value_max: float | None
    decimals: int


def number(value: float, decimals: int) -> str:
    return f"{value:,.{decimals}f}"


def _ordinal(n: int) -> str:
    if 0 <= n < len(_NTH):
        return _NTH[n]
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def _numerals(text: str) -> list[int]:
    return [int(parse_chinese(m)) for m in _CN_NUMERAL.findall(text)] + [
        int(d) for d in re.findall(r"\d+", text)]


def _english_date(text: str) -> str:
    month = re.fullmatch(r"([0-9]{1,2})月", text)
    if iso_date(text) is None and month and 1 <= int(month.group(1)) <= 12:
        return _MONTHS[int(month.group(1)) - 1]  # a month without its year (截至11月底)
    iso = iso_date(text) or text
    parts = iso.split("-")
    if len(parts) == 3:
        return f"{int(parts[2])} {_MONTHS[int(parts[1]) - 1]} {parts[0]}"
    if len(parts) == 2:
        return f"{_MONTHS[int(parts[1]) - 1]} {parts[0]}"
    return parts[0]


def _document_number(text: str, romanize: Callable[[str], str]) -> str:
    """第0132号 -> No. 0132; 保民政发〔2020〕2号 -> Bao Min Zheng Fa [2020] No. 2."""
    match = re.fullmatch(r"第?(.*?)([0-9０-９]+)号", text)
    if not match:
        return text
    prefix, serial = match.groups()
    prefix = re.sub(r"[〔［\[﹝【(（]", " [", re.sub(r"[〕］\]﹞】)）]", "] ", prefix))
    prefix = re.sub(r"[\u4e00-\u9fff]+", lambda m: romanize(m.group()) + " ", prefix)
    return " ".join(f"{prefix} No. {serial}".split())


def render_slot(slot: Slot, filter_name: str | None, argument: int | None,
                romanize: Callable[[str], str]) -> str:
    if filter_name == "omit":
        return ""
    if filter_name == "nth":
        numerals = _numerals(slot.text)
        index = (argument or 1) - 1
        return _ordinal(numerals[index]) if index < len(numerals) else slot.text
    if slot.kind == "date_range" and slot.value is not None:
        years = [int(slot.value)] + ([int(slot.value_max)] if slot.value_max is not None else [])
        return "–".join(map(str, years))
    if slot.value is not None and slot.kind not in ("year", "date"):
        if filter_name == "words" and slot.value == int(slot.value) and 0 <= slot.value < len(_WORDS) \
                and slot.value_max is None:
            return _WORDS[int(slot.value)]
        text = number(slot.value, slot.decimals)
        return f"{text}–{number(slot.value_max, slot.decimals)}" if slot.value_max is not None else text
    if slot.kind in ("date", "year"):
        return _english_date(slot.text)
    if slot.kind == "document_number":
        return _document_number(slot.text, romanize)
    if slot.kind == "ordinal":
        numerals = _numerals(slot.text)
        return "-".join(map(str, numerals)) if numerals else slot.text
    return slot.text


def fold(text: str) -> str:
    """How a Chinese template is compared with its sentence: full-width and ASCII punctuation alike."""
    return text.translate(PUNCTUATION)


def problems_of(sentence_id: str, entry: dict | None, slots: list[Slot], foreign: set[str],
                text_zh: str) -> list[str]:
    """Everything wrong with one sentence's templates, each line naming its check."""
    if entry is None:
        return [f"check translation_missing failed: sentence {sentence_id} has no entry in "
                f"pipeline/catalog/translations.yaml; its Chinese: {text_zh!r}"]
    found = []
    for key in ("zh", "en"):
        if _DIGIT.search(PLACEHOLDER.sub("", entry[key])):
            found.append(f"check translation_digit failed: the {key} template of {sentence_id} contains a digit "
                         f"({entry[key]!r}); figures and numbers must come from the text through placeholders")
    by_name = {slot.name: slot for slot in slots}
    zh_names = [m.group(1) for m in PLACEHOLDER.finditer(entry["zh"])]
    for language, template in (("zh", entry["zh"]), ("en", entry["en"])):
        for match in PLACEHOLDER.finditer(template):
            name, filter_name = match.group(1), match.group(2)
            if name not in by_name:
                where = "a figure of another sentence" if name in foreign else "no mention of this sentence"
                found.append(f"check translation_placeholder_unknown failed: {{{name}}} in the {language} template of "
                             f"{sentence_id} names {where}; its mentions are {sorted(by_name)}")
            elif filter_name and filter_name not in FILTERS:
                found.append(f"check translation_placeholder_unknown failed: {match.group()} in {sentence_id} uses the "
                             f"unknown filter {filter_name!r}; filters are {sorted(FILTERS)}")
            elif language == "en" and name not in zh_names:
                found.append(f"check translation_placeholder_unknown failed: {{{name}}} is in the English of "
                             f"{sentence_id} but not in its Chinese template")
    for slot in slots:
        required = slot.kind not in OPTIONAL
        in_zh = zh_names.count(slot.name)
        in_en = len([m for m in PLACEHOLDER.finditer(entry["en"]) if m.group(1) == slot.name])
        if required and in_zh == 0:
            found.append(f"check translation_placeholder_missing failed: the Chinese template of {sentence_id} lacks "
                         f"{{{slot.name}}} ({slot.text!r})")
        if (required or in_zh) and in_en == 0:
            found.append(f"check translation_placeholder_missing failed: the English of {sentence_id} lacks "
                         f"{{{slot.name}}} ({slot.text!r}); render it, or write {{{slot.name}|omit}} where the "
                         f"English says it in words")
        if slot.kind == "figure" and (in_en > 1 or in_zh > 1):
            found.append(f"check translation_placeholder_repeated failed: figure {{{slot.name}}} ({slot.text!r}) "
                         f"appears more than once in a template of {sentence_id}")
    if not found:
        rendered = PLACEHOLDER.sub(lambda m: by_name[m.group(1)].text, entry["zh"])
        if fold(rendered) != fold(text_zh):
            found.append(f"check translation_stale failed: sentence {sentence_id} is no longer the Chinese its "
                         f"English translates; update pipeline/catalog/translations.yaml.\n"
                         f"    catalog: {rendered!r}\n    text:    {text_zh!r}")
    return found


def render(entry: dict, slots: list[Slot], romanize: Callable[[str], str],
           wrap: Callable[[Slot, str], str] | None = None, escape: Callable[[str], str] | None = None) -> str:
    """The English of a sentence. A page can pass `wrap` to mark up each rendered mention (and `escape`
    for the template's own text); the plain text is the same either way."""
    by_name = {slot.name: slot for slot in slots}
    escape = escape or (lambda text: text)
    out, position = [], 0
    template = " ".join(entry["en"].split())
    for match in PLACEHOLDER.finditer(template):
        out.append(escape(template[position:match.start()]))
        slot = by_name[match.group(1)]
        text = render_slot(slot, match.group(2), int(match.group(3)) if match.group(3) else None, romanize)
        out.append(wrap(slot, text) if wrap and text else escape(text))
        position = match.end()
    out.append(escape(template[position:]))
    return re.sub(r" {2,}", " ", "".join(out)).strip()  # an omitted mention leaves no double space


def slots_of(sentence: dict, mentions: list[dict], decimals_of: Callable[[str], int]) -> list[Slot]:
    """The mentions inside a sentence, named as its templates name them. `mentions` may be all of the
    text's mentions or only those that start inside the sentence."""
    slots, counts = [], {}
    for m in mentions:
        if not (sentence["char_start"] <= m["char_start"] and m["char_end"] <= sentence["char_end"]):
            continue
        kind = m["accounted_as"]
        if kind == "figure":
            name = m["fact_id"]
        else:
            counts[kind] = counts.get(kind, 0) + 1
            name = f"{kind}.{counts[kind]}"
        slots.append(Slot(name, kind, m["text"], m["value"], m["value_max"], decimals_of(m["text"])))
    return slots


def mentions_by_sentence(sentences: list[dict], mentions: list[dict]) -> list[list[dict]]:
    """The mentions that start inside each sentence, in one pass over both (sentences are in text order)."""
    ordered = sorted(mentions, key=lambda m: m["char_start"])
    starts = [m["char_start"] for m in ordered]
    return [ordered[bisect_left(starts, s["char_start"]):bisect_left(starts, s["char_end"])] for s in sentences]


def translate(sentences: list[dict], mentions: list[dict], catalog: dict[str, dict], decimals_of: Callable[[str], int],
              romanize: Callable[[str], str] | None = None) -> tuple[dict[str, str], list[str]]:
    """{sentence_id: English} for every sentence whose templates are sound (rendered only when a
    `romanize` for document numbers is given), and the problems of the rest."""
    figures_by_sentence = {}
    slots_by_sentence = {}
    for sentence, inside in zip(sentences, mentions_by_sentence(sentences, mentions), strict=True):
        slots = slots_of(sentence, inside, decimals_of)
        slots_by_sentence[sentence["sentence_id"]] = slots
        figures_by_sentence[sentence["sentence_id"]] = {s.name for s in slots if s.kind == "figure"}
    all_figures = set().union(*figures_by_sentence.values()) if figures_by_sentence else set()
    english, problems = {}, []
    for sentence in sentences:
        sid = sentence["sentence_id"]
        found = problems_of(sid, catalog.get(sid), slots_by_sentence[sid], all_figures - figures_by_sentence[sid],
                            sentence["text_zh"])
        if found:
            problems += found
        elif romanize is not None:
            english[sid] = render(catalog[sid], slots_by_sentence[sid], romanize)
    known = {s["sentence_id"] for s in sentences}
    problems += [f"check translation_orphaned failed: pipeline/catalog/translations.yaml translates {sid}, "
                 "which is not a sentence of the text" for sid in catalog if sid not in known]
    return english, problems


# --- notes: templates over the figures ------------------------------------------------------------

_EXPRESSION = expressions.TEMPLATE_EXPRESSION


def evaluate(expression: str, facts: dict[str, dict]) -> tuple[float, list[str]]:
    """Value of an arithmetic expression over fact ids (+ - * /, parentheses and the note functions of
    pipeline/expressions.py; no typed numbers), and the fact ids it used. Anything else raises
    ValueError; an unknown fact id raises KeyError."""
    values = {fact_id: fact["value"] for fact_id, fact in facts.items()}
    return expressions.evaluate(expression, values, expressions.NOTE_FUNCTIONS, constants=False)


def render_note(template: str, facts: dict[str, dict]) -> str:
    """A note with `{fact_id}` as that figure's value and `{= expression}` computed from the figures,
    shown to the most decimals of the figures it uses (two when those are whole but the result is not)."""
    def expression(match: re.Match[str]) -> str:
        value, used = evaluate(match.group(1), facts)
        places = 0 if isinstance(value, int) else max(facts[f]["decimals"] for f in used)  # a count (total_from_share)
        if places == 0 and value != round(value):
            places = 2
        return number(value, places)

    def figure(match: re.Match[str]) -> str:
        fact = facts[match.group(1)]
        slot = Slot(match.group(1), "figure", fact["quote"], fact["value"], fact["value_max"], fact["decimals"])
        return render_slot(slot, match.group(2), None, str)

    return PLACEHOLDER.sub(figure, _EXPRESSION.sub(expression, template))


def note_problems(where: str, template: str, facts: dict[str, dict]) -> list[str]:
    """A note's placeholders and expressions must name figures and compute; no digit may be typed in it."""
    found = []
    if _DIGIT.search(template):
        found.append(f"check note_template failed: {where} contains a digit; values come from placeholders")
    for match in _EXPRESSION.finditer(template):
        try:
            evaluate(match.group(1), facts)
        except KeyError as missing:
            found.append(f"check note_template failed: {where}: {{= {match.group(1)}}} names {missing}, not a figure")
        except (ValueError, SyntaxError, ZeroDivisionError) as error:
            found.append(f"check note_template failed: {where}: {{= {match.group(1)}}} is not an arithmetic "
                         f"expression over figures ({error})")
    for match in PLACEHOLDER.finditer(_EXPRESSION.sub("", template)):
        if match.group(1) not in facts:
            found.append(f"check note_template failed: {where}: {{{match.group(1)}}} is not a figure")
    return found
