"""Paths and settings shared by every stage. Importing this module is cheap on purpose."""

from __future__ import annotations

import tomllib
from functools import cache
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CATALOG_DIR = ROOT / "pipeline" / "catalog"
RAW_DIR = ROOT / "raw"
RAW_FILE = RAW_DIR / "baoshan_civil_affairs_reply_cppcc_proposal_0132_2021-07-29.txt"
MANIFEST = RAW_DIR / "manifest.yaml"
BUILD_DIR = ROOT / "build"
OUTPUT_DIR = ROOT / "output"

DATASET_NAME = "baoshan-resettlement"
DUCKDB_FILE = "baoshan_resettlement.duckdb"

# The document is ~11 KB. Anything far larger is not this document's layout, and refusing it
# before reading keeps memory bounded. The `mentions` command streams and has no limit.
MAX_RAW_BYTES = 1_048_576


@cache
def version() -> str:
    """The dataset version; pyproject.toml is its single source of truth."""
    with open(ROOT / "pyproject.toml", "rb") as f:
        return tomllib.load(f)["project"]["version"]


def build_paths(build_dir: Path) -> dict[str, Path]:
    """The files the stages hand each other, in order."""
    return {
        "ingest": build_dir / "ingest.json",
        "extract": build_dir / "extract.json",
        "tables": build_dir / "tables",
        "checks": build_dir / "checks.parquet",
    }
