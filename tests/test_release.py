"""Releases: complete, self-describing, verifiable, byte-reproducible, downloadable and queryable over HTTP."""

from __future__ import annotations

import contextlib
import functools
import hashlib
import http.server
import io
import json
import os
import shutil
import subprocess
import time
import zipfile
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import duckdb_extension_httpfs
import frictionless
import jsonschema
import pyarrow.parquet as pq
import pytest
import yaml

from pipeline import config, metadata
from pipeline.__main__ import main
from pipeline.errors import InputError, VerificationFailed
from pipeline.release import archive, download, project, verify
from pipeline.release import build as release
from tests.conftest import build, serving

VERSION = config.version()
NAME = f"{config.DATASET_NAME}-{VERSION}"
CFF_SCHEMA = Path(__file__).parent / "data" / "cff-1.2.0.schema.json"


def run_cli(*argv: str) -> tuple[int, str, str]:
    stdout, stderr = io.StringIO(), io.StringIO()
    code = 0
    with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
        try:
            main(list(argv))
        except SystemExit as exit_:
            code = exit_.code if isinstance(exit_.code, int) else 1
    return code, stdout.getvalue(), stderr.getvalue()


def test_release_holds_every_file_and_assets(rel):
    files = set(archive.files_under(rel.directory))
    tables = list(metadata.tables())
    assert {f"parquet/{t}.parquet" for t in tables} | {f"csv/{t}.csv" for t in tables} <= files
    assert {"datapackage.json", "DATA_DICTIONARY.md", "README.md", "CHANGELOG.md", "CITATION.cff", "LICENSE",
            "SHA256SUMS", "raw/manifest.yaml", f"raw/{config.RAW_FILE.name}", "index.html", "croissant.json",
            f"{NAME}-source.tar"} <= files
    related = {f"raw/related/{path.name}" for path in (config.RAW_DIR / "related").glob("*.txt")}
    assert related and related <= files  # every other text, byte for byte
    for name in related:
        assert (rel.directory / name).read_bytes() == (config.RAW_DIR / name.removeprefix("raw/")).read_bytes()
    assert len(files) == 2 * len(tables) + 12 + len(related)
    assert (rel.directory / "raw" / config.RAW_FILE.name).read_bytes() == config.RAW_FILE.read_bytes()
    assets = set(archive.files_under(rel.assets))
    assert assets == ({f"{t}.parquet" for t in tables} | {f"{t}.csv" for t in tables}
                      | {f"{NAME}.zip", f"{NAME}.duckdb", "SHA256SUMS"})
    assert (rel.assets / "facts.parquet").read_bytes() == (rel.directory / "parquet" / "facts.parquet").read_bytes()


def test_zip_is_sorted_dated_and_without_duckdb(rel, epoch):
    with zipfile.ZipFile(rel.zip) as z:
        infos = z.infolist()
    names = [i.filename for i in infos]
    assert names == sorted(names) and all(n.startswith(f"{NAME}/") for n in names)
    assert not any(n.endswith(".duckdb") for n in names)
    assert {i.external_attr >> 16 for i in infos} == {0o100644}
    assert {i.date_time for i in infos} == {time.gmtime(epoch - epoch % 2)[:6]}  # zip keeps even seconds


def test_two_releases_of_one_commit_are_byte_identical(rel, epoch, tmp_path):
    again = build(config.RAW_FILE, tmp_path / "output")
    assert again.code == 0, again.stderr
    second = release.build(again.out, tmp_path / "dist", epoch)
    assert second.zip.read_bytes() == rel.zip.read_bytes()
    assert (second.directory / "SHA256SUMS").read_bytes() == (rel.directory / "SHA256SUMS").read_bytes()


def test_release_epoch_comes_from_source_date_epoch_not_the_clock(monkeypatch):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1627516800")
    assert project.release_epoch("2000-01-01") == 1627516800
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "yesterday")
    with pytest.raises(InputError, match="SOURCE_DATE_EPOCH"):
        project.release_epoch("2000-01-01")


@pytest.mark.skipif(shutil.which("sha256sum") is None, reason="coreutils sha256sum not installed")
def test_sha256sums_check_with_coreutils(rel):
    for directory in (rel.directory, rel.assets):
        done = subprocess.run(["sha256sum", "-c", "--strict", "SHA256SUMS"], cwd=directory, capture_output=True,
                              text=True, timeout=30)
        assert done.returncode == 0, done.stdout + done.stderr


