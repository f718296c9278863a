"""Stage 5, publish: validated tables -> output/ as Parquet, CSV and a DuckDB database.

Everything is written into a staging directory next to the output, then swapped in with one
atomic rename of a symlink, so a failed or interrupted run leaves the previous output/ whole.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import secrets
import shutil
import stat
import tempfile
import time
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq

from pipeline import config, database, describe, metadata
from pipeline.arrow import PARQUET_OPTIONS, read_arrow, read_table, to_pandas, with_schema
from pipeline.errors import OutputError, ValidationFailed, join_capped, report

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


# Written into every generation this module creates: what it is, where it was created (directory
# name, device and inode, which a copy does not keep) and, once complete, every file it holds.
MARKER = ".baoshan-resettlement-generation"
MARKER_MAX_BYTES = 1 << 20
# Files that later commands add to the current generation (`make site`).
DERIVED = ("site/index.html",)


def layout() -> set[str]:
    """What a generation of this version holds; used for generations whose marker lists no files
    (published before markers did, or a staging directory whose run was killed)."""
    names = [name for name in metadata.tables()]
    return ({f"parquet/{n}.parquet" for n in names} | {f"csv/{n}.csv" for n in names}
            | {config.DUCKDB_FILE, f"{config.DUCKDB_FILE}.wal", "DATA_DICTIONARY.md"})


def write_marker(directory: Path, files: list[str] | None) -> None:
    st = os.lstat(directory)
    record = {"dataset": config.DATASET_NAME, "version": config.version(), "directory": directory.name,
              "device": st.st_dev, "inode": st.st_ino, "files": files}
    (directory / MARKER).write_text(json.dumps(record, indent=1) + "\n", encoding="utf-8")


def read_marker(directory: Path) -> dict | None:
    """The generation record of `directory`, or None when it has no readable marker of ours. A marker
    from before records existed (one line: dataset and version) gives a record without files."""
    try:
        fd = os.open(directory / MARKER, os.O_RDONLY | os.O_NOFOLLOW)
    except OSError:
        return None
    with os.fdopen(fd, "rb") as f:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            return None
        data = f.read(MARKER_MAX_BYTES + 1)
    if len(data) > MARKER_MAX_BYTES:
        return None
    try:
        record = json.loads(data)
    except (ValueError, RecursionError):
        legacy = data.decode("utf-8", "replace").split()
        return {"files": None} if legacy[:1] == [config.DATASET_NAME] else None
    if not isinstance(record, dict) or record.get("dataset") != config.DATASET_NAME:
        return None
    files = record.get("files")
    if files is not None and not (isinstance(files, list) and all(isinstance(f, str) for f in files)):
        return None
    return record


def walk(directory: Path) -> tuple[list[str], list[str]]:
    """(regular files, anything else) under directory, as relative paths, without following links."""
    files, others = [], []

    def visit(path: Path, prefix: str) -> None:
        with os.scandir(path) as it:
            for entry in it:
                relative = prefix + entry.name
                if entry.is_symlink():
                    others.append(relative)
                elif entry.is_dir(follow_symlinks=False):
                    visit(Path(entry.path), relative + "/")
                elif entry.is_file(follow_symlinks=False):
                    files.append(relative)
                else:
                    others.append(relative)

    visit(directory, "")
    return sorted(files), sorted(others)


def allowed(record: dict) -> set[str]:
    files = record.get("files")
    return {*(layout() if files is None else files), *DERIVED, MARKER}


def foreign(directory: Path, record: dict) -> list[str]:
    """What `directory` holds that this pipeline did not write into it."""
    files, others = walk(directory)
    return sorted(others + [f for f in files if f not in allowed(record)])


def proven_ours(directory: Path) -> bool:
    """A staging directory this pipeline created: its marker names it and its inode (a copy or a
    look-alike does not match), and it holds nothing this pipeline would not write."""
    try:
        st = os.lstat(directory)
    except OSError:
        return False
    record = read_marker(directory) if stat.S_ISDIR(st.st_mode) else None
    return (record is not None and record.get("directory") == directory.name
            and record.get("device") == st.st_dev and record.get("inode") == st.st_ino
            and not foreign(directory, record))


def remove_generation(directory: Path, record: dict) -> None:
    """Delete the files this pipeline wrote into `directory`, then its directories if left empty.
    Anything else stays where it is."""
    files, _ = walk(directory)
    keep = allowed(record)
    for relative in files:
        if relative in keep:
            (directory / relative).unlink(missing_ok=True)
    for sub in sorted({str(Path(f).parent) for f in files if "/" in f}, key=len, reverse=True):
        with contextlib.suppress(OSError):
            (directory / sub).rmdir()
    with contextlib.suppress(OSError):
        directory.rmdir()


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
    write_marker(staging, [f for f in walk(staging)[0] if f != MARKER])
    return tables


def _test_hook_after_table(name: str) -> None:
    """Tests kill or signal the process here, while the DuckDB writer works, to prove that an interrupted
    publish leaves output/ intact and no temporary directory or writer process behind."""
    if os.environ.get("PIPELINE_TEST_DIE_AFTER_TABLE") == name:
        os.kill(os.getpid(), 9)
    if os.environ.get("PIPELINE_TEST_PAUSE_AFTER_TABLE") == name:
        Path(os.environ["PIPELINE_TEST_PAUSED"]).write_text(str(os.getpid()), encoding="utf-8")
        time.sleep(60)  # until the test's signal arrives


def own_link_target(out: Path) -> Path | None:
    """The generation `out` points at, when `out` is this pipeline's own generation link: a link to a
    sibling named `.<out>-*`. None for any other link."""
    target = os.readlink(out)
    if "/" in target or not target.startswith(f".{out.name}-"):
        return None
    return out.parent / target


def refuse_foreign(out: Path, directory: Path, found: list[str]) -> None:
    if found:
        raise OutputError(f"{out} holds {len(found)} file(s) this pipeline did not write ({directory}), so it "
                          "will not be replaced; move them elsewhere or choose another --out:\n  "
                          + join_capped(found))


def check_target(out: Path) -> tuple[Path, dict] | None:
    """Refuse to replace anything this pipeline did not publish: --out may name a user's directory or a
    link to one. Return the previous generation and its record, if there is one to remove after the swap."""
    if not os.path.lexists(out):
        return None
    if out.is_symlink():
        generation = own_link_target(out)
        if generation is None:
            raise OutputError(f"{out} is a link to {os.readlink(out)}, not this pipeline's own generation link, "
                              "so it will not be replaced; choose another --out, or remove the link yourself.")
        if not os.path.lexists(generation):
            return None  # a dangling link of ours: replacing it deletes nothing
        record = read_marker(generation) if generation.is_dir() and not generation.is_symlink() else None
        if record is None:
            raise OutputError(f"{out} points at {generation}, which is not a dataset published by this pipeline, "
                              "so it will not be replaced; choose another --out, or remove it yourself.")
        refuse_foreign(out, generation, foreign(generation, record))
        return generation, record
    if out.is_dir() and not any(out.iterdir()):
        return None
    record = read_marker(out) if out.is_dir() else None
    if record is None:
        raise OutputError(f"{out} exists and is not a dataset published by this pipeline, so it will not be "
                          "replaced; choose another --out, or remove it yourself.")
    refuse_foreign(out, out, foreign(out, record))
    return out, record


def swap_in(staging: Path, out: Path, previous: tuple[Path, dict] | None) -> None:
    """Point `out` at `staging` atomically; remove the previous generation's files afterwards."""
    if out.is_dir() and not out.is_symlink():
        # An empty directory, or one published before output/ became a link: move it aside once.
        aside = Path(tempfile.mkdtemp(prefix=f".{out.name}-old-", dir=out.parent))
        out.rename(aside / out.name)
        previous = (aside / out.name, previous[1]) if previous else (aside / out.name, {"files": []})
    else:
        aside = None
    link = out.parent / f".{out.name}.link-{os.getpid()}-{secrets.token_hex(4)}"
    link.symlink_to(staging.name)
    os.replace(link, out)
    # From here on `out` is the new generation: a failure to tidy up must not remove it.
    with contextlib.suppress(OSError):
        if previous and previous[0] != staging:
            generation, record = previous
            if not generation.is_symlink() and generation.is_dir():
                remove_generation(generation, record)
        if aside is not None:
            aside.rmdir()


