"""Pandera schemas for every published table, generated from pipeline/catalog/tables.yaml.

Column types, nullability, uniqueness, allowed values, ranges and patterns come from the
declaration; the few rules that relate columns to each other are added per table below.
"""

from __future__ import annotations

from functools import cache

import pandas as pd
import pandera.pandas as pa

from pipeline import metadata

DTYPES = {"string": "string", "int64": "Int64", "float64": "Float64", "bool": "boolean"}


def _column_checks(column: dict) -> list[pa.Check]:
    checks = []
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


TABLE_CHECKS = {
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
        c["name"]: pa.Column(DTYPES[c["type"]], checks=_column_checks(c), nullable=c["nullable"],
                             unique=bool(c.get("unique")), description=c["description"], title=c["name"])
        for c in table["columns"]
    }
    return pa.DataFrameSchema(columns, checks=TABLE_CHECKS.get(name, []), unique=table["primary_key"],
                              strict=True, ordered=True, name=name, description=table["description"])
