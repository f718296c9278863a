"""The release's human-facing files: dataset card (README.md), CITATION.cff and LICENSE.

Every figure in them is read from the built tables, never typed here.
"""

from __future__ import annotations

from typing import Any

import duckdb
import pandas as pd
import yaml

from pipeline import config, metadata, summary
from pipeline.describe import _cell
from pipeline.release import project

HTTPFS_PACKAGE = "duckdb-extension-httpfs"


def _figure(value: float) -> str:
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.4f}".rstrip("0")


def discrepancies(tables: dict[str, pd.DataFrame]) -> list[str]:
    """One block per source discrepancy: the check, what it found, and each figure with its quote."""
    facts = tables["facts"].set_index("fact_id")
    checks = tables["checks"]
    blocks = []
    for check in checks[checks["status"] == "source_discrepancy"].itertuples():
        lines = [f"### `{check.check_id}`", "", f"{check.description}", ""]
        if pd.notna(check.expected) and pd.notna(check.observed):
            lines += [f"Expected {_figure(check.expected)}, observed {_figure(check.observed)}.", ""]
        lines += ["| figure | quote | characters |", "|---|---|---|"]
        for fact_id in check.fact_ids.split(";"):
            fact = facts.loc[fact_id]
            lines.append(f"| `{fact_id}` | {_cell(fact['quote'])} | {fact['char_start']}–{fact['char_end']} |")
        lines += ["", f"{check.note}" if pd.notna(check.note) else ""]
        blocks.append("\n".join(lines).rstrip())
    return blocks


def reading_notes(tables: dict[str, pd.DataFrame]) -> list[str]:
    """What a reader needs beside each value: its sentence in English, its period, its area, its notes."""
    facts = tables["facts"]
    bases = facts["as_of_basis_en"].value_counts()
    noted = facts[facts["note_en"].notna()]
    return [
        f"`sentences` holds the letter in {len(tables['sentences'])} sentences, each in Chinese and in an English "
        "translation written for this dataset; every figure in the English is rendered from the published value. "
        "`facts.sentence_id` joins each figure to its sentence.",
        "",
        "Every figure has a reference period (`as_of`, ISO 8601: a date, a month, a year or an interval such as "
        "`2016/2021-07-29`) and says where it comes from (`as_of_basis`): "
        + "; ".join(f"{basis.lower()}: {count}" for basis, count in bases.items())
        + ". `as_of_quote` is the phrase that gives it. `ref_area_code` is the GB/T 2260 code of the area "
        "the figure describes (joins to `places.admin_code`).",
        "",
        f"Reading {len(noted)} figures took a choice; `note_en` and `note_zh` say which, with both readings and "
        "the values they imply where there are two:",
        "",
        *(f"- `{row.fact_id}` ({_cell(row.quote)}): {_cell(row.note_en)}" for row in noted.itertuples()),
        "",
        "`checks.relation` says whether a check is a relation the text implies or only a plausibility limit.",
    ]


