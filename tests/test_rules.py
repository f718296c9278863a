"""Each schema rule and each cross-figure check type, fed its own tampered input.

validate stops at the first failing stage, so a build with a tampered figure often fails on another
rule first and says nothing about the rule under test. Here each rule gets a table or a set of
figures that only it can catch, at its tolerance boundary where it has one: a value just outside
half a unit of the last printed decimal must fail, one just inside must pass.
"""

from __future__ import annotations

import pandas as pd
import pandera.pandas as pa
import pytest

from pipeline import checks, crosschecks, metadata
from pipeline.checks import ImpliedTotalCheck, ListCountCheck, half_unit, run_checks
from pipeline.errors import ValidationFailed
from schemas import schema
from tests.conftest import RAW_TEXT


def failures(name: str, df: pd.DataFrame, facts: pd.DataFrame) -> list[str]:
    """The names of the schema rules a table breaks."""
    try:
        schema(name, facts).validate(df, lazy=True)
    except pa.errors.SchemaErrors as errors:
        return sorted(set(errors.failure_cases["check"].astype(str)))
    return []


@pytest.fixture(scope="module")
def tables(clean_build) -> dict[str, pd.DataFrame]:
    return {name: clean_build.table(name) for name in metadata.tables()}


def decimals_of(facts: pd.DataFrame, fact_id: str) -> int:
    return int(facts.loc[facts["fact_id"] == fact_id, "decimals"].iloc[0])


# --- derived columns: recomputed, and compared with the reported figure at its printed decimals ------

RATE_RULES = [  # table, row id column, row, reported column, derived column, numerator, denominator
    ("facility_coverage", "facility_id", "elderly_care", "coverage_pct", "coverage_pct_computed",
     "sites_covered", "denominator_sites"),
    ("egov_indicators", "indicator_id", "app_real_name_verification", "reported_rate_pct", "computed_rate_pct",
     "numerator", "denominator"),
]


@pytest.mark.parametrize(("name", "key", "row", "reported", "derived", "numerator", "denominator"), RATE_RULES)
def test_a_reported_rate_must_agree_within_half_a_unit_of_its_last_decimal(tables, name, key, row, reported,
                                                                           derived, numerator, denominator):
    facts, df = tables["facts"], tables[name]
    assert failures(name, df, facts) == []
    i = df.index[df[key] == row][0]
    computed = df.at[i, numerator] / df.at[i, denominator] * 100
    half = half_unit(decimals_of(facts, df.at[i, f"{reported}_fact_id"]))
    rule = f"{reported} == {numerator} / {denominator} * 100 within half a unit of {reported}'s last printed decimal"
    for factor, passes in ((0.9, True), (-0.9, True), (1.1, False), (-1.1, False)):
        tampered = df.copy()
        tampered.at[i, reported] = computed + factor * half
        found = failures(name, tampered, facts)
        assert (found == []) == passes, (factor, found)
        assert passes or found == [rule]


def test_the_tolerance_comes_from_the_printed_decimals_not_from_the_float(tables):
    """47.1 printed as 47.10 has two decimals: tolerance 0.005, though repr(47.1) shows one."""
    facts, df = tables["facts"], tables["facility_coverage"]
    i = df.index[df["facility_id"] == "elderly_care"][0]
    fact_id = df.at[i, "coverage_pct_fact_id"]
    computed = df.at[i, "sites_covered"] / df.at[i, "denominator_sites"] * 100
    one_decimal = round(computed, 1)
    assert half_unit(2) < abs(computed - one_decimal) <= half_unit(1)
    tampered = df.copy()
    tampered.at[i, "coverage_pct"] = one_decimal
    printed_with = facts.copy()
    for places, passes in ((1, True), (2, False)):
        printed_with.loc[printed_with["fact_id"] == fact_id, "decimals"] = places
        assert (failures("facility_coverage", tampered, printed_with) == []) == passes


