"""Checks across tables and against the source text, run by the validate stage.

- provenance: every span a table declares (`spans:` in tables.yaml) equals its quote in the text;
- references: every column declared with `references: table.column` points at an existing row;
- translations: every place and list item has its curated English, and every curated English
  name of a list item still has its item in the text (so deleting an item fails here too);
- sentences: they partition the text, every figure lies in its sentence, and every English template
  renders (no digit, every figure of its sentence exactly once, a Chinese fingerprint that still matches);
- hedges: a figure whose reading the text leaves open (facts.hedge_en) carries its hedge, in square
  brackets, in its label and in its sentence's English, so that the English never settles it;
- terminology: a sentence that contains a glossary term or a cited title says it with that entry's
  English (or a variant the glossary declares), so one Chinese term reads the same everywhere.
- sections: each holds exactly its sentences, with only blanks around them.
"""

from __future__ import annotations

import re
import unicodedata

import pandas as pd

from pipeline import corroborations, entities, metadata, translation
from pipeline.errors import capped, join_capped
from pipeline.numbers import PUNCTUATION, decimals


def _column(series: pd.Series) -> list:
    """The column's values as Python objects, None where missing: `astype(object).where(notna(), None)` of
    one column, without the copies of the whole frame (those were a tenth of a warm build)."""
    return [value if present else None for value, present in zip(series.tolist(), series.notna().tolist(),
                                                                  strict=True)]


def records(df: pd.DataFrame) -> list[dict]:
    """`df.astype(object).where(df.notna(), None).to_dict("records")`, column by column."""
    names = list(df.columns)
    return [dict(zip(names, row, strict=True)) for row in zip(*(_column(df[name]) for name in names), strict=True)] \
        if names else [{} for _ in range(len(df))]


def _cells(df: pd.DataFrame, columns: list[str]) -> list[tuple]:
    return list(zip(df.index.tolist(), *(_column(df[column]) for column in columns), strict=True))


def provenance_problems(tables: dict[str, pd.DataFrame], text: str, others: dict[str, str]) -> list[str]:
    """Every declared span is its quote in the text of its row's document (the letter's `text`, or one of
    `others` by document_id)."""
    problems = []
    letter = tables["documents"]["document_id"].iloc[0] if "documents" in tables else None
    for name, table in metadata.tables().items():
        for quote_column, start_column, end_column in table.get("spans", []):
            if name not in tables:
                continue
            bad = []
            df = tables[name]
            documents = _column(df["document_id"]) if "document_id" in df.columns else [None] * len(df)
            cells = _cells(df, [quote_column, start_column, end_column])
            for (index, quote, start, end), document_id in zip(cells, documents, strict=True):
                if quote is None and start is None and end is None:
                    continue
                source = text if document_id is None or document_id == letter else others.get(document_id)
                if source is None:
                    bad.append(f"row {index}: document_id {document_id!r} is no document of this build")
                    continue
                if None in (quote, start, end) or source[int(start):int(end)] != quote:
                    found = source[int(start):int(end)] if None not in (start, end) else None
                    bad.append(f"row {index}: {quote_column} {quote!r} but text[{start}:{end}] is {found!r}")
            if bad:
                problems.append(f"check provenance.{name}.{quote_column} failed: these quotes are not the text at "
                                f"their offsets:\n  " + "\n  ".join(bad[:20]))
    return problems


def reference_problems(tables: dict[str, pd.DataFrame]) -> list[str]:
    problems = []
    for name, table in metadata.tables().items():
        for column in table["columns"]:
            if "references" not in column or name not in tables:
                continue
            target_table, target_column = column["references"].split(".")
            known = set(tables[target_table][target_column].dropna())
            values = tables[name][column["name"]]
            missing = sorted(set(values.dropna()) - known)
            if missing:
                problems.append(f"check references.{name}.{column['name']} failed: {missing} do not exist in "
                                f"{column['references']}")
    return problems


def translation_problems(tables: dict[str, pd.DataFrame]) -> list[str]:
    problems = []
    places = tables["places"]
    untranslated = places.loc[places["name_en"].isna(), "name_zh"].tolist()
    if untranslated:
        problems.append(f"check translations.places failed: the text names {untranslated}, which have no English "
                        "name in pipeline/catalog/entities.yaml (`places:`); add the official English form")
    items = tables["named_items"]
    for entry in metadata.figures()["lists"]:
        rows = items[items["list_id"] == entry["list_id"]]
        untranslated = rows.loc[rows["name_en"].isna(), "name_zh"].tolist()
        present = {metadata.catalog_key(name) for name in rows["name_zh"]}
        stale = [name for name in entry.get("names_en", {}) if metadata.catalog_key(name) not in present]
        if untranslated or stale:
            found = "、".join(rows["name_zh"]) or "(none)"
            problems.append(
                f"check translations.{entry['list_id']} failed: the list '{entry['title_en']}' in the text "
                f"and its English names in pipeline/catalog/figures.yaml disagree\n"
                f"  items found: {found}\n"
                + (f"  items without English: {'、'.join(untranslated)}\n" if untranslated else "")
                + (f"  English names whose item is no longer in the text: {'、'.join(stale)}" if stale else ""))
    return problems


