"""Reading the figures right without Chinese: each figure's statistical population, the hedges that keep
the English from settling what the text leaves open, periods, terminology, the checks' framing, the
reply's title and the English summary (issue 18)."""

from __future__ import annotations

import re

import pytest
import yaml

from pipeline import config, metadata, site, summary
from pipeline.release import card
from tests.conftest import build

CITY_WIDE = ("cadres.", "mediation.", "policing.villages_one_officer")
WIDE_TABLES = ("relocated_population", "site_size_bands", "facility_coverage", "village_cadres", "egov_indicators")
# Figures whose note records a choice that the English states anyway (a requirement, a rounding, an area,
# a discrepancy, a scale): they need no hedge. Every other figure with a note carries one.
NOTED_WITHOUT_HEDGE = {
    "overview.period_years", "population.total.persons", "cadres.one_shoulder.villages",
    "mediation.min_mediators_per_team", "policing.residents_per_officer", "industry.demonstration_zone_scale",
    "industry.min_industries_per_poor_household", "industry.award_sites", "industry.award_funds",
}


@pytest.fixture(scope="module")
def facts(clean_build):
    return clean_build.table("facts").set_index("fact_id")


def failed(tmp_path, *expected: str) -> str:
    result = build(config.RAW_FILE, tmp_path / "out", "--check", "--build-dir", str(tmp_path / "build"))
    assert result.code == 3, result.stderr
    assert "Traceback" not in result.stderr
    for text in expected:
        assert text in result.stderr, (text, result.stderr)
    return result.stderr


# --- 1. the document is the reply -------------------------------------------------------------------

def test_the_documents_title_is_the_replys_not_the_proposals(clean_build):
    document = clean_build.table("documents").iloc[0]
    manifest = yaml.safe_load((config.ROOT / "raw" / "manifest.yaml").read_text(encoding="utf-8"))
    assert document["title_zh"] == manifest["title_zh"] and document["title_en"] == manifest["title_en"]
    assert document["title_zh"].endswith("的答复") and document["title_en"].startswith("Reply to")
    cited = clean_build.table("referenced_documents").set_index("reference_id").loc["ref_01"]
    assert document["proposal_title_zh"] == cited["title_zh"]
    assert document["proposal_title_en"] == cited["title_en"]


# --- 2. and 8. the statistical population, in facts and in every thematic table ---------------------------

def test_every_figure_names_its_population_in_both_languages(facts):
    declared = metadata.figures()["populations"]
    assert facts["population"].isin(list(declared)).all()
    for fact_id, fact in facts.iterrows():
        assert fact["population_zh"] == declared[fact["population"]]["zh"], fact_id
        assert fact["population_en"] == declared[fact["population"]]["en"], fact_id
    city = facts[[fact_id.startswith(CITY_WIDE) for fact_id in facts.index]]
    assert len(city) == 14 and city["population"].str.startswith("city_").all()
    assert (city["population_en"].str.contains("not only")).all()
    assert facts.loc["sites.total", "population"] == "resettlement_sites"
    assert facts.loc["population.accompanying.households", "population"] == "relocated_accompanying"
    assert facts.loc["services.social_organisations_introduced", "population"] == "one_county"
    assert facts.loc["services.service_stations.coverage", "population"] == "unstated_villages"


