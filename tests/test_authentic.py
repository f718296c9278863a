"""Authenticity, not only self-consistency: `make release` records each release's digests in a registry
committed with it, and `download` and `verify` check against it by default."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import yaml

from pipeline import config
from pipeline.errors import InputError, VerificationFailed
from pipeline.release import archive, build, citation, download, registry, verify
from tests.test_hostile import one_paragraph
from tests.test_release import NAME, VERSION, run_cli, serve


def resigned(rel, tmp_path: Path) -> Path:
    """A copy of the release with one CSV cell changed and every checksum rewritten to match it: what a
    tampering server would send. It verifies against its own SHA256SUMS and datapackage.json."""
    copy = tmp_path / NAME
    shutil.copytree(rel.directory, copy)
    target = copy / "csv" / "relocated_population.csv"
    data = target.read_bytes()
    assert b"79406" in data
    target.write_bytes(data.replace(b"79406", b"79407"))
    package = json.loads((copy / "datapackage.json").read_text(encoding="utf-8"))
    for resource in package["resources"]:
        if resource["path"] == "csv/relocated_population.csv":
            resource["hash"] = f"sha256:{archive.sha256_file(target)}"
    (copy / "datapackage.json").write_text(json.dumps(package, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    archive.write_sums(copy)
    return copy


def emptied(tmp_path: Path) -> Path:
    """A release emptied of every table: a datapackage.json without resources and a SHA256SUMS that lists it."""
    copy = tmp_path / NAME
    copy.mkdir()
    (copy / "datapackage.json").write_text(json.dumps({"version": VERSION, "resources": []}), encoding="utf-8")
    archive.write_sums(copy)
    return copy


def test_register_records_the_digests_once_and_refuses_other_ones(rel, registered, tmp_path):
    entry = registry.load(registered)[VERSION]
    assert entry.zip == archive.sha256_file(rel.zip)
    assert entry.sums == archive.sha256_file(rel.assets / archive.SUMS)
    assert entry.contents == archive.sha256_file(rel.directory / archive.SUMS)
    assert entry.date == rel.released
    text = registered.read_text(encoding="utf-8")
    assert build.register(rel, registered, registered.parent) is False  # the same release again: unchanged
    assert registered.read_text(encoding="utf-8") == text
    forged = registry.Entry(**{**entry.__dict__, "zip": "0" * 64})
    with pytest.raises(InputError, match=f"version {VERSION} is already registered .* zip"):
        registry.record(forged, registered)
    assert registered.read_text(encoding="utf-8") == text


def test_a_malformed_registry_is_one_named_error(tmp_path):
    path = tmp_path / "releases.yaml"
    path.write_text("releases:\n- {version: 1.0.0, zip: abc}\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"releases\[0\] should have exactly contents, date, sums, version, zip"):
        registry.load(path)


def test_verify_checks_a_release_against_the_registry(rel, registered):
    for path in (rel.zip, rel.directory):
        code, stdout, stderr = run_cli("verify", str(path), "--registry", str(registered))
        assert code == 0 and "against the registry (releases.yaml)" in stdout, stderr


@pytest.mark.parametrize("kind", ["directory", "zip"])
def test_a_resigned_release_verifies_only_against_itself(rel, registered, tmp_path, kind):
    copy = resigned(rel, tmp_path)
    path = copy
    if kind == "zip":
        path = tmp_path / "zipped" / rel.zip.name
        path.parent.mkdir()
        archive.write_zip(copy, path, 0)
    assert verify.run(path) == len(archive.files_under(rel.directory))  # self-consistent
    code, stdout, stderr = run_cli("verify", str(path), "--registry", str(registered))
    assert code == 5 and one_paragraph(stderr) and "verified" not in stdout
    assert f"registers {registry.load(registered)[VERSION].__dict__[('contents' if kind == 'directory' else 'zip')]}" \
        in stderr and f"not the files released as {VERSION}" in stderr
    code, stdout, _ = run_cli("verify", str(path), "--no-registry")
    assert code == 0 and "nothing else (--no-registry)" in stdout


def test_an_emptied_release_is_refused(registered, tmp_path):
    copy = emptied(tmp_path)
    assert verify.run(copy) == 2  # consistent with its own (empty) lists
    code, _, stderr = run_cli("verify", str(copy), "--registry", str(registered))
    assert code == 5 and one_paragraph(stderr) and "not the files released" in stderr


def test_a_version_the_registry_does_not_know_is_refused(rel, tmp_path):
    empty = tmp_path / "releases.yaml"
    code, _, stderr = run_cli("verify", str(rel.zip), "--registry", str(empty))
    assert code == 5 and one_paragraph(stderr)
    assert f"version {VERSION} is not in the registry" in stderr and "--no-registry" in stderr


def test_sha256_checks_a_digest_from_elsewhere(rel, tmp_path):
    empty = tmp_path / "releases.yaml"
    digest = archive.sha256_file(rel.zip)
    code, stdout, stderr = run_cli("verify", str(rel.zip), "--registry", str(empty), "--sha256", digest.upper())
    assert code == 0 and "--sha256" in stdout, stderr
    code, _, stderr = run_cli("verify", str(rel.zip), "--no-registry", "--sha256", "0" * 64)
    assert code == 5 and one_paragraph(stderr) and "as given with --sha256" in stderr
    contents = archive.sha256_file(rel.directory / archive.SUMS)
    assert run_cli("verify", str(rel.directory), "--no-registry", "--sha256", contents)[0] == 0
    code, _, stderr = run_cli("verify", str(rel.zip), "--no-registry", "--sha256", "not-a-digest")
    assert code == 2 and "is not a sha256 digest" in stderr


def resigned_mirror(rel, tmp_path: Path) -> Path:
    """A release page serving the resigned release: its zip, and a SHA256SUMS rewritten to match."""
    copy = resigned(rel, tmp_path)
    root = tmp_path / "mirror"
    assets = root / rel.assets.name
    assets.mkdir(parents=True)
    archive.write_zip(copy, assets / rel.zip.name, 0)
    shutil.copyfile(rel.duckdb, assets / rel.duckdb.name)
    archive.write_sums(assets)
    return root


def test_download_refuses_a_resigned_release_unless_told_not_to_check(rel, registered, tmp_path):
    with serve(resigned_mirror(rel, tmp_path)) as url:
        code, stdout, stderr = run_cli("download", "--version", VERSION, "--base-url", url,
                                       "--dest", str(tmp_path / "got"), "--registry", str(registered))
        assert code == 5 and one_paragraph(stderr) and "downloaded" not in stdout
        assert f"{url}/v{VERSION}/SHA256SUMS has sha256" in stderr and "release page's SHA256SUMS" in stderr
        assert list((tmp_path / "got").iterdir()) == []
        code, stdout, stderr = run_cli("download", "--version", VERSION, "--base-url", url,
                                       "--dest", str(tmp_path / "unchecked"), "--no-registry")
    assert code == 0 and "nothing else (--no-registry)" in stdout, stderr


def test_download_checks_the_zip_against_sha256_for_a_version_the_registry_does_not_know(rel, tmp_path):
    empty = registry.Trust(tmp_path / "releases.yaml")
    with serve(rel.zip.parent) as url:
        with pytest.raises(VerificationFailed, match=f"version {VERSION} is not in the registry"):
            download.run(VERSION, url, tmp_path / "a", trust=empty)
        with pytest.raises(VerificationFailed, match="as given with --sha256"):
            download.run(VERSION, url, tmp_path / "b", trust=registry.Trust(empty.registry, "f" * 64))
        got = download.run(VERSION, url, tmp_path / "c",
                           trust=registry.Trust(empty.registry, archive.sha256_file(rel.zip)))
    assert verify.run(got) == len(archive.files_under(rel.directory))


def test_make_release_writes_the_citation_files_at_the_root(rel, registered):
    root = registered.parent
    assert (root / "CITATION.cff").read_bytes() == (rel.directory / "CITATION.cff").read_bytes()
    zenodo = json.loads((root / ".zenodo.json").read_text(encoding="utf-8"))
    assert zenodo["version"] == VERSION and zenodo["publication_date"] == rel.released
    assert zenodo == citation.zenodo(rel.released)


def test_committing_what_release_writes_does_not_move_the_release_date():
    makefile = (config.ROOT / "Makefile").read_text(encoding="utf-8")
    from pipeline.release import project

    for name in project.WRITTEN_BY_RELEASE:
        assert f"':(exclude){name}'" in makefile


def test_the_root_citation_files_are_the_declaration_of_this_version():
    """CITATION.cff (read by GitHub's "Cite this repository") and .zenodo.json at the repository root are what
    `make release` writes from the same declaration as the release's copy: regenerated, they are unchanged."""
    root = (config.ROOT / "CITATION.cff").read_text(encoding="utf-8")
    released = yaml.safe_load(root)["date-released"]
    assert root == citation.cff_text(released)
    assert (config.ROOT / ".zenodo.json").read_text(encoding="utf-8") == citation.zenodo_text(released)
    cff = yaml.safe_load(root)
    assert cff["version"] == VERSION and cff["preferred-citation"]["version"] == VERSION
    letter = cff["references"][0]
    manifest = yaml.safe_load(config.MANIFEST.read_text(encoding="utf-8"))
    assert letter["title"] == manifest["title_zh"] and letter["date-published"] == manifest["publication_date"]
    assert manifest["publisher_zh"] in letter["authors"][0]["name"]
    assert manifest["catalogue_zh"] in letter["collection-title"]
    assert letter["identifiers"] == [{"type": "other", "value": manifest["index_number"],
                                      "description": "Index number (索引号)"}]


def test_the_release_command_records_the_release_beside_its_registry(clean_build, epoch, tmp_path, monkeypatch):
    """`make release` runs `python -m pipeline release`, which registers what it built (here in a registry
    elsewhere, so the repository is left alone); verify then accepts the release against it."""
    monkeypatch.setenv("SOURCE_DATE_EPOCH", str(epoch))
    repository = tmp_path / "repository"
    repository.mkdir()
    code, stdout, stderr = run_cli("release", "--dataset", str(clean_build.out), "--dist", str(tmp_path / "dist"),
                                   "--registry", str(repository / "releases.yaml"))
    assert code == 0, stderr
    assert f"recorded in {repository / 'releases.yaml'}" in stdout
    zip_path = tmp_path / "dist" / f"{NAME}.zip"
    assert registry.load(repository / "releases.yaml")[VERSION].zip == archive.sha256_file(zip_path)
    assert (repository / "CITATION.cff").read_bytes() == (tmp_path / "dist" / NAME / "CITATION.cff").read_bytes()
    assert (repository / ".zenodo.json").is_file()
    code, stdout, stderr = run_cli("verify", str(zip_path), "--registry", str(repository / "releases.yaml"))
    assert code == 0, stderr
