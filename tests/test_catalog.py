"""Principle 1: no figure from the document appears in pipeline code, config or catalog."""

from __future__ import annotations

import re

import yaml

from pipeline import config, metadata
from pipeline.numbers import iter_mentions
from pipeline.release import project
from tests import schema_snapshot
from tests.test_dataset import EXPECTED

SOURCES = [*sorted((config.ROOT / "pipeline").rglob("*.py")), *sorted(config.CATALOG_DIR.glob("*.yaml")),
           *sorted((config.ROOT / "schemas").rglob("*.py")), config.ROOT / "Makefile",
           *sorted((config.ROOT / "pipeline" / "site").glob("templates/*")),
           *sorted((config.ROOT / "pipeline" / "site").glob("static/*"))]


# Constants of arithmetic that happen to equal a figure; each is used for the reason given.
CONSTANTS = {
    "100": "percent scale",
    "1000": "thousand, in the Chinese numeral parser and the year guard",
    "16": "length of a fingerprint prefix and the name UTF-16",
}


def figure_numbers() -> set[str]:
    """Numbers of the document's figures that are distinctive enough to search for (>= 2 digits)."""
    numbers = set()
    for quote, *_ in EXPECTED.values():
        numbers.update(n for n in re.findall(r"\d+(?:\.\d+)?", quote) if len(n.replace(".", "")) >= 2)
    return numbers - set(CONSTANTS)


def test_no_figure_value_in_code_or_catalog():
    numbers = figure_numbers()
    assert {"210", "79406", "47.1", "97.90"} <= numbers
    offenders = []
    for path in SOURCES:
        for lineno, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            # Bounded by ASCII letters and digits only, so 覆盖99个 in a Chinese string is found too.
            for number in re.findall(r"(?<![0-9A-Za-z_.])\d+(?:\.\d+)?(?![0-9A-Za-z_]|\.\d)", line):
                if number in numbers:
                    offenders.append(f"{path.relative_to(config.ROOT)}:{lineno}: {number}")
    assert offenders == []


def test_anchor_patterns_hold_no_digits():
    catalog = metadata.figures()
    patterns = [e["find"] for key in ("facts", "non_figures", "lists") for e in catalog[key]]
    patterns += [e["find"] for e in catalog["periods"]]
    patterns += [e.get(key, "") for e in catalog["facts"] for key in ("note_en", "note_zh")]
    assert [p for p in patterns if re.search(r"[0-9０-９]", p)] == []


def test_catalog_references_are_consistent():
    catalog = metadata.figures()
    fact_ids = [f["fact_id"] for f in catalog["facts"]]
    assert len(fact_ids) == len(set(fact_ids))
    assert all(f["unit"] in catalog["units"] for f in catalog["facts"])
    for check in metadata.checks():
        for key in ("numerator", "denominator", "rate", "parts", "total", "part", "whole", "a", "b",
                    "value", "factors", "count", "share", "compare"):
            for fid in check.get(key, []) if isinstance(check.get(key), list) else [check.get(key)]:
                assert fid is None or fid in fact_ids, (check["check_id"], fid)


# Mention texts that name a unit, not a figure: 万元 (ten thousand yuan) is named where values are converted.
UNIT_WORDS = {"万元": "the unit ten thousand yuan, named where a value is converted from it to yuan"}


def catalog_strings(node, where: str):
    """Every string value of a parsed catalog file, with where it is (keys are identifiers, not text)."""
    if isinstance(node, dict):
        for key, value in node.items():
            yield from catalog_strings(value, f"{where}/{key}")
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from catalog_strings(value, f"{where}/{index}")
    elif isinstance(node, str):
        yield where, node


def figure_values() -> set[float]:
    """Values of the document's figures distinctive enough to search for (>= 10, as >= 2 digits above)."""
    values = {float(v) for _, *vs in EXPECTED.values() for v in vs if v is not None and abs(v) >= 10}
    return values - {float(c) for c in CONSTANTS}


def figures_in_catalog_text() -> list[str]:
    values = figure_values()
    offenders = []
    for path in sorted(config.CATALOG_DIR.glob("*.yaml")):
        for where, text in catalog_strings(yaml.safe_load(path.read_text(encoding="utf-8")), path.name):
            for mention in iter_mentions(text):
                if mention.kind == "quantity" and mention.text not in UNIT_WORDS and \
                        (mention.value in values or mention.value_max in values):
                    offenders.append(f"{where}: {mention.text!r} is {mention.value:g}, a figure of the document")
    return offenders


def test_no_figure_in_catalog_text_written_in_chinese_numerals():
    """The project's own tokenizer reads every label, description, note and template of the catalog, so
    a figure written as 万亩, 二百一十个 or 九十九 is found as surely as one written in digits."""
    assert 10_000 in figure_values() and 210 in figure_values()
    assert figures_in_catalog_text() == []