def dataset_card(tables: dict[str, pd.DataFrame], documents: dict[str, Any], manifest: dict[str, Any],
                 released: str, changelog: str) -> str:
    version = config.version()
    name = project.release_name(version)
    checks = tables["checks"]
    n_discrepancies = int((checks["status"] == "source_discrepancy").sum())
    table_rows = [f"| `{t}` | {len(tables[t])} | {_cell(spec['description'])} |"
                  for t, spec in metadata.tables().items()]
    source_url = manifest.get("source_url") or "not recorded when the text was collected"
    sections = [
        f"# {name}: Baoshan resettlement sites, every figure in one government reply",
        "",
        f"Version {version}, released {released}. {project.description()}",
        "",
        "## Summary",
        "",
        summary.render(tables["facts"], tables["documents"].iloc[0]),
        "",
        "## What this is",
        "",
        f"The {documents['publisher_zh']} ({documents['publisher_en']}) published, on "
        f"{documents['publication_date']}, its reply {manifest['title_zh']} ({manifest['title_en']}). "
        f"This dataset holds every statistical figure in it ({len(tables['facts'])} figures, "
        f"{len(tables['mentions'])} numeric mentions accounted for), each traced to the exact characters "
        f"it came from: `text[char_start:char_end] == quote`, with code-point offsets into the source text "
        f"in `raw/`. {len(checks)} arithmetic checks relate the figures; {n_discrepancies} of them record "
        "inconsistencies in the source, published as they are and not corrected.",
        "",
        "| table | rows | description |",
        "|---|---|---|",
        *table_rows,
        "",
        "Every column is described in `DATA_DICTIONARY.md`, in `datapackage.json`, in the Parquet field "
        "metadata and in the DuckDB comments, all generated from one declaration.",
        "",
        "## Reading the figures",
        "",
        *reading_notes(tables),
        "",
        "## Source",
        "",
        f"- Title: {manifest['title_zh']}",
        f"- Publisher: {documents['publisher_zh']} ({documents['publisher_en']})",
        f"- Publication date: {documents['publication_date']}",
        f"- Index number (索引号): {documents['index_number']}",
        f"- URL: {source_url}",
        f"- File: `raw/{documents['source_file']}`, sha256 `{documents['raw_sha256']}`",
        f"- How it was obtained: {manifest['obtained']}",
        "",
        "## How it was processed",
        "",
        "A generic tokenizer finds every number in the text; a catalog declares each figure once (labels, "
        "unit, an anchor pattern, never a value) and the build fails when an anchor matches no number or "
        "several, or when a number is accounted for by nothing. The tables are validated against schemas "
        "and cross-figure checks generated from the same declaration. `raw/` holds the source and its "
        "manifest, so the pipeline can be rerun from this release alone.",
        "",
        "## Files",
        "",
        "- `parquet/<table>.parquet` (zstd) and `csv/<table>.csv` (UTF-8, header row; text cells that a "
        "spreadsheet would run as a formula start with an apostrophe)",
        "- `datapackage.json`: Frictionless Data Package with a Table Schema per table, sizes and sha256 hashes",
        "- `croissant.json`: MLCommons Croissant 1.1 description; `mlcroissant` loads every table from it",
        "- `index.html`: the dataset page; open it from disk, no server or network needed. It charts the "
        "coverage and population figures, shows every table, and links every figure to its highlighted sentence",
        "- `DATA_DICTIONARY.md`, `CHANGELOG.md`, `CITATION.cff`, `LICENSE`, `raw/`",
        "- `SHA256SUMS`: check with `sha256sum -c SHA256SUMS`, or `python -m pipeline verify DIR_OR_ZIP`",
        "",
        f"The DuckDB database is a separate release asset, `{name}.duckdb`, outside the zip: DuckDB does "
        "not promise byte-identical files, while the zip is reproducible byte for byte (fixed timestamps, "
        "sorted entries, fixed permissions). Its contents are tested against the Parquet files instead; "
        "its hash is in the release's asset `SHA256SUMS`. Each Parquet and CSV file is also a separate "
        "asset, so one table can be downloaded or queried remotely.",
        "",
        "## How to query",
        "",
        "DuckDB:",
        "",
        "```sql",
        "SELECT fact_id, metric_en, value, unit, quote FROM 'parquet/facts.parquet' WHERE unit = 'percent';",
        "SELECT check_id, expected, observed, note FROM 'parquet/checks.parquet' "
        "WHERE status = 'source_discrepancy';",
        "```",
        "",
        "pandas:",
        "",
        "```python",
        "import pandas as pd",
        "facts = pd.read_parquet('parquet/facts.parquet')",
        "```",
        "",
        "Remote Parquet over HTTP, without downloading the release (DuckDB fetches only the bytes it needs):",
        "",
        "```sql",
        "INSTALL httpfs; LOAD httpfs;  -- needs internet access to DuckDB's extension repository",
        f"SELECT * FROM read_parquet('RELEASE_URL/v{version}/facts.parquet');",
        "```",
        "",
        f"`RELEASE_URL` is where the release assets are published (`python -m pipeline download "
        f"--version {version} --base-url RELEASE_URL` fetches and verifies the whole release). Without "
        f"access to DuckDB's extension repository, `pip install {HTTPFS_PACKAGE}=={duckdb.__version__}` "
        "(the version must equal DuckDB's) and load the file it ships by path: "
        "`LOAD '<site-packages>/duckdb_extension_httpfs/extensions/v<version>/httpfs.duckdb_extension'`.",
        "",
        "## Known source discrepancies",
        "",
        *("\n\n".join(discrepancies(tables)).splitlines() or ["None."]),
        "",
        "## Versions",
        "",
        "SemVer for data: a major version renames, removes or retypes a table or column; a minor version "
        "adds data; a patch corrects values or metadata. The version is in the release name, "
        "`datapackage.json`, `CITATION.cff`, the Parquet metadata (`dataset_version`) and the DuckDB "
        "table `dataset_metadata`.",
        "",
        changelog.replace("## ", "### ", 1),
        "",
        "## How to cite",
        "",
        f"{project.AUTHOR} ({released[:4]}). *{name}* (version {version}) [data set]. See `CITATION.cff`.",
        "",
        "## Licence",
        "",
        "The tables, documentation and metadata are licensed under CC BY 4.0 (see `LICENSE`). "
        f"The source text: {manifest['licence_note']}",
    ]
    return "\n".join(sections).rstrip() + "\n"


def citation(documents: dict[str, Any], manifest: dict[str, Any], released: str) -> str:
    """CITATION.cff (CFF 1.2.0)."""
    cff = {
        "cff-version": "1.2.0",
        "message": "If you use this dataset, please cite it as below.",
        "type": "dataset",
        "title": f"{config.DATASET_NAME}: Baoshan resettlement sites, every figure in one government reply",
        "version": config.version(),
        "date-released": released,
        "license": "CC-BY-4.0",
        "abstract": project.description(),
        "authors": [{"name": project.AUTHOR}],
        "keywords": ["resettlement", "poverty alleviation", "Baoshan", "open data"],
        "references": [{
            "type": "government-document",
            "title": manifest["title_zh"],
            "authors": [{"name": f"{documents['publisher_zh']} ({documents['publisher_en']})"}],
            "date-published": documents["publication_date"],
            "notes": f"Index number {documents['index_number']}; {manifest['title_en']}.",
        }],
    }
    if manifest.get("source_url"):
        cff["references"][0]["url"] = manifest["source_url"]
    return yaml.safe_dump(cff, allow_unicode=True, sort_keys=False, width=1000)


def licence(manifest: dict[str, Any], released: str) -> str:
    return "\n".join([
        f"{config.DATASET_NAME} {config.version()}",
        f"Copyright {released[:4]} {project.AUTHOR}",
        "",
        "The tables (parquet/, csv/, the DuckDB database), their documentation and metadata are licensed",
        "under the Creative Commons Attribution 4.0 International licence (CC BY 4.0):",
        "https://creativecommons.org/licenses/by/4.0/legalcode",
        "You may share and adapt them for any purpose, provided you give appropriate credit (see CITATION.cff),",
        "link to the licence, and indicate whether changes were made.",
        "",
        "Source text (raw/)",
        "",
        manifest["licence_note"],
        "",
    ])
