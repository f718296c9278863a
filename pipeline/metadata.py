"""The single declaration of tables, columns and figures, read from pipeline/catalog/*.yaml.

Everything that describes the data (Pandera schemas, Parquet field metadata, DuckDB
comments, the data dictionary, datapackage.json) is generated from what this module returns.
Each file is validated on load against its model in pipeline/catalog_models.py: a typo is one
`catalog_keys` error naming the file, the entry and the key (exit 3), never a KeyError later.
"""

from __future__ import annotations

import unicodedata
from functools import cache
from typing import Any

from pipeline import config, yaml_input
from pipeline.errors import ValidationFailed

# Tables that the stages build with code of their own (pipeline/stages/tables.py, and `checks` in
# validate); every other table in tables.yaml is filled from the figures that name it.
CODE_BUILT_TABLES = ("facts", "mentions", "named_items", "places", "place_mentions", "referenced_documents",
                     "glossary", "sections", "documents", "sentences", "checks", "related_figures",
                     "related_mentions", "corroborations")

# Values a derived column is rounded to (tables.yaml `derived:`); the comparison with a reported
# figure (`matches:`) uses that figure's printed decimals instead.
DERIVED_DECIMALS = 4


def _load(name: str) -> dict[str, Any]:
    return yaml_input.read(config.CATALOG_DIR / name, ValidationFailed, "check catalog_yaml failed: ")


def catalog_file(name: str) -> str:
    """How messages name a catalog file: relative to the project when it is the project's own."""
    path = config.CATALOG_DIR / name
    return str(path.relative_to(config.ROOT)) if path.is_relative_to(config.ROOT) else str(path)


def _validated(name: str, model: Any, context: dict[str, Any] | None = None,
               data: dict[str, Any] | None = None) -> dict[str, Any]:
    """A catalog file (`data`, when the caller has already read it), checked against its model
    (pipeline/catalog_models.py); the plain data is returned.

    Every problem (unknown or missing key, unknown unit, section, vocabulary, check type or fact id)
    is reported at once, each naming the file, the entry and the key.
    """
    data = _load(name) if data is None else data
    return yaml_input.validated(data, model, catalog_file(name), ValidationFailed, "check catalog_keys failed: ",
                                "fix the catalog entry named", context)


def _keys(data: dict, key: str) -> set[str] | None:
    """The keys of a mapping in not-yet-validated data, to check references against (None if malformed)."""
    value = data.get(key) if isinstance(data, dict) else None
    return set(value) if isinstance(value, dict) else None


@cache
def figures() -> dict[str, Any]:
    """figures.yaml: units, sections, facts, non-figures and lists."""
    from pipeline.catalog_models import FiguresCatalog

    raw = _load("figures.yaml")
    facts = raw.get("facts")
    fact_ids = {f["fact_id"] for f in facts if isinstance(f, dict) and isinstance(f.get("fact_id"), str)} \
        if isinstance(facts, list) else None
    return _validated("figures.yaml", FiguresCatalog,
                      {"units": _keys(raw, "units"), "sections": _keys(raw, "sections"),
                       "populations": _keys(raw, "populations"), "fact_ids": fact_ids}, raw)


def fact_ids() -> set[str]:
    return {fact["fact_id"] for fact in figures()["facts"]}


def translations() -> dict[str, dict[str, str]]:
    """translations.yaml: {sentence_id: {zh, en}}, the curated English of every sentence."""
    return _translations_catalog()["sentences"]


def summary_template() -> str:
    """translations.yaml `summary`: the English summary of the letter, a template over the published data."""
    return _translations_catalog()["summary"]["en"]


@cache
def _translations_catalog() -> dict[str, Any]:
    from pipeline.catalog_models import TranslationsCatalog

    return _validated("translations.yaml", TranslationsCatalog)


# Another document's catalog is a folder of its own, named by its document_id (raw/manifest.yaml
# `related_documents`): figures.yaml, translations.yaml and corroborations.yaml.
RELATED_FOLDER = "documents"


def related_folders() -> list[str]:
    """The folders of catalog/documents/, by name (a file or link there is named too: it is no catalog)."""
    folder = config.CATALOG_DIR / RELATED_FOLDER
    return sorted(entry.name for entry in folder.iterdir() if not entry.name.startswith(".")) if folder.is_dir() else []


