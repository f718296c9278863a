"""Hostile paths, round two: a build directory DuckDB would read as a glob pattern, a DuckDB file that
does not hold its Parquet tables, a `release --dist` with links and a user's folders in it, and a
directory release nested too deep to walk recursively. Each case keeps a canary beside its target."""

from __future__ import annotations

import os
import shutil

import duckdb
import pyarrow.compute as pc
import pyarrow.parquet as pq

from pipeline import config, output_directory
from pipeline.stages import publish
from tests.conftest import build, record
from tests.test_hostile import alive, canary, one_paragraph
from tests.test_release import NAME, VERSION, run_cli


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


def release_into(clean_build, dist) -> tuple[int, str]:
    code, _, stderr = run_cli("release", "--dataset", str(clean_build.out), "--dist", str(dist))
    return code, stderr


def test_release_never_writes_its_zip_through_a_link(clean_build, tmp_path):
    outside = canary(tmp_path / "outside" / "victim.zip")
    dist = tmp_path / "dist"
    dist.mkdir()
    (dist / f"{NAME}.zip").symlink_to(outside)
    code, stderr = release_into(clean_build, dist)
    assert code == 4 and str(dist) in stderr and one_paragraph(stderr), stderr
    assert alive(outside) and (dist / f"{NAME}.zip").is_symlink()
    linked = tmp_path / "linked-dist"  # --dist itself a link to a directory elsewhere
    linked.symlink_to(outside.parent, target_is_directory=True)
    code, stderr = release_into(clean_build, linked)
    assert code == 4 and "not this pipeline's own generation link" in stderr and alive(outside)
    record("hostile", "release --dist with a link at NAME.zip, or a link as --dist", "exit 4, untouched")


def test_release_never_deletes_a_users_folders(clean_build, tmp_path):
    dist = tmp_path / "dist"
    mine = [canary(dist / f"v{VERSION}" / "mine.txt"), canary(dist / NAME / "notes.txt")]
    code, stderr = release_into(clean_build, dist)
    assert code == 4 and "is not a release written by this pipeline" in stderr and one_paragraph(stderr), stderr
    assert all(alive(path) for path in mine)
    record("hostile", "release --dist holding a user's v<version>/ and <name>/", "exit 4, untouched")


def test_release_replaces_only_what_it_wrote(clean_build, tmp_path):
    dist = tmp_path / "dist"
    assert release_into(clean_build, dist)[0] == 0
    mine = canary(dist / NAME / "my_notes.txt")
    code, stderr = release_into(clean_build, dist)
    assert code == 4 and f"{NAME}/my_notes.txt" in stderr and "did not write" in stderr and alive(mine)
    mine.unlink()
    generation = dist.resolve()
    assert dist.is_symlink()
    assert (generation / output_directory.MARKER).is_file()
    assert release_into(clean_build, dist)[0] == 0 and not generation.exists()
    assert run_cli("verify", str(dist / NAME))[0] == 0
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".dist")] == [os.readlink(dist)]
    record("hostile", "a user's file inside the release generation", "exit 4, listed, untouched")
