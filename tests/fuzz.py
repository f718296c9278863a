"""`make fuzz`: random edits of the catalog files and of the raw text; each must build or fail with a
named error.

A catalog edit copies pipeline/catalog/ and changes one file in one place (deletes a key or an
entry, or puts a number, a string, a list, a mapping, null, an empty value or a duplicate there). A
text edit deletes, inserts (digits, Chinese numerals, brackets, punctuation, place names, dates,
document numbers, headings), replaces, duplicates, swaps or drops lines, or truncates the text.
Each edit runs the build up to validation in-process: it may pass (exit 0) or fail with a named
error (exit 2 or 3); anything else, or a traceback, is a failure, printed with the edit. What it
found is in docs/robustness.md.
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
TEXT_PIECES = (*"0123456789０１２３４５６７８９", *"一二三四五六七八九十百千万亿两零〇",
               *"、，。；：！？（）()《》〔〕[]【】“”%％-—~～.,\n\t ", *"年月日个户人村县市区镇乡至约余多第期号",
               "至少", "以上", "百分之", "保山市", "隆阳区", "2021年", "〔2020〕2号", "\n一、", "\n（三）")


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


def edit_text(text: str, rng: random.Random) -> tuple[str, str]:
    """`text` with one random change, and the change in words."""
    lines = text.split("\n")
    kind = rng.choice(("delete", "insert", "replace", "replace5", "duplicate line", "swap lines", "drop line",
                       "truncate"))
    at = rng.randrange(len(text))
    if kind == "delete":
        text = text[:at] + text[at + rng.randint(1, 40):]
    elif kind == "insert":
        text = text[:at] + "".join(rng.choice(TEXT_PIECES) for _ in range(rng.randint(1, 6))) + text[at:]
    elif kind == "replace":
        text = text[:at] + rng.choice(TEXT_PIECES) + text[at + 1:]
    elif kind == "replace5":
        for at in sorted(rng.randrange(len(text)) for _ in range(5)):
            text = text[:at] + rng.choice(TEXT_PIECES) + text[at + 1:]
    elif kind == "truncate":
        text = text[:at]
    else:
        i, j = rng.randrange(len(lines)), rng.randrange(len(lines))
        if kind == "duplicate line":
            lines.insert(i, lines[i])
        elif kind == "swap lines":
            lines[i], lines[j] = lines[j], lines[i]
        else:
            del lines[i]
        text = "\n".join(lines)
        at = i
    return text, f"{kind} at {at}"


def outcome(catalog: Path, scratch: Path, raw: Path = config.RAW_FILE) -> tuple[int | str, str]:
    """(exit code, or "crash"; stderr) of a build up to validation of `raw` with `catalog` as the catalog."""
    before = config.CATALOG_DIR
    config.CATALOG_DIR = catalog
    metadata.clear_caches()
    schemas._schema.cache_clear()
    err = io.StringIO()
    try:
        with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(err):
            cli(["build", "--check", "--raw", str(raw), "--build-dir", str(scratch / "build"),
                 "--out", str(scratch / "out")])
        return 0, err.getvalue()
    except SystemExit as exit_:
        return exit_.code if isinstance(exit_.code, int) else 1, err.getvalue()
    except Exception:  # noqa: BLE001 - what the fuzzer looks for
        return "crash", err.getvalue() + traceback.format_exc()
    finally:
        config.CATALOG_DIR = before
        metadata.clear_caches()
        schemas._schema.cache_clear()


def text_failures(seed: int, runs: int) -> Iterator[str]:
    """One message per edit of the raw text that neither built nor failed with a named error."""
    rng = random.Random(seed)
    text = config.RAW_FILE.read_text(encoding="utf-8")
    for _ in range(runs):
        edited, change = edit_text(text, rng)
        with tempfile.TemporaryDirectory(prefix="baoshan-fuzz-") as scratch:
            raw = Path(scratch) / "raw.txt"
            raw.write_text(edited, encoding="utf-8")
            code, stderr = outcome(config.CATALOG_DIR, Path(scratch), raw)
        if code not in (0, 2, 3) or "Traceback" in stderr:
            yield f"raw text: {change} -> exit {code}\n{stderr[-1500:]}"


def catalog_failures(seed: int, runs: int) -> Iterator[str]:
    """One message per catalog edit that neither built nor failed with a named error."""
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
    parser.add_argument("--runs", type=int, default=500, help="edits of each kind (catalog, text)")
    args = parser.parse_args()
    found = 0
    for what, failures in (("catalog", catalog_failures), ("raw-text", text_failures)):
        listed = list(failures(args.seed, args.runs))
        for failure in listed:
            print(failure, end="\n\n")
        print(f"{args.runs} random {what} edits (seed {args.seed}): {len(listed)} ended in a crash", flush=True)
        found += len(listed)
    sys.exit(1 if found else 0)


if __name__ == "__main__":
    main()