def test_frictionless_validates_the_data_package(rel):
    report = frictionless.validate(str(rel.directory / "datapackage.json"))
    assert report.valid, report.flatten(["taskName", "rowNumber", "fieldName", "type", "note"])[:10]


def test_data_package_describes_every_table_from_the_declaration(rel):
    package = json.loads((rel.directory / "datapackage.json").read_text(encoding="utf-8"))
    assert package["version"] == VERSION and package["name"] == config.DATASET_NAME
    assert package["licenses"][0]["name"] == "CC-BY-4.0" and package["sources"] and package["contributors"]
    resources = {r["name"]: r for r in package["resources"]}
    described = {r["path"] for r in package["resources"]}
    assert described == set(archive.files_under(rel.directory)) - {"datapackage.json", "SHA256SUMS"}
    for resource in package["resources"]:
        data = (rel.directory / resource["path"]).read_bytes()
        assert resource["bytes"] == len(data)
        assert resource["hash"] == "sha256:" + hashlib.sha256(data).hexdigest()
        assert resource["format"] and resource["mediatype"]
    relocated = resources["relocated_population"]["schema"]
    assert relocated["primaryKey"] == ["category_id"]
    persons = next(f for f in relocated["fields"] if f["name"] == "persons")
    assert persons["type"] == "integer" and persons["unit"] == "persons" and persons["description"]
    assert {"fields": "persons_fact_id", "reference": {"resource": "facts", "fields": "fact_id"}} in \
        relocated["foreignKeys"]
    for name, table in metadata.tables().items():
        fields = [f["name"] for f in resources[name]["schema"]["fields"]]
        assert fields == [c["name"] for c in table["columns"]]
        assert resources[f"{name}-parquet"]["schema"] == resources[name]["schema"]
        assert resources[name]["encoding"] == "utf-8"


def test_version_is_the_same_everywhere(rel):
    cff = yaml.safe_load((rel.directory / "CITATION.cff").read_text(encoding="utf-8"))
    assert cff["version"] == VERSION
    meta = pq.read_schema(rel.directory / "parquet" / "facts.parquet").metadata
    assert meta[b"dataset_version"].decode() == VERSION
    with duckdb.connect(str(rel.duckdb), read_only=True) as con:
        assert con.execute("SELECT value FROM dataset_metadata WHERE key = 'dataset_version'").fetchone()[0] == VERSION
    assert rel.directory.name == NAME and f"## [{VERSION}]" in (rel.directory / "CHANGELOG.md").read_text()


def test_citation_is_valid_cff_1_2(rel, epoch):
    cff = yaml.safe_load((rel.directory / "CITATION.cff").read_text(encoding="utf-8"))
    jsonschema.validate(cff, json.loads(CFF_SCHEMA.read_text(encoding="utf-8")))
    assert cff["cff-version"] == "1.2.0"
    assert cff["date-released"] == datetime.fromtimestamp(epoch, UTC).date().isoformat()


def test_card_quotes_every_source_discrepancy_from_the_tables(rel, clean_build):
    card = (rel.directory / "README.md").read_text(encoding="utf-8")
    checks = clean_build.table("checks")
    facts = clean_build.table("facts").set_index("fact_id")
    discrepancies = checks[checks["status"] == "source_discrepancy"]
    assert len(discrepancies) > 0
    for check in discrepancies.itertuples():
        assert f"`{check.check_id}`" in card
        for fact_id in check.fact_ids.split(";"):
            assert facts.loc[fact_id, "quote"] in card
    assert "not promise byte-identical" in card and "duckdb-extension-httpfs" in card
    assert (rel.directory / "LICENSE").read_text().count("CC BY 4.0") == 1
    assert "Copyright Law" in (rel.directory / "LICENSE").read_text()


def test_duckdb_asset_holds_the_release_tables(rel):
    with duckdb.connect(str(rel.duckdb), read_only=True) as con:
        for name in metadata.tables():
            parquet = str(rel.directory / "parquet" / f"{name}.parquet")
            differ = con.execute(f"SELECT count(*) FROM ((SELECT * FROM {name} EXCEPT ALL SELECT * FROM "
                                 f"read_parquet(?)) UNION ALL (SELECT * FROM read_parquet(?) EXCEPT ALL "
                                 f"SELECT * FROM {name}))", [parquet, parquet]).fetchone()[0]
            assert differ == 0, name