def test_thematic_tables_carry_period_area_population_and_notes_from_facts(clean_build, facts):
    for name in metadata.figure_tables():
        table = clean_build.table(name)
        for column in ("as_of", "as_of_basis_en", "ref_area_code", "population", "population_en", "note_en",
                       "note_zh", "hedge_en"):
            assert column in table.columns, (name, column)
        fact_columns = [c for c in table.columns if c.endswith("fact_id") and c != "denominator_sites_fact_id"]
        for row in table.to_dict("records"):
            held = [row[c] for c in fact_columns if isinstance(row[c], str)]
            assert held, (name, row)
            for column in ("as_of", "as_of_basis", "ref_area_code", "population"):
                assert {facts.loc[f, column] for f in held} == {row[column]}, (name, column, row)
            notes = {facts.loc[f, "note_en"] for f in held if isinstance(facts.loc[f, "note_en"], str)}
            said_within_another = {n for n in notes if any(n != other and n in other for other in notes)}
            assert set(row["note_en"].split(" | ") if isinstance(row["note_en"], str) else []) == \
                notes - said_within_another, (name, row)
    cadres = clean_build.table("village_cadres")
    assert (cadres["population"].str.startswith("city_")).all()
    assert "note" not in cadres.columns  # the notes come from facts now, not from a second copy in tables.yaml


def test_the_data_dictionary_describes_the_population(clean_build):
    dictionary = (clean_build.out / "DATA_DICTIONARY.md").read_text(encoding="utf-8")
    assert "statistical population" in dictionary
    assert dictionary.count("population_en") >= 1 + len(metadata.figure_tables())


def test_a_figure_without_a_population_is_named(catalog, tmp_path):
    catalog("figures.yaml", "    population: city_villages\n", "")
    failed(tmp_path, "check catalog_keys failed", "figures.yaml", "population")


def test_an_unknown_population_is_named(catalog, tmp_path):
    catalog("figures.yaml", "    population: city_villages\n", "    population: city_village\n")
    failed(tmp_path, "unknown population 'city_village'", "did you mean 'city_villages'")


def test_figures_of_one_row_must_share_their_population(catalog, tmp_path):
    catalog("figures.yaml", "    population: resettlement_sites\n    unit: facilities\n    find: \";{}儿童之家\"",
            "    population: city_villages\n    unit: facilities\n    find: \";{}儿童之家\"")
    failed(tmp_path, "check row_context failed: facility_coverage row childrens_homes",
           "services.childrens_homes.facilities")


# --- 3. and 4. hedges: the label, the sentence's English and the value card ---------------------------------

def test_every_hedged_figure_says_so_in_its_label_its_sentence_its_row_and_its_card(clean_build, facts,
                                                                                     tmp_path_factory):
    sentences = clean_build.table("sentences").set_index("sentence_id")["text_en"]
    page = tmp_path_factory.mktemp("page") / "index.html"
    site.run(clean_build.out, page)
    html = page.read_text(encoding="utf-8")
    hedged = facts[facts["hedge_en"].notna()]
    assert len(hedged) == 14
    for fact_id, fact in hedged.iterrows():
        mark = f"[{fact['hedge_en']}]"
        assert mark in fact["metric_en"], fact_id
        assert mark in sentences[fact["sentence_id"]], fact_id
        card_html = re.search(rf'<aside class="fact-card" id="card-{re.escape(fact_id)}".*?</aside>', html, re.S)
        assert card_html and mark in card_html.group() and f"[{fact['hedge_zh']}]" in card_html.group(), fact_id
    for name in WIDE_TABLES:
        table = clean_build.table(name)
        label = metadata.tables()[name]["label"]
        for row in table[table["hedge_en"].notna()].to_dict("records"):
            for hedge in row["hedge_en"].split(" | "):
                assert f"[{hedge}]" in row[f"{label}_en"], (name, row)
    noted = set(facts[facts["note_en"].notna()].index)
    assert noted - set(hedged.index) == NOTED_WITHOUT_HEDGE


def test_the_english_does_not_settle_the_kind_of_rise(clean_build, facts):
    english = clean_build.table("sentences").set_index("sentence_id")["text_en"]
    for sentence_id in ("section_2.s05", "section_2.s07"):
        assert "[percentage points or relative: not stated]" in english[sentence_id]
        assert "percentage points on" not in english[sentence_id]
    for fact_id in ("cadres.one_shoulder.share_change", "cadres.villager_committee.college_educated_share_change"):
        assert facts.loc[fact_id, "unit"] == "percent_change_as_printed"
        assert "percentage points" not in facts.loc[fact_id, "unit_en"].replace("points or relative", "")


