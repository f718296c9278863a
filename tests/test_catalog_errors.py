"""Every catalog file is validated against its declared model: a typo is one named error, exit 3.

Each test edits a copy of the catalog (config.CATALOG_DIR points at it), runs the build in-process
and expects exit 3 with the file, the entry and the key named, and no traceback.
"""

from __future__ import annotations

import pytest

import schemas
from pipeline import checks, config, describe, metadata
from tests.conftest import build


def _forget() -> None:
    metadata.clear_caches()
    schemas._schema.cache_clear()


def assert_named(tmp_path, *names: str) -> str:
    result = build(config.RAW_FILE, tmp_path / "out")
    assert result.code == 3, result.stderr
    assert "Traceback" not in result.stderr and "KeyError" not in result.stderr
    assert "check catalog_keys failed" in result.stderr
    for name in names:
        assert name in result.stderr, (name, result.stderr)
    assert not (tmp_path / "out").exists()
    return result.stderr


def test_the_catalog_as_committed_is_valid():
    _forget()
    assert len(metadata.checks()) and len(metadata.tables()) and len(metadata.glossary())
    assert len(metadata.entities()) and len(metadata.translations())


def test_a_misspelt_key_in_checks_yaml_is_named(catalog, tmp_path):
    catalog("checks.yaml", "    numerator: services.elderly_care.sites_covered",
            "    numerater: services.elderly_care.sites_covered")
    stderr = assert_named(tmp_path, "catalog/checks.yaml", "coverage.elderly_care", "'numerater'",
                          "unknown key", "did you mean 'numerator'")
    assert "'numerator': missing key" in stderr


def test_an_unknown_check_type_is_named(catalog, tmp_path):
    catalog("checks.yaml", "  - check_id: coverage.childrens_homes\n    type: rate",
            "  - check_id: coverage.childrens_homes\n    type: rat")
    assert_named(tmp_path, "catalog/checks.yaml", "coverage.childrens_homes", "'type'",
                 "unknown check type 'rat'", "'rate'")


def test_a_check_naming_an_unknown_figure_is_named(catalog, tmp_path):
    catalog("checks.yaml", "    rate: services.cemeteries.coverage", "    rate: services.cemetery.coverage")
    assert_named(tmp_path, "catalog/checks.yaml", "coverage.public_cemeteries", "'rate'",
                 "unknown fact id 'services.cemetery.coverage'", "did you mean 'services.cemeteries.coverage'")


def test_a_missing_key_in_checks_yaml_is_named(catalog, tmp_path):
    catalog("checks.yaml", "    relation: plausibility\n    description: Inspection",
            "    description: Inspection")
    assert_named(tmp_path, "egov.checklist_within_claimed", "'relation': missing key")


def test_an_unknown_unit_in_figures_yaml_is_named(catalog, tmp_path):
    catalog("figures.yaml", "    unit: persons\n", "    unit: person\n")
    assert_named(tmp_path, "catalog/figures.yaml", "population.total.persons", "'unit'",
                 "unknown unit 'person'", "did you mean 'persons'")


def test_an_unknown_key_in_figures_yaml_is_named(catalog, tmp_path):
    catalog("figures.yaml", "    metric_en: Households resettled in the centralised resettlement sites, total",
            "    metric_eng: Households resettled in the centralised resettlement sites, total")
    assert_named(tmp_path, "figures.yaml", "population.total.households", "'metric_eng'", "unknown key",
                 "'metric_en': missing key")


def test_an_unknown_count_fact_of_a_list_is_named(catalog, tmp_path):
    catalog("figures.yaml", "    count_fact: industry.award_sites", "    count_fact: industry.award_site")
    assert_named(tmp_path, "figures.yaml", "list_id award_sites", "'count_fact'", "unknown fact id")


def test_an_unknown_figure_in_a_note_is_named(catalog, tmp_path):
    catalog("figures.yaml", "not {population.total.persons}", "not {population.total.person}")
    assert_named(tmp_path, "figures.yaml", "population.total.persons", "'note_en'",
                 "'population.total.person' is not a fact id")


def test_a_misspelt_column_key_in_tables_yaml_is_named(catalog, tmp_path):
    catalog("tables.yaml", "{name: value_max, type: float64, nullable: true,",
            "{name: value_max, type: float64, nulable: true,")
    assert_named(tmp_path, "catalog/tables.yaml", "name value_max", "'nulable'", "did you mean 'nullable'")


def test_an_unknown_label_vocabulary_is_named(catalog, tmp_path):
    catalog("tables.yaml", "labels: check_relation", "labels: check_relations")
    assert_named(tmp_path, "tables.yaml", "tables checks columns", "name relation", "'labels'",
                 "unknown label vocabulary 'check_relations'", "check_type")


