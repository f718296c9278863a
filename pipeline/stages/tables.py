"""Stage 3, tables: figures -> tidy tables, each typed by the single declaration in tables.yaml.

Every cell that carries a figure also records its fact_id. Derived columns (recomputed
rates, implied previous values) are computed here from the expression the declaration gives
them (`derived:` in tables.yaml), the same expression the schema checks them against.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
import pandas as pd

from pipeline import config, corroborations, entity_tables, expressions, metadata, reference, translation
from pipeline.arrow import write_table
from pipeline.errors import ValidationFailed, join_capped
from pipeline.numbers import decimals, iso_date
from pipeline.stages.ingest import load_manifest

DTYPES = {"string": "string", "int64": "Int64", "float64": "Float64", "bool": "boolean"}


def frame(name: str, rows: list[dict], subset: bool = False) -> pd.DataFrame:
    """A DataFrame with exactly the declared columns, in declared order and dtype.

    Every field of the rows must be a declared column, so that a column removed from tables.yaml is a
    named error rather than data dropped here and a KeyError later; `subset` (an indicator table, which
    takes a declared few of each figure's fields) allows the rest."""
    columns = metadata.tables()[name]["columns"]
    if not subset and rows:
        undeclared = sorted(set().union(*rows) - {c["name"] for c in columns})
        if undeclared:
            raise ValidationFailed(
                f"check catalog_keys failed: {metadata.catalog_file('tables.yaml')}: tables {name}: the pipeline "
                f"fills column{'s' if len(undeclared) > 1 else ''} {', '.join(map(repr, undeclared))}, which "
                "tables.yaml does not declare; declare them (a column is removed from the code and the catalog "
                "together)")
    dtypes = DTYPES
    labelled = [c for c in columns if "label_of" in c]
    if labelled:
        vocabularies = metadata.label_vocabularies()
        sources = {c["name"]: c["labels"] for c in columns if c.get("labels")}
        # A value outside its vocabulary gets no label here; the schema's allowed-values check names it.
        rows = [{**row, **{c["name"]: vocabularies[sources[c["label_of"][0]]]
                           .get(row[c["label_of"][0]], {}).get(c["label_of"][1])
                           for c in labelled if row.get(c["label_of"][0]) is not None}} for row in rows]
    data = {c["name"]: pd.array([row.get(c["name"]) for row in rows], dtype=dtypes[c["type"]])
            for c in columns}
    return pd.DataFrame(data, columns=[c["name"] for c in columns])


def fact_rows(facts: list[dict]) -> list[dict]:
    """Figures as rows: without where a wide table places them, and without the area's name (facts carry
    its code, ref_area_code, which joins to places)."""
    return [{k: v for k, v in fact.items() if k not in ("row", "column", "sign", "area_zh")} for fact in facts]


def mention_rows(mentions: list[dict], facts: list[dict]) -> list[dict]:
    """The tokenizer's mentions, a figure's with the qualifier the figure is read with (figures.yaml may
    extend one the tokenizer sees beside another number, as 以上 after a person threshold qualifies the
    household threshold before it)."""
    qualifiers = {fact["fact_id"]: fact["qualifier"] for fact in facts}
    return [{**m, "qualifier": qualifiers[m["fact_id"]]} if m.get("fact_id") in qualifiers else m for m in mentions]


def describe_facts(facts: list[dict], places: list[dict]) -> list[dict]:
    """Each figure with the GB/T 2260 code of the area it describes and its rendered notes."""
    codes = {place["name_zh"]: place["admin_code"] for place in places if place["admin_code"]}
    entries = {entry["fact_id"]: entry for entry in metadata.figures()["facts"]}
    by_id = {fact["fact_id"]: fact for fact in facts}
    problems = []
    for fact in facts:
        entry = entries[fact["fact_id"]]
        if fact["area_zh"] not in codes:
            problems.append(f"check fact_area failed: {fact['fact_id']} describes {fact['area_zh']!r}, which is not "
                            f"a place with a division code in the text (places: {sorted(codes)})")
        for language in ("en", "zh"):
            template = entry.get(f"note_{language}")
            found = translation.note_problems(f"note_{language} of {fact['fact_id']}", template, by_id) \
                if template else []
            problems += found
            fact[f"note_{language}"] = translation.render_note(template, by_id) if template and not found else None
    if problems:
        raise ValidationFailed("\n".join(problems))
    return [{**fact, "ref_area_code": codes[fact["area_zh"]]} for fact in facts]


def sentence_rows(document: dict, mentions: list[dict]) -> list[dict]:
    """The letter sentence by sentence, with its English rendered from the curated templates. A sentence
    whose templates are unsound gets no English here; validation names the problem."""
    english, _ = translation.translate(document["sentences"], mentions, metadata.translations(), decimals,
                                       reference.romanize)
    return [{**sentence, "text_en": english.get(sentence["sentence_id"])} for sentence in document["sentences"]]


def document_row(document: dict, mentions: list[dict]) -> dict:
    header, letter = document["header"], document["letter"]
    curated = metadata.figures()["document"]
    manifest = load_manifest()
    session = letter["session"]
    session_en = translation.render({"en": curated["session_en"]}, translation.slots_of(
        {"char_start": session["char_start"], "char_end": session["char_end"]}, mentions, decimals), str)
    name = letter["addressee"]["value"].removesuffix("委员")
    proposal = letter["title"]["value"]
    number = letter["proposal_number"]["value"]
    titles = entity_tables.curated_titles()
    return {
        "document_id": manifest["document_id"],
        "role": "primary",
        "kind": "official_document",
        "title_zh": curated["title_zh"].format(proposal_title_zh=proposal, proposal_number=number),
        "title_en": curated["title_en"].format(proposal_number=number),
        "proposal_title_zh": proposal,
        "proposal_title_en": titles.get(metadata.catalog_key(proposal)),
        "publisher_zh": header["发布机构"]["value"],
        "publication_date": iso_date(header["发布日期"]["value"]),
        "index_number": header["索引号"]["value"],
        "catalogue_zh": header["公开目录"]["value"],
        "document_number": (header.get("文号") or {}).get("value"),
        "addressee_zh": letter["addressee"]["value"],
        "addressee_en": curated["addressee_en"].format(name=reference.person_name(name)),
        "session_zh": session["value"],
        "session_en": session_en[:1].upper() + session_en[1:],
        "proposal_number": letter["proposal_number"]["value"],
        **{key: curated[key] for key in ("publisher_en", "catalogue_en")},
        "source_url": manifest["source_url"],
        "obtained": manifest["obtained"],
        "source_file": document["source_file"],
        "raw_sha256": document["raw_sha256"],
        "raw_bytes": document["raw_bytes"],
        "encoding": document["encoding"],
        "characters": len(document["text"]),
    }


def related_document_row(entry: dict) -> dict:
    """Another text's row of documents: its provenance, from its entry in raw/manifest.yaml."""
    keys = ("document_id", "kind", "title_zh", "title_en", "publisher_zh", "publisher_en", "original_publisher_zh",
            "publication_date", "source_url", "retrieved", "obtained", "encoding", "characters")
    return {"role": "related", **{key: entry.get(key) for key in keys}, "source_file": f"related/{entry['file']}",
            "raw_sha256": entry["sha256"], "raw_bytes": entry["raw_bytes"]}


def corroboration_rows(related: dict, facts: list[dict]) -> list[dict]:
    """Each declared pair with both figures' values, periods, areas and populations, and their difference.
    Whether the declared status fits the values is checked by validate (pipeline/corroborations.py)."""
    letter = {fact["fact_id"]: fact for fact in facts}
    other = {(f["document_id"], f["figure_id"]): f for f in related["figures"]}
    rows = []
    for pair in related["corroborations"]:
        mine, theirs = letter[pair["fact_id"]], other[(pair["document_id"], pair["figure_id"])]
        comparable = corroborations.one_quantity(pair["status"]) and mine["unit"] == theirs["unit"]
        rows.append({
            "fact_id": mine["fact_id"], "document_id": theirs["document_id"], "figure_id": theirs["figure_id"],
            "status": pair["status"], "metric_en": mine["metric_en"],
            "letter_value": mine["value"], "letter_value_max": mine["value_max"], "letter_unit": mine["unit"],
            "letter_as_of": mine["as_of"], "letter_area_zh": mine["area_zh"], "letter_population": mine["population"],
            "letter_quote": mine["quote"],
            "other_value": theirs["value"], "other_value_max": theirs["value_max"], "other_unit": theirs["unit"],
            "other_as_of": theirs["as_of"], "other_area_zh": theirs["area_zh"], "other_area_en": theirs["area_en"],
            "other_population": theirs["letter_population"], "other_population_en": theirs["population_en"],
            "other_quote": theirs["quote"],
            "other_char_start": theirs["char_start"], "other_char_end": theirs["char_end"],
            "difference": theirs["value"] - mine["value"] if comparable else None,
            "note_en": pair["note_en"], "note_zh": pair["note_zh"],
        })
    return rows


def with_document(df: pd.DataFrame, document_id: str) -> pd.DataFrame:
    """A table of the letter's spans, each row marked with the letter's document_id."""
    if "document_id" in df.columns and df["document_id"].isna().all():
        df["document_id"] = pd.array([document_id] * len(df), dtype="string")
    return df


def wide_rows(name: str, facts: list[dict]) -> list[dict]:
    """Pivot the figures that name this table into its declared rows and columns."""
    table = metadata.tables()[name]
    by_id = {f["fact_id"]: f for f in facts}
    label = table["label"]
    rows = []
    for row_id, row_spec in table["rows"].items():
        row = {f"{label}_id": row_id, f"{label}_zh": row_spec["zh"], f"{label}_en": row_spec["en"]}
        cells = [f for f in facts if f["table_name"] == name and f["row"] == row_id]
        for fact in cells:
            columns = fact["column"] if isinstance(fact["column"], list) else [fact["column"]]
            values = [fact["value"], fact["value_max"]] if len(columns) == 2 else [fact["value"] * fact["sign"]]
            for column, value in zip(columns, values, strict=True):
                row[column] = value
                row[f"{column}_fact_id"] = fact["fact_id"]
        for column in table["columns"]:
            source = column.get("from_row")
            if source and source in row_spec:
                referenced = by_id.get(row_spec[source]) if column.get("figure") else None
                row[column["name"]] = referenced["value"] if referenced else row_spec[source]
                if referenced:
                    row[f"{column['name']}_fact_id"] = referenced["fact_id"]
        row.update(row_context(name, row_id, cells))
        if any(c["name"] == "unit" for c in table["columns"]):
            # The row's unit is that of its first figure column: the value or the numerator.
            first = next(c["name"] for c in table["columns"] if c.get("figure") and c["name"] in row)
            row["unit"] = by_id[row[f"{first}_fact_id"]]["unit"]
        rows.append(row)
    return rows


def row_context(name: str, row_id: str, cells: list[dict]) -> dict:
    """A wide row's context columns (tables.yaml `context_columns`), each the facts column it names over
    the figures the row holds: one value they all share, or, for a nullable column, their distinct values
    joined (a value that another of them contains is left out). Declared once, on the figures; never
    written again for the table."""
    context = {}
    for column in metadata.tables()[name]["columns"]:
        source = column.get("from_facts")
        if source is None:
            continue
        found = list(dict.fromkeys(cell[source] for cell in cells if cell.get(source) is not None))
        if column["nullable"]:
            # A note that another of the row's notes already says in full is said once.
            found = [v for v in found if not any(v != other and str(v) in str(other) for other in found)]
            context[column["name"]] = " | ".join(found) if found else None
        elif len(found) == 1:
            context[column["name"]] = found[0]
        else:
            ids = ", ".join(cell["fact_id"] for cell in cells)
            raise ValidationFailed(f"check row_context failed: {name} row {row_id}: its figures ({ids}) do not share "
                                   f"one {source} ({found or 'none'}); give them one in "
                                   f"pipeline/catalog/figures.yaml or put them in different rows")
    return context


def derived_values(column: dict, df: pd.DataFrame, rounded: bool = True) -> pd.Series:
    """A derived column's declared expression (tables.yaml `derived:`) over the frame's columns, as
    Float64: null where an operand is null or the result is not finite (a zero divisor), rounded to
    metadata.DERIVED_DECIMALS unless `rounded` is false. The tables stage fills the column with it and
    the schema (schemas/) checks the column against it, so the formula is written once."""
    operands = {name: df[name].astype("Float64") for name in expressions.names(column["derived"])}
    result, _ = expressions.evaluate(column["derived"], operands)
    result = pd.Series(result, index=df.index, dtype="Float64") if not isinstance(result, pd.Series) \
        else result.astype("Float64")
    finite = np.isfinite(result.to_numpy(dtype=float, na_value=np.nan))
    result = result.where(pd.Series(finite, index=df.index), pd.NA)
    if column.get("for_rows"):
        result = result.where(df[column["row_id_column"]].isin(column["for_rows"]).astype(bool), pd.NA)
    return result.round(metadata.DERIVED_DECIMALS) if rounded else result


def derive(name: str, df: pd.DataFrame) -> pd.DataFrame:
    """Fill the declared derived columns of one table."""
    derived = [c for c in metadata.tables()[name]["columns"] if c.get("derived")]
    if not derived:
        return df
    df = df.copy()
    for column in derived:
        values = derived_values(column, df)
        try:
            df[column["name"]] = values.astype(DTYPES[column["type"]])
        except (TypeError, ValueError) as error:
            raise ValidationFailed(f"check derived_column failed: {name}.{column['name']} = {column['derived']} "
                                   f"gives values that are not {column['type']} ({error}); declare the column "
                                   "float64 or change the expression in pipeline/catalog/tables.yaml") from None
    return df


def build_tables(document: dict, extracted: dict, related: dict) -> dict[str, pd.DataFrame]:
    titles = metadata.figures()["sections"]
    places, place_ids = entity_tables.place_rows(extracted)
    facts = describe_facts(extracted["facts"], places)
    tables = {
        "facts": frame("facts", fact_rows(facts)),
        "mentions": frame("mentions", mention_rows(extracted["mentions"], facts)),
        "named_items": frame("named_items", entity_tables.named_item_rows(extracted, place_ids)),
        "places": frame("places", places),
        "place_mentions": frame("place_mentions", entity_tables.place_mention_rows(extracted, place_ids)),
        "referenced_documents": frame("referenced_documents", entity_tables.document_rows(extracted)),
        "glossary": frame("glossary", entity_tables.glossary_rows(extracted)),
        "sections": frame("sections", [
            {**s, "title_en": titles.get(s["section_id"], {}).get("title_en", s["section_id"].title())}
            for s in document["sections"]
        ]),
        "documents": frame("documents", [document_row(document, extracted["mentions"]),
                                         *map(related_document_row, related["documents"])]),
        "sentences": frame("sentences", sentence_rows(document, extracted["mentions"])),
        "related_figures": frame("related_figures", related["figures"]),
        "related_mentions": frame("related_mentions", related["mentions"]),
        "corroborations": frame("corroborations", corroboration_rows(related, facts)),
    }
    letter_id = tables["documents"]["document_id"].iloc[0]
    tables = {name: with_document(df, letter_id) for name, df in tables.items()}
    problems = metadata.cross_catalog_problems()
    if problems:
        plural = "s" if len(problems) > 1 else ""
        raise ValidationFailed(f"check catalog_keys failed: {len(problems)} problem{plural} between catalog files; "
                               "fix the catalog entry named:\n  " + join_capped(problems))
    for name in metadata.figure_tables():
        table = metadata.tables()[name]
        if metadata.is_wide(table):
            tables[name] = frame(name, wide_rows(name, facts))
        else:
            tables[name] = frame(name, fact_rows([f for f in facts if f["table_name"] == name]), subset=True)
    return {name: derive(name, df) for name, df in tables.items()}


def run(build_dir: Path = config.BUILD_DIR) -> dict[str, pd.DataFrame]:
    paths = config.build_paths(build_dir)
    document = json.loads(paths["ingest"].read_text(encoding="utf-8"))
    extracted = json.loads(paths["extract"].read_text(encoding="utf-8"))
    related = json.loads(paths["related"].read_text(encoding="utf-8"))
    tables = build_tables(document, extracted, related)
    paths["tables"].mkdir(parents=True, exist_ok=True)
    for name, df in tables.items():
        write_table(df, name, paths["tables"] / f"{name}.parquet", strict=False)
    (paths["tables"] / ".done").touch()  # the stage's Make target: every table above is written
    return tables


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--build-dir", type=Path, default=config.BUILD_DIR)
    args = parser.parse_args()
    tables = run(args.build_dir)
    print("tables: " + ", ".join(f"{name} ({len(df)})" for name, df in tables.items()))


if __name__ == "__main__":
    from pipeline.errors import report

    report(main)
