"""`make fuzz`: random edits of the catalog files, each of which must build or fail with a named error.

Each run copies pipeline/catalog/, makes one random edit to one file (deletes a key or an entry,
or replaces a value with a number, a string, a list, a mapping, null, an empty value or a
duplicate), and runs the build up to validation in-process. The build may pass (exit 0) or fail
with a named error (exit 3); anything else, or a traceback, is a failure, printed with the edit.
1,650 edits found eight crash paths that the catalog models now close (docs/robustness.md).
"""

from __future__ import annotations

import argparse
import contextlib
import copy
import io
import random
import shutil
import sys
import tempfile
import traceback
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import yaml

import schemas
from pipeline import config, metadata
from pipeline.__main__ import main as cli

FILES = ("figures.yaml", "tables.yaml", "checks.yaml", "entities.yaml", "glossary.yaml", "translations.yaml")
STRINGS = ("", "x", "保山", "{", "}", "{x}", "(", "%", "a.b", "\n")


def _places(node: Any, at: tuple = ()) -> Iterator[tuple]:
    if at:
        yield at
    children = node.items() if isinstance(node, dict) else enumerate(node) if isinstance(node, list) else ()
    for key, child in children:
        yield from _places(child, (*at, key))


def edit(document: Any, rng: random.Random) -> tuple[Any, str]:
    """A copy of `document` with one random change, and the change in words."""
    document = copy.deepcopy(document)
    at = rng.choice(list(_places(document)))
    parent = document
    for key in at[:-1]:
        parent = parent[key]
    key, value = at[-1], parent[at[-1]]
    kind = rng.choice(("delete", "number", "string", "list", "mapping", "null", "empty", "duplicate"))
    if kind == "delete":
        del parent[key]
    elif kind == "number":
        parent[key] = rng.choice((0, -1, 7, 10**12))
    elif kind == "string":
        parent[key] = rng.choice(STRINGS)
    elif kind == "list":
        parent[key] = [value]
    elif kind == "mapping":
        parent[key] = {"k": value}
    elif kind == "null":
        parent[key] = None
    elif kind == "empty" and isinstance(value, list | dict | str):
        parent[key] = type(value)()
    elif kind == "duplicate" and isinstance(parent, list):
        parent.append(copy.deepcopy(value))
    return document, f"{kind} at {'/'.join(map(str, at))}"


def outcome(catalog: Path, scratch: Path) -> tuple[int | str, str]:
    """(exit code, or "crash"; stderr) of a build up to validation with `catalog` as the catalog."""
    before = config.CATALOG_DIR
    config.CATALOG_DIR = catalog
    metadata.clear_caches()
    schemas._schema.cache_clear()
    err = io.StringIO()
    try:
        with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(err):
            cli(["build", "--check", "--build-dir", str(scratch / "build"), "--out", str(scratch / "out")])
        return 0, err.getvalue()
    except SystemExit as exit_:
        return exit_.code if isinstance(exit_.code, int) else 1, err.getvalue()
    except Exception:  # noqa: BLE001 - what the fuzzer looks for
        return "crash", err.getvalue() + traceback.format_exc()
    finally:
        config.CATALOG_DIR = before
        metadata.clear_caches()
        schemas._schema.cache_clear()


def failures(seed: int, runs: int) -> Iterator[str]:
    """One message per edit that neither built nor failed with a named error."""
    rng = random.Random(seed)
    documents = {name: yaml.safe_load((config.CATALOG_DIR / name).read_text(encoding="utf-8")) for name in FILES}
    for _ in range(runs):
        name = rng.choice(FILES)
        document, change = edit(documents[name], rng)
        with tempfile.TemporaryDirectory(prefix="baoshan-fuzz-") as scratch:
            catalog = Path(scratch) / "catalog"
            shutil.copytree(config.CATALOG_DIR, catalog)
            (catalog / name).write_text(yaml.safe_dump(document, allow_unicode=True, sort_keys=False),
                                        encoding="utf-8")
            code, stderr = outcome(catalog, Path(scratch))
        if code not in (0, 3) or "Traceback" in stderr:
            yield f"{name}: {change} -> exit {code}\n{stderr[-1500:]}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--runs", type=int, default=500)
    args = parser.parse_args()
    found = list(failures(args.seed, args.runs))
    for failure in found:
        print(failure, end="\n\n")
    print(f"{args.runs} random catalog edits (seed {args.seed}): {len(found)} ended in a crash")
    sys.exit(1 if found else 0)


if __name__ == "__main__":
    main()