def test_a_derived_expression_naming_no_column_is_named(catalog, tmp_path):
    catalog("tables.yaml", 'derived: "numerator / denominator * 100"', 'derived: "numerator / denominatr * 100"')
    assert_named(tmp_path, "tables.yaml", "egov_indicators", "computed_rate_pct", "'denominatr'",
                 "did you mean 'denominator'")


def test_a_derived_expression_outside_the_grammar_is_named(catalog, tmp_path):
    catalog("tables.yaml", 'derived: "value - change_vs_previous_term"', 'derived: "__import__(value)"')
    assert_named(tmp_path, "tables.yaml", "previous_term_value_implied", "'derived'", "not allowed")


def test_an_unknown_key_in_glossary_entities_and_translations_is_named(catalog, tmp_path):
    term = "    term_en: Poverty-alleviation relocation"
    catalog("glossary.yaml", term, term.replace("term_en", "term_eng"))
    assert_named(tmp_path, "glossary.yaml", "term_id poverty_alleviation_relocation", "'term_eng'")
    catalog("glossary.yaml", term.replace("term_en", "term_eng"), term)
    catalog("entities.yaml", "  - id: address_chain\n    description:", "  - id: address_chain\n    descripton:")
    _forget()
    assert_named(tmp_path, "entities.yaml", "id address_chain", "'descripton'")
    catalog("entities.yaml", "descripton:", "description:")
    catalog("translations.yaml", "  header.s01:\n    zh:", "  header.s01:\n    zh_cn:")
    _forget()
    assert_named(tmp_path, "translations.yaml", "header.s01", "'zh_cn'", "'zh': missing key")


def test_a_check_type_must_register_its_label_and_meanings():
    before = dict(checks.TYPES)
    with pytest.raises(TypeError, match="label_zh.*expected_means"):
        class Unlabelled(checks.Check):  # noqa: F841
            type_name = "ratio_of_ratios"
            roles = ("a", "b")
            label_en = "Ratio of ratios"
    assert checks.TYPES == before


def test_a_registered_check_type_is_labelled_declarable_and_in_the_dictionary(catalog, tmp_path):
    class Twice(checks.Check):
        type_name, label_zh, label_en = "twice", "二倍", "Twice"
        expected_means, observed_means, tolerance_means = "2 x a", "b", "0"
        roles = ("a", "b")

        def evaluate(self, facts):
            return self.outcome(2 * facts[self.spec["a"]]["value"], facts[self.spec["b"]]["value"], 0.0, "2 x a")

    try:
        _forget()
        assert metadata.label_vocabularies()["check_type"]["twice"] == {"zh": "二倍", "en": "Twice"}
        column = next(c for c in metadata.tables()["checks"]["columns"] if c["name"] == "check_type")
        assert "twice" in column["allowed"]
        assert "| `twice` | 二倍 | Twice | 2 x a | b | 0 |" in describe.check_types_section()
        catalog("checks.yaml", "  - check_id: site_bands.contiguous\n    type: equal",
                "  - check_id: site_bands.contiguous\n    type: twice")
        result = build(config.RAW_FILE, tmp_path / "out")
        # site_bands.small.persons_to is not twice the range's lower bound: the new type runs and fails, named.
        assert result.code == 3 and "check site_bands.contiguous failed" in result.stderr, result.stderr
        assert "Traceback" not in result.stderr
    finally:
        del checks.TYPES["twice"]
        _forget()


@pytest.mark.parametrize(("old", "new", "named"), [
    ("    table: overview\n", "    table: overviw\n", ["key 'table'", "'overviw'", "did you mean 'overview'"]),
    ("    table: overview\n", "    table: mentions\n",
     ["key 'table'", "'mentions' is not a table filled from figures"]),
    ("    row: registered_poor\n", "    row: registred_poor\n", ["key 'row'", "did you mean 'registered_poor'"]),
    ("    row: total\n    column: households\n", "    row: total\n    column: houshold\n",
     ["key 'column'", "did you mean 'households'"]),
    ("    row: total\n    column: households\n", "    column: households\n", ["key 'row'", "missing key"]),
    ("    table: overview\n", "    table: overview\n    row: total\n", ["key 'row'", "one row per figure"]),
    ("    row: total\n    column: households\n", "    row: registered_poor\n    column: households\n",
     ["key 'column'", "already holds population.total.households"]),
], ids=["unknown table", "structural table", "unknown row", "unknown column", "missing row", "row in a long table",
        "two figures in one cell"])
def test_a_figure_placed_where_no_table_takes_it_is_named(catalog, tmp_path, old, new, named):
    """Before this check an unknown `table:` built without error and the figure reached no topical table,
    and a wrong row or column ended as an anonymous null in a schema error."""
    catalog("figures.yaml", old, new)
    assert_named(tmp_path, "figures.yaml", "facts entry", *named)