def remove_abandoned(out: Path, current: Path | None) -> None:
    """Staging directories of runs that were killed before their swap, when proven to be ours."""
    for leftover in out.parent.glob(f".{out.name}-*"):
        if leftover != current and proven_ours(leftover):
            record = read_marker(leftover)
            if record is not None:
                remove_generation(leftover, record)


def new_staging(out: Path) -> Path:
    staging = Path(tempfile.mkdtemp(prefix=f".{out.name}-", dir=out.parent))
    write_marker(staging, None)
    return staging


def publish(sources: dict[str, Path], out: Path, dataset_metadata: dict[str, str]) -> dict[str, pd.DataFrame]:
    out = out.absolute()
    if not out.parent.is_dir():
        raise OutputError(f"the parent directory of {out} does not exist; create it or choose another --out.")
    if not os.access(out.parent, os.W_OK):
        raise OutputError(f"{out.parent} is not writable, so {out.name}/ cannot be published there; "
                          "fix its permissions or choose another --out.")
    previous = check_target(out)
    remove_abandoned(out, previous[0] if previous else None)
    try:
        staging = new_staging(out)
    except OSError as error:
        raise OutputError(f"cannot write in {out.parent} ({error.strerror}), so {out.name}/ cannot be published "
                          "there; fix its permissions or choose another --out.") from None
    try:
        tables = stage(sources, staging, dataset_metadata)
        os.chmod(staging, 0o755)
        swap_in(staging, out, previous)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return tables


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
