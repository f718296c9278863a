"""The published dataset built from the real text: values, provenance, schemas and checks."""

from __future__ import annotations

import pandas as pd
import pytest

from pipeline import metadata
from schemas import schema
from tests.conftest import RAW_TEXT

# fact_id: (quote, value[, value_max]). Tests may hold values; the pipeline may not.
EXPECTED = {
    "overview.period_years": ("五年", 5),
    "sites.total": ("210个", 210),
    "sites.counties": ("5个", 5),
    "sites.townships": ("58个", 58),
    "sites.villages": ("184个", 184),
    "population.total.households": ("18583户", 18583),
    "population.total.persons": ("79406人", 79406),
    "population.registered_poor.households": ("15238户", 15238),
    "population.registered_poor.persons": ("66128人", 66128),
    "population.accompanying.households": ("3345户", 3345),
    "population.accompanying.persons": ("14730人", 14730),
    "site_bands.small.persons_to": ("1000人以下", 1000),
    "site_bands.small.sites": ("201个", 201),
    "site_bands.medium.persons_range": ("1000—10000人", 1000, 10000),
    "site_bands.medium.sites": ("9个", 9),
    "site_bands.large.households_from": ("200户", 200),
    "site_bands.large.persons_from": ("800人以上", 800),
    "site_bands.large.sites": ("16个", 16),
    "site_bands.cross_prefecture.sites": ("8个", 8),
    "organisations.party_organisations": ("174个", 174),
    "organisations.party_groups": ("8个", 8),
    "organisations.villager_groups": ("424个", 424),
    "organisations.registration_transfers.households": ("1483户", 1483),
    "organisations.registration_transfers.persons": ("7064人", 7064),
    "organisations.party_members_transferred": ("2458人", 2458),
    "organisations.new_village_committees": ("3个", 3),
    "cadres.one_shoulder.villages": ("932个", 932),
    "cadres.one_shoulder.share": ("97.90%", 97.9),
    "cadres.one_shoulder.share_change": ("70.16%", 70.16),
    "cadres.party_committee.average_age": ("41.80岁", 41.8),
    "cadres.party_committee.average_age_change": ("7.5岁", 7.5),
    "cadres.villager_committee.average_age": ("37.89岁", 37.89),
    "cadres.villager_committee.average_age_change": ("8.11岁", 8.11),
    "cadres.villager_committee.college_educated": ("1899人", 1899),
    "cadres.villager_committee.college_educated_share": ("38.52%", 38.52),
    "cadres.villager_committee.college_educated_share_change": ("7.69%", 7.69),
    "mediation.min_mediators_per_team": ("至少3名", 3),
    "mediation.women_teams": ("302个", 302),
    "mediation.women_team_members": ("1865名", 1865),
    "policing.residents_per_officer": ("3000至5000人", 3000, 5000),
    "policing.villages_one_officer": ("951个", 951),
    "services.service_stations.coverage": ("94.8%", 94.8),
    "services.villages_sharing_offices": ("180个", 180),
    "services.new_villages_with_station": ("3个", 3),
    "services.elderly_care.facility_types": ("4类", 4),
    "services.elderly_care.facilities": ("109个", 109),
    "services.elderly_care.sites_covered": ("99个", 99),
    "services.elderly_care.coverage": ("47.1%", 47.1),
    "services.childrens_homes.facilities": ("108个", 108),
    "services.childrens_homes.sites_covered": ("119个", 119),
    "services.childrens_homes.coverage": ("56.7%", 56.7),
    "services.cemeteries.facilities": ("80个", 80),
    "services.cemeteries.sites_covered": ("132个", 132),
    "services.cemeteries.coverage": ("62.9%", 62.9),
    "services.social_organisations_introduced": ("两个", 2),
    "services.public_welfare_projects": ("两个", 2),
    "industry.demonstration_zones": ("5个", 5),
    "industry.demonstration_zone_scale": ("万亩", 10000),
    "industry.income_sources_per_plot": ("两份", 2),
    "industry.min_industries_per_poor_household": ("1项", 1),
    "industry.award_sites": ("5个", 5),
    "industry.award_funds": ("500万元", 5000000),
    "industry.industries_per_household": ("2项以上", 2),
    "industry.policies_per_poor_household": ("2项以上", 2),
    "industry.income_increase_per_household": ("5000元以上", 5000),
    "egov.service_items": ("6763项", 6763),
    "egov.online_available_rate": ("99.47%", 99.47),
    "egov.fully_online_rate": ("48.08%", 48.08),
    "egov.max_one_visit_rate": ("99.21%", 99.21),
    "egov.app_registered_users": ("388918人", 388918),
    "egov.app_verified_users": ("319600人", 319600),
    "egov.app_real_name_rate": ("82.18%", 82.18),
    "egov.app_transactions": ("2010622件", 2010622),
    "egov.app_average_transactions": ("0.76件", 0.76),
    "egov.hotline_requests": ("29164件", 29164),
    "egov.hotline_completion_rate": ("100%", 100),
    "egov.supervision_items_claimed": ("5443项", 5443),
    "egov.inspection_checklist_items": ("4497项", 4497),
    "egov.enforcement_departments": ("173个", 173),
    "egov.supervision_items_covered": ("3651项", 3651),
    "egov.supervision_coverage_rate": ("67.08%", 67.08),
}


@pytest.fixture(scope="module")
def facts(clean_build):
    return clean_build.table("facts").set_index("fact_id")


def test_every_expected_figure_and_no_other(facts):
    assert sorted(facts.index) == sorted(EXPECTED)