def test_previous_term_values_give_both_readings_computed(clean_build):
    cadres = clean_build.table("village_cadres").set_index("indicator_id")
    assert cadres.loc["one_shoulder_share", "previous_term_value_implied"] == pytest.approx(27.74)
    assert round(cadres.loc["one_shoulder_share", "previous_term_value_if_relative"], 2) == 57.53
    assert cadres.loc["college_educated_share", "previous_term_value_implied"] == pytest.approx(30.83)
    assert round(cadres.loc["college_educated_share", "previous_term_value_if_relative"], 2) == 35.77
    ages = cadres.loc[["party_committee_average_age", "villager_committee_average_age"]]
    assert ages["previous_term_value_if_relative"].isna().all()  # a fall in years has one reading
    assert ages["previous_term_value_implied"].round(2).tolist() == [49.3, 46.0]


def test_the_service_station_rate_is_flagged_as_having_no_base(clean_build, facts, tmp_path_factory):
    coverage = clean_build.table("facility_coverage").set_index("facility_id").loc["service_stations"]
    assert coverage["hedge_en"] == "base not stated" and "[base not stated]" in coverage["facility_en"]
    assert coverage["denominator_sites"] is None or coverage.isna()["denominator_sites"]
    assert "not stated to be a share of the" in facts.loc["services.service_stations.coverage", "note_en"]
    page = tmp_path_factory.mktemp("chart") / "index.html"
    site.run(clean_build.out, page)
    chart = re.search(r'<figure id="chart-coverage">.*?</figure>', page.read_text(encoding="utf-8"), re.S).group()
    assert "94.8% [base not stated]" in chart and "hatched" in chart


@pytest.mark.parametrize(("file", "old", "new", "message"), [
    ("translations.yaml", "{services.service_stations.coverage}% [base not stated];",
     "{services.service_stations.coverage}%;", "the English of its sentence section_4.s04"),
    ("figures.yaml", "Coverage of village/community service facilities and service stations [base not stated]",
     "Coverage of village/community service facilities and service stations", "its label, facts.metric_en"),
    ("tables.yaml", 'en: "Village/community service facilities and service stations [base not stated]"',
     "en: Village/community service facilities and service stations", "facility_coverage row service_stations"),
])
def test_dropping_a_hedge_fails_the_build(catalog, tmp_path, file, old, new, message):
    catalog(file, old, new)
    failed(tmp_path, "check hedge failed", message)


def test_the_two_notes_on_the_policing_villages_agree(clean_build, facts):
    check = clean_build.table("checks").set_index("check_id").loc["cadres.one_shoulder_village_total"]
    assert (check["status"], check["relation"], check["check_type"]) == ("pass", "plausibility",
                                                                          "within_implied_total")
    assert (check["expected"].round(), check["observed"]) == (952, 951)
    note = facts.loc["policing.villages_one_officer", "note_en"]
    assert "may be a target" in note and "does not say that 951" in note and "952" in note
    assert "completed the one-officer" not in " ".join(clean_build.table("checks")["note"].dropna())


# --- 5. terminology ---------------------------------------------------------------------------------------

def test_terms_read_the_same_in_every_english_column(clean_build, facts):
    english = " ".join(clean_build.table("sentences")["text_en"])
    assert "city-level" not in english and "displaced people" not in english and "non-poor" not in english
    assert "reservoir and hydropower migrant resettlement areas" in english
    assert "qualify as a city of the national pilot" in english
    assert not facts["metric_en"].str.contains("non-poor|degree|committee head").any()
    glossary = clean_build.table("glossary").set_index("term_zh")
    assert "become better off" in glossary.loc["搬得出、稳得住、能致富", "term_en"]
    assert "90%" in glossary.loc["儿童之家", "source"]
    assert glossary.loc["移民安置区", "term_en"] == "Reservoir and hydropower migrant resettlement area"


