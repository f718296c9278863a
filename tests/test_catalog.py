"""Principle 1: no figure from the document appears in pipeline code, config or catalog."""

from __future__ import annotations

import re

from pipeline import config, metadata
from tests.test_dataset import EXPECTED

SOURCES = [*sorted((config.ROOT / "pipeline").rglob("*.py")), *sorted(config.CATALOG_DIR.glob("*.yaml")),
           *sorted((config.ROOT / "schemas").rglob("*.py")), config.ROOT / "Makefile",
           *sorted((config.ROOT / "pipeline" / "site").glob("templates/*")),
           *sorted((config.ROOT / "pipeline" / "site").glob("static/*"))]


# Constants of arithmetic that happen to equal a figure; each is used for the reason given.
CONSTANTS = {
    "100": "percent scale",
    "1000": "thousand, in the Chinese numeral parser and the year guard",
    "16": "length of a fingerprint prefix and the name UTF-16",
}


def figure_numbers() -> set[str]:
    """Numbers of the document's figures that are distinctive enough to search for (>= 2 digits)."""
    numbers = set()
    for quote, *_ in EXPECTED.values():
        numbers.update(n for n in re.findall(r"\d+(?:\.\d+)?", quote) if len(n.replace(".", "")) >= 2)
    return numbers - set(CONSTANTS)


def test_no_figure_value_in_code_or_catalog():
    numbers = figure_numbers()
    assert {"210", "79406", "47.1", "97.90"} <= numbers
    offenders = []
    for path in SOURCES:
        for lineno, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            # Bounded by ASCII letters and digits only, so 覆盖99个 in a Chinese string is found too.
            for number in re.findall(r"(?<![0-9A-Za-z_.])\d+(?:\.\d+)?(?![0-9A-Za-z_]|\.\d)", line):
                if number in numbers:
                    offenders.append(f"{path.relative_to(config.ROOT)}:{lineno}: {number}")
    assert offenders == []


def test_anchor_patterns_hold_no_digits():
    catalog = metadata.figures()
    patterns = [e["find"] for key in ("facts", "non_figures", "lists") for e in catalog[key]]
    patterns += [e["find"] for e in catalog["periods"]]
    patterns += [e.get(key, "") for e in catalog["facts"] for key in ("note_en", "note_zh")]
    assert [p for p in patterns if re.search(r"[0-9０-９]", p)] == []


def test_catalog_references_are_consistent():
    catalog = metadata.figures()
    fact_ids = [f["fact_id"] for f in catalog["facts"]]
    assert len(fact_ids) == len(set(fact_ids))
    assert all(f["unit"] in catalog["units"] for f in catalog["facts"])
    for check in metadata.checks():
        for key in ("numerator", "denominator", "rate", "parts", "total", "part", "whole", "a", "b",
                    "value", "factors", "count", "share", "compare"):
            for fid in check.get(key, []) if isinstance(check.get(key), list) else [check.get(key)]:
                assert fid is None or fid in fact_ids, (check["check_id"], fid)