def test_a_document_type_outside_its_vocabulary_is_named(catalog, tmp_path):
    """entities.yaml maps title endings to tables.yaml's document_type vocabulary; a typo there was a
    KeyError traceback when the label columns were filled."""
    catalog("entities.yaml", "    通知: notice\n", "    通知: notic\n")
    assert_named(tmp_path, "catalog/entities.yaml", "documents types", "key '通知'", "unknown document type 'notic'",
                 "did you mean 'notice'")


def test_a_categorical_value_outside_its_vocabulary_is_a_schema_error_not_a_crash():
    from pipeline.stages.tables import frame

    row = {"reference_id": "x", "document_type": "no_such_type"}
    df = frame("referenced_documents", [row])
    assert df.loc[0, "document_type"] == "no_such_type" and df["document_type_en"].isna().all()


@pytest.mark.parametrize(("old", "new", "named"), [
    ("{name: households, type: int64, figure: true",
     "{name: 'households INTEGER); DROP TABLE facts; --', type: int64, figure: true",
     ["key 'name'", "is not a snake_case name"]),
    ("  overview:\n", "  \"overview; DROP TABLE facts\":\n",
     ["tables overview; DROP TABLE facts: 'overview; DROP TABLE facts' is not a snake_case name"]),
    ("    primary_key: [fact_id]\n", "    primary_key: [fact_idd]\n", ["primary_key names 'fact_idd'",
                                                                     "did you mean 'fact_id'"]),
], ids=["column name", "table name", "primary key"])
def test_names_that_become_sql_identifiers_are_checked(catalog, tmp_path, old, new, named):
    """Table and column names are written into DuckDB's SQL, Parquet and CSV: snake_case only, and a primary
    key names a column of its table."""
    catalog("tables.yaml", old, new)
    assert_named(tmp_path, "catalog/tables.yaml", *named)


@pytest.mark.parametrize(("old", "new", "key"), [
    ('issuer_pattern: "((?:市', 'issuer_pattern: "(((?:市', "issuer_pattern"),
    ('pattern: "(?:(?<=[。;!?])|^){county}"', 'pattern: "(?:(?<=[。;!?])|^{county}"', "pattern"),
], ids=["document pattern", "place pattern"])
def test_a_pattern_that_is_not_a_regular_expression_is_named(catalog, tmp_path, old, new, key):
    """entities.yaml holds regular expressions; an unbalanced one was a re.error traceback."""
    catalog("entities.yaml", old, new)
    assert_named(tmp_path, "catalog/entities.yaml", f"key '{key}'", "is not a regular expression", "missing )")


def test_a_table_the_stages_build_cannot_be_removed(catalog, tmp_path):
    """Deleting `checks:` from tables.yaml was a KeyError traceback in the validate stage."""
    catalog("tables.yaml", "\n  checks:\n", "\n  checks_removed:\n")
    assert_named(tmp_path, "catalog/tables.yaml", "key 'tables'", "missing table 'checks'",
                 "build with code of their own")


def test_a_column_the_pipeline_fills_cannot_be_removed(catalog, tmp_path):
    """A column dropped from tables.yaml that a stage fills was data dropped silently, then a KeyError
    (`status` of checks); it is now named."""
    catalog("tables.yaml", '      - {name: status, type: string, labels: check_status, description: "pass, or '
            'source_discrepancy for a pinned inconsistency in the source."}\n', "")
    assert_named(tmp_path, "catalog/tables.yaml", "tables checks", "fills column 'status'", "does not declare")


def test_a_column_declared_twice_is_named(catalog, tmp_path):
    catalog("tables.yaml", '      - {name: status, type: string, labels: check_status,',
            '      - {name: note, type: string, nullable: true, description: "x"}\n'
            '      - {name: status, type: string, labels: check_status,')
    assert_named(tmp_path, "catalog/tables.yaml", "key 'checks'", "column 'note' is declared twice")


def test_a_document_pattern_without_its_group_is_named(catalog, tmp_path):
    """Group 1 of the issuer patterns is the issuer; an empty pattern was an IndexError traceback."""
    catalog("entities.yaml", 'title_issuer_pattern: "^(..+?(?:局|厅|委|政府|办公室|机关))关于"',
            'title_issuer_pattern: ""')
    assert_named(tmp_path, "catalog/entities.yaml", "key 'title_issuer_pattern'", "needs a capturing group")


def test_a_fact_id_that_is_not_a_string_is_named(catalog, tmp_path):
    catalog("figures.yaml", "  - fact_id: overview.period_years\n", "  - fact_id: [overview.period_years]\n")
    assert_named(tmp_path, "catalog/figures.yaml", "key 'fact_id'")


