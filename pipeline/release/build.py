"""`make release`: a built dataset -> a versioned, verifiable, reproducible release in dist/.

    dist/baoshan-resettlement-<version>/      the release directory (what the zip holds)
    dist/baoshan-resettlement-<version>.zip   the same, byte-reproducible
    dist/v<version>/                           the assets to attach to the release page, flat:
        the zip, baoshan-resettlement-<version>.duckdb, every <table>.parquet and <table>.csv,
        and SHA256SUMS over these assets

The DuckDB file stays outside the zip because DuckDB does not promise byte-identical files.

dist/ is replaced whole, with the guards of `build --out` (pipeline/output_directory.py): it becomes a
link to the generation holding this release, and a dist/ holding anything this pipeline did not write
(a user's file, a link) is refused, exit 4.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath

import duckdb
import pyarrow.parquet as pq

from pipeline import config, metadata, output_directory, site
from pipeline.arrow import read_table
from pipeline.errors import InputError
from pipeline.release import archive, card, citation, croissant, datapackage, project, registry, source, verify
from pipeline.stages.ingest import load_manifest

DIST_DIR = config.ROOT / "dist"
EXTRA_FILES = {
    "README.md": "Dataset card: what this is, source, processing, how to query and cite, known source discrepancies.",
    "DATA_DICTIONARY.md": "Every table, column and figure, generated from the table declaration.",
    "CHANGELOG.md": "Changes between versions.",
    "CITATION.cff": "How to cite this dataset (Citation File Format 1.2.0).",
    "LICENSE": "Licence of the data (CC BY 4.0) and note on the source text.",
    "raw/manifest.yaml": "Provenance of the source texts: hash, publisher, date, index number or address, and how "
                         "each was obtained.",
    "croissant.json": "MLCommons Croissant 1.1 description: a FileObject per Parquet file with its sha256, "
                      "a RecordSet per table with a Field per column; `mlcroissant` loads every table.",
    "index.html": "The dataset page: charts, every table, and every figure linked to its sentence; opens offline.",
}


# --dist is replaced whole, like build --out: a link to the generation that holds the release,
# never written through a link, never deleting what this pipeline did not write.
RELEASE = output_directory.Kind(option="--dist", what="a release written", layout=set)


@dataclass
class Release:
    directory: Path
    zip: Path
    assets: Path
    duckdb: Path
    version: str
    released: str  # the release date, ISO 8601


def assets_dir(dist: Path, version: str) -> Path:
    """Named like the tag, so serving dist/ mirrors a release page: <base-url>/v<version>/<asset>."""
    return dist / f"v{version}"


def load_dataset(dataset: Path, version: str) -> dict:
    missing = [p for p in ("parquet", "csv", config.DUCKDB_FILE, "DATA_DICTIONARY.md") if not (dataset / p).exists()]
    if missing:
        raise InputError(f"{dataset}/ is not a built dataset (no {', '.join(missing)}); run `make dataset` first.")
    built = pq.read_schema(dataset / "parquet" / "facts.parquet").metadata[b"dataset_version"].decode()
    if built != version:
        raise InputError(f"{dataset}/ was built as version {built}, but pyproject.toml says {version}; "
                         "rebuild it with `make dataset`.")
    return {name: read_table(dataset / "parquet" / f"{name}.parquet") for name in metadata.tables()}


def check_duckdb(path: Path, version: str) -> None:
    with duckdb.connect(str(path), read_only=True) as con:
        row = con.execute("SELECT value FROM dataset_metadata WHERE key = 'dataset_version'").fetchone()
    if row is None or row[0] != version:
        raise InputError(f"{path} holds version {row and row[0]}, not {version}; rebuild it with `make dataset`.")


def stage(dataset: Path, staging: Path, tables: dict, changelog: str, epoch: int) -> None:
    documents = tables["documents"].iloc[0].to_dict()
    raw = shipped_source(dataset, documents["source_file"], documents["raw_sha256"])
    manifest = load_manifest()
    released = datetime.fromtimestamp(epoch, UTC).date().isoformat()
    for sub in ("parquet", "csv"):
        shutil.copytree(dataset / sub, staging / sub)
    (staging / "raw").mkdir()
    shutil.copyfile(raw, staging / "raw" / raw.name)
    related = related_sources(dataset, tables)
    for name, (path, _) in related.items():
        (staging / "raw" / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, staging / "raw" / name)
    shutil.copyfile(config.MANIFEST, staging / "raw" / "manifest.yaml")
    shutil.copyfile(dataset / "DATA_DICTIONARY.md", staging / "DATA_DICTIONARY.md")
    shutil.copyfile(project.CHANGELOG, staging / "CHANGELOG.md")
    archive_name = source.archive_name(config.version())
    commit = source.write(staging / archive_name, config.version())
    texts = {
        "README.md": card.dataset_card(tables, documents, manifest, released, changelog, commit),
        "CITATION.cff": citation.cff_text(released),
        "LICENSE": card.licence(manifest, released),
    }
    for name, text in texts.items():
        (staging / name).write_text(text, encoding="utf-8")
    with source_date_epoch(epoch):  # the page's JSON-LD dates the release like every other file
        site.run(dataset, staging / "index.html", raw, link_base="")
    description = croissant.descriptor(staging, tables, manifest, released)
    (staging / "croissant.json").write_text(json.dumps(description, ensure_ascii=False, indent=2) + "\n",
                                            encoding="utf-8")
    files = {**EXTRA_FILES, f"raw/{raw.name}": f"The source text, byte for byte: {manifest['title_zh']}.",
             **{f"raw/{name}": f"A related text, byte for byte as retrieved (documents.document_id {document_id}); "
                               "raw/manifest.yaml says where and how." for name, (_, document_id) in related.items()},
             archive_name: f"The pipeline's source: `git archive` of commit {commit}, every tracked file; "
                           "`tar xf` it and run `make dataset` to rebuild the tables."}
    created = datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    package = datapackage.descriptor(staging, documents, manifest, created, files)
    (staging / "datapackage.json").write_text(json.dumps(package, ensure_ascii=False, indent=2) + "\n",
                                              encoding="utf-8")
    archive.write_sums(staging)
    archive.normalize(staging, epoch)


def related_sources(dataset: Path, tables: dict) -> dict[str, tuple[Path, str]]:
    """{path under raw/: (file, document_id)} of every related document the dataset was built from, in
    documents order, each checked as shipped_source checks the letter."""
    return {row.source_file: (shipped_source(dataset, row.source_file, row.raw_sha256), row.document_id)
            for row in tables["documents"].iloc[1:].itertuples()}


# What a dataset may name as its source: a plain file name in raw/, or in raw/related/ for a related text.
_SOURCE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*")


def shipped_source(dataset: Path, source_file: str, sha256: str) -> Path:
    """The raw file a dataset's documents row names, before it ships: the row comes from outside, so its name
    must be a plain file name in raw/ or raw/related/ (never a path out of them, never a link), and the file
    must be within the raw size limit and have the hash the row records."""
    parts = PurePosixPath(source_file).parts
    named = (len(parts) == 1 or (len(parts) == 2 and parts[0] == "related")) and _SOURCE_NAME.fullmatch(parts[-1])
    path = config.RAW_DIR.joinpath(*parts) if named else None
    if path is None or path.is_symlink() or not path.is_file() or path.stat().st_size > config.MAX_RAW_BYTES \
            or archive.sha256_bytes(path.read_bytes()) != sha256:
        raise InputError(f"{dataset}/ was not built from a raw file in {config.RAW_DIR}/ with the hash it records "
                         f"({source_file!r}, {sha256[:12]}…); a release ships the source it was built from.")
    return path


@contextlib.contextmanager
def source_date_epoch(epoch: int) -> Iterator[None]:
    """SOURCE_DATE_EPOCH set to `epoch` for the duration, then restored."""
    before = os.environ.get("SOURCE_DATE_EPOCH")
    os.environ["SOURCE_DATE_EPOCH"] = str(epoch)
    try:
        yield
    finally:
        if before is None:
            del os.environ["SOURCE_DATE_EPOCH"]
        else:
            os.environ["SOURCE_DATE_EPOCH"] = before


def write_assets(release: Release, dataset: Path) -> None:
    release.assets.mkdir(parents=True)
    shutil.copyfile(release.zip, release.assets / release.zip.name)
    shutil.copyfile(dataset / config.DUCKDB_FILE, release.duckdb)
    for sub in ("parquet", "csv"):
        for path in sorted((release.directory / sub).iterdir()):
            shutil.copyfile(path, release.assets / path.name)
    archive.write_sums(release.assets)


def build(dataset: Path = config.OUTPUT_DIR, dist: Path = DIST_DIR, epoch: int | None = None) -> Release:
    version = config.version()
    changelog = project.changelog_entry(version)
    tables = load_dataset(dataset, version)
    check_duckdb(dataset / config.DUCKDB_FILE, version)
    if epoch is None:
        epoch = project.release_epoch(tables["documents"]["publication_date"].iloc[0])
    name = project.release_name(version)

    def write(generation: Path) -> None:
        release = laid_out(generation, name, version, epoch)
        release.directory.mkdir()
        stage(dataset, release.directory, tables, changelog, epoch)
        archive.write_zip(release.directory, release.zip, epoch)
        write_assets(release, dataset)
        verify.check(release.directory)  # as a user will: its checksums, and DuckDB against Parquet

    dist = dist.absolute()
    dist.parent.mkdir(parents=True, exist_ok=True)
    output_directory.replace(dist, RELEASE, write)
    return laid_out(dist, name, version, epoch)


def laid_out(dist: Path, name: str, version: str, epoch: int) -> Release:
    assets = assets_dir(dist, version)
    released = datetime.fromtimestamp(epoch, UTC).date().isoformat()
    return Release(dist / name, dist / f"{name}.zip", assets, assets / f"{name}.duckdb", version, released)


def register(release: Release, registry_path: Path = registry.REGISTRY, root: Path = config.ROOT) -> bool:
    """What `make release` writes into the repository, to commit with the release: the release's digests in
    the registry (False when already there), and CITATION.cff and .zenodo.json at the root, from the same
    declaration as the release's copy."""
    entry = registry.Entry(version=release.version, date=release.released,
                           zip=archive.sha256_file(release.zip),
                           sums=archive.sha256_file(release.assets / archive.SUMS),
                           contents=archive.sha256_file(release.directory / archive.SUMS))
    added = registry.record(entry, registry_path)
    (root / citation.ROOT_CITATION.name).write_text(citation.cff_text(release.released), encoding="utf-8")
    (root / citation.ROOT_ZENODO.name).write_text(citation.zenodo_text(release.released), encoding="utf-8")
    return added
