"""How values are written on the page: every figure with the decimals the text printed it with."""

from __future__ import annotations

import pandas as pd

PERCENT_UNITS = ("percent", "percent_change_as_printed")  # written with a % sign, as the text writes them


def blank(value: object) -> bool:
    return value is None or (not isinstance(value, str) and bool(pd.isna(value)))


def text(value: object) -> str:
    """A cell that is not a figure: empty when missing, whole floats without `.0`."""
    if blank(value):
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def number(value: float | None, decimals: int | None = None) -> str:
    """A figure with thousands separators and its own decimals; without `decimals`, a computed value
    (two decimals unless whole)."""
    if blank(value):
        return ""
    if decimals is None:
        decimals = 0 if float(value).is_integer() else 2
    return f"{value:,.{decimals}f}"


def figure(value: float | None, fact: pd.Series) -> str:
    """A value of the figure `fact`, written as the text writes it: its own decimals, thousands separators, a % sign."""
    if blank(value):
        return ""
    return number(value, int(fact["decimals"])) + ("%" if fact["unit"] in PERCENT_UNITS else "")


def fact_value(fact: pd.Series) -> str:
    """A figure's value, or its range, with its unit sign."""
    if blank(fact["value_max"]):
        return figure(fact["value"], fact)
    return number(fact["value"], int(fact["decimals"])) + "–" + figure(fact["value_max"], fact)


def hedged(fact: pd.Series, language: str = "en") -> str:
    """A figure's value with what the text leaves open about it (facts.hedge_en), as its sentence's English
    and its label carry it: the value, then "[percentage points or relative: not stated]"."""
    hedge = fact.get(f"hedge_{language}")
    return fact_value(fact) + ("" if blank(hedge) else f" [{hedge}]")