def test_a_sentence_that_drops_a_glossary_term_fails_the_build(catalog, tmp_path):
    catalog("translations.yaml", "Grassroots social governance in reservoir and hydropower migrant resettlement areas",
            "Grassroots social governance in resettlement areas for displaced people")
    failed(tmp_path, "check terminology failed: section_3.s10 contains the glossary term 移民安置区")


def test_a_sentence_that_words_a_cited_title_differently_fails_the_build(catalog, tmp_path):
    catalog("translations.yaml", "modernisation of municipal social governance\\\"", "modernisation of city-level "
            "social governance\\\"")
    failed(tmp_path, "check terminology failed: section_3.s04 cites 《保山市司法局关于开展矛盾纠纷源头治理")


# --- 6. and 7. checks and periods --------------------------------------------------------------------------

def test_checks_are_framed_as_the_text_allows(clean_build):
    checks = clean_build.table("checks").set_index("check_id")
    assert checks.loc["mediation.members_meet_minimum", "relation"] == "plausibility"
    assert "sites.party_organisations_within_total" not in checks.index
    note = checks.loc["population.persons_sum", "note"]
    assert "typing error" in note and "likely from a different date" not in note


def test_since_the_plan_runs_to_the_replys_date_and_an_unstated_period_says_so(facts):
    assert facts.loc["sites.total", "as_of"] == "2016/2021-07-29"
    assert facts.loc["sites.total", "as_of_basis_en"].endswith("to the reply's date")
    assert facts.loc["overview.period_years", "qualifier"] == "approx"
    # 目前 heads one sentence of section 4, up to its 。; Shidian's sentence after it is not dated by it
    assert facts.loc["services.cemeteries.coverage", "as_of_basis"] == "stated_for_paragraph"
    assert facts.loc["services.social_organisations_introduced", ["as_of_basis", "as_of"]].tolist() == \
        ["reply_date", "2021-07-29"]
    income = facts.loc["industry.income_increase_per_household"]
    assert "over what period" in income["hedge_en"] and "period" in income["note_en"]


# --- 9. the English summary ---------------------------------------------------------------------------------

def test_the_summary_is_rendered_from_the_data_and_the_readme_holds_the_current_copy(clean_build, facts):
    documents = clean_build.table("documents")
    rendered = summary.render(clean_build.table("facts"), documents.iloc[0])
    for text in ("Baoshan City Civil Affairs Bureau", "29 July 2021", "No. 0132", "Dong Rongrong", "210",
                 "18,583", "47.1%", "80,858", "79,406", "952", "951"):
        assert text in rendered, text
    assert 120 <= len(rendered.split()) <= 190
    readme = (config.ROOT / "README.md").read_text(encoding="utf-8")
    assert summary.readme_copy(readme) == rendered, "run `python -m pipeline.summary --readme README.md`"
    tables = {name: clean_build.table(name) for name in metadata.tables()}
    manifest = yaml.safe_load((config.ROOT / "raw" / "manifest.yaml").read_text(encoding="utf-8"))
    assert rendered in card.dataset_card(tables, documents.iloc[0].to_dict(), manifest, "2021-07-29", "", "0" * 40)


def test_a_changed_figure_changes_the_summary(clean_build):
    facts = clean_build.table("facts")
    facts.loc[facts["fact_id"] == "sites.total", "value"] = 211.0
    rendered = summary.render(facts, clean_build.table("documents").iloc[0])
    assert "built 211 centralised" in rendered


def test_a_summary_template_with_a_typed_figure_is_refused(clean_build):
    from pipeline.errors import InputError

    with pytest.raises(InputError, match="contains a digit"):
        summary.render(clean_build.table("facts"), clean_build.table("documents").iloc[0],
                       "The city built 210 sites ({sites.total}).")
