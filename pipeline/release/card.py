"""The release's human-facing files: the dataset card (README.md, from templates/card.md.j2) and LICENSE.
CITATION.cff is pipeline/release/citation.py's.

Every figure in them is read from the built tables, never typed here.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

import duckdb
import jinja2
import pandas as pd

from pipeline import config, metadata, summary
from pipeline.describe import _cell
from pipeline.release import citation, project, snippets, source

TEMPLATES = Path(__file__).parent / "templates"
HTTPFS_PACKAGE = "duckdb-extension-httpfs"


@cache
def environment() -> jinja2.Environment:
    """Markdown templates: no HTML escaping; `cell` makes text safe inside a table cell."""
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(TEMPLATES), autoescape=False,
                             undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True,
                             keep_trailing_newline=True)
    env.filters["cell"] = _cell
    return env


def _figure(value: float) -> str:
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.4f}".rstrip("0")


def discrepancies(tables: dict[str, pd.DataFrame]) -> list[dict[str, Any]]:
    """Each source discrepancy: the check, what it found, and each figure with its quote."""
    facts = tables["facts"].set_index("fact_id")
    checks = tables["checks"]
    found = []
    for check in checks[checks["status"] == "source_discrepancy"].itertuples():
        measured = pd.notna(check.expected) and pd.notna(check.observed)
        found.append({
            "check_id": check.check_id, "description": check.description,
            "expected": _figure(check.expected) if measured else None,
            "observed": _figure(check.observed) if measured else None,
            "figures": [{"fact_id": fact_id, "quote": facts.loc[fact_id, "quote"],
                         "char_start": facts.loc[fact_id, "char_start"], "char_end": facts.loc[fact_id, "char_end"]}
                        for fact_id in check.fact_ids.split(";")],
            "note": check.note if pd.notna(check.note) else None})
    return found


def dataset_card(tables: dict[str, pd.DataFrame], documents: dict[str, Any], manifest: dict[str, Any],
                 released: str, changelog: str, commit: str) -> str:
    """README.md of the release, from templates/card.md.j2."""
    version = config.version()
    checks, facts = tables["checks"], tables["facts"]
    return environment().get_template("card.md.j2").render(
        name=project.release_name(version), version=version, released=released,
        description=project.description(), doc=documents, source=citation.source(),
        obtained=" ".join(manifest["obtained"].split()), licence_note=manifest["licence_note"],
        fact_count=len(facts), mention_count=len(tables["mentions"]), check_count=len(checks),
        discrepancy_count=int((checks["status"] == "source_discrepancy").sum()),
        tables=[{"name": name, "rows": len(tables[name]), "description": spec["description"]}
                for name, spec in metadata.tables().items()],
        sentence_count=len(tables["sentences"]), bases=list(facts["as_of_basis_en"].value_counts().items()),
        noted=facts[facts["note_en"].notna()].to_dict("records"),
        source_archive=source.archive_name(version), commit=commit, snippets=snippets.SNIPPETS,
        httpfs_package=HTTPFS_PACKAGE, duckdb_version=duckdb.__version__,
        discrepancies=discrepancies(tables), changelog=changelog.replace("## ", "### ", 1),
        apa=citation.apa(released), source_apa=citation.source_apa(), bibtex=citation.bibtex(released),
        summary=summary.render(facts, tables["documents"].iloc[0]), related=related_texts(tables, manifest),
    ).rstrip() + "\n"


def related_texts(tables: dict[str, pd.DataFrame], manifest: dict[str, Any]) -> list[dict[str, Any]]:
    """The other texts the release holds in raw/related/, each with its pairs and its licence note."""
    notes = {entry["document_id"]: " ".join(entry["licence_note"].split())
             for entry in manifest.get("related_documents", [])}
    pairs = tables["corroborations"]["document_id"].value_counts().to_dict()
    rows = tables["documents"].iloc[1:].astype(object).where(tables["documents"].iloc[1:].notna(), None)
    return [{**row, "pairs": pairs.get(row["document_id"], 0), "licence_note": notes.get(row["document_id"], "")}
            for row in rows.to_dict("records")]


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
        *[line for entry in manifest.get("related_documents", []) for line in (
            f"Related text raw/related/{entry['file']} ({entry['document_id']})", "",
            " ".join(entry["licence_note"].split()), "")],
    ])