@pytest.mark.parametrize("fact_id", sorted(EXPECTED))
def test_figure_value_and_quote(facts, fact_id):
    quote, value, *value_max = EXPECTED[fact_id]
    row = facts.loc[fact_id]
    assert row["quote"] == quote
    assert row["value"] == pytest.approx(value)
    assert (None if pd.isna(row["value_max"]) else row["value_max"]) == (value_max[0] if value_max else None)


def test_as_of_and_units(facts):
    assert facts.loc["mediation.women_teams", "as_of"] == "2021-03"
    assert facts.loc["industry.award_funds", "as_of"] == "2019"
    assert facts.loc["industry.award_funds", "unit"] == "yuan"
    assert facts.loc["cadres.one_shoulder.share", "decimals"] == 2
    assert set(facts.loc[facts["unit"] == "percent", "quote"].str[-1]) == {"%"}


@pytest.mark.parametrize("table", ["facts", "mentions", "named_items"])
def test_provenance_spans_equal_quotes(clean_build, table):
    df = clean_build.table(table)
    column = {"facts": "quote", "mentions": "text", "named_items": "name_zh"}[table]
    for row in df.itertuples():
        assert RAW_TEXT[row.char_start:row.char_end] == getattr(row, column)


def test_sections_and_document_metadata_come_from_the_text(clean_build):
    sections = clean_build.table("sections").set_index("section_id")
    assert list(sections.loc[[f"section_{i}" for i in range(1, 7)], "ordinal_zh"]) == list("一二三四五六")
    document = clean_build.table("documents").iloc[0]
    assert document["publication_date"] == "2021-07-29"
    assert document["index_number"] == "01525512-9-/2021-0729011"
    assert document["session_zh"] == "保山市政协四届六次会议"
    assert document["proposal_number"] == "0132"
    assert document["addressee_zh"] == "董蓉蓉委员"


def test_every_quantity_mention_backs_a_figure_or_says_why(clean_build):
    mentions = clean_build.table("mentions")
    quantities = mentions[mentions["kind"] == "quantity"]
    figures = quantities[quantities["accounted_as"] == "figure"]
    assert len(figures) == len(EXPECTED) and figures["fact_id"].is_unique
    others = quantities[quantities["accounted_as"] != "figure"]
    assert list(others["text"]) == ["一份"] and others["note"].notna().all()


@pytest.mark.parametrize("table", list(metadata.tables()))
def test_published_table_passes_its_schema(clean_build, table):
    schema(table, clean_build.table("facts")).validate(clean_build.table(table))


def test_checks_table(clean_build):
    checks = clean_build.table("checks").set_index("check_id")
    discrepancies = checks[checks["status"] == "source_discrepancy"]
    assert sorted(discrepancies.index) == ["population.persons_sum"]
    persons = checks.loc["population.persons_sum"]
    assert (persons["expected"], persons["observed"]) == (66128 + 14730, 79406)
    villages = checks.loc["cadres.one_shoulder_village_total"]
    assert villages["observed"] == 951 and round(villages["expected"]) == 952 and villages["status"] == "pass"
    for facility in ("elderly_care", "childrens_homes", "public_cemeteries"):
        assert checks.loc[f"coverage.{facility}", "status"] == "pass"
    assert checks.loc["list_count.award_sites", "observed"] == 5


def test_tables_carry_fact_ids(clean_build):
    coverage = clean_build.table("facility_coverage").set_index("facility_id")
    assert coverage.loc["elderly_care", "sites_covered_fact_id"] == "services.elderly_care.sites_covered"
    assert coverage.loc["elderly_care", "coverage_pct_computed"] == pytest.approx(99 / 210 * 100, abs=1e-4)
    assert pd.isna(coverage.loc["service_stations", "denominator_sites"])
    cadres = clean_build.table("village_cadres").set_index("indicator_id")
    assert cadres.loc["party_committee_average_age", "change_vs_previous_term"] == pytest.approx(-7.5)
    assert cadres.loc["party_committee_average_age", "previous_term_value_implied"] == pytest.approx(49.3)
    egov = clean_build.table("egov_indicators").set_index("indicator_id")
    assert egov.loc["supervision_coverage", "computed_rate_pct"] == pytest.approx(3651 / 5443 * 100, abs=1e-4)


def test_every_figure_is_published_in_its_thematic_table(clean_build, facts):
    for table_name, group in facts.groupby("table_name"):
        df = clean_build.table(table_name)
        ids = set(df[[c for c in df.columns if c.endswith("fact_id")]].stack().dropna())
        assert set(group.index) <= ids, table_name
    assert set(facts["table_name"]) <= set(metadata.tables())


@pytest.mark.slow  # not in make check, whose clean_build is output/ itself
def test_default_output_matches_a_fresh_build(fresh_output, clean_build):
    """`make test` runs `make dataset` first: output/ must hold what the code builds now."""
    for table in ("facts.parquet", "checks.parquet"):
        published = (fresh_output / "parquet" / table).read_bytes()
        assert published == (clean_build.out / "parquet" / table).read_bytes()


def test_published_files_have_the_snapshot_columns_and_types(clean_build):
    """tests/data/schema_snapshot.json is what data users get: the Parquet schemas and the CSV headers."""
    import pyarrow.parquet as pq

    from pipeline.arrow import ARROW_TYPES
    from tests.schema_snapshot import load

    snapshot = load()["tables"]
    assert sorted(snapshot) == sorted(metadata.tables())
    for name, columns in snapshot.items():
        schema = pq.read_schema(clean_build.out / "parquet" / f"{name}.parquet")
        assert [(f.name, f.type) for f in schema] == [(c, ARROW_TYPES[t]) for c, t in columns.items()], name
        header = (clean_build.out / "csv" / f"{name}.csv").read_text(encoding="utf-8").split("\n", 1)[0]
        assert header.split(",") == list(columns), name
