"""Whether each declared corroboration's status fits the two figures it pairs (check corroboration_status).

A status is a claim about the values, so the build checks it: if either text's number changes, a pair
declared `same` that no longer agrees fails by name, with both quotes, rather than publishing a false
agreement. Each status is one small check: what it requires, and the message when it does not hold.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from pipeline import metadata
from pipeline.errors import join_capped


def _same_value(row: dict) -> bool:
    return row["letter_value"] == row["other_value"] and row["letter_value_max"] == row["other_value_max"]


def _same_unit(row: dict) -> bool:
    return row["letter_unit"] == row["other_unit"]


def _same_area(row: dict) -> bool:
    return row["letter_area_zh"] == row["other_area_zh"]


def _same_population(row: dict) -> bool:
    label = metadata.label_vocabularies()["populations"].get(row["letter_population"], {}).get("en")
    return label == row["other_population_en"]


@dataclass(frozen=True)
class Status:
    name: str
    requires: str

    def holds(self, row: dict) -> bool:
        raise NotImplementedError


class Same(Status):
    def holds(self, row: dict) -> bool:
        return _same_unit(row) and _same_value(row)


class Differs(Status):
    def holds(self, row: dict) -> bool:
        return _same_unit(row) and _same_area(row) and not _same_value(row)


class DifferentPeriod(Status):
    def holds(self, row: dict) -> bool:
        return row["other_as_of"] is not None and row["letter_as_of"] != row["other_as_of"]


class DifferentScope(Status):
    def holds(self, row: dict) -> bool:
        return not (_same_area(row) and _same_population(row))


class Context(Status):
    def holds(self, row: dict) -> bool:
        return row["difference"] is None


STATUSES = {status.name: status for status in (
    Same("same", "the same unit and value"),
    Differs("differs", "the same unit and area, and another value"),
    DifferentPeriod("different_period", "another reference period"),
    DifferentScope("different_scope", "another area or statistical population"),
    Context("context", "no difference computed: the figures are not the same quantity"),
)}


def problems(table: pd.DataFrame) -> list[str]:
    """One named problem listing every pair whose status its figures do not bear out."""
    bad = []
    for row in table.astype(object).where(table.notna(), None).to_dict("records"):
        status = STATUSES[row["status"]]
        if not status.holds(row):
            letter = (f"{row['letter_quote']!r} ({row['letter_value']:g} {row['letter_unit']}, {row['letter_as_of']}, "
                      f"{row['letter_area_zh']})")
            other = (f"{row['other_quote']!r} at [{row['other_char_start']}:{row['other_char_end']}] "
                     f"({row['other_value']:g} {row['other_unit']}, {row['other_as_of']}, {row['other_area_zh']})")
            bad.append(f"{row['fact_id']} ~ {row['document_id']}.{row['figure_id']}: declared {status.name}, which "
                       f"needs {status.requires}; the letter has {letter}, the other text {other}")
    if not bad:
        return []
    return ["check corroboration_status failed: these pairs' declared status does not fit their figures; fix the "
            "status in the document's catalog folder (corroborations.yaml), or the figure's anchor:\n  "
            + join_capped(bad)]
