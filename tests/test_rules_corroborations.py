"""Each corroboration status fails on a pair just outside what it requires (pipeline/corroborations.py)."""

from __future__ import annotations

import pytest

from pipeline import corroborations, metadata

LETTER = {"letter_unit": "households", "letter_value": 100.0, "letter_value_max": None, "letter_area_zh": "保山市",
          "letter_population": "relocated_households", "letter_as_of": "2016/2021-07-29"}
SAME = {"other_unit": "households", "other_value": 100.0, "other_value_max": None, "other_area_zh": "保山市",
        "other_population": "relocated_households", "other_as_of": "2016/2021-07-29"}


def holds(status: str, **other) -> bool:
    return corroborations.STATUSES[status].holds({**LETTER, **SAME, **other})


@pytest.mark.parametrize("status, inside, outside", [
    ("same", {}, {"other_value": 101.0}),
    ("same", {}, {"other_area_zh": "隆阳区"}),
    ("same", {}, {"other_population": None}),
    ("same", {}, {"other_unit": "persons"}),
    ("differs", {"other_value": 101.0}, {}),
    ("differs", {"other_value": 101.0}, {"other_value": 101.0, "other_as_of": "2019"}),
    ("differs", {"other_value": 101.0}, {"other_value": 101.0, "other_population": None}),
    ("different_period", {"other_as_of": "2019"}, {}),
    ("different_period", {"other_as_of": "2019"}, {"other_as_of": "2019", "other_unit": "persons"}),
    ("different_period", {"other_as_of": "2019"}, {"other_as_of": "2019", "other_area_zh": "隆阳区"}),
    ("different_scope", {"other_area_zh": "隆阳区"}, {}),
    ("different_scope", {"other_population": None}, {"other_population": None, "other_unit": "persons"}),
])
def test_a_status_holds_inside_what_it_requires_and_fails_just_outside(status, inside, outside):
    assert holds(status, **inside)
    assert not holds(status, **outside)


def test_context_requires_nothing_and_publishes_no_difference():
    assert holds("context", other_unit="sites", other_area_zh="隆阳区")
    assert [name for name in corroborations.STATUSES if corroborations.one_quantity(name)] == \
        ["same", "differs", "different_period"]


def test_the_statuses_are_the_published_vocabulary():
    assert list(metadata.label_vocabularies()["corroboration_status"]) == list(corroborations.STATUSES)


def test_a_failing_pair_is_named_with_both_quotes():
    row = {**LETTER, **SAME, "other_value": 101.0, "status": "same", "fact_id": "population.total.households",
           "document_id": "doc", "figure_id": "households", "letter_quote": "100户", "other_quote": "101户",
           "other_char_start": 3, "other_char_end": 7}
    [problem] = corroborations.problems([row])
    assert problem.startswith("check corroboration_status failed")
    assert "population.total.households ~ doc.households" in problem and "'100户'" in problem and "'101户'" in problem
