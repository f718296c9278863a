"""The published corroborations (issue 23): the letter's figures beside the other texts that report them.

Tests may hold values; the pipeline may not. Each expected pair names its quote in the other text, so a
changed number there shows here as well as in the build's own checks.
"""

from __future__ import annotations

import hashlib

import pandas as pd
import pytest
import yaml

from pipeline import config, corroborations, metadata
from pipeline.arrow import read_table

# (fact_id, document_id, figure_id): (status, the other text's quote, its value)
EXPECTED = {
    ("population.total.households", "xiyi_resettlement_land_request_2016", "relocation_plan.households"):
        ("context", "4023户", 4023),
    ("population.total.households", "xiyi_resettlement_land_request_2016", "market_town_sites.households"):
        ("context", "1348户", 1348),
    ("industry.award_sites", "xiyi_resettlement_land_request_2016", "yongxin_site.households"):
        ("context", "843户", 843),
    ("site_bands.large.sites", "xiyi_resettlement_land_request_2016", "laowuzhai_site.households"):
        ("context", "505户", 505),
    ("population.registered_poor.households", "xiyi_resettlement_land_request_2016", "registered_poor.households"):
        ("context", "5366户", 5366),
    ("sites.total", "mangkuan_relocation_news_2020", "sites"): ("different_scope", "8个", 8),
    ("site_bands.cross_prefecture.sites", "mangkuan_relocation_news_2020", "sites"): ("context", "8个", 8),
    ("population.total.households", "mangkuan_relocation_news_2020", "households"): ("different_scope", "927户", 927),
    ("population.total.persons", "mangkuan_relocation_news_2020", "persons"): ("different_scope", "4777人", 4777),
    ("site_bands.cross_prefecture.sites", "mangkuan_relocation_news_2020", "from_nujiang.households"):
        ("context", "731户", 731),
    ("site_bands.cross_prefecture.sites", "mangkuan_relocation_news_2020", "from_nujiang.persons"):
        ("context", "3938人", 3938),
    ("population.registered_poor.persons", "baoshan_poverty_press_conference_2018", "housing_completed.persons"):
        ("different_scope", "64645人", 64645),
    ("population.registered_poor.persons", "baoshan_poverty_press_conference_2018", "moved_in.persons"):
        ("different_scope", "63557人", 63557),
    ("industry.award_funds", "yunnan_award_scheme_2019", "yearly_funds"): ("context", "5000万元", 50_000_000),
    ("industry.award_funds", "yunnan_award_scheme_2019", "grant.large_site"): ("context", "200万元", 2_000_000),
    ("industry.award_funds", "yunnan_award_scheme_2019", "grant.middle_site"): ("context", "100万元", 1_000_000),
    ("industry.award_funds", "yunnan_award_scheme_2019", "grant.small_site"): ("context", "50万元", 500_000),
    ("population.total.households", "baoshan_ndrc_relocation_reply_2023", "monitored.households"):
        ("context", "1417户", 1417),
    ("population.total.persons", "baoshan_ndrc_relocation_reply_2023", "monitored.persons"):
        ("context", "5294人", 5294),
    ("industry.award_funds", "baoshan_ndrc_relocation_reply_2023", "linking_funds"):
        ("context", "2342万元", 23_420_000),
}


@pytest.fixture(scope="module")
def tables(fresh_output):
    names = ("documents", "facts", "related_figures", "related_mentions", "corroborations")
    return {name: read_table(fresh_output / "parquet" / f"{name}.parquet") for name in names}


def texts() -> dict[str, str]:
    manifest = yaml.safe_load(config.MANIFEST.read_text(encoding="utf-8"))
    return {entry["document_id"]: (config.RAW_DIR / "related" / entry["file"]).read_text(encoding="utf-8")
            for entry in manifest["related_documents"]}


def test_every_expected_pair_is_published_with_its_status_and_values(tables):
    pairs = tables["corroborations"].set_index(["fact_id", "document_id", "figure_id"])
    assert set(pairs.index) == set(EXPECTED)
    facts = tables["facts"].set_index("fact_id")
    for key, (status, quote, value) in EXPECTED.items():
        pair = pairs.loc[key]
        assert (pair["status"], pair["other_quote"], pair["other_value"]) == (status, quote, value), key
        assert (pair["letter_value"], pair["letter_quote"]) == (facts.loc[key[0], "value"], facts.loc[key[0], "quote"])
        if not corroborations.one_quantity(status):
            assert pd.isna(pair["difference"])
        else:
            assert pair["difference"] == value - pair["letter_value"]


def test_the_mangkuan_report_bears_on_the_direction_of_the_cross_prefecture_sites(tables):
    figures = tables["related_figures"].set_index(["document_id", "figure_id"])
    nujiang = figures.loc[("mangkuan_relocation_news_2020", "from_nujiang.households")]
    assert "Nujiang" in nujiang["population_en"] and "从“怒江”到“保山”" in texts()["mangkuan_relocation_news_2020"]
    notes = tables["corroborations"].set_index("figure_id").loc["from_nujiang.households", "note_en"]
    assert "a cross-prefecture relocation into Baoshan, from Nujiang" in notes
    assert "does not say that its cross-prefecture sites are these" in notes  # and claims no more


def test_every_span_of_another_document_is_its_text(tables):
    by_document = texts()
    for name, spans in (("related_figures", [("quote", "char_start", "char_end"),
                                             ("sentence_zh", "sentence_char_start", "sentence_char_end")]),
                        ("related_mentions", [("text", "char_start", "char_end")]),
                        ("corroborations", [("other_quote", "other_char_start", "other_char_end")])):
        for row in tables[name].to_dict("records"):
            for quote, start, end in spans:
                assert by_document[row["document_id"]][row[start]:row[end]] == row[quote], (name, row)


def test_every_number_of_every_other_document_is_accounted_for(tables):
    from pipeline.numbers import iter_mentions

    mentions = tables["related_mentions"]
    for document_id, text in texts().items():
        found = [m for m in iter_mentions(text) if m.kind != "word"]
        mine = mentions[mentions["document_id"] == document_id]
        assert len(mine) == len(found) and mine["accounted_as"].notna().all()
        quantities = mine[mine["kind"] == "quantity"]
        assert set(quantities["accounted_as"]) <= set(metadata.label_vocabularies()["accounted_as"]) - {"rhetorical"}
        assert quantities[quantities["accounted_as"] != "figure"]["note"].notna().all()


def test_each_document_row_records_its_file_as_it_is(tables):
    documents = tables["documents"]
    assert documents.iloc[0]["role"] == "primary" and (documents.iloc[1:]["role"] == "related").all()
    assert len(documents) - 1 == len(texts()) >= 4
    for row in documents.iloc[1:].to_dict("records"):
        raw = (config.RAW_DIR / row["source_file"]).read_bytes()
        assert hashlib.sha256(raw).hexdigest() == row["raw_sha256"] and len(raw) == row["raw_bytes"]
        assert row["source_url"].startswith("http") and row["retrieved"] and row["obtained"]


def test_the_letter_keeps_its_figures_and_ids(tables):
    facts = tables["facts"]
    letter = tables["documents"].iloc[0]["document_id"]
    assert len(facts) == 81 and set(facts["document_id"]) == {letter}


def test_every_figure_of_another_document_has_its_sentence_in_english(tables):
    for row in tables["related_figures"].to_dict("records"):
        assert row["sentence_en"] and f"{row['value']:,.0f}" in row["sentence_en"], row["figure_id"]
