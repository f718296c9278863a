"""Stage 5, publish: validated tables -> output/ as Parquet, CSV and a DuckDB database.

The output directory is replaced whole, and only when it is this pipeline's to replace
(pipeline/output_directory.py): a failed or interrupted run leaves the previous output/ whole.
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq

from pipeline import config, database, describe, metadata, output_directory
from pipeline.arrow import PARQUET_OPTIONS, read_arrow, read_table, to_pandas, with_schema
from pipeline.errors import OutputError, ValidationFailed, report

DUCKDB_TYPES = {"string": "VARCHAR", "int64": "BIGINT", "float64": "DOUBLE", "bool": "BOOLEAN"}
# Spreadsheet programs run a cell that starts with one of these as a formula.
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def sql_string(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def csv_safe(df: pd.DataFrame, name: str) -> pd.DataFrame:
    """Prefix text cells that a spreadsheet would read as a formula with an apostrophe (OWASP)."""
    text_columns = [c["name"] for c in metadata.tables()[name]["columns"] if c["type"] == "string"]
    # Most tables have no such cell: find the columns that do in plain Python (a pandas string operation
    # per column costs more than the whole table's cells), and copy the frame only when one does.
    risky_columns = [column for column in text_columns
                     if any(isinstance(v, str) and v.startswith(FORMULA_PREFIXES) for v in df[column].tolist())]
    if not risky_columns:
        return df
    safe = df.copy()
    for column in risky_columns:
        risky = safe[column].str.startswith(FORMULA_PREFIXES, na=False)
        if risky.any():
            safe.loc[risky, column] = "'" + safe.loc[risky, column]
    return safe


def write_csv(df: pd.DataFrame, name: str, path: Path) -> None:
    csv_safe(df, name).to_csv(path, index=False, encoding="utf-8", lineterminator="\n", na_rep="")


def database_statements(sources: dict[str, Path], dataset_metadata: dict[str, str]) -> list[str | dict[str, str]]:
    """The statements that build the database of every table from `sources`, a Parquet file per table
    (which pipeline.database loads by a name DuckDB cannot glob), with every table and column described
    by COMMENT ON (run by pipeline.database, in one transaction).
    Values are SQL literals: DuckDB's first parameter binding imports pandas and numpy, 0.2 s in a child
    that has imported nothing else."""
    statements, comments = [], []
    for name, table in metadata.tables().items():
        columns = [f"{c['name']} {DUCKDB_TYPES[c['type']]}{'' if c['nullable'] else ' NOT NULL'}"
                   for c in table["columns"]]
        columns.append(f"PRIMARY KEY ({', '.join(table['primary_key'])})")
        statements.append(f"CREATE TABLE {name} ({', '.join(columns)})")
        statements.append({"table": name, "parquet": str(sources[name].absolute())})
        comments.append(f"COMMENT ON TABLE {name} IS {sql_string(table['title'] + '. ' + table['description'])}")
        comments += [f"COMMENT ON COLUMN {name}.{column['name']} IS {sql_string(describe.column_comment(column))}"
                     for column in table["columns"]]
    statements.append("CREATE TABLE dataset_metadata (key VARCHAR PRIMARY KEY, value VARCHAR NOT NULL)")
    statements += [f"INSERT INTO dataset_metadata VALUES ({sql_string(key)}, {sql_string(value)})"
                   for key, value in sorted(dataset_metadata.items())]
    comments.append(f"COMMENT ON TABLE dataset_metadata IS "
                    f"{sql_string('Dataset version and the hash of the raw text it was built from.')}")
    statements.append(";\n".join(comments))  # ~350 statements as one script: one call, not 350
    return statements


def layout() -> set[str]:
    """What a generation of this version holds; used for generations whose marker lists no files
    (published before markers did, or a staging directory whose run was killed)."""
    names = [name for name in metadata.tables()]
    return ({f"parquet/{n}.parquet" for n in names} | {f"csv/{n}.csv" for n in names}
            | {config.DUCKDB_FILE, f"{config.DUCKDB_FILE}.wal", "DATA_DICTIONARY.md"})


# `make site` adds the page to the current generation.
OUTPUT = output_directory.Kind(option="--out", what="a dataset published", layout=layout,
                               derived=("site/index.html",))


def stage(sources: dict[str, Path], staging: Path, dataset_metadata: dict[str, str]) -> dict[str, pd.DataFrame]:
    """Write every published file into `staging` from the validated tables in `sources`; return the tables.

    The DuckDB database is written by a child process (pipeline.database) from the same validated files,
    on the other CPU, while this one reads the tables and writes Parquet, CSV and the data dictionary;
    then the child checks that every table of the database equals its published Parquet file.
    """
    (staging / "parquet").mkdir()
    (staging / "csv").mkdir()
    writer = database.writer()
    try:
        writer.write(staging / config.DUCKDB_FILE, database_statements(sources, dataset_metadata))
        tables = {}
        for name, path in sources.items():
            validated = read_arrow(path)  # written straight to Parquet: no round trip through pandas
            pq.write_table(with_schema(validated, name, dataset_metadata), staging / "parquet" / f"{name}.parquet",
                           **PARQUET_OPTIONS)
            tables[name] = to_pandas(validated)
            write_csv(tables[name], name, staging / "csv" / f"{name}.csv")
            _test_hook_after_table(name)
        (staging / "DATA_DICTIONARY.md").write_text(describe.data_dictionary(tables), encoding="utf-8")
        writer.compare({name: staging / "parquet" / f"{name}.parquet" for name in sources})
        failure = writer.wait()
    except BaseException:
        writer.stop()  # nothing may write into staging once the caller removes it
        raise
    if failure:
        raise OutputError(failure)
    return tables


def _test_hook_after_table(name: str) -> None:
    """Tests kill or signal the process here, while the DuckDB writer works, to prove that an interrupted
    publish leaves output/ intact and no temporary directory or writer process behind."""
    if os.environ.get("PIPELINE_TEST_DIE_AFTER_TABLE") == name:
        os.kill(os.getpid(), 9)
    if os.environ.get("PIPELINE_TEST_PAUSE_AFTER_TABLE") == name:
        Path(os.environ["PIPELINE_TEST_PAUSED"]).write_text(str(os.getpid()), encoding="utf-8")
        time.sleep(60)  # until the test's signal arrives


def publish(sources: dict[str, Path], out: Path, dataset_metadata: dict[str, str]) -> dict[str, pd.DataFrame]:
    return output_directory.replace(out, OUTPUT, lambda staging: stage(sources, staging, dataset_metadata))


def run(build_dir: Path = config.BUILD_DIR, out: Path = config.OUTPUT_DIR) -> dict[str, pd.DataFrame]:
    paths = config.build_paths(build_dir)
    done = paths["tables"] / ".done"
    if not paths["checks"].exists() or (done.exists() and paths["checks"].stat().st_mtime < done.stat().st_mtime):
        raise ValidationFailed(f"{paths['checks']} is missing or older than the tables it validates; run the "
                               "validate stage first (make dataset, or python -m pipeline.stages.validate).")
    sources = {name: paths["tables"] / f"{name}.parquet" for name in metadata.tables() if name != "checks"}
    sources["checks"] = paths["checks"]
    documents = read_table(sources["documents"]).iloc[0]
    dataset_metadata = {"dataset": config.DATASET_NAME, "dataset_version": config.version(),
                        "raw_sha256": documents["raw_sha256"], "source_file": documents["source_file"]}
    return publish(sources, out, dataset_metadata)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--build-dir", type=Path, default=config.BUILD_DIR)
    parser.add_argument("--out", type=Path, default=config.OUTPUT_DIR)
    args = parser.parse_args()
    tables = run(args.build_dir, args.out)
    print(f"publish: {len(tables)} tables -> {args.out}/ (parquet/, csv/, {config.DUCKDB_FILE})")


if __name__ == "__main__":
    report(main)
