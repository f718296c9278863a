"""What a reader needs to use each figure: its sentence in both languages, its period, its area, its notes."""

from __future__ import annotations

import re

import pandas as pd
import pytest

from pipeline import metadata, translation
from pipeline.numbers import decimals
from tests.conftest import RAW_TEXT, build, edited


@pytest.fixture(scope="module")
def tables(clean_build):
    return {name: clean_build.table(name) for name in ("facts", "sentences", "mentions", "documents", "checks",
                                                       "glossary", "places")}


def _records(df: pd.DataFrame) -> list[dict]:
    return df.astype(object).where(df.notna(), None).to_dict("records")


def english_value(fact: pd.Series) -> str:
    value = translation.number(fact["value"], int(fact["decimals"]))
    if pd.notna(fact["value_max"]):
        value += "–" + translation.number(fact["value_max"], int(fact["decimals"]))
    return value


def test_sentences_partition_the_text(tables):
    sentences = tables["sentences"]
    assert len(sentences) == 64
    covered = []
    position = 0
    for row in sentences.itertuples():
        assert RAW_TEXT[row.char_start:row.char_end] == row.text_zh
        assert RAW_TEXT[position:row.char_start].strip() == "", row.sentence_id
        covered.append(row.text_zh)
        position = row.char_end
    assert RAW_TEXT[position:].strip() == ""
    assert re.sub(r"\s", "", "".join(covered)) == re.sub(r"\s", "", RAW_TEXT)
    headings = sentences[sentences["position"] == 1]
    assert headings.set_index("section").loc["section_4", "text_zh"] == "四、加强安置社区服务体系建设"
    assert sentences["sentence_id"].str.match(r"^(header|opening|introduction|section_\d|closing)\.s\d\d$").all()


def test_every_fact_lies_in_its_sentence_and_its_english_renders_it(tables):
    sentences = tables["sentences"].set_index("sentence_id")
    for fact in tables["facts"].itertuples():
        sentence = sentences.loc[fact.sentence_id]
        assert sentence["char_start"] <= fact.char_start and fact.char_end <= sentence["char_end"]
        fact = pd.Series(fact._asdict())
        forms = {english_value(fact)}
        if fact["value"] == int(fact["value"]) and fact["value"] <= 20 and pd.isna(fact["value_max"]):
            forms.add(translation._WORDS[int(fact["value"])])  # {x|words}
        assert any(re.search(rf"(?<![\w.,]){re.escape(form)}(?![\w]|[.,]\d)", sentence["text_en"], re.I)
                   for form in forms), (fact["fact_id"], sentence["text_en"])
    assert tables["sentences"]["text_en"].notna().all()
    assert not tables["sentences"]["text_en"].str.contains("{", regex=False).any()
    assert tables["mentions"]["sentence_id"].notna().all()


def test_english_uses_separators_decimals_and_words(tables):
    english = tables["sentences"].set_index("sentence_id")["text_en"]
    intro = english["introduction.s02"]
    assert "18,583" in intro and "79,406" in intro and "210" in intro
    assert "97.90%" in english["section_2.s05"]
    assert "1,000–10,000" in english["introduction.s03"]
    assert "Bao Min Zheng Fa [2020] No. 2" in english["section_3.s03"]
    assert "March 2021" in english["section_3.s05"]
    assert not any(re.search(r"[\u4e00-\u9fff]", text) for text in english if "|" not in text), \
        "only the header rows may keep Chinese"


def test_a_changed_figure_changes_the_english(tmp_path, clean_build):
    raw = edited(tmp_path, "村(居)民小组424个", "村(居)民小组425个")
    result = build(raw, tmp_path / "out", "--check", "--build-dir", str(tmp_path / "build"))
    assert result.code == 0, result.stderr
    from pipeline.arrow import read_table

    after = read_table(tmp_path / "build" / "tables" / "sentences.parquet").set_index("sentence_id")["text_en"]
    before = clean_build.table("sentences").set_index("sentence_id")["text_en"]
    assert "425" in after["section_1.s04"] and "425" not in before["section_1.s04"]
    assert (after.drop("section_1.s04") == before.drop("section_1.s04")).all()


def test_a_reworded_sentence_fails_with_a_stale_translation(tmp_path):
    raw = edited(tmp_path, "持续加强对安置社区服务体系的建设", "持续加强安置社区服务体系的建设")
    result = build(raw, tmp_path / "out", "--check", "--build-dir", str(tmp_path / "build"))
    assert result.code == 3
    assert "check translation_stale failed: sentence section_4.s02" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.fixture
def template_case(tables):
    """The real sentences and mentions with an editable copy of the catalog."""
    return _records(tables["sentences"]), _records(tables["mentions"]), \
        {k: dict(v) for k, v in metadata.translations().items()}


def _problems(case) -> list[str]:
    sentences, mentions, catalog = case
    return translation.translate(sentences, mentions, catalog, decimals)[1]


def test_the_real_templates_have_no_problems(template_case):
    assert _problems(template_case) == []