@cache
def related_catalog(document_id: str) -> dict[str, Any]:
    """One other document's catalog: {figures, non_figures, area_zh, area_en, translations, corroborations}."""
    from pipeline.catalog_models import CorroborationsCatalog, RelatedFiguresCatalog, RelatedTranslations

    folder = f"{RELATED_FOLDER}/{document_id}"
    figures_catalog = _validated(f"{folder}/figures.yaml", RelatedFiguresCatalog,
                                 {"units": set(figures()["units"]), "populations": set(figures()["populations"]),
                                  "accounted_as": set(
                                     label_vocabularies()["accounted_as"])})
    ids = {figure["figure_id"] for figure in figures_catalog["figures"]}
    translated = _validated(f"{folder}/translations.yaml", RelatedTranslations)
    pairs = _validated(f"{folder}/corroborations.yaml", CorroborationsCatalog,
                       {"fact_ids": fact_ids(), "figure_ids": ids})
    return {**figures_catalog, "translations": translated.get("sentences", {}),
            "corroborations": pairs["corroborations"]}


def catalog_key(text: str) -> str:
    """How curated names are matched to the text: width-folded (NFKC), letters and digits only, so
    that full-width digits or a stray symbol do not orphan a translation, but a changed name does."""
    return "".join(ch for ch in unicodedata.normalize("NFKC", text) if ch.isalnum())


@cache
def entities() -> dict[str, Any]:
    """entities.yaml: place and document patterns, and the curated English that goes with them."""
    from pipeline.catalog_models import EntitiesCatalog

    return _validated("entities.yaml", EntitiesCatalog)


@cache
def glossary() -> list[dict[str, Any]]:
    """glossary.yaml: curated policy terms with definitions and their sources."""
    from pipeline.catalog_models import GlossaryCatalog

    return _validated("glossary.yaml", GlossaryCatalog)["terms"]


@cache
def checks() -> list[dict[str, Any]]:
    """checks.yaml: the cross-figure checks, each of a type registered in pipeline/checks.py."""
    from pipeline import catalog_models
    from pipeline import checks as check_types

    model = catalog_models.checks_catalog_model(check_types.TYPES)
    return _validated("checks.yaml", model, {"fact_ids": fact_ids()})["checks"]


@cache
def _tables_catalog() -> dict[str, Any]:
    from pipeline import checks as check_types
    from pipeline.catalog_models import TablesCatalog

    raw = _load("tables.yaml")
    declared = _keys(raw, "label_vocabularies") or set()
    catalog = figures()
    vocabularies = declared | {"units", "sections", "populations", "check_type"}
    return _validated("tables.yaml", TablesCatalog,
                      {"units": set(catalog["units"]), "fact_ids": fact_ids(), "vocabularies": vocabularies,
                       "check_types": set(check_types.TYPES), "code_built_tables": CODE_BUILT_TABLES}, raw)


