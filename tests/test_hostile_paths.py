"""Hostile paths, round two: a build directory DuckDB would read as a glob pattern, a DuckDB file that
does not hold its Parquet tables, a `release --dist` with links and a user's folders in it, and a
directory release nested too deep to walk recursively. Each case keeps a canary beside its target."""

from __future__ import annotations

import os
import shutil
import zipfile

import duckdb
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

from pipeline import config, output_directory
from pipeline.stages import publish
from tests.conftest import build, record
from tests.test_hostile import CANARY, alive, canary, one_paragraph
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


def test_verify_checks_the_release_database_against_its_parquet(rel, registered, tmp_path):
    for release in (rel.directory, rel.zip):  # the DuckDB file of dist/ is in v<version>/
        code, stdout, stderr = run_cli("verify", "--registry", str(registered), str(release))
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


def release_into(clean_build, dist, dataset=None) -> tuple[int, str]:
    code, _, stderr = run_cli("release", "--dataset", str(dataset or clean_build.out), "--dist", str(dist),
                              "--registry", str(dist.parent / "releases.yaml"))  # never the repository's
    return code, stderr


def test_release_refuses_a_database_that_differs_from_its_parquet(clean_build, tmp_path):
    """`make release` shipped whatever DuckDB file the dataset held; it now verifies the release it
    wrote, the DuckDB file against the Parquet files included."""
    dataset = tmp_path / "output"
    shutil.copytree(clean_build.out.resolve(), dataset)
    tampered_database(clean_build.out / config.DUCKDB_FILE, dataset / config.DUCKDB_FILE)
    code, stderr = release_into(clean_build, tmp_path / "dist", dataset)
    assert code == 5 and "table checks has" in stderr and one_paragraph(stderr), stderr
    assert not os.path.lexists(tmp_path / "dist") and [p for p in tmp_path.iterdir() if p.name.startswith(".")] == []
    record("hostile", "release of a dataset whose DuckDB table differs from Parquet", "exit 5, nothing written")


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
    assert run_cli("verify", "--no-registry", str(dist / NAME))[0] == 0
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".dist")] == [os.readlink(dist)]
    record("hostile", "a user's file inside the release generation", "exit 4, listed, untouched")


@pytest.fixture
def nested():
    """Makes d/d/d/... chains `depth` levels below a directory; removes them afterwards one level at a
    time, from the bottom: shutil.rmtree, rglob and pytest's clean-up of its temporary directories recurse,
    and would fail on them."""
    made = []

    def make(root, depth: int):
        path = root
        for _ in range(depth):
            path = path / "d"
            path.mkdir(parents=True)
        made.append((root, path))
        return path

    yield make
    for top, leaf in made:
        for child in leaf.iterdir():
            child.unlink()
        while leaf != top:
            leaf.rmdir()
            leaf = leaf.parent


def test_verify_walks_a_deeply_nested_directory_release_without_recursion(rel, tmp_path, nested):
    """A directory release nested 990 deep raised RecursionError from verify's recursive walk."""
    copy = tmp_path / NAME  # nothing else in it: 991 entries stay under the 1,000 cap
    leaf = nested(copy, 990)
    canary(leaf / "deep.txt")
    code, _, stderr = run_cli("verify", str(copy))
    assert code == 5 and "nests directories more than 32 deep" in stderr and one_paragraph(stderr), stderr
    assert len(stderr) < 2000
    hostile = tmp_path / f"{NAME}.zip"  # the same in a zip: refused by name, before unpacking
    with zipfile.ZipFile(rel.zip) as z, zipfile.ZipFile(hostile, "w") as out:
        for info in z.infolist():
            out.writestr(info, z.read(info))
        out.writestr(f"{NAME}/" + "d/" * 990 + "deep.txt", CANARY)
    code, _, stderr = run_cli("verify", str(hostile))
    assert code == 5 and "directories nested more than 32 deep" in stderr and one_paragraph(stderr), stderr
    record("hostile", "release nested 990 directories deep, directory and zip", "exit 5, no recursion")


def test_build_refuses_an_out_holding_a_deeply_nested_folder(tmp_path, nested):
    out = tmp_path / "out"
    assert build(config.RAW_FILE, out).code == 0
    leaf = nested(out / "mine", 990)
    deep = canary(leaf / "deep.txt")
    result = build(config.RAW_FILE, out)
    assert result.code == 4 and "did not write" in result.stderr and one_paragraph(result.stderr), result.stderr
    assert alive(deep)
    record("hostile", "build --out holding a folder nested 990 deep", "exit 4, untouched")