@pytest.mark.parametrize(("name", "column", "expression"), [
    ("facility_coverage", "coverage_pct_computed", "sites_covered / denominator_sites * 100"),
    ("egov_indicators", "computed_rate_pct", "numerator / denominator * 100"),
    ("village_cadres", "previous_term_value_implied", "value - change_vs_previous_term"),
])
def test_a_derived_column_must_equal_its_expression(tables, name, column, expression):
    facts, df = tables["facts"], tables[name]
    declared = next(c for c in metadata.tables()[name]["columns"] if c["name"] == column)
    assert declared["derived"] == expression
    i = df[column].first_valid_index()
    rule = f"{column} == {expression} (rounded to {metadata.DERIVED_DECIMALS} decimals)"
    for tamper in (lambda t: t.at[i, column] + 0.001, lambda t: pd.NA):
        tampered = df.copy()
        tampered.at[i, column] = tamper(tampered)
        assert rule in failures(name, tampered, facts)
    null_row = df.index[df[column].isna()]
    if len(null_row):  # a value where the expression has none (an operand is null) is caught too
        tampered = df.copy()
        tampered.at[null_row[0], column] = 1.0
        assert rule in failures(name, tampered, facts)


def test_a_schema_that_compares_with_figures_needs_the_facts(tables):
    with pytest.raises(TypeError, match="pass facts="):
        schema("facility_coverage")


def test_a_derived_column_is_filled_from_its_declaration_alone(tables, monkeypatch):
    """One declared expression computes a new column: `derived: denominator_sites - sites_covered`."""
    from pipeline.stages import tables as stage

    declared = metadata.tables()["facility_coverage"]
    uncovered = {"name": "sites_uncovered", "type": "int64", "nullable": True, "description": "Sites not covered.",
                 "derived": "denominator_sites - sites_covered"}
    patched = {**metadata.tables(), "facility_coverage": {**declared, "columns": [*declared["columns"], uncovered]}}
    monkeypatch.setattr(metadata, "tables", lambda: patched)
    df = stage.derive("facility_coverage", tables["facility_coverage"].assign(sites_uncovered=pd.NA))
    expected = tables["facility_coverage"]["denominator_sites"] - tables["facility_coverage"]["sites_covered"]
    assert df["sites_uncovered"].dtype == "Int64"
    assert df["sites_uncovered"].equals(expected.astype("Int64").rename("sites_uncovered"))


# --- the other table-level rules ------------------------------------------------------------------

def test_numerator_must_not_exceed_denominator(tables):
    facts, df = tables["facts"], tables["egov_indicators"]
    i = df["numerator"].first_valid_index()
    tampered = df.copy()
    tampered.at[i, "numerator"] = df.at[i, "denominator"] + 1
    tampered.at[i, "computed_rate_pct"] = round(tampered.at[i, "numerator"] / df.at[i, "denominator"] * 100, 4)
    assert "numerator <= denominator" in failures("egov_indicators", tampered, facts)


def test_mentioned_places_must_have_mentions(tables):
    facts, df = tables["facts"], tables["places"]
    i = df.index[df["mentioned"]][0]
    tampered = df.copy()
    tampered.at[i, "mentioned"] = False
    assert failures("places", tampered, facts) == ["mentioned == (mention_count > 0) == first_quote is set"]


@pytest.mark.parametrize("name", ["place_mentions", "referenced_documents", "glossary", "facts", "mentions",
                                  "named_items", "sections"])
def test_a_span_must_end_after_it_starts(tables, name):
    df = tables[name]
    i = df.index[df["char_start"] >= 1][0]
    tampered = df.copy()
    tampered.at[i, "char_end"] = df.at[i, "char_start"]
    assert "char_end > char_start" in failures(name, tampered, tables["facts"] if name != "facts" else tampered)


# --- cross-figure checks, one type at a time ---------------------------------------------------------

@pytest.fixture(scope="module")
def figures(tables) -> dict[str, dict]:
    facts = tables["facts"]
    return {r["fact_id"]: r for r in facts.astype(object).where(facts.notna(), None).to_dict("records")}


def declared(check_type: str) -> dict:
    return next(s for s in metadata.checks() if s["type"] == check_type and "known_discrepancy" not in s)