@pytest.mark.slow  # a sample of make fuzz: a dozen builds
def test_random_catalog_and_text_edits_build_or_fail_with_a_named_error():
    """A sample of `make fuzz` (tests/fuzz.py, 500 edits of each kind) in every run of the suite."""
    from tests import fuzz

    assert list(fuzz.catalog_failures(seed=2026, runs=8)) == []
    assert list(fuzz.text_failures(seed=2026, runs=8)) == []


@pytest.mark.parametrize(("name", "old", "new", "named"), [
    ("tables.yaml", "pattern: '^[0-9]{6}$', references: places.admin_code",
     "pattern: '^[0-9', references: places.admin_code", ["key 'pattern'", "is not a regular expression"]),
    ("tables.yaml", "spans: [[text, char_start, char_end]]", "spans: [[text, char_start, '']]",
     ["spans names ''"]),
    ("entities.yaml", "  county: [区, 县]\n", "", ["key 'county'", "missing key"]),
], ids=["column pattern", "span column", "place class"])
def test_more_catalog_edits_found_by_the_fuzzer_are_named(catalog, tmp_path, name, old, new, named):
    """Found by `make fuzz`: each was a traceback (Pandera's regex error, a KeyError) before."""
    catalog(name, old, new)
    assert_named(tmp_path, f"catalog/{name}", *named)


def test_an_optional_column_key_written_as_null_is_not_set(catalog, tmp_path):
    catalog("tables.yaml", "pattern: '^[0-9]{6}$', references: places.admin_code",
            "pattern: null, references: places.admin_code")
    result = build(config.RAW_FILE, tmp_path / "out", "--check")
    assert result.code == 0, result.stderr


def test_a_list_among_allowed_values_is_named(catalog, tmp_path):
    """`allowed: [[a, b]]` passed the model, then crashed pandera with a traceback."""
    catalog("tables.yaml", "{name: metric_zh, type: string, label_zh: 指标,",
            "{name: metric_zh, type: string, allowed: [[a, b]], label_zh: 指标,")
    assert_named(tmp_path, "tables.yaml", "(name metric_zh) allowed entry 1: ['a', 'b'] is not a plain value",
                 "not `allowed: [[a, b]]`")


def test_an_unknown_placeholder_in_a_place_pattern_is_named_with_a_suggestion(catalog, tmp_path):
    """It silently matched nothing, and the build then blamed three places for lacking an English name."""
    catalog("entities.yaml", 'pattern: "{county}{township}{village}"', 'pattern: "{county}{townships}{village}"')
    stderr = assert_named(tmp_path, "entities.yaml", "key 'pattern'", "unknown placeholder {townships}",
                          "(did you mean 'township'?)")
    assert "places_found" not in stderr


HUGE_INTEGER = "1" * 5000


@pytest.mark.parametrize("name, old, new, named", [
    ("tables.yaml", "type: int64, ge: 0, description: \"Decimal places", f"type: int64, ge: {HUGE_INTEGER}, "
     "description: \"Decimal places", "an integer of 5,000 characters; the limit is 100 digits"),
    ("tables.yaml", '"Figure identifier; joins to facts.fact_id."', '"Figure identifier\\0; joins to facts.fact_id."',
     "a control character (U+0000) in the value 'Figure identifier\\x00; joins to facts.fact_id.'"),
    ("figures.yaml", "\nfacts:", "\nnested: " + "[" * 2000 + "]" * 2000 + "\nfacts:", "nesting"),
    ("glossary.yaml", "\nterms:", "\nlaughs: &a [x, x, x, x, x, x, x, x, x, x]\n"
     + "".join(f"laughs{i}: &l{i} [{', '.join(['*' + ('a' if i == 0 else f'l{i - 1}')] * 10)}]\n" for i in range(7))
     + "terms:", "once its aliases (*name) are expanded"),
])
def test_hostile_yaml_in_a_catalog_is_one_named_error(catalog, tmp_path, name, old, new, named):
    """A huge integer (ValueError), a NUL (DuckDB's "unterminated quoted string"), deep nesting
    (RecursionError) and a billion laughs (memory) are refused while the file is read."""
    catalog(name, old, new)
    result = build(config.RAW_FILE, tmp_path / "out")
    assert result.code == 3 and "Traceback" not in result.stderr, result.stderr
    assert f"check catalog_yaml failed: {config.CATALOG_DIR / name}, line " in result.stderr
    assert named in result.stderr and len(result.stderr) < 1000, result.stderr
    assert not (tmp_path / "out").exists()


def test_a_row_without_labels_or_label_from_is_named(catalog, tmp_path):
    catalog("tables.yaml", "elderly_care: {label_from: services.elderly_care.facilities, ", "elderly_care: {")
    assert_named(tmp_path, "catalog/tables.yaml", "elderly_care", "label_from")