def sentence_problems(tables: dict[str, pd.DataFrame], text: str) -> list[str]:
    """The sentences cover every non-blank character once and in order, every figure lies inside its
    sentence, and every sentence's English templates are sound (pipeline/translation.py)."""
    sentences = records(tables["sentences"])
    problems, position = [], 0
    for sentence in sentences:
        gap = text[position:sentence["char_start"]]
        if gap.strip() or sentence["char_start"] < position:
            problems.append(f"check sentences_partition failed: before {sentence['sentence_id']} "
                            f"[{sentence['char_start']}:{sentence['char_end']}] the text {gap!r} from offset "
                            f"{position} is in no sentence, or sentences overlap")
        position = sentence["char_end"]
    if text[position:].strip():
        problems.append(f"check sentences_partition failed: the text after offset {position} is in no sentence")
    spans = {s["sentence_id"]: (s["char_start"], s["char_end"]) for s in sentences}
    outside = []
    for fact in records(tables["facts"]):
        start, end = spans.get(fact["sentence_id"], (0, -1))
        if not (start <= fact["char_start"] and fact["char_end"] <= end):
            outside.append(f"{fact['fact_id']} [{fact['char_start']}:{fact['char_end']}] is not inside its sentence "
                           f"{fact['sentence_id']} [{start}:{end}]")
    if outside:
        problems.append("check facts_in_sentence failed:\n  " + join_capped(outside))
    _, template_problems = translation.translate(sentences, records(tables["mentions"]), metadata.translations(),
                                                 decimals)
    # A text far from the catalog's (another document) would list a problem per sentence: cap each list.
    return capped(problems) + capped(template_problems)


def hedge_problems(tables: dict[str, pd.DataFrame]) -> list[str]:
    """Every hedged figure's label and sentence English carry `[hedge_en]`."""
    english = dict(zip(tables["sentences"]["sentence_id"], _column(tables["sentences"]["text_en"]), strict=True))
    problems = []
    for fact in records(tables["facts"]):
        if fact["hedge_en"] is None:
            continue
        mark = f"[{fact['hedge_en']}]"
        for where, said in (("its label, facts.metric_en", fact["metric_en"]),
                            (f"the English of its sentence {fact['sentence_id']}", english.get(fact["sentence_id"]))):
            if mark not in (said or ""):
                problems.append(f"check hedge failed: {fact['fact_id']} ({fact['quote']}) is hedged {mark} in "
                                f"pipeline/catalog/figures.yaml, but {where} does not say so: {said!r}")
    for name in metadata.figure_tables():
        table = metadata.tables()[name]
        if not metadata.is_wide(table) or "hedge_en" not in tables[name].columns:
            continue
        label = table["label"]
        for row in records(tables[name]):
            for hedge in (row["hedge_en"] or "").split(" | ") if row["hedge_en"] else []:
                if f"[{hedge}]" not in row[f"{label}_en"]:
                    problems.append(f"check hedge failed: {name} row {row[f'{label}_id']} holds a figure hedged "
                                    f"[{hedge}], but its label in pipeline/catalog/tables.yaml does not say so: "
                                    f"{row[f'{label}_en']!r}")
    return problems


def plain(english: str) -> str:
    """English as terminology compares it: width-folded (NFKC), lower case, without quotation marks or
    repeated spaces."""
    return " ".join(re.sub(r"[\"'“”‘’]", "", unicodedata.normalize("NFKC", english).lower()).split())


def terminology_problems(tables: dict[str, pd.DataFrame]) -> list[str]:
    """A sentence holding a glossary term says its term_en or a declared variant; one holding a cited
    title says that title's title_en (referenced_documents)."""
    sentences = records(tables["sentences"])
    problems = []
    for term in metadata.glossary():
        pattern = entities.term_pattern(term)
        forms = [term["term_en"], *term.get("english_variants", [])]
        for sentence in sentences:
            if pattern.search(sentence["text_zh"].translate(PUNCTUATION)) and \
                    not any(plain(form) in plain(sentence["text_en"] or "") for form in forms):
                problems.append(f"check terminology failed: {sentence['sentence_id']} contains the glossary term "
                                f"{term['term_zh']} ({term['term_id']}), but its English uses none of "
                                f"{forms}; use one, or declare the English as a variant in "
                                "pipeline/catalog/glossary.yaml (english_variants)")
    for cited in records(tables["referenced_documents"]):
        if cited["title_en"] is None:
            continue
        sentence = next((s for s in sentences if s["char_start"] <= cited["char_start"] < s["char_end"]), None)
        if sentence is not None and plain(cited["title_en"]) not in plain(sentence["text_en"] or ""):
            problems.append(f"check terminology failed: {sentence['sentence_id']} cites 《{cited['title_zh']}》, but "
                            f"its English does not give the title as referenced_documents does: "
                            f"{cited['title_en']!r}")
    return problems


def section_problems(tables: dict[str, pd.DataFrame], text: str) -> list[str]:
    """Each section holds exactly its sentences: they lie inside it, with only blanks before the first and
    after the last."""
    sentences = tables["sentences"]
    first = sentences.groupby("section")["char_start"].min().to_dict()
    last = sentences.groupby("section")["char_end"].max().to_dict()
    bad = []
    for section in records(tables["sections"]):
        start, end = section["char_start"], section["char_end"]
        inner = (first.get(section["section_id"]), last.get(section["section_id"]))
        if None in inner or not (start <= inner[0] and inner[1] <= end) \
                or text[start:inner[0]].strip() or text[inner[1]:end].strip():
            bad.append(f"{section['section_id']} [{start}:{end}] but its sentences [{inner[0]}:{inner[1]}]")
    return ["check sections_span_their_sentences failed:\n  " + join_capped(bad)] if bad else []


def problems(tables: dict[str, pd.DataFrame], text: str, others: dict[str, str]) -> list[str]:
    return [*provenance_problems(tables, text, others), *corroborations.problems(records(tables["corroborations"])),
            *reference_problems(tables), *translation_problems(tables),
            *sentence_problems(tables, text), *section_problems(tables, text), *capped(hedge_problems(tables)),
            *capped(terminology_problems(tables))]