@pytest.mark.parametrize(("change", "check"), [
    (lambda en: en.replace("{organisations.villager_groups}", "four hundred and twenty-four"),
     "translation_placeholder_missing"),
    (lambda en: en.replace("{organisations.villager_groups}", "{organisations.villager_groups} "
                                                                "({organisations.villager_groups})"),
     "translation_placeholder_repeated"),
    (lambda en: en + " ({sites.total})", "translation_placeholder_unknown"),
    (lambda en: en + " ({no_such.figure})", "translation_placeholder_unknown"),
    (lambda en: en.replace("{organisations.villager_groups}", "{organisations.villager_groups|bold}"),
     "translation_placeholder_unknown"),
    (lambda en: en.replace("{organisations.villager_groups}", "424"), "translation_digit"),
])
def test_a_broken_template_is_a_named_error(template_case, change, check):
    catalog = template_case[2]
    catalog["section_1.s04"]["en"] = change(catalog["section_1.s04"]["en"])
    problems = _problems(template_case)
    assert any(p.startswith(f"check {check} failed") and "section_1.s04" in p for p in problems), problems


def test_a_figure_of_another_sentence_is_named_as_such(template_case):
    template_case[2]["section_1.s04"]["en"] += " {sites.total}"
    assert any("names a figure of another sentence" in p for p in _problems(template_case))


def test_missing_and_orphaned_translations_are_named(template_case):
    catalog = template_case[2]
    catalog["section_9.s01"] = catalog.pop("section_1.s04")
    problems = _problems(template_case)
    assert any(p.startswith("check translation_missing failed: sentence section_1.s04") for p in problems)
    assert any(p.startswith("check translation_orphaned failed") and "section_9.s01" in p for p in problems)


def test_translation_catalog_holds_no_digit():
    for sentence_id, entry in metadata.translations().items():
        for template in entry.values():
            assert re.findall(r"[0-9０-９]", translation.PLACEHOLDER.sub("", template)) == [], sentence_id


def test_every_fact_has_a_period_an_area_and_a_sentence(tables):
    facts = tables["facts"].set_index("fact_id")
    for column in ("as_of", "as_of_basis", "ref_area_code", "sentence_id"):
        assert facts[column].notna().all(), column
    stated = facts[facts["as_of_basis"] != "reply_date"]
    assert stated["as_of_quote"].notna().all()
    for row in stated.itertuples():
        assert RAW_TEXT[row.as_of_char_start:row.as_of_char_end] == row.as_of_quote
    assert facts.loc["sites.total", ["as_of", "as_of_basis", "as_of_quote"]].tolist() == \
        ["2016/2021-07-29", "programme_period", "“十三五”以来"]
    assert facts.loc["mediation.women_teams", ["as_of", "as_of_basis"]].tolist() == ["2021-03", "stated_in_sentence"]
    assert facts.loc["industry.award_funds", "as_of"] == "2019"
    assert facts.loc["policing.villages_one_officer", ["as_of", "as_of_quote"]].tolist() == ["2021", "年内"]
    assert facts.loc["organisations.party_organisations", ["as_of", "as_of_basis", "as_of_quote"]].tolist() == \
        ["2021-07-29", "stated_in_sentence", "目前"]
    assert facts.loc["services.cemeteries.coverage", "as_of_basis"] == "stated_for_paragraph"
    assert facts.loc["egov.hotline_requests", "as_of_quote"] == "截止目前"
    assert facts.loc["cadres.one_shoulder.villages", ["as_of", "as_of_basis"]].tolist() == ["2021-07-29", "reply_date"]
    assert (facts["as_of_basis"] == "reply_date").sum() == 21


def test_areas_join_to_places(tables):
    facts = tables["facts"].set_index("fact_id")
    codes = set(tables["places"]["admin_code"].dropna())
    assert set(facts["ref_area_code"]) <= codes
    assert facts.loc["sites.total", "ref_area_code"] == "530500"
    assert facts.loc["industry.demonstration_zones", "ref_area_code"] == "530502"  # 隆阳区
    assert facts.loc["services.social_organisations_introduced", "ref_area_code"] == "530521"  # 施甸县
    assert (facts["ref_area_code"] != "530500").sum() == 8


@pytest.mark.parametrize(("fact_id", "phrases"), [
    ("cadres.one_shoulder.share_change", ["27.74%", "57.53%", "percentage points"]),
    ("cadres.villager_committee.college_educated_share_change", ["30.83%", "35.77%"]),
    ("policing.villages_one_officer", ["target", "952"]),
    ("egov.hotline_completion_rate", ["按时办结率"]),
    ("egov.app_average_transactions", ["does not state", "5.17"]),
    ("site_bands.large.households_from", ["or with either"]),
    ("site_bands.large.persons_from", ["or with either"]),
    ("site_bands.cross_prefecture.sites", ["no direction"]),
    ("population.total.persons", ["80,858"]),
])
def test_interpretive_choices_carry_notes_in_both_languages(tables, fact_id, phrases):
    fact = tables["facts"].set_index("fact_id").loc[fact_id]
    assert pd.notna(fact["note_zh"]) and re.search(r"[\u4e00-\u9fff]", fact["note_zh"])
    for phrase in phrases:
        assert phrase in fact["note_en"], (fact_id, phrase, fact["note_en"])


