"""schema.org `Dataset` JSON-LD: what search engines index on the dataset page, and the dataset-level
part of croissant.json.

Every value comes from the published tables (figures, places, the document), pyproject.toml (version,
description, keywords, release URL), raw/manifest.yaml and CITATION.cff as `citation.cff` writes it;
nothing here is typed in. The date is the release's (`project.release_epoch`), never the clock.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from typing import Any

import pandas as pd

from pipeline import config, metadata
from pipeline.errors import ValidationFailed
from pipeline.release import citation as citation_
from pipeline.release import datapackage, project
from pipeline.stages.ingest import load_manifest

SCHEMA_ORG = "https://schema.org/"
LANGUAGES = ["zh-Hans", "en"]
# The formats a release offers, as (encodingFormat, label). Parquet's media type is IANA-registered.
PARQUET = "application/vnd.apache.parquet"
CSV = "text/csv"
DUCKDB = "application/vnd.duckdb"
ZIP = "application/zip"

_PERIOD = re.compile(r"(\d{4})(?:-(\d{2}))?(?:-(\d{2}))?")


def _bounds(period: str) -> tuple[tuple[int, int, int], tuple[int, int, int]]:
    """First and last day a year, month or date covers, as (year, month, day); the last day of a month
    is written 31, which orders correctly against any real date in it."""
    match = _PERIOD.fullmatch(period)
    if match is None:
        raise ValueError(period)
    year, month, day = int(match[1]), match[2] and int(match[2]), match[3] and int(match[3])
    return (year, month or 1, day or 1), (year, month or 12, day or 31)


def temporal_coverage(as_of: pd.Series) -> str | None:
    """The ISO 8601 period that the figures' `as_of` values span: a date, year or month, or `start/end`.

    Null values are ignored; `a/b` intervals count from the start of `a` to the end of `b`. None when no
    figure is dated.
    """
    starts, ends = [], []
    for value in sorted(set(as_of.dropna())):
        first, _, last = value.partition("/")
        last = last or first
        try:
            starts.append((_bounds(first)[0], len(first), first))
            ends.append((_bounds(last)[1], -len(last), last))  # on a tie, the coarser value: 2020, not 2020-12-31
        except ValueError:
            raise ValidationFailed(f"check temporal_coverage failed: facts.as_of holds {value!r}, which is not an "
                                   "ISO 8601 date, month, year or `start/end` interval of them.") from None
    if not starts:
        return None
    start, end = min(starts)[-1], max(ends)[-1]
    return start if start == end else f"{start}/{end}"


def _number(value: float) -> int | float:
    return int(value) if float(value).is_integer() else float(value)


def variable_measured(facts: pd.DataFrame) -> list[dict[str, Any]]:
    """One PropertyValue per figure: its fact_id, English and Chinese label, value (or range) and unit."""
    variables = []
    for fact in facts.itertuples():
        variable: dict[str, Any] = {"@type": "PropertyValue", "propertyID": fact.fact_id, "name": fact.metric_en,
                                    "alternateName": fact.metric_zh}
        if pd.isna(fact.value_max):
            variable["value"] = _number(fact.value)
        else:
            variable["minValue"], variable["maxValue"] = _number(fact.value), _number(fact.value_max)
        variable["unitText"] = fact.unit_en
        variable["description"] = (f"{fact.qualifier_en}; source “{fact.quote}”, characters "
                                   f"{fact.char_start}–{fact.char_end} of the text.")
        variables.append(variable)
    return variables


def spatial_coverage(places: pd.DataFrame) -> dict[str, Any]:
    """The prefecture the document covers, with its GB/T 2260 code, inside its province."""
    prefectures = places[places["level"] == "prefecture"]
    if len(prefectures) != 1:
        raise ValidationFailed(f"check spatial_coverage failed: the places table has {len(prefectures)} places "
                               "of level prefecture, not one; the dataset covers one prefecture.")
    place = prefectures.iloc[0]
    result = _place(place)
    parent = places[places["place_id"] == place["parent_place_id"]]
    if len(parent) == 1:
        result["containedInPlace"] = _place(parent.iloc[0])
    return result


def _place(place: pd.Series) -> dict[str, Any]:
    result: dict[str, Any] = {"@type": "Place", "name": place["name_zh"], "alternateName": place["name_en"]}
    if isinstance(place["admin_code"], str) and place["admin_code"]:
        result["identifier"] = {"@type": "PropertyValue", "propertyID": "GB/T 2260",
                                "value": place["admin_code"]}
    return result


def released(documents: pd.DataFrame) -> str:
    """The release date every release file carries (SOURCE_DATE_EPOCH, else the last commit, else the
    document's date): never the clock."""
    epoch = project.release_epoch(documents["publication_date"].iloc[0])
    return datetime.fromtimestamp(epoch, UTC).date().isoformat()


def citation(documents: dict[str, Any], manifest: dict[str, Any]) -> dict[str, Any]:
    """The work the dataset cites: the source letter, with its APA reference as `text`."""
    return {**based_on(documents, manifest), "text": citation_.source_apa()}


def based_on(documents: dict[str, Any], manifest: dict[str, Any]) -> dict[str, Any]:
    """The source letter."""
    source: dict[str, Any] = {
        "@type": "CreativeWork", "name": manifest["title_zh"], "alternateName": manifest["title_en"],
        "publisher": {"@type": "GovernmentOrganization", "name": documents["publisher_zh"],
                      "alternateName": documents["publisher_en"]},
        "datePublished": documents["publication_date"], "identifier": documents["index_number"],
        "inLanguage": "zh-Hans",
        "isPartOf": {"@type": "Collection", "name": documents["catalogue_zh"],
                     "alternateName": documents["catalogue_en"]},
    }
    if manifest.get("source_url"):
        source["url"] = manifest["source_url"]
    return source


def keywords(tables: dict[str, pd.DataFrame]) -> list[str]:
    """pyproject.toml's keywords, then the places' and glossary terms' Chinese names, once each."""
    words = list(project.pyproject().get("keywords", []))
    places = tables["places"]
    words += list(places.loc[places["level"].isin(["province", "prefecture"]), "name_zh"])
    words += list(tables["glossary"]["term_zh"])
    return list(dict.fromkeys(words))


def release_url() -> str | None:
    """Where `v<version>/<asset>` is published, if configured ($RELEASE_BASE_URL, or `[project.urls]
    Releases` in pyproject.toml): then every contentUrl is absolute."""
    return project.release_base_url()


def dataset(tables: dict[str, pd.DataFrame], manifest: dict[str, Any], date: str) -> dict[str, Any]:
    """The schema.org Dataset properties the page and croissant.json share (no @context, no distribution)."""
    documents = tables["documents"].iloc[0].to_dict()
    author = {"@type": "Organization", "name": project.AUTHOR}
    result: dict[str, Any] = {
        "@type": "Dataset",
        "name": datapackage.TITLE,
        "alternateName": datapackage.TITLE_ZH,
        "description": project.description(),
        "identifier": project.release_name(),
        "version": config.version(),
        "datePublished": date,
        "license": datapackage.LICENSE["path"],
        "creator": author,
        "publisher": author,
        "citation": citation(documents, manifest),
        "creditText": citation_.apa(date),
        "isBasedOn": based_on(documents, manifest),
        "inLanguage": LANGUAGES,
        "spatialCoverage": spatial_coverage(tables["places"]),
        "keywords": keywords(tables),
    }
    coverage = temporal_coverage(tables["facts"]["as_of"])
    if coverage:
        result["temporalCoverage"] = coverage
    result["url"] = f"{release_url()}/v{config.version()}/" if release_url() else "index.html"
    return result


def distribution(tables: dict[str, pd.DataFrame], link_base: str) -> list[dict[str, Any]]:
    """One DataDownload per file and format: each table as Parquet and CSV, the DuckDB database, the zip.

    Table files are linked like the page links them (`link_base`: "" in a release directory, "../" in
    output/site/). The zip, and in a release the DuckDB file, are release assets: under
    `[project.urls] Releases` when configured, else relative to the page in the dist/ layout
    (dist/<name>-<version>/index.html, dist/v<version>/<asset>).
    """
    version, name = config.version(), project.release_name()
    in_release = link_base == ""
    if release_url():
        assets = f"{release_url()}/v{version}/"
    else:
        assets = f"../v{version}/" if in_release else f"{link_base}../dist/v{version}/"
    downloads = []
    for table in metadata.tables():
        for fmt, media in (("parquet", PARQUET), ("csv", CSV)):
            url = f"{assets}{table}.{fmt}" if release_url() else f"{link_base}{fmt}/{table}.{fmt}"
            downloads.append({"@type": "DataDownload", "name": f"{table}.{fmt}", "encodingFormat": media,
                              "contentUrl": url})
    duckdb_url = f"{assets}{name}.duckdb" if in_release or release_url() else f"{link_base}{config.DUCKDB_FILE}"
    downloads.append({"@type": "DataDownload", "name": duckdb_url.rsplit("/", 1)[-1], "encodingFormat": DUCKDB,
                      "contentUrl": duckdb_url, "description": "Every table in one DuckDB database."})
    downloads.append({"@type": "DataDownload", "name": f"{name}.zip", "encodingFormat": ZIP,
                      "contentUrl": f"{assets}{name}.zip",
                      "description": "The release: Parquet, CSV, metadata, the source text and checksums."})
    return downloads


def page_dataset(tables: dict[str, pd.DataFrame], link_base: str) -> dict[str, Any]:
    """The JSON-LD the dataset page embeds."""
    manifest = load_manifest()
    return {"@context": SCHEMA_ORG, **dataset(tables, manifest, released(tables["documents"])),
            "variableMeasured": variable_measured(tables["facts"]),
            "distribution": distribution(tables, link_base)}


def script(data: dict[str, Any]) -> str:
    """A <script type="application/ld+json"> element. `<` is escaped, so no text from the document can
    close the element or open a comment; JSON parsers read `\\u003c` back as `<`."""
    text = json.dumps(data, ensure_ascii=False, indent=1).replace("<", "\\u003c").replace(">", "\\u003e")
    return f'<script type="application/ld+json">\n{text}\n</script>'


def script_tag(tables: dict[str, pd.DataFrame], link_base: str) -> str:
    """The page's JSON-LD block, for its <head>."""
    return script(page_dataset(tables, link_base))