def test_release_is_refused_without_a_changelog_entry(clean_build, tmp_path, monkeypatch):
    changelog = tmp_path / "CHANGELOG.md"
    changelog.write_text("# Changelog\n\n## [0.9.0] - 2020-01-01\n\nOlder.\n", encoding="utf-8")
    monkeypatch.setattr(project, "CHANGELOG", changelog)
    code, _, stderr = run_cli("release", "--dataset", str(clean_build.out), "--dist", str(tmp_path / "dist"))
    assert code == 2 and f"no entry for version {VERSION}" in stderr
    assert not (tmp_path / "dist").exists()


def test_release_directory_is_normalized_down_to_its_root(rel, epoch):
    """A copy of the release directory is as reproducible as its zip: every entry, the directory itself too."""
    for path in [rel.directory, *rel.directory.rglob("*")]:
        info = path.stat()
        assert info.st_mtime == epoch, path
        assert info.st_mode & 0o777 == (archive.DIR_MODE if path.is_dir() else archive.FILE_MODE), path


def test_release_refuses_a_raw_file_other_than_the_one_the_dataset_records(clean_build, epoch, tmp_path,
                                                                          monkeypatch):
    """The release's own hash check, before the page build's: a same-size raw file with one digit changed."""
    raw_dir = tmp_path / "raw"
    raw_dir.mkdir()
    original = config.RAW_FILE.read_bytes()
    (raw_dir / config.RAW_FILE.name).write_bytes(original.replace("79406人".encode(), "79407人".encode()))
    assert (raw_dir / config.RAW_FILE.name).stat().st_size == len(original)
    monkeypatch.setattr(config, "RAW_DIR", raw_dir)
    with pytest.raises(InputError, match="was not built from a raw file in .* with the hash it records"):
        release.build(clean_build.out, tmp_path / "dist", epoch)
    assert not os.path.lexists(tmp_path / "dist")  # nothing written


def test_verify_accepts_the_release_zip_and_directory(rel, registered):
    for path in (rel.zip, rel.directory):
        code, stdout, stderr = run_cli("verify", str(path), "--registry", str(registered))
        assert code == 0, stderr
        assert "verified" in stdout