def test_at_least_one_industry_is_a_minimum(tables):
    assert tables["facts"].set_index("fact_id").loc["industry.min_industries_per_poor_household", "qualifier"] \
        == "at_least"


def test_notes_are_computed_not_typed():
    facts = {"a.b": {"value": 10.0, "value_max": None, "decimals": 1, "quote": "10.0%"},
             "c": {"value": 4.0, "value_max": None, "decimals": 0, "quote": "4个"}}
    assert translation.render_note("{= a.b - c} and {= previous_if_relative(a.b, c)} of {c}", facts) == \
        "6.0 and 9.6 of 4"
    assert translation.note_problems("n", "{= a.b + nothing}", facts)[0].startswith("check note_template failed")
    assert translation.note_problems("n", "{= __import__('os')}", facts)
    assert translation.note_problems("n", "costs 5", facts)


def test_documents_and_checks_speak_english(tables):
    document = tables["documents"].iloc[0]
    assert document["addressee_en"] == "CPPCC member Dong Rongrong"
    assert document["session_en"] == "The sixth session of the fourth Baoshan Municipal Committee of the CPPCC"
    checks = tables["checks"].set_index("check_id")
    assert checks.loc["mediation.members_meet_minimum", "relation"] == "plausibility"
    assert checks.loc["coverage.elderly_care", "relation"] == "implied"
    assert set(checks["relation_en"]) == {"Relation the text implies",
                                          "Plausibility limit (not stated or implied by the text)"}


def test_glossary_terms_and_readings(tables):
    glossary = tables["glossary"].set_index("term_zh")
    for term in ("儿童之家", "双好双强", "红白理事会", "挪穷窝、换穷业", "以岗定搬、以业定迁", "宜城则城、宜乡则乡",
                 "实有人口", "集镇", "大学专科", "村(居)民委员会"):
        assert term in glossary.index, term
    assert glossary.loc["儿童之家", "term_en"] == "Community children's centre"
    assert glossary.loc["两不愁三保障", "term_en"] == "Two assurances and three guarantees"
    assert glossary.loc["搬得出、稳得住、能致富", "pinyin"].startswith("bān de chū")


def test_section_titles_are_the_english_of_their_headings(clean_build, tables):
    sections = clean_build.table("sections").set_index("section_id")
    headings = tables["sentences"][tables["sentences"]["sentence_id"].str.match(r"^section_\d\.s01$")]
    for heading in headings.itertuples():
        assert re.sub(r"^\d+\. ", "", heading.text_en) == sections.loc[heading.section, "title_en"]


def test_many_untranslated_sentences_give_one_short_error(tmp_path):
    """Another document's text would miss a translation per sentence: the error lists 20 and counts the rest."""
    raw = tmp_path / "long.txt"
    raw.write_text(RAW_TEXT + "\n" + "新增一句。" * 20_000 + "\n", encoding="utf-8")
    result = build(raw, tmp_path / "out", "--check", "--build-dir", str(tmp_path / "build"))
    assert result.code == 3 and "Traceback" not in result.stderr
    assert "check translation_missing failed" in result.stderr and "... and 19,980 more" in result.stderr
    assert len(result.stderr.splitlines()) < 200


@pytest.mark.parametrize(("n", "word"), [(1, "first"), (3, "third"), (20, "twentieth"), (21, "21st"), (22, "22nd"),
                                         (23, "23rd"), (24, "24th"), (101, "101st"), (111, "111th"), (112, "112th"),
                                         (113, "113th"), (123, "123rd")])
def test_an_ordinal_has_its_english_suffix(n, word):
    """`{x|nth}`: words up to twentieth, then the number and its suffix (11th to 13th, not 11st)."""
    assert translation._ordinal(n) == word


def test_a_figure_takes_the_nearest_earlier_period_of_its_paragraph():
    """Two paragraph-wide phrases before a figure's sentence: the nearer one dates it (the text has one per
    paragraph today, so this is tested on its own)."""
    from pipeline.stages.extract import date_facts

    sentences = [{"sentence_id": f"a.s{i}", "char_start": 10 * i, "char_end": 10 * i + 9} for i in range(4)]
    periods = [{"scope": "paragraph", "section": "a", "char_start": 10 * i + 1, "char_end": 10 * i + 3,
                "means": "reply_date", "as_of": as_of, "quote": quote}
               for i, as_of, quote in ((0, "2020", "first"), (1, "2021", "second"))]
    facts = [{"fact_id": "f", "section": "a", "char_start": 31, "char_end": 33},
             {"fact_id": "g", "section": "b", "char_start": 31, "char_end": 33}]
    date_facts(facts, periods, sentences, "2021-07-29")
    assert (facts[0]["as_of"], facts[0]["as_of_quote"], facts[0]["as_of_basis"]) == \
        ("2021", "second", "stated_for_paragraph")
    assert (facts[1]["as_of"], facts[1]["as_of_basis"]) == ("2021-07-29", "reply_date")  # another paragraph's
