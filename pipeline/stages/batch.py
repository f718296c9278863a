"""Run, in one process and in order, the stages that Make found stale.

Make stays the judge of what is stale: each stage's rule only appends the stage's name to
build/.queue, and the last rule runs this module. One process imports pandas, pandera and pyarrow
once instead of once per stage, which is most of a from-scratch build's time. When publish is
queued, its DuckDB writer (pipeline.database, a process that imports only duckdb) is started first,
so that its import runs on the other CPU while this process imports the rest. Every stage still
runs alone as `python -m pipeline.stages.<stage>`.
"""

from __future__ import annotations

import importlib
import sys
from pathlib import Path

from pipeline import config, database
from pipeline.errors import report

ORDER = ("ingest", "extract", "related", "tables", "validate", "publish")


def run(queue: Path) -> None:
    queued = set(queue.read_text(encoding="utf-8").split()) if queue.exists() else set()
    queue.unlink(missing_ok=True)  # a failed run leaves its stale targets stale, so Make queues them again
    unknown = queued - set(ORDER)
    if unknown:
        raise SystemExit(f"unknown stages in {queue}: {sorted(unknown)}")
    if "publish" in queued:
        database.start()
    try:
        for name in ORDER:
            if name in queued:
                print(f"stage: python -m pipeline.stages.{name}", flush=True)
                sys.argv = [f"pipeline.stages.{name}"]
                importlib.import_module(f"pipeline.stages.{name}").main()
    finally:
        database.discard()


if __name__ == "__main__":
    config.tune_gc_for_one_build()
    report(lambda: run(Path(sys.argv[1])))