def passes(spec: dict, figures: dict[str, dict], **values: float) -> bool:
    changed = {**figures, **{spec[role]: {**figures[spec[role]], "value": v} for role, v in values.items()}}
    return checks.TYPES[spec["type"]](spec).evaluate(changed).passed


def test_every_check_type_is_covered_here():
    """Every type the check classes register (pipeline/checks.py) has its boundary test here, test_<type>_check...;
    the robustness suite reads equality and bounds from the classes themselves."""
    tests = [name for name in globals() if name.startswith("test_")]
    assert [t for t in checks.TYPES if not any(name.startswith(f"test_{t}_check") for name in tests)] == []


def test_a_bound_check_type_must_name_its_roles():
    spec = {"type_name": "bad_bound", "label_zh": "界", "label_en": "Bound", "expected_means": "e",
            "observed_means": "o", "tolerance_means": "t", "roles": ("a", "b")}
    for bound in ({"bounded": "a", "bounds": "c", "breaks_when": "above"},
                  {"bounded": "a", "bounds": "b", "breaks_when": "sideways"}, {"bounded": "a"}):
        with pytest.raises(TypeError, match="`bounded` and `bounds` roles"):
            type("BadBound", (checks.Check,), {**spec, **bound})
    assert "bad_bound" not in checks.TYPES


@pytest.mark.parametrize("check_id", [s["check_id"] for s in metadata.checks() if s["type"] == "rate"])
def test_rate_check_tolerance_is_half_a_unit_of_the_last_decimal(figures, check_id):
    spec = next(s for s in metadata.checks() if s["check_id"] == check_id)
    numerator, denominator = figures[spec["numerator"]]["value"], figures[spec["denominator"]]["value"]
    exact = numerator / denominator * 100
    half = half_unit(figures[spec["rate"]]["decimals"])
    assert passes(spec, figures)
    for factor, ok in ((0.9, True), (-0.9, True), (1.1, False), (-1.1, False)):
        assert passes(spec, figures, rate=exact + factor * half) == ok, factor


def test_sum_check(figures):
    spec = declared("sum")
    total = figures[spec["total"]]["value"]
    assert passes(spec, figures) and not passes(spec, figures, total=total + 1)
    assert not passes(spec, figures, total=total - 1)


def test_at_most_check(figures):
    spec = declared("at_most")
    whole = figures[spec["whole"]]["value"]
    assert passes(spec, figures, part=whole) and not passes(spec, figures, part=whole + 1)


def test_equal_check(figures):
    spec = declared("equal")
    b = figures[spec["b"]]["value"]
    assert passes(spec, figures, a=b) and not passes(spec, figures, a=b + 1) and not passes(spec, figures, a=b - 1)


def test_min_product_check(figures):
    spec = declared("min_product")
    product = figures[spec["factors"][0]]["value"] * figures[spec["factors"][1]]["value"]
    assert passes(spec, figures, value=product) and not passes(spec, figures, value=product - 1)


VILLAGE_TOTAL = {"check_id": "x", "relation": "plausibility", "description": "d",
                 "count": "cadres.one_shoulder.villages", "share": "cadres.one_shoulder.share"}


def test_implied_total_check(figures):
    spec = {**VILLAGE_TOTAL, "type": "implied_total", "compare": "policing.villages_one_officer"}
    count, share = figures[spec["count"]]["value"], figures[spec["share"]]["value"]
    half = half_unit(figures[spec["share"]]["decimals"])
    reproduces = [n for n in range(int(count), int(count / (share / 100)) * 2)
                  if abs(count / n * 100 - share) <= half]
    assert reproduces, "no whole total reproduces the share"
    for n in reproduces:
        assert passes(spec, figures, compare=n)
    assert not passes(spec, figures, compare=reproduces[0] - 1)
    assert not passes(spec, figures, compare=reproduces[-1] + 1)
    outcome = ImpliedTotalCheck(spec).evaluate(figures)
    assert outcome.tolerance == pytest.approx(outcome.expected - count / ((share + half) / 100), abs=1e-3)


