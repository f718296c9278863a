"""datapackage.json (Frictionless Data Package) generated from the table declaration.

Every table is published twice, as CSV and as Parquet; both resources carry the same Table Schema.
Foreign keys follow the declaration's own convention: a `fact_id` or `<column>_fact_id` column
joins to facts.fact_id.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

from pipeline import config, metadata
from pipeline.release import project

FIELD_TYPES = {"string": "string", "int64": "integer", "float64": "number", "bool": "boolean"}
FORMATS = {  # suffix: (format, mediatype, encoding)
    ".csv": ("csv", "text/csv", "utf-8"),
    ".parquet": ("parquet", "application/vnd.apache.parquet", None),
    ".md": ("md", "text/markdown", "utf-8"),
    ".html": ("html", "text/html", "utf-8"),
    ".json": ("json", "application/ld+json", "utf-8"),
    ".txt": ("txt", "text/plain", "utf-8"),
    ".yaml": ("yaml", "application/yaml", "utf-8"),
    ".cff": ("cff", "application/yaml", "utf-8"),
    ".tar": ("tar", "application/x-tar", None),
    "": ("txt", "text/plain", "utf-8"),
}
TITLE = "Baoshan resettlement sites: every figure in one government reply"
TITLE_ZH = "保山市易地扶贫搬迁安置点：一份政府答复中的全部统计数字"
LICENSE = {"name": "CC-BY-4.0", "title": "Creative Commons Attribution 4.0 International",
           "path": "https://creativecommons.org/licenses/by/4.0/"}


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def field(column: dict[str, Any]) -> dict[str, Any]:
    spec: dict[str, Any] = {"name": column["name"], "type": FIELD_TYPES[column["type"]],
                            "description": column["description"]}
    if column.get("label_zh"):
        spec["title"] = column["label_zh"]
    if column.get("unit"):
        spec["unit"] = column["unit"]
    if column.get("derived"):
        spec["derived"] = True
    constraints: dict[str, Any] = {}
    if not column["nullable"]:
        constraints["required"] = True
    if column.get("unique"):
        constraints["unique"] = True
    if column.get("allowed"):
        constraints["enum"] = list(column["allowed"])
    if "ge" in column:
        constraints["minimum"] = column["ge"]
    if "le" in column:
        constraints["maximum"] = column["le"]
    if column.get("pattern"):
        constraints["pattern"] = column["pattern"]
    if constraints:
        spec["constraints"] = constraints
    return spec


def is_fact_reference(table_name: str, column_name: str) -> bool:
    return table_name != "facts" and (column_name == "fact_id" or column_name.endswith("_fact_id"))


def table_schema(name: str) -> dict[str, Any]:
    table = metadata.tables()[name]
    schema: dict[str, Any] = {"fields": [field(c) for c in table["columns"]],
                              "missingValues": [""], "primaryKey": list(table["primary_key"])}
    foreign_keys = [{"fields": c["name"], "reference": {"resource": "facts", "fields": "fact_id"}}
                    for c in table["columns"] if is_fact_reference(name, c["name"])]
    if foreign_keys:
        schema["foreignKeys"] = foreign_keys
    return schema


def file_resource(root: Path, path: Path, name: str, description: str) -> dict[str, Any]:
    fmt, mediatype, encoding = FORMATS[path.suffix]
    resource: dict[str, Any] = {"name": name, "path": path.relative_to(root).as_posix(), "description": description,
                                "format": fmt, "mediatype": mediatype}
    if encoding:
        resource["encoding"] = encoding
    resource["bytes"] = path.stat().st_size
    resource["hash"] = f"sha256:{sha256(path)}"
    return resource


def table_resources(root: Path, name: str) -> list[dict[str, Any]]:
    table = metadata.tables()[name]
    resources = []
    csv = file_resource(root, root / "csv" / f"{name}.csv", name, table["description"])
    resources.append({**csv, "title": table["title"], "type": "table", "profile": "tabular-data-resource",
                      "schema": table_schema(name)})
    # Parquet is not a tabular-data-resource format, and frictionless reads its nulls as NaN: the
    # file's size and hash are validated as a file, its data through the CSV twin it equals.
    parquet = file_resource(root, root / "parquet" / f"{name}.parquet", f"{name}-parquet", table["description"])
    resources.append({**parquet, "title": table["title"], "type": "file", "schema": table_schema(name)})
    return resources


def descriptor(root: Path, documents: dict[str, Any], manifest: dict[str, Any], created: str,
               files: dict[str, str]) -> dict[str, Any]:
    """The package for the release directory `root`; `files` maps other relative paths to descriptions."""
    source = {"title": f"{manifest['title_zh']} ({manifest['title_en']})",
              "publisher": f"{documents['publisher_zh']} ({documents['publisher_en']})",
              "date": documents["publication_date"], "index_number": documents["index_number"]}
    if manifest.get("source_url"):
        source["path"] = manifest["source_url"]
    resources = [r for name in metadata.tables() for r in table_resources(root, name)]
    for relative, description in sorted(files.items()):
        name = relative.lower().replace("_", "-").replace(" ", "-")
        resources.append({**file_resource(root, root / relative, name, description), "type": "file"})
    return {
        "name": config.DATASET_NAME,
        "title": TITLE,
        "description": project.description(),
        "version": config.version(),
        "created": created,
        "licenses": [LICENSE],
        "sources": [source],
        "contributors": [{"title": project.AUTHOR, "role": "author"},
                         {"title": source["publisher"], "role": "publisher"}],
        "keywords": list(project.pyproject()["keywords"]),
        "resources": resources,
    }
