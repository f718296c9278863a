"""Stage 4, validate: cross-figure checks, then a Pandera schema for every table.

Writes the `checks` table. Any failure is reported as one readable block per check, naming
the figures with their quotes and offsets, and the stage exits 3 without writing anything.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import pandas as pd
import pandera.pandas as pa

from pipeline import config, crosschecks, metadata
from pipeline.arrow import read_table, write_table
from pipeline.checks import run_checks
from pipeline.errors import ValidationFailed, report
from pipeline.stages.tables import frame
from schemas import schema


def _import_checks_without_hypothesis() -> None:
    """Import Pandera's built-in checks now, without hypothesis when it is not loaded yet.

    Pandera's checks module imports its data-synthesis strategies, which import hypothesis when it is
    installed: 0.1 s of a build's 1 s. The pipeline never synthesises data and hypothesis is only a dev
    dependency (for the tests), so the checks are imported as in an install without it. A process that
    has already imported hypothesis (the test suite) keeps Pandera's strategies.
    """
    if "hypothesis" in sys.modules or "pandera.backends.pandas.builtin_checks" in sys.modules:
        return
    sys.modules["hypothesis"] = None  # makes `import hypothesis` raise ImportError, which Pandera expects
    try:
        import pandera.backends.pandas.builtin_checks  # noqa: F401
    finally:
        del sys.modules["hypothesis"]


_import_checks_without_hypothesis()


def checks_frame(facts: pd.DataFrame, items: pd.DataFrame) -> pd.DataFrame:
    outcomes = run_checks(crosschecks.records(facts), crosschecks.records(items))
    return frame("checks", [{
        "check_id": o.check_id, "check_type": o.check_type, "relation": o.relation, "description": o.description,
        "fact_ids": ";".join(o.fact_ids), "expected": o.expected, "observed": o.observed,
        "tolerance": o.tolerance, "status": o.status, "note": o.note,
    } for o in outcomes])


def schema_errors(name: str, df: pd.DataFrame, facts: pd.DataFrame) -> str | None:
    try:
        schema(name, facts).validate(df, lazy=True)
    except pa.errors.SchemaErrors as errors:
        cases = errors.failure_cases
        lines = [f"schema {name} failed ({len(cases)} problems):"]
        for case in cases.head(20).itertuples():
            row = "" if pd.isna(case.index) else f" row {case.index}"
            lines.append(f"  column {case.column}{row}: check {case.check} failed on {case.failure_case!r}"
                         + _figure_of(df, case.index, case.column, facts))
        return "\n".join(lines)
    return None


def _figure_of(df: pd.DataFrame, index, column, facts: pd.DataFrame) -> str:
    """Name the figure behind a failing cell, with its quote and offsets, so the message leads to the text."""
    fact_column = next((c for c in (f"{column}_fact_id", "fact_id") if c in df.columns), None)
    if fact_column is None or pd.isna(index) or index not in df.index or pd.isna(df.at[index, fact_column]):
        return ""
    fact_id = df.at[index, fact_column]
    quoted = facts.loc[facts["fact_id"] == fact_id, ["quote", "char_start", "char_end"]]
    where = "".join(f", quote {q!r} at [{s}:{e}]" for q, s, e in quoted.itertuples(index=False))
    return f" (figure {fact_id}{where})"


def validate(tables: dict[str, pd.DataFrame], text: str, others: dict[str, str]) -> pd.DataFrame:
    """Cross-table checks and every table's schema; `others` are the related documents' texts by document_id."""
    cross = crosschecks.problems(tables, text, others)
    try:
        checks = checks_frame(tables["facts"], tables["named_items"])
    except ValidationFailed as failed:
        raise ValidationFailed("\n\n".join([failed.args[0], *cross])) from None
    facts = tables["facts"]
    problems = [p for name, df in {**tables, "checks": checks}.items() if (p := schema_errors(name, df, facts))]
    problems = cross + problems
    if problems:
        raise ValidationFailed("\n\n".join(problems))
    return checks


def run(build_dir: Path = config.BUILD_DIR) -> pd.DataFrame:
    paths = config.build_paths(build_dir)
    files = {name: paths["tables"] / f"{name}.parquet" for name in metadata.tables() if name != "checks"}
    tables = {name: read_table(path) for name, path in files.items()}
    text = json.loads(paths["ingest"].read_text(encoding="utf-8"))["text"]
    others = json.loads(paths["related"].read_text(encoding="utf-8"))["texts"]
    checks = validate(tables, text, others)
    write_table(checks, "checks", paths["checks"])
    return checks


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--build-dir", type=Path, default=config.BUILD_DIR)
    args = parser.parse_args()
    checks = run(args.build_dir)
    counts = checks["status"].value_counts().to_dict()
    print(f"validate: {len(metadata.tables())} tables pass their schemas; {len(checks)} checks: "
          + ", ".join(f"{n} {status}" for status, n in sorted(counts.items())))


if __name__ == "__main__":
    report(main)
