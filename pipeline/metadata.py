"""The single declaration of tables, columns and figures, read from pipeline/catalog/*.yaml.

Everything that describes the data (Pandera schemas, Parquet field metadata, DuckDB
comments, the data dictionary, datapackage.json) is generated from what this module returns.
"""

from __future__ import annotations

import unicodedata
from functools import cache
from typing import Any

import yaml

from pipeline import config
from pipeline.errors import ValidationFailed, yaml_error

COLUMN_KEYS = {"name", "type", "description", "label_zh", "unit", "nullable", "unique", "allowed", "ge", "le",
               "pattern", "derived", "figure", "from_row", "labels", "references"}
ROW_KEYS = {"zh", "en", "in_partition", "denominator", "note"}
GLOSSARY_KEYS = {"term_id", "term_zh", "term_en", "definition_en", "source", "find", "readings"}
FACT_KEYS = {"fact_id", "section", "metric_zh", "metric_en", "unit", "find", "table", "row", "column",
             "qualifier", "sign", "area", "note_en", "note_zh"}
PERIOD_KEYS = {"period_id", "section", "find", "means", "scope"}
PERIOD_MEANINGS = {"reply_date", "reply_year", "mention_date", "five_year_plan"}
TRANSLATION_KEYS = {"zh", "en"}


def _load(name: str) -> dict[str, Any]:
    path = config.CATALOG_DIR / name
    try:
        with open(path, encoding="utf-8") as f:
            loaded = yaml.load(f, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    except yaml.YAMLError as error:
        raise ValidationFailed(f"check catalog_yaml failed: {yaml_error(path, error)}") from None
    except (OSError, UnicodeDecodeError) as error:
        raise ValidationFailed(f"check catalog_yaml failed: {path} cannot be read "
                               f"({getattr(error, 'strerror', None) or error}).") from None
    if not isinstance(loaded, dict):
        raise ValidationFailed(f"check catalog_yaml failed: {path} should be a mapping of keys to values, "
                               f"not {type(loaded).__name__}.")
    return loaded


def _require_keys(where: str, entry: dict, allowed: set[str]) -> None:
    """Catch typos and YAML flow-mapping accidents (an unquoted comma makes a new key)."""
    unknown = set(entry) - allowed
    if unknown:
        raise ValidationFailed(f"check catalog_keys failed: {where} has unknown keys {sorted(unknown)}; "
                               f"allowed keys are {sorted(allowed)}. Quote values that contain commas.")


@cache
def figures() -> dict[str, Any]:
    """figures.yaml: units, sections, facts, non-figures and lists."""
    catalog = _load("figures.yaml")
    for entry in catalog["facts"]:
        _require_keys(f"figures.yaml fact {entry.get('fact_id')}", entry, FACT_KEYS)
    for entry in catalog["periods"]:
        _require_keys(f"figures.yaml period {entry.get('period_id')}", entry, PERIOD_KEYS)
        if entry.get("means") not in PERIOD_MEANINGS or entry.get("scope") not in ("sentence", "paragraph"):
            raise ValidationFailed(f"check catalog_keys failed: figures.yaml period {entry.get('period_id')} needs "
                                   f"means in {sorted(PERIOD_MEANINGS)} and scope sentence or paragraph")
    return catalog


@cache
def translations() -> dict[str, dict[str, str]]:
    """translations.yaml: {sentence_id: {zh, en}}, the curated English of every sentence."""
    sentences = _load("translations.yaml")["sentences"]
    for sentence_id, entry in sentences.items():
        _require_keys(f"translations.yaml {sentence_id}", entry, TRANSLATION_KEYS)
        missing = TRANSLATION_KEYS - set(entry)
        if missing:
            raise ValidationFailed(f"check catalog_keys failed: translations.yaml {sentence_id} lacks "
                                   f"{sorted(missing)}")
    return sentences


def catalog_key(text: str) -> str:
    """How curated names are matched to the text: width-folded (NFKC), letters and digits only, so
    that full-width digits or a stray symbol do not orphan a translation, but a changed name does."""
    return "".join(ch for ch in unicodedata.normalize("NFKC", text) if ch.isalnum())


@cache
def entities() -> dict[str, Any]:
    """entities.yaml: place and document patterns, and the curated English that goes with them."""
    return _load("entities.yaml")


@cache
def glossary() -> list[dict[str, Any]]:
    """glossary.yaml: curated policy terms with definitions and their sources."""
    terms = _load("glossary.yaml")["terms"]
    for term in terms:
        _require_keys(f"glossary.yaml term {term.get('term_id')}", term, GLOSSARY_KEYS)
    return terms


@cache
def checks() -> list[dict[str, Any]]:
    return _load("checks.yaml")["checks"]


@cache
def label_vocabularies() -> dict[str, dict[str, dict[str, str]]]:
    """Categorical values with their Chinese and English labels: {vocabulary: {value: {zh, en}}}.

    Units and sections are declared in figures.yaml, with the figures that use them.
    """
    catalog = figures()
    return {
        **_load("tables.yaml")["label_vocabularies"],
        "units": {unit: {"zh": spec["zh"], "en": spec["en"]} for unit, spec in catalog["units"].items()},
        "sections": {sid: {"zh": spec["zh"], "en": spec["title_en"]} for sid, spec in catalog["sections"].items()},
    }


def _label_columns(column: dict) -> list[dict]:
    """A categorical column's `<name>_zh` and `<name>_en` label columns, filled by the tables stage."""
    labels = label_vocabularies()[column["labels"]]
    return [{"name": f"{column['name']}_{lang}", "type": "string", "nullable": column["nullable"],
             "allowed": [label[lang] for label in labels.values()], "label_of": (column["name"], lang),
             **({"label_zh": column["label_zh"]} if lang == "zh" and column.get("label_zh") else {}),
             "description": f"`{column['name']}` in {'Chinese' if lang == 'zh' else 'English'}."}
            for lang in ("zh", "en")]


@cache
def tables() -> dict[str, dict[str, Any]]:
    """tables.yaml with every column spec completed (wide-table label and fact_id columns added)."""
    declaration = _load("tables.yaml")
    result = {}
    for name, table in declaration["tables"].items():
        for row_id, row in table.get("rows", {}).items():
            _require_keys(f"tables.yaml {name} row {row_id}", row, ROW_KEYS)
        columns = []
        if "rows" in table:
            label = table["label"]
            columns += [
                {"name": f"{label}_id", "type": "string", "unique": True,
                 "description": f"Identifier of the {label}."},
                {"name": f"{label}_zh", "type": "string", "label_zh": "名称",
                 "description": f"The {label} in Chinese."},
                {"name": f"{label}_en", "type": "string", "description": f"The {label} in English."},
            ]
        for column in table["columns"]:
            _require_keys(f"tables.yaml {name} column {column.get('name')}", column, COLUMN_KEYS)
            column = {"nullable": False, **column}
            if column.get("labels"):
                column["allowed"] = list(label_vocabularies()[column["labels"]])
            columns.append(column)
            if column.get("labels"):
                columns += _label_columns(column)
            if column.get("figure"):
                columns.append({
                    "name": f"{column['name']}_fact_id", "type": "string", "nullable": column["nullable"],
                    "description": f"fact_id of the figure in `{column['name']}`; joins to facts.fact_id.",
                })
        columns = [{"nullable": False, **column} for column in columns]
        result[name] = {**table, "name": name, "columns": columns}
    return result


def is_wide(table: dict[str, Any]) -> bool:
    return "rows" in table
