"""Paths and settings shared by every stage. Importing this module is cheap on purpose."""

from __future__ import annotations

import atexit
import gc
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
RELEASE_REGISTRY = ROOT / "releases.yaml"  # released versions and their digests (pipeline/release/registry.py)

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
        "related": build_dir / "related.json",
        "tables": build_dir / "tables",
        "checks": build_dir / "checks.parquet",
    }


# Collect the youngest generation every 4,000 net allocations, not Python's default 700 (3.13 raised its
# own default to 2,000). See tune_gc_for_one_build.
GC_THRESHOLD = 4000


def tune_gc_for_one_build() -> None:
    """Garbage-collector settings for a process that runs one build and exits (`make dataset`, `python -m
    pipeline build`), not for a long process such as the tests, which run many builds.

    A build allocates millions of short-lived objects, almost none in reference cycles (a few hundred per
    stage; the raw text is at most MAX_RAW_BYTES), over a heap that importing pandas, pyarrow and pandera
    makes large. With the default threshold the collector ran about 390 times, 0.15 s of a 1.1 s build;
    with GC_THRESHOLD, 50 times and 0.05 s, at the same peak memory, and it still runs, so garbage in
    cycles stays bounded. At exit the heap is frozen: interpreter shutdown would otherwise run the
    collector over every object while it tears the modules down (0.1 to 0.15 s). Exit handlers and
    destructors still run; only the collector is spared, and the memory goes back to the system anyway.
    """
    gc.set_threshold(GC_THRESHOLD, *gc.get_threshold()[1:])
    atexit.register(gc.freeze)
