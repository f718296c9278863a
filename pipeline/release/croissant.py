"""croissant.json: the release described in MLCommons Croissant 1.1, generated from the table declaration.

The dataset-level properties are the page's schema.org Dataset (`pipeline/site/jsonld.py`). Each Parquet
file is a `FileObject` with its size and sha256; each table is a `RecordSet` with a `Field` per
declared column (its data type and description, read from the Parquet column of the same name), the
primary key as `key`, and every `fact_id` or `<column>_fact_id` column a reference to facts/fact_id.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pandas as pd

from pipeline import config, metadata
from pipeline.release import citation, datapackage, project
from pipeline.site import jsonld

CONFORMS_TO = "http://mlcommons.org/croissant/1.1"
PARQUET = "application/x-parquet"  # the media type mlcroissant reads Parquet by
CJK = re.compile(r"[\u3400-\u9fff]")
LATIN = re.compile(r"[A-Za-z]")
DATA_TYPES = {"string": "sc:Text", "int64": "sc:Integer", "float64": "sc:Float", "bool": "sc:Boolean"}
# The JSON-LD context of Croissant 1.1 (the specification's Appendix 1, as mlcroissant writes it).
CONTEXT: dict[str, Any] = {
    "@language": "en",
    "@vocab": "https://schema.org/",
    "arrayShape": "cr:arrayShape",
    "citeAs": "cr:citeAs",
    "column": "cr:column",
    "conformsTo": "dct:conformsTo",
    "containedIn": "cr:containedIn",
    "cr": "http://mlcommons.org/croissant/",
    "rai": "http://mlcommons.org/croissant/RAI/",
    "data": {"@id": "cr:data", "@type": "@json"},
    "dataType": {"@id": "cr:dataType", "@type": "@vocab"},
    "dct": "http://purl.org/dc/terms/",
    "examples": {"@id": "cr:examples", "@type": "@json"},
    "equivalentProperty": "cr:equivalentProperty",
    "extract": "cr:extract",
    "field": "cr:field",
    "fileProperty": "cr:fileProperty",
    "fileObject": "cr:fileObject",
    "fileSet": "cr:fileSet",
    "format": "cr:format",
    "includes": "cr:includes",
    "isArray": "cr:isArray",
    "isLiveDataset": "cr:isLiveDataset",
    "jsonPath": "cr:jsonPath",
    "key": "cr:key",
    "md5": "cr:md5",
    "parentField": "cr:parentField",
    "path": "cr:path",
    "recordSet": "cr:recordSet",
    "references": "cr:references",
    "regex": "cr:regex",
    "repeated": "cr:repeated",
    "replace": "cr:replace",
    "samplingRate": "cr:samplingRate",
    "sc": "https://schema.org/",
    "separator": "cr:separator",
    "source": "cr:source",
    "subField": "cr:subField",
    "transform": "cr:transform",
}


def file_id(table: str) -> str:
    return f"parquet/{table}.parquet"


def content_url(table: str) -> str:
    """Relative to croissant.json, or, when a release URL is configured, the release asset's address."""
    base = project.release_base_url()
    return f"{base}/v{config.version()}/{table}.parquet" if base else file_id(table)


def file_object(root: Path, table: str) -> dict[str, Any]:
    path = root / file_id(table)
    return {"@type": "cr:FileObject", "@id": file_id(table), "name": path.name,
            "description": f"The {table} table as Parquet (zstd).", "contentUrl": content_url(table),
            "contentSize": f"{path.stat().st_size} B", "encodingFormat": PARQUET,
            "sha256": datapackage.sha256(path)}


def field(table: str, column: dict[str, Any]) -> dict[str, Any]:
    spec: dict[str, Any] = {
        "@type": "cr:Field", "@id": f"{table}/{column['name']}", "name": column["name"],
        "description": column["description"], "dataType": DATA_TYPES[column["type"]],
        "source": {"fileObject": {"@id": file_id(table)}, "extract": {"column": column["name"]}},
    }
    if datapackage.is_fact_reference(table, column["name"]):
        spec["references"] = {"field": {"@id": "facts/fact_id"}}
    return spec


def record_set(table: str) -> dict[str, Any]:
    declared = metadata.tables()[table]
    return {"@type": "cr:RecordSet", "@id": table, "name": table,
            "description": f"{declared['title']}. {declared['description']}",
            "key": [{"@id": f"{table}/{column}"} for column in declared["primary_key"]],
            "field": [field(table, column) for column in declared["columns"]]}


def cite_as(released: str) -> str:
    """The dataset as BibTeX, the form Croissant recommends for `citeAs`."""
    return citation.bibtex(released)


def tag_chinese(value: Any) -> Any:
    """The context's default language is English: every Chinese string (one with a CJK character and no
    Latin letter) becomes a value tagged zh-Hans, so RDF readers see its language."""
    if isinstance(value, dict):
        return {k: v if k.startswith("@") else tag_chinese(v) for k, v in value.items()}
    if isinstance(value, list):
        return [tag_chinese(v) for v in value]
    if isinstance(value, str) and CJK.search(value) and not LATIN.search(value):
        return {"@value": value, "@language": "zh-Hans"}
    return value


def descriptor(root: Path, tables: dict[str, pd.DataFrame], manifest: dict[str, Any],
               released: str) -> dict[str, Any]:
    """croissant.json for the release directory `root`, whose Parquet files are already in place."""
    dataset = tag_chinese(jsonld.dataset(tables, manifest, released))
    return {
        "@context": CONTEXT,
        **dataset,
        "@type": "sc:Dataset",
        "conformsTo": CONFORMS_TO,
        "citeAs": cite_as(released),
        "url": dataset.get("url", "index.html"),
        "distribution": [file_object(root, table) for table in metadata.tables()],
        "recordSet": [record_set(table) for table in metadata.tables()],
    }
