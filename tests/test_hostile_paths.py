"""Hostile paths, round two: a build directory DuckDB would read as a glob pattern, a DuckDB file that
does not hold its Parquet tables, a `release --dist` with links and a user's folders in it, and a
directory release nested too deep to walk recursively. Each case keeps a canary beside its target."""

from __future__ import annotations

import shutil

import duckdb
import pyarrow.compute as pc
import pyarrow.parquet as pq

from pipeline import config
from pipeline.stages import publish
from tests.conftest import build, record
from tests.test_hostile import one_paragraph
from tests.test_release import NAME, run_cli


def database_and_parquet_sums(out) -> tuple[float, float]:
    """The sum of `facts.value` in the published DuckDB file and in the published Parquet file."""
    with duckdb.connect(str(out / config.DUCKDB_FILE), read_only=True) as con:
        in_database = con.execute("SELECT sum(value) FROM facts").fetchone()[0]
    return in_database, pc.sum(pq.read_table(out / "parquet" / "facts.parquet")["value"]).as_py()


def test_a_build_directory_with_glob_characters_is_not_read_as_a_pattern(tmp_path):
    """DuckDB read `<build dir>/tables/facts.parquet` as a glob: built in `x/b[1]` while `x/b1` held
    another build, the DuckDB file held the other build's figures, and the exit code was 0."""
    other = tmp_path / "x" / "b1"
    assert build(config.RAW_FILE, tmp_path / "other", "--build-dir", str(other)).code == 0
    facts = pq.read_table(other / "tables" / "facts.parquet")
    tampered = facts.set_column(facts.schema.get_field_index("value"), "value", pc.add(facts["value"], 1000))
    pq.write_table(tampered, other / "tables" / "facts.parquet")
    result = build(config.RAW_FILE, tmp_path / "out", "--build-dir", str(tmp_path / "x" / "b[1]"))
    assert result.code == 0, result.stderr
    in_database, in_parquet = database_and_parquet_sums(result.out)
    assert in_database == in_parquet
    record("hostile", "build directory b[1] beside another build in b1", "DuckDB loads its own files")


def test_publish_refuses_a_database_that_differs_from_its_parquet(tmp_path, monkeypatch):
    statements = publish.database_statements
    monkeypatch.setattr(publish, "database_statements", lambda *args: [
        *statements(*args), "UPDATE facts SET value = value + 1 WHERE fact_id = (SELECT min(fact_id) FROM facts)"])
    result = build(config.RAW_FILE, tmp_path / "out")
    assert result.code == 4 and "does not hold what the Parquet files hold: table facts has" in result.stderr
    assert one_paragraph(result.stderr) and not (tmp_path / "out").exists()
    assert [p for p in tmp_path.iterdir() if p.name.startswith(".out")] == []
    record("hostile", "DuckDB table differing from its Parquet file at publish", "exit 4, nothing published")


def tampered_database(source, target) -> None:
    shutil.copyfile(source, target)
    with duckdb.connect(str(target)) as con:
        con.execute("UPDATE checks SET observed = observed + 1 WHERE check_id = (SELECT min(check_id) FROM checks)")


def test_verify_checks_the_release_database_against_its_parquet(rel, tmp_path):
    for release in (rel.directory, rel.zip):  # the DuckDB file of dist/ is in v<version>/
        code, stdout, stderr = run_cli("verify", str(release))
        assert code == 0, stderr
    directory, zipped = tmp_path / "dir" / NAME, tmp_path / "zip" / f"{NAME}.zip"
    shutil.copytree(rel.directory, directory)
    zipped.parent.mkdir()
    shutil.copyfile(rel.zip, zipped)
    for release in (directory, zipped):  # beside the release, as `download` leaves it
        tampered_database(rel.duckdb, release.parent / f"{NAME}.duckdb")
        code, _, stderr = run_cli("verify", str(release))
        assert code == 5 and "does not hold the Parquet tables" in stderr and "table checks has" in stderr, stderr
        assert one_paragraph(stderr)
    record("hostile", "release DuckDB file with an altered table", "exit 5, the table named")
