"""The top of the page and its footer: what the dataset is, its version, date and licence, where to download
it, how to cite it, how to load it, and the source's discrepancies, before anything else.

Links are relative to the release's own files (the page is index.html at the top of the release directory,
the zip and the DuckDB file are release assets in ../v<version>/), or absolute under the configured release
URL: the same addresses as the page's JSON-LD (jsonld.distribution).
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from pipeline import config, metadata
from pipeline.release import citation, project, snippets
from pipeline.site import jsonld, values

LICENCE = {"name": "CC BY 4.0", "url": citation.LICENCE_URL}


def assets_base(link_base: str) -> str:
    """Where the release assets are, seen from the page (the rule of jsonld.distribution)."""
    base = project.release_base_url()
    if base:
        return f"{base}/v{config.version()}/"
    return f"../v{config.version()}/" if link_base == "" else f"{link_base}../dist/v{config.version()}/"


def downloads(tables: dict[str, pd.DataFrame], link_base: str) -> dict[str, Any]:
    """The main files (zip, DuckDB, data dictionary, checksums), and each table as Parquet and CSV."""
    by_name = {d["name"]: d for d in jsonld.distribution(tables, link_base)}
    name = project.release_name()
    duckdb = next(d for d in by_name.values() if d["encodingFormat"] == jsonld.DUCKDB)
    in_release = link_base == ""
    main = [
        {"label": "Everything (zip)", "href": by_name[f"{name}.zip"]["contentUrl"], "file": f"{name}.zip",
         "note": "Parquet, CSV, metadata, this page, the source text and the pipeline's source"},
        {"label": "DuckDB database", "href": duckdb["contentUrl"], "file": duckdb["name"],
         "note": "every table, with comments"},
        {"label": "Data dictionary", "href": f"{link_base}DATA_DICTIONARY.md", "file": "DATA_DICTIONARY.md",
         "note": "every table, column and figure"},
        {"label": "Checksums", "href": "SHA256SUMS" if in_release else f"{assets_base(link_base)}SHA256SUMS",
         "file": "SHA256SUMS", "note": "sha256 of every file; python -m pipeline verify checks them"},
    ]
    per_table = [{"name": table, "title": spec["title"],
                  "parquet": by_name[f"{table}.parquet"]["contentUrl"], "csv": by_name[f"{table}.csv"]["contentUrl"]}
                 for table, spec in metadata.tables().items()]
    return {"main": main, "tables": per_table}


def discrepancies(tables: dict[str, pd.DataFrame]) -> list[dict[str, Any]]:
    """The checks the source fails, pinned: what each says, its numbers, and its figures with their quotes."""
    facts = tables["facts"].set_index("fact_id")
    checks = tables["checks"]
    found = []
    for check in checks[checks["status"] == "source_discrepancy"].itertuples():
        found.append({
            "check_id": check.check_id, "description": check.description,
            "expected": values.number(check.expected), "observed": values.number(check.observed),
            "note": "" if values.blank(check.note) else check.note,
            "figures": [{"fact_id": fact_id, "quote": facts.loc[fact_id, "quote"],
                         "metric_en": facts.loc[fact_id, "metric_en"], "value": values.fact_value(facts.loc[fact_id])}
                        for fact_id in check.fact_ids.split(";")]})
    return found


def discrepancy_of(found: list[dict[str, Any]]) -> dict[str, str]:
    """fact_id -> the id of a discrepancy the figure is part of."""
    return {figure["fact_id"]: check["check_id"] for check in found for figure in check["figures"]}


def context(tables: dict[str, pd.DataFrame], link_base: str) -> dict[str, Any]:
    """What front.html.j2 and footer.html.j2 show."""
    released = jsonld.released(tables["documents"])
    found = discrepancies(tables)
    return {
        "released": released, "licence": LICENCE, "source": citation.source(),
        "downloads": downloads(tables, link_base), "discrepancies": found, "discrepancy_of": discrepancy_of(found),
        "apa": citation.apa(released), "source_apa": citation.source_apa(), "bibtex": citation.bibtex(released),
        "snippets": [{"id": s.id, "label": s.label, "language": s.language, "code": s.for_directory("parquet/")}
                     for s in snippets.SNIPPETS],
    }
