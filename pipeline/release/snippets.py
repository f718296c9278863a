"""How to load the tables, in the languages a reader is likely to use: one list, shown on the page and in
the dataset card, and run by the tests (tests/test_front_door.py) from an unpacked release directory.

`{parquet}` is the folder of the Parquet files as seen from where the snippet runs ("parquet/" in a
release directory). The snippets name columns and tables, never a figure's value.
"""

from __future__ import annotations

from dataclasses import dataclass

DISCREPANCIES_SQL = ("SELECT check_id, expected, observed FROM '{parquet}checks.parquet' "
                     "WHERE status = 'source_discrepancy'")


@dataclass(frozen=True)
class Snippet:
    id: str
    label: str
    language: str  # for a code fence and the page's class
    code: str

    def for_directory(self, parquet: str = "parquet/") -> str:
        return self.code.replace("{parquet}", parquet)


SNIPPETS = [
    Snippet("python-pandas", "Python (pandas)", "python",
            'import pandas as pd\n'
            'facts = pd.read_parquet("{parquet}facts.parquet")\n'
            'print(facts[["fact_id", "metric_en", "value", "unit_en", "as_of", "note_en"]].head())'),
    Snippet("python-duckdb", "Python (duckdb)", "python",
            'import duckdb\n'
            f'print(duckdb.sql("{DISCREPANCIES_SQL}"))'),
    Snippet("r-arrow", "R (arrow)", "r",
            'library(arrow)\n'
            'facts <- read_parquet("{parquet}facts.parquet")\n'
            'print(head(facts[, c("fact_id", "metric_en", "value", "unit_en", "as_of", "note_en")]))'),
    Snippet("r-duckdb", "R (duckdb)", "r",
            'library(DBI)\n'
            'con <- dbConnect(duckdb::duckdb())\n'
            f'print(dbGetQuery(con, "{DISCREPANCIES_SQL}"))\n'
            'dbDisconnect(con, shutdown = TRUE)'),
    Snippet("duckdb-cli", "DuckDB CLI", "sh",
            f'duckdb -c "{DISCREPANCIES_SQL}"'),
]
