"""Whether each declared corroboration's status fits the two figures it pairs (check corroboration_status).

A status is a claim about the values, so the build checks it: if either text's number changes, a pair
declared `same` that no longer agrees fails by name, with both quotes, rather than publishing a false
agreement. Each status is one small check: what it requires of the two figures, and whether the two are
one quantity, so that their difference means something. The statuses are declared here once; the
catalog model and the `corroboration_status` vocabulary follow (tests/test_related.py ties them).

"The same population" is the letter's population key: another document's figure names one
(`population:` in its figures.yaml) only where it counts the very set the letter's figure counts.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pipeline.errors import join_capped


def _same_unit(row: dict) -> bool:
    return row["letter_unit"] == row["other_unit"]


def _same_value(row: dict) -> bool:
    return row["letter_value"] == row["other_value"] and row["letter_value_max"] == row["other_value_max"]


def _same_area(row: dict) -> bool:
    return row["letter_area_zh"] == row["other_area_zh"]


def _same_population(row: dict) -> bool:
    return row["other_population"] is not None and row["letter_population"] == row["other_population"]


def _same_period(row: dict) -> bool:
    return row["letter_as_of"] == row["other_as_of"]


@dataclass(frozen=True)
class Status:
    name: str
    requires: str
    one_quantity: bool  # the two figures count one quantity, so that other minus letter is published

    def holds(self, row: dict) -> bool:
        raise NotImplementedError


class Same(Status):
    def holds(self, row: dict) -> bool:
        return _same_unit(row) and _same_area(row) and _same_population(row) and _same_value(row)


class Differs(Status):
    def holds(self, row: dict) -> bool:
        return _same_unit(row) and _same_area(row) and _same_population(row) and _same_period(row) \
            and not _same_value(row)


class DifferentPeriod(Status):
    def holds(self, row: dict) -> bool:
        return _same_unit(row) and _same_area(row) and _same_population(row) and not _same_period(row)


class DifferentScope(Status):
    def holds(self, row: dict) -> bool:
        return _same_unit(row) and not (_same_area(row) and _same_population(row))


class Context(Status):
    def holds(self, row: dict) -> bool:
        return True  # not one quantity: nothing to compare, and no difference is published


STATUSES = {status.name: status for status in (
    Same("same", "one unit, area and population, and one value", True),
    Differs("differs", "one unit, area, population and period, and another value", True),
    DifferentPeriod("different_period", "one unit, area and population, and another period", True),
    DifferentScope("different_scope", "one unit, and another area or population", False),
    Context("context", "nothing: the figures are not one quantity", False),
)}


def one_quantity(status: str) -> bool:
    return STATUSES[status].one_quantity


def problems(rows: list[dict[str, Any]]) -> list[str]:
    """One named problem listing every pair whose status its figures do not bear out."""
    bad = []
    for row in rows:
        status = STATUSES[row["status"]]
        if not status.holds(row):
            letter = (f"{row['letter_quote']!r} ({row['letter_value']:g} {row['letter_unit']}, {row['letter_as_of']}, "
                      f"{row['letter_area_zh']}, {row['letter_population']})")
            other = (f"{row['other_quote']!r} at [{row['other_char_start']}:{row['other_char_end']}] "
                     f"({row['other_value']:g} {row['other_unit']}, {row['other_as_of']}, {row['other_area_zh']}, "
                     f"{row['other_population'] or 'another population'})")
            bad.append(f"{row['fact_id']} ~ {row['document_id']}.{row['figure_id']}: declared {status.name}, which "
                       f"needs {status.requires}; the letter has {letter}, the other text {other}")
    if not bad:
        return []
    return ["check corroboration_status failed: these pairs' declared status does not fit their figures; fix the "
            "status in the document's catalog folder (corroborations.yaml), or the figure's anchor:\n  "
            + join_capped(bad)]
