"""The real pipeline on edited copies of the real text: changed figures, missing and reworded
sentences, bad input. Each must give a correct dataset or a named, readable failure."""

from __future__ import annotations

import os

import pytest

from pipeline import config
from tests.conftest import RAW_TEXT, build, edited, record


def assert_failed(result, code: int, *needles: str) -> None:
    assert result.code == code, result.stderr
    assert "Traceback" not in result.stderr
    for needle in needles:
        assert needle in result.stderr, result.stderr
    assert not result.out.exists()
    case = os.environ.get("PYTEST_CURRENT_TEST", "").split("::")[-1].split(" ")[0]
    record("clear error", case, f"exit {code}, named message, nothing written")


def test_changed_coverage_figure_fails_the_coverage_check(tmp_path):
    result = build(edited(tmp_path, "覆盖99个安置点", "覆盖98个安置点"), tmp_path / "out")
    assert_failed(result, 3, "check coverage.elderly_care failed",
                  "services.elderly_care.sites_covered = 98", "'98个' at [2640:2643]", "sites.total = 210")


def test_changed_unchecked_figure_changes_exactly_that_value(tmp_path, clean_build):
    result = build(edited(tmp_path, "村(居)民小组424个", "村(居)民小组425个"), tmp_path / "out")
    assert result.code == 0, result.stderr
    before = clean_build.table("facts").set_index("fact_id")
    after = result.table("facts").set_index("fact_id")
    changed = before.compare(after)
    assert list(changed.index) == ["organisations.villager_groups"]
    assert after.loc["organisations.villager_groups", "value"] == 425
    organisations = result.table("organisations").set_index("fact_id")
    assert organisations.loc["organisations.villager_groups", "value"] == 425


def test_changed_pinned_discrepancy_figure_fails(tmp_path):
    result = build(edited(tmp_path, "随迁户3345户14730人", "随迁户3345户13278人"), tmp_path / "out")
    # The parts now add up, but the pin names the figures it was set for, so a person must look.
    assert_failed(result, 3, "check population.persons_sum failed", "now passes", "'13278人'")


def test_changed_household_fails_the_sum_check(tmp_path):
    result = build(edited(tmp_path, "15238户", "15239户"), tmp_path / "out")
    assert_failed(result, 3, "check population.households_sum failed", "expected 18584")


def test_deleted_list_item_fails_the_count_check(tmp_path):
    result = build(edited(tmp_path, "蔬菜、水果、茶叶", "蔬菜、茶叶"), tmp_path / "out")
    assert_failed(result, 3, "check list_count.demonstration_zone_crops failed",
                  "items found: 蔬菜、茶叶、咖啡、中药材")


def test_truncated_document_lists_every_missing_figure(tmp_path):
    cut = RAW_TEXT.index("五、聚焦产业就业")
    path = tmp_path / "truncated.txt"
    path.write_text(RAW_TEXT[:cut], encoding="utf-8")
    result = build(path, tmp_path / "out")
    assert_failed(result, 3, "check anchors_resolve failed", "section section_5 is missing",
                  "industry.award_funds (Provincial award-in-lieu-of-subsidy funds", "egov.supervision_coverage_rate")
    assert result.stderr.count("is missing from the text") >= 9 + 16


def test_reworded_sentence_names_the_figure_and_the_anchor(tmp_path):
    result = build(edited(tmp_path, "转入党组织党员2458人", "转入的党员共2458人"), tmp_path / "out")
    assert_failed(result, 3, "organisations.party_members_transferred", "'转入党组织党员{}'", "matched no mention")


def test_duplicated_sentence_names_the_ambiguous_anchor(tmp_path):
    sentence = "转入党组织党员2458人;"
    result = build(edited(tmp_path, sentence, sentence + sentence), tmp_path / "out")
    assert_failed(result, 3, "organisations.party_members_transferred", "matched 2 places")


def test_new_unaccounted_number_fails_completeness(tmp_path):
    result = build(edited(tmp_path, "消除搬迁群众后顾之忧。", "消除搬迁群众后顾之忧,惠及37个村。"), tmp_path / "out")
    assert_failed(result, 3, "check every_number_accounted failed", "'37个'")


def test_unit_mismatch_is_caught(tmp_path):
    result = build(edited(tmp_path, "转入党组织党员2458人", "转入党组织党员2458个"), tmp_path / "out")
    assert_failed(result, 3, "does not fit unit 'persons'")


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "is empty"),
        (b"\x00\x01\x02\xff\xfe\x00binary", "could not be decoded as text"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "could not be decoded as text"),
    ],
)
def test_bad_input_gives_a_clear_error(tmp_path, content, message):
    path = tmp_path / "bad.txt"
    path.write_bytes(content)
    assert_failed(build(path, tmp_path / "out"), 2, message)


def test_missing_path(tmp_path):
    assert_failed(build(tmp_path / "nope.txt", tmp_path / "out"), 2, "does not exist")


def test_oversized_file(tmp_path):
    path = tmp_path / "big.txt"
    path.write_bytes(RAW_TEXT.encode() * (config.MAX_RAW_BYTES // len(RAW_TEXT.encode()) + 1))
    assert_failed(build(path, tmp_path / "out"), 2, "over the 1,048,576-byte limit")


def test_manifest_mismatch_is_refused(tmp_path, monkeypatch):
    copy = tmp_path / config.RAW_FILE.name
    copy.write_text(RAW_TEXT.replace("79406人", "79407人"), encoding="utf-8")
    monkeypatch.setattr(config, "RAW_FILE", copy)
    result = build(copy, tmp_path / "out")
    assert_failed(result, 2, "does not match raw/manifest.yaml", "make manifest")


def test_failed_validation_leaves_previous_output_untouched(tmp_path, clean_build):
    out = tmp_path / "out"
    assert build(config.RAW_FILE, out).code == 0
    before = {p: p.read_bytes() for p in out.rglob("*") if p.is_file()}
    result = build(edited(tmp_path, "覆盖119个安置点", "覆盖118个安置点"), out)
    assert result.code == 3
    assert {p: p.read_bytes() for p in out.rglob("*") if p.is_file()} == before
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".out-")] == [out.resolve().name]


def test_check_only_validates_and_publishes_nothing(tmp_path):
    result = build(config.RAW_FILE, tmp_path / "out", "--check", "--build-dir", str(tmp_path / "build"))
    assert result.code == 0 and result.stdout.startswith("checked ") and not result.out.exists()
    assert (tmp_path / "build" / "checks.parquet").exists()
    failed = build(edited(tmp_path, "覆盖99个安置点", "覆盖98个安置点"), tmp_path / "out", "--check")
    assert failed.code == 3 and "check coverage.elderly_care failed" in failed.stderr


def test_requalified_pinned_figure_breaks_the_pin(tmp_path):
    """约66128人 has the same value, but it is no longer the figure the discrepancy was pinned to."""
    result = build(edited(tmp_path, "66128人", "约66128人"), tmp_path / "out")
    assert_failed(result, 3, "check population.persons_sum failed", "still fails", "'约66128人'")


def test_text_in_an_undetected_encoding_asks_for_encoding(tmp_path):
    path = tmp_path / "big5.txt"
    path.write_bytes(RAW_TEXT.encode("big5", errors="replace"))
    assert_failed(build(path, tmp_path / "out"), 2, "decoded as gb18030, a guess", "--encoding")
