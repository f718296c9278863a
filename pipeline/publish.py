"""Stage 5, publish: validated tables -> output/ as Parquet, CSV and a DuckDB database.

Everything is written into a staging directory next to the output, then swapped in with one
atomic rename of a symlink, so a failed or interrupted run leaves the previous output/ whole.
"""

from __future__ import annotations

import argparse
import os
import shutil
import tempfile
from pathlib import Path

import duckdb
import pandas as pd
import pyarrow.parquet as pq

from pipeline import config, describe, metadata
from pipeline.arrow import PARQUET_OPTIONS, read_table, to_arrow
from pipeline.errors import OutputError, ValidationFailed, report

DUCKDB_TYPES = {"string": "VARCHAR", "int64": "BIGINT", "float64": "DOUBLE", "bool": "BOOLEAN"}
# Spreadsheet programs run a cell that starts with one of these as a formula.
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def sql_string(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def csv_safe(df: pd.DataFrame, name: str) -> pd.DataFrame:
    """Prefix text cells that a spreadsheet would read as a formula with an apostrophe (OWASP)."""
    text_columns = [c["name"] for c in metadata.tables()[name]["columns"] if c["type"] == "string"]
    safe = df.copy()
    for column in text_columns:
        risky = safe[column].str.startswith(FORMULA_PREFIXES, na=False)
        if risky.any():
            safe.loc[risky, column] = "'" + safe.loc[risky, column]
    return safe


def write_csv(df: pd.DataFrame, name: str, path: Path) -> None:
    csv_safe(df, name).to_csv(path, index=False, encoding="utf-8", lineterminator="\n", na_rep="")


def write_duckdb(path: Path, parquet_dir: Path, dataset_metadata: dict[str, str]) -> None:
    # Small blocks: the default 256 KiB block per table and index would make a ~10 MB file of ~100 KB data.
    con = duckdb.connect()
    con.execute(f"ATTACH {sql_string(str(path))} AS dataset (BLOCK_SIZE 16384)")
    con.execute("USE dataset")
    con.execute("BEGIN TRANSACTION")  # one commit instead of one per statement: ~10x faster
    try:
        for name, table in metadata.tables().items():
            columns = [f"{c['name']} {DUCKDB_TYPES[c['type']]}{'' if c['nullable'] else ' NOT NULL'}"
                       for c in table["columns"]]
            columns.append(f"PRIMARY KEY ({', '.join(table['primary_key'])})")
            con.execute(f"CREATE TABLE {name} ({', '.join(columns)})")
            con.execute(f"INSERT INTO {name} SELECT * FROM read_parquet(?)", [str(parquet_dir / f"{name}.parquet")])
            con.execute(f"COMMENT ON TABLE {name} IS {sql_string(table['title'] + '. ' + table['description'])}")
            for column in table["columns"]:
                comment = describe.column_comment(column)
                con.execute(f"COMMENT ON COLUMN {name}.{column['name']} IS {sql_string(comment)}")
        con.execute("CREATE TABLE dataset_metadata (key VARCHAR PRIMARY KEY, value VARCHAR NOT NULL)")
        con.executemany("INSERT INTO dataset_metadata VALUES (?, ?)", sorted(dataset_metadata.items()))
        comment = "Dataset version and the hash of the raw text it was built from."
        con.execute(f"COMMENT ON TABLE dataset_metadata IS {sql_string(comment)}")
        con.execute("COMMIT")
        con.execute("USE memory")
        con.execute("DETACH dataset")
    finally:
        con.close()


# Written into every generation this module creates, so it only ever replaces or sweeps its own.
MARKER = ".baoshan-resettlement-generation"


def stage(tables: dict[str, pd.DataFrame], staging: Path, dataset_metadata: dict[str, str]) -> None:
    (staging / MARKER).write_text(f"{config.DATASET_NAME} {config.version()}\n", encoding="utf-8")
    (staging / "parquet").mkdir()
    (staging / "csv").mkdir()
    for name, df in tables.items():
        pq.write_table(to_arrow(df, name, dataset_metadata), staging / "parquet" / f"{name}.parquet",
                       **PARQUET_OPTIONS)
        write_csv(df, name, staging / "csv" / f"{name}.csv")
        _test_hook_after_table(name)
    write_duckdb(staging / config.DUCKDB_FILE, staging / "parquet", dataset_metadata)
    (staging / "DATA_DICTIONARY.md").write_text(describe.data_dictionary(tables), encoding="utf-8")


def _test_hook_after_table(name: str) -> None:
    """Tests kill the process here to prove that an interrupted publish leaves output/ intact."""
    if os.environ.get("PIPELINE_TEST_DIE_AFTER_TABLE") == name:
        os.kill(os.getpid(), 9)


def ours(path: Path) -> bool:
    return path.is_dir() and (path / MARKER).is_file()


def check_target(out: Path) -> None:
    """Refuse to replace anything this pipeline did not publish: --out may name a user's directory."""
    if not (out.exists() or out.is_symlink()):
        return
    if out.is_dir() and not out.is_symlink() and not any(out.iterdir()):
        return
    if not ours(out):
        raise OutputError(f"{out} exists and is not a dataset published by this pipeline, so it will not be "
                          "replaced; choose another --out, or remove it yourself.")


def swap_in(staging: Path, out: Path) -> None:
    """Point `out` at `staging` atomically; remove the previous generation afterwards."""
    previous = out.resolve() if out.is_symlink() else None
    if out.exists() and not out.is_symlink():
        # An empty directory, or one published before output/ became a link: move it aside once.
        aside = Path(tempfile.mkdtemp(prefix=f".{out.name}-old-", dir=out.parent))
        out.rename(aside / out.name)
        previous = aside
    link = out.parent / f".{out.name}.link-{os.getpid()}"
    link.unlink(missing_ok=True)
    link.symlink_to(staging.name)
    os.replace(link, out)
    if previous and previous.exists():
        shutil.rmtree(previous, ignore_errors=True)


def remove_abandoned(out: Path) -> None:
    """Staging directories of runs that were killed before their swap."""
    current = out.resolve() if out.is_symlink() else None
    for leftover in out.parent.glob(f".{out.name}-*"):
        if ours(leftover) and leftover != current:
            shutil.rmtree(leftover, ignore_errors=True)


def publish(tables: dict[str, pd.DataFrame], out: Path, dataset_metadata: dict[str, str]) -> None:
    out = out.absolute()
    if not out.parent.is_dir():
        raise OutputError(f"the parent directory of {out} does not exist; create it or choose another --out.")
    if not os.access(out.parent, os.W_OK):
        raise OutputError(f"{out.parent} is not writable, so {out.name}/ cannot be published there; "
                          "fix its permissions or choose another --out.")
    check_target(out)
    remove_abandoned(out)
    try:
        staging = Path(tempfile.mkdtemp(prefix=f".{out.name}-", dir=out.parent))
    except OSError as error:
        raise OutputError(f"cannot write in {out.parent} ({error.strerror}), so {out.name}/ cannot be published "
                          "there; fix its permissions or choose another --out.") from None
    try:
        stage(tables, staging, dataset_metadata)
        os.chmod(staging, 0o755)
        swap_in(staging, out)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise


def run(build_dir: Path = config.BUILD_DIR, out: Path = config.OUTPUT_DIR) -> dict[str, pd.DataFrame]:
    paths = config.build_paths(build_dir)
    done = paths["tables"] / ".done"
    if not paths["checks"].exists() or (done.exists() and paths["checks"].stat().st_mtime < done.stat().st_mtime):
        raise ValidationFailed(f"{paths['checks']} is missing or older than the tables it validates; run the "
                               "validate stage first (make dataset, or python -m pipeline.validate).")
    tables = {name: read_table(paths["tables"] / f"{name}.parquet")
              for name in metadata.tables() if name != "checks"}
    tables["checks"] = read_table(paths["checks"])
    documents = tables["documents"].iloc[0]
    dataset_metadata = {"dataset": config.DATASET_NAME, "dataset_version": config.version(),
                        "raw_sha256": documents["raw_sha256"], "source_file": documents["source_file"]}
    publish(tables, out, dataset_metadata)
    return tables


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--build-dir", type=Path, default=config.BUILD_DIR)
    parser.add_argument("--out", type=Path, default=config.OUTPUT_DIR)
    args = parser.parse_args()
    tables = run(args.build_dir, args.out)
    print(f"publish: {len(tables)} tables -> {args.out}/ (parquet/, csv/, {config.DUCKDB_FILE})")


if __name__ == "__main__":
    report(main)
