"""Arrow schemas and Parquet I/O generated from the table declaration.

Every Parquet file, intermediate or published, is written here with the same settings, so
that two runs on the same input give byte-identical files.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from pipeline import metadata
from pipeline.errors import ValidationFailed

ARROW_TYPES = {"string": pa.string(), "int64": pa.int64(), "float64": pa.float64(), "bool": pa.bool_()}
PANDAS_TYPES = {pa.string(): pd.StringDtype(), pa.int64(): pd.Int64Dtype(),
                pa.float64(): pd.Float64Dtype(), pa.bool_(): pd.BooleanDtype()}
PARQUET_OPTIONS = {"compression": "zstd", "compression_level": 9, "write_statistics": True,
                   "use_dictionary": False, "data_page_version": "2.0", "version": "2.6"}


def field_metadata(column: dict) -> dict[str, str]:
    keys = ("description", "label_zh", "unit")
    meta = {key: str(column[key]) for key in keys if column.get(key)}
    if column.get("derived"):
        meta["derived"] = "true"
    return meta


def arrow_schema(name: str, extra: dict[str, str] | None = None, strict: bool = True) -> pa.Schema:
    """The declared schema. `strict=False` lets every column hold nulls: the tables stage writes what it
    could build, and validation reports a missing value as a named problem rather than a crash."""
    table = metadata.tables()[name]
    fields = [pa.field(c["name"], ARROW_TYPES[c["type"]], nullable=c["nullable"] or not strict,
                       metadata=field_metadata(c))
              for c in table["columns"]]
    table_meta = {"table": name, "title": table["title"], "description": table["description"],
                  "primary_key": json.dumps(table["primary_key"]), **(extra or {})}
    return pa.schema(fields, metadata=table_meta)


def to_arrow(df: pd.DataFrame, name: str, extra: dict[str, str] | None = None, strict: bool = True) -> pa.Table:
    schema = arrow_schema(name, extra, strict)
    table = pa.Table.from_pandas(df, schema=schema, preserve_index=False)
    return table.replace_schema_metadata(schema.metadata)


def write_table(df: pd.DataFrame, name: str, path: Path, extra: dict[str, str] | None = None,
                strict: bool = True) -> None:
    pq.write_table(to_arrow(df, name, extra, strict), path, **PARQUET_OPTIONS)


def read_arrow(path: Path) -> pa.Table:
    # ParquetFile rather than pq.read_table: the same table, without the dataset machinery (pyarrow.dataset
    # and a discovery per file) that reading one known file does not need.
    with open(path, "rb") as f:
        return pq.ParquetFile(f).read()


def to_pandas(table: pa.Table) -> pd.DataFrame:
    return table.to_pandas(types_mapper=PANDAS_TYPES.get)


def read_table(path: Path) -> pd.DataFrame:
    return to_pandas(read_arrow(path))


def with_schema(table: pa.Table, name: str, extra: dict[str, str] | None = None) -> pa.Table:
    """`table` (read from a build file of `name`) under the declared schema, as to_arrow would give it from
    the same data: the same arrays, the declared nullability and field metadata, and `extra` in the
    table's metadata. A column of another type or name is refused, not converted."""
    schema = arrow_schema(name, extra)
    if table.schema.names != schema.names or table.schema.types != schema.types:
        raise ValidationFailed(f"{name}: the build file's columns are not the declared ones; run the tables and "
                               "validate stages again (make dataset)")
    return pa.Table.from_arrays(table.columns, schema=schema)
