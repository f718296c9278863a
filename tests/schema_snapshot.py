"""The published tables' columns and types, as committed in tests/data/schema_snapshot.json.

For a data user a removed, renamed or retyped column is a breaking change: it may only come with a
new major version whose CHANGELOG entry names the column (`table.column`). An added column is not
breaking, but the snapshot must be regenerated to take it in, so that every change is seen in review.

    python -m tests.schema_snapshot    # rewrite the snapshot from pipeline/catalog/tables.yaml

The command refuses a breaking change that the version and the CHANGELOG do not announce.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from pipeline import config, metadata
from pipeline.errors import InputError
from pipeline.release import project

SNAPSHOT = Path(__file__).parent / "data" / "schema_snapshot.json"


def declared() -> dict[str, dict[str, str]]:
    """{table: {column: type}} of every published table, in the declared order."""
    return {name: {c["name"]: c["type"] for c in table["columns"]} for name, table in metadata.tables().items()}


def load() -> dict:
    return json.loads(SNAPSHOT.read_text(encoding="utf-8"))


def breaking(old: dict[str, dict[str, str]], new: dict[str, dict[str, str]]) -> list[str]:
    """`table.column (what happened)` for each column of `old` that `new` removes or retypes."""
    changes = []
    for table, columns in old.items():
        for column, type_ in columns.items():
            now = new.get(table, {}).get(column)
            if now is None:
                changes.append(f"{table}.{column} (removed or renamed)")
            elif now != type_:
                changes.append(f"{table}.{column} (retyped from {type_} to {now})")
    return changes


def added(old: dict[str, dict[str, str]], new: dict[str, dict[str, str]]) -> list[str]:
    return [f"{table}.{column}" for table, columns in new.items() for column in columns
            if column not in old.get(table, {})]


def unannounced(changes: list[str], snapshot_version: str, version: str | None = None) -> list[str]:
    """The breaking changes that a new major version and its CHANGELOG entry do not announce (all of
    them when the major version is the snapshot's)."""
    version = version or config.version()
    if int(version.split(".")[0]) <= int(snapshot_version.split(".")[0]):
        return changes
    try:
        entry = project.changelog_entry(version)
    except InputError:  # no entry: nothing is announced (the release refuses the version anyway)
        return changes
    return [change for change in changes if f"`{change.split()[0]}`" not in entry]


def main() -> None:
    new = declared()
    if SNAPSHOT.exists():
        old = load()
        refused = unannounced(breaking(old["tables"], new), old["version"])
        if refused:
            sys.exit("refused: these are breaking changes for data users; they need a new major version in "
                     "pyproject.toml whose CHANGELOG.md entry names each as `table.column`:\n  " + "\n  ".join(refused))
    SNAPSHOT.write_text(json.dumps({"version": config.version(), "tables": new}, indent=1) + "\n", encoding="utf-8")
    print(f"wrote {SNAPSHOT.relative_to(config.ROOT)}: {sum(map(len, new.values()))} columns in {len(new)} tables")


if __name__ == "__main__":
    main()