@cache
def label_vocabularies() -> dict[str, dict[str, dict[str, str]]]:
    """Categorical values with their Chinese and English labels: {vocabulary: {value: {zh, en}}}.

    Units, sections and populations are declared in figures.yaml, with the figures that use them; check types in
    pipeline/checks.py, with the classes that implement them.
    """
    from pipeline import checks as check_types

    catalog = figures()
    return {
        **_tables_catalog()["label_vocabularies"],
        "check_type": check_types.vocabulary(),
        "units": {unit: {"zh": spec["zh"], "en": spec["en"]} for unit, spec in catalog["units"].items()},
        "sections": {sid: {"zh": spec["zh"], "en": spec["title_en"]} for sid, spec in catalog["sections"].items()},
        "populations": {pid: {"zh": spec["zh"], "en": spec["en"]} for pid, spec in catalog["populations"].items()},
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
    declaration = _tables_catalog()
    result = {}
    for name, table in declaration["tables"].items():
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
        for column in table["columns"] + table.get("context_columns", []):
            # An optional key written as null is not set: `pattern: null` is no pattern.
            column = {"nullable": False, **{key: value for key, value in column.items() if value is not None}}
            if column.get("labels"):
                column["allowed"] = list(label_vocabularies()[column["labels"]])
            if column.get("for_rows"):
                column["row_id_column"] = f"{table['label']}_id"
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
        if "rows" in table:
            result[name]["rows"] = {row_id: _row_labels(row) for row_id, row in table["rows"].items()}
    return result


def _row_labels(row: dict[str, Any]) -> dict[str, Any]:
    """A wide table's row with its `zh` and `en` labels, from its `label_from` figure where it does not write them."""
    if row.get("label_from") is None:
        return row
    figure = next(f for f in figures()["facts"] if f["fact_id"] == row["label_from"])
    return {"zh": figure["metric_zh"], "en": figure["metric_en"], **{k: v for k, v in row.items() if v is not None}}


def clear_caches() -> None:
    """Forget every parsed catalog, so that the next call reads the files again (tests that edit a copy
    of the catalog, with config.CATALOG_DIR pointing at it)."""
    for loader in (figures, _translations_catalog, entities, glossary, checks, _tables_catalog, label_vocabularies,
                   tables):
        loader.cache_clear()


def is_wide(table: dict[str, Any]) -> bool:
    return "rows" in table


def figure_tables() -> list[str]:
    """The tables filled from the figures that name them: every declared table the stages do not build."""
    return [name for name in tables() if name not in CODE_BUILT_TABLES]


def cross_catalog_problems() -> list[str]:
    """What no single file's model can check: figures placed in tables.yaml's tables and rows, and
    entities.yaml's document types in tables.yaml's `document_type` vocabulary. One line per problem."""
    return placement_problems() + document_type_problems()


def document_type_problems() -> list[str]:
    from pipeline.model_errors import suggest

    known = label_vocabularies().get("document_type", {})
    where = catalog_file("entities.yaml")
    return [f"{where}: documents types, key {ending!r}: unknown document type {kind!r}{suggest(kind, known)}; "
            f"tables.yaml's document_type vocabulary has {', '.join(known)}"
            for ending, kind in entities()["documents"]["types"].items() if kind not in known]


def placement_problems() -> list[str]:
    """Where figures.yaml puts each figure, checked against tables.yaml: a table filled from figures; in a
    wide table a declared row and `figure: true` column(s), each cell filled by one figure only; in a
    long table (one row per figure) no row or column. One line per problem, naming the entry and key."""
    from pipeline.model_errors import suggest

    declared, targets = tables(), figure_tables()
    where = catalog_file("figures.yaml")
    lines: list[str] = []
    filled: dict[tuple[str, str, str], str] = {}
    for number, entry in enumerate(figures()["facts"], 1):
        at = f"{where}: facts entry {number} (fact_id {entry['fact_id']})"
        name = entry["table"]
        if name not in targets:
            lines.append(f"{at}, key 'table': {name!r} is not a table filled from figures"
                         f"{suggest(name, targets)}; tables.yaml declares these: {', '.join(targets)}")
            continue
        table = declared[name]
        if not is_wide(table):
            lines += [f"{at}, key {key!r}: {name} has one row per figure and no `rows:`, so a figure placed in it "
                      f"takes no {key}" for key in ("row", "column") if entry.get(key) is not None]
            continue
        row = entry.get("row")
        if row not in table["rows"]:
            problem = "missing key" if row is None else f"unknown row {row!r}{suggest(row, table['rows'])}"
            lines.append(f"{at}, key 'row': {problem}; the rows of {name} are {', '.join(table['rows'])}")
        figure_columns = [c["name"] for c in table["columns"] if c.get("figure") and not c.get("from_row")]
        columns = entry.get("column")
        for column in columns if isinstance(columns, list) else [columns]:
            if column not in figure_columns:
                problem = "missing key" if column is None else \
                    f"unknown column {column!r}{suggest(column, figure_columns)}"
                lines.append(f"{at}, key 'column': {problem}; the figure columns of {name} are "
                             f"{', '.join(figure_columns)}")
            elif row in table["rows"]:
                earlier = filled.setdefault((name, row, column), entry["fact_id"])
                if earlier != entry["fact_id"]:
                    lines.append(f"{at}, key 'column': {name} row {row} column {column} already holds {earlier}; "
                                 "each cell holds one figure")
    return lines