def test_verify_reports_every_altered_missing_and_extra_file(rel, tmp_path):
    copy = tmp_path / NAME
    shutil.copytree(rel.directory, copy)
    facts = copy / "parquet" / "facts.parquet"
    data = bytearray(facts.read_bytes())
    data[len(data) // 2] ^= 0x01  # one bit of one byte
    facts.write_bytes(bytes(data))
    (copy / "LICENSE").unlink()
    (copy / "notes.txt").write_text("not part of the release\n")
    code, _, stderr = run_cli("verify", str(copy))
    assert code == VerificationFailed.exit_code == 5
    assert "altered: parquet/facts.parquet" in stderr
    assert "missing: LICENSE" in stderr
    assert "extra: notes.txt" in stderr
    assert stderr.count("parquet/facts.parquet") == 1 and "Traceback" not in stderr


def test_verify_catches_one_byte_changed_inside_the_zip(rel, tmp_path):
    tampered = tmp_path / rel.zip.name
    with zipfile.ZipFile(rel.zip) as source, zipfile.ZipFile(tampered, "w") as target:
        for info in source.infolist():
            data = source.read(info)
            if info.filename.endswith("csv/checks.csv"):
                data = data[:-2] + bytes([data[-2] ^ 0x20]) + data[-1:]
            target.writestr(info, data)
    with pytest.raises(VerificationFailed, match=r"altered: csv/checks\.csv"):
        verify.run(tampered)


def _resigned_copy(rel, tmp_path: Path) -> Path:
    """A copy of the release directory, to alter; `archive.write_sums` then makes SHA256SUMS consistent."""
    copy = tmp_path / NAME
    shutil.copytree(rel.directory, copy)
    return copy


def test_verify_compares_each_hash_with_datapackage_json(rel, tmp_path):
    """A file altered (same size) with SHA256SUMS rewritten to match: only datapackage.json's hash catches it."""
    copy = _resigned_copy(rel, tmp_path)
    target = copy / "csv" / "checks.csv"
    data = bytearray(target.read_bytes())
    data[len(data) // 2] ^= 0x01
    target.write_bytes(bytes(data))
    archive.write_sums(copy)
    with pytest.raises(VerificationFailed) as failed:
        verify.run(copy)
    assert "altered: csv/checks.csv (sha256 differs from datapackage.json)" in str(failed.value)
    assert "SHA256SUMS)" not in str(failed.value)


def test_verify_compares_each_size_with_datapackage_json(rel, tmp_path):
    """datapackage.json declaring another size, with SHA256SUMS rewritten to match: only the size rule catches it."""
    copy = _resigned_copy(rel, tmp_path)
    package = json.loads((copy / "datapackage.json").read_text(encoding="utf-8"))
    resource = next(r for r in package["resources"] if r["path"] == "csv/checks.csv")
    resource["bytes"] += 1
    (copy / "datapackage.json").write_text(json.dumps(package, indent=2), encoding="utf-8")
    archive.write_sums(copy)
    with pytest.raises(VerificationFailed) as failed:
        verify.run(copy)
    assert f"altered: csv/checks.csv ({resource['bytes'] - 1:,} bytes, datapackage.json says {resource['bytes']})" \
        in str(failed.value)
    assert "sha256 differs" not in str(failed.value)


@contextlib.contextmanager
def serve(directory: Path):
    """A local HTTP server on 127.0.0.1 for the duration of the block; it stops itself."""

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args):
            pass

    with serving(functools.partial(Quiet, directory=str(directory))) as url:
        yield url


def test_download_fetches_verifies_and_unpacks(rel, registered, tmp_path):
    dist = rel.zip.parent
    with serve(dist) as url:
        code, stdout, stderr = run_cli("download", "--version", VERSION, "--base-url", url,
                                       "--dest", str(tmp_path / "got"), "--registry", str(registered))
    assert code == 0, stderr
    unpacked = tmp_path / "got" / NAME
    assert verify.run(unpacked) == len(archive.files_under(rel.directory))
    assert (tmp_path / "got" / f"{NAME}.duckdb").read_bytes() == rel.duckdb.read_bytes()


def test_download_refuses_an_asset_that_differs_from_its_checksum(rel, tmp_path):
    mirror = tmp_path / "mirror"
    shutil.copytree(rel.assets, mirror / rel.assets.name)
    duck = mirror / rel.assets.name / rel.duckdb.name
    duck.write_bytes(duck.read_bytes()[:-1] + b"\x01")
    with serve(mirror) as url, pytest.raises(VerificationFailed, match="duckdb"):
        download.run(VERSION, url, tmp_path / "got")
    assert not (tmp_path / "got" / NAME).exists()


def test_duckdb_queries_a_release_parquet_over_http(rel):
    extension = next(Path(duckdb_extension_httpfs.__file__).parent.rglob("httpfs.duckdb_extension"))
    con = duckdb.connect(config={"autoinstall_known_extensions": False})
    try:
        con.execute(f"LOAD '{extension}'")  # offline: the file the PyPI package ships, not a download
        with serve(rel.zip.parent) as url:
            remote = con.execute(
                "SELECT count(*), sum(value) FROM read_parquet(?) WHERE unit = 'percent'",
                [f"{url}/{rel.assets.name}/facts.parquet"]).fetchone()
        local = con.execute("SELECT count(*), sum(value) FROM read_parquet(?) WHERE unit = 'percent'",
                            [str(rel.directory / "parquet" / "facts.parquet")]).fetchone()
    finally:
        con.close()
    assert remote == local and remote[0] > 0


def test_release_workflow_parses_and_calls_the_make_targets():
    workflow = yaml.safe_load((config.ROOT / ".github" / "workflows" / "release.yml").read_text(encoding="utf-8"))
    trigger = workflow.get("on", workflow.get(True))  # YAML 1.1 reads a bare `on` as true
    assert trigger["push"]["tags"] == ["v*"]
    runs = [step.get("run", "") for job in workflow["jobs"].values() for step in job["steps"]]
    assert "make test" in runs and "make release" in runs
    assert any("GITHUB_REF_NAME" in r and "pyproject.toml" in r for r in runs)
    assert any("dist/v$VERSION/*" in r for r in runs)
    makefile = (config.ROOT / "Makefile").read_text(encoding="utf-8")
    assert "\nrelease: dataset" in makefile and "-m pipeline release" in makefile and "\ntest:" in makefile