def test_the_chinese_numeral_rule_catches_a_figure(monkeypatch, tmp_path):
    for name in ("figures.yaml", "tables.yaml"):
        (tmp_path / name).write_text((config.CATALOG_DIR / name).read_text(encoding="utf-8"), encoding="utf-8")
    figures = tmp_path / "figures.yaml"
    figures.write_text(figures.read_text(encoding="utf-8").replace(
        "metric_zh: 隆阳区规模农业示范区", "metric_zh: 隆阳区万亩规模农业示范区"), encoding="utf-8")
    tables = tmp_path / "tables.yaml"
    tables.write_text(tables.read_text(encoding="utf-8").replace(
        "Sites built and where they are", "二百一十个 sites built and where they are"), encoding="utf-8")
    monkeypatch.setattr(config, "CATALOG_DIR", tmp_path)
    found = figures_in_catalog_text()
    assert len(found) == 2, found
    assert found[0].endswith("'万亩' is 10000, a figure of the document") and "facts/" in found[0]
    assert found[1].startswith("tables.yaml/tables/overview/description: '二百一十个' is 210")


def test_the_catalog_model_knows_every_column_metadata_generates():
    """catalog_models.Table.column_names (which the model checks keys, spans and duplicates against) and
    metadata.tables() (which generates the columns) describe the same columns, in the same order."""
    from pipeline.catalog_models import TablesCatalog

    raw = metadata._load("tables.yaml")
    model = TablesCatalog.model_validate(raw)
    for name, table in metadata.tables().items():
        assert model.tables[name].column_names() == [c["name"] for c in table["columns"]], name


# --- the published columns: a committed snapshot -------------------------------------------------------

def test_published_columns_and_types_are_the_committed_snapshot():
    snapshot = schema_snapshot.load()
    now = schema_snapshot.declared()
    refused = schema_snapshot.unannounced(schema_snapshot.breaking(snapshot["tables"], now), snapshot["version"])
    assert refused == [], ("breaking changes for data users: they need a new major version whose CHANGELOG "
                           "entry names each as `table.column`, then `python -m tests.schema_snapshot`", refused)
    assert schema_snapshot.added(snapshot["tables"], now) == [], \
        "new columns: review them, then regenerate tests/data/schema_snapshot.json with python -m tests.schema_snapshot"


def test_a_breaking_column_change_needs_a_major_version_whose_changelog_names_it(tmp_path, monkeypatch):
    old = {"t": {"a": "int64", "b": "string"}}
    new = {"t": {"a": "float64", "c": "string"}, "u": {"d": "bool"}}
    changes = schema_snapshot.breaking(old, new)
    assert changes == ["t.a (retyped from int64 to float64)", "t.b (removed or renamed)"]
    assert schema_snapshot.added(old, new) == ["t.c", "u.d"]
    changelog = tmp_path / "CHANGELOG.md"
    changelog.write_text("# Changelog\n\n## [2.0.0] - 2027-01-01\n\n- `t.a` is float64.\n\n"
                         "## [1.2.0] - 2026-12-01\n\n- `t.a` and `t.b`.\n", encoding="utf-8")
    monkeypatch.setattr(project, "CHANGELOG", changelog)
    assert schema_snapshot.unannounced(changes, "1.1.1", "1.2.0") == changes  # a minor version never may
    assert schema_snapshot.unannounced(changes, "1.1.1", "2.0.0") == ["t.b (removed or renamed)"]
    assert schema_snapshot.unannounced(changes, "2.0.0", "2.0.0") == changes  # the snapshot's own major
    assert schema_snapshot.unannounced(changes, "1.1.1", "3.0.0") == changes  # no entry for 3.0.0


# --- each thing declared once -----------------------------------------------------------------------

def test_no_row_label_repeats_a_figure_label_of_its_row():
    """A row whose label is what one of its figures measures takes it with `label_from`, not a copy."""
    declared = metadata._tables_catalog()["tables"]
    copies = []
    for fact in metadata.figures()["facts"]:
        row = (declared[fact["table"]].get("rows") or {}).get(fact.get("row"))
        for lang in ("zh", "en"):
            if row and row.get(lang) is not None and row[lang] == fact[f"metric_{lang}"]:
                copies.append(f"{fact['table']}.{fact['row']} {lang} copies {fact['fact_id']}: use label_from")
    assert copies == []


def test_a_changed_figure_label_reaches_its_row(monkeypatch):
    rows = {(name, row_id): row for name, table in metadata._tables_catalog()["tables"].items()
            for row_id, row in (table.get("rows") or {}).items()}
    (name, row_id), row = next((key, row) for key, row in rows.items()
                               if row.get("label_from") and not row.get("zh") and not row.get("en"))
    catalog = metadata.figures()
    changed = {**catalog, "facts": [{**f, "metric_zh": "新标签", "metric_en": "New label"}
                                    if f["fact_id"] == row["label_from"] else f for f in catalog["facts"]]}
    monkeypatch.setattr(metadata, "figures", lambda: changed)
    metadata.tables.cache_clear()
    try:
        assert {k: metadata.tables()[name]["rows"][row_id][k] for k in ("zh", "en")} == \
            {"zh": "新标签", "en": "New label"}
    finally:
        metadata.tables.cache_clear()


def test_the_checks_columns_point_to_the_one_table_of_check_types():
    """What expected, observed and tolerance mean differs by check type; the check classes say it once
    (pipeline/checks.py, printed as the data dictionary's "Check types" table) and the columns point there."""
    from pipeline import describe

    columns = {c["name"]: c["description"] for c in metadata.tables()["checks"]["columns"]}
    for name in ("check_type", "expected", "observed", "tolerance"):
        assert "table of check types" in columns[name], name
    assert "## Check types" in describe.check_types_section()