def test_within_implied_total_check_passes_up_to_the_largest_total_that_reproduces_the_share(figures):
    spec = {**VILLAGE_TOTAL, "type": "within_implied_total", "part": "policing.villages_one_officer"}
    count, share = figures[spec["count"]]["value"], figures[spec["share"]]["value"]
    half = half_unit(figures[spec["share"]]["decimals"])
    largest = max(n for n in range(int(count), int(count / (share / 100)) * 2) if abs(count / n * 100 - share) <= half)
    assert passes(spec, figures) and passes(spec, figures, part=largest)
    assert not passes(spec, figures, part=largest + 1)
    outcome = checks.TYPES["within_implied_total"](spec).evaluate(figures)
    assert outcome.expected == pytest.approx(count / (share / 100), abs=1e-4)
    assert outcome.tolerance == pytest.approx(count / ((share - half) / 100) - outcome.expected, abs=1e-3)
    assert outcome.expected + outcome.tolerance >= largest


def test_list_count_check(tables, figures):
    items = tables["named_items"].astype(object).where(tables["named_items"].notna(), None).to_dict("records")
    entry = next(e for e in metadata.figures()["lists"] if e.get("count_fact"))
    spec = {"check_id": "list_count.x", "type": "list_count", "description": "d", "relation": "implied",
            "count_fact": entry["count_fact"], "list_id": entry["list_id"]}
    assert ListCountCheck(spec, items).evaluate(figures).passed
    fewer = [i for i in items if not (i["list_id"] == entry["list_id"] and i["position"] == 1)]
    assert not ListCountCheck(spec, fewer).evaluate(figures).passed


def test_a_failing_check_is_named_with_its_figures(tables, figures):
    spec = declared("rate")
    changed = {**figures, spec["rate"]: {**figures[spec["rate"]], "value": figures[spec["rate"]]["value"] + 1}}
    items = tables["named_items"].astype(object).where(tables["named_items"].notna(), None).to_dict("records")
    with pytest.raises(ValidationFailed, match=rf"check {spec['check_id']} failed \(a relation the text implies\)"):
        run_checks(list(changed.values()), items)


# --- the document's structure: sentences and sections -------------------------------------------------

def _partition_failures(tables: dict[str, pd.DataFrame]) -> list[str]:
    return [p for p in crosschecks.sentence_problems(tables, RAW_TEXT) if "sentences_partition" in p]


def test_overlapping_sentences_fail_the_partition(tables):
    assert _partition_failures(tables) == []
    sentences = tables["sentences"].copy()
    # The fifth sentence runs one character into the sixth: no gap, but two sentences hold that character.
    sentences.loc[4, "char_end"] = sentences.loc[5, "char_start"] + 1
    failures = _partition_failures({**tables, "sentences": sentences})
    assert len(failures) == 1 and sentences.loc[5, "sentence_id"] in failures[0], failures


def test_a_section_must_span_exactly_its_sentences(tables):
    assert crosschecks.section_problems(tables, RAW_TEXT) == []
    # One short, one late, or reaching past the line break into the next section's heading.
    for column, shift in (("char_end", -1), ("char_start", 1), ("char_end", 2)):
        sections = tables["sections"].copy()
        sections.loc[3, column] += shift
        failures = crosschecks.section_problems({**tables, "sections": sections}, RAW_TEXT)
        assert len(failures) == 1 and "sections_span_their_sentences" in failures[0], (column, shift)
        assert sections.loc[3, "section_id"] in failures[0]


def test_a_derived_column_is_null_where_its_divisor_is_zero(tables):
    from pipeline.stages.tables import derived_values

    column = next(c for c in metadata.tables()["egov_indicators"]["columns"] if c["name"] == "computed_rate_pct")
    egov = tables["egov_indicators"].copy()
    given = egov["denominator"].notna()
    assert given.any() and derived_values(column, egov)[given].notna().all()
    egov.loc[given, "denominator"] = 0
    assert derived_values(column, egov).isna().all()  # not inf: a zero divisor gives no rate
