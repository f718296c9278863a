"""Checks across tables and against the source text, run by the validate stage.

- provenance: every span a table declares (`spans:` in tables.yaml) equals its quote in the text;
- references: every column declared with `references: table.column` points at an existing row;
- translations: every place and list item has its curated English, and every curated English
  name of a list item still has its item in the text (so deleting an item fails here too).
"""

from __future__ import annotations

import pandas as pd

from pipeline import metadata


def _cells(df: pd.DataFrame, columns: list[str]) -> list[tuple]:
    return list(df[columns].astype(object).where(df[columns].notna(), None).itertuples(name=None))


def provenance_problems(tables: dict[str, pd.DataFrame], text: str) -> list[str]:
    problems = []
    for name, table in metadata.tables().items():
        for quote_column, start_column, end_column in table.get("spans", []):
            if name not in tables:
                continue
            bad = []
            for index, quote, start, end in _cells(tables[name], [quote_column, start_column, end_column]):
                if quote is None and start is None and end is None:
                    continue
                if None in (quote, start, end) or text[int(start):int(end)] != quote:
                    found = text[int(start):int(end)] if None not in (start, end) else None
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


def problems(tables: dict[str, pd.DataFrame], text: str) -> list[str]:
    return [*provenance_problems(tables, text), *reference_problems(tables), *translation_problems(tables)]
