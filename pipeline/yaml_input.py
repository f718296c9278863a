"""Every YAML file the pipeline or a release reads (raw/manifest.yaml, the catalogs, CITATION.cff), read
one way: bounded in bytes, nesting, alias expansion and integer size before anything is built from
it, then checked against its pydantic model. Each problem is one paragraph naming the file, the line
or the entry and key, raised as the caller's error class (a manifest exits 2, a catalog 3).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

from pipeline.errors import PipelineError, join_capped, quoted, yaml_error

MAX_BYTES = 4 * 1024 * 1024
MAX_DEPTH = 64
# Nodes after every alias is expanded: a "billion laughs" file of a few hundred bytes names 10**9.
MAX_NODES = 1_000_000
# Longer integers are refused: Python will not read one of over 4,300 digits, and no file here needs one.
MAX_INTEGER_DIGITS = 100

# C0 controls and DEL but tab, line feed and carriage return: a NUL reached DuckDB's SQL as a cut string.
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_INTEGER = "tag:yaml.org,2002:int"
_RESOLVER = yaml.resolver.Resolver()


def _bounds_problem(text: str) -> tuple[Any, str] | None:
    """(where, what) of the first bound the document breaks, read from its event stream, before any node
    or object is built; None when it keeps them all."""
    loader = _LOADER(text)
    try:
        depth = nodes = 0
        expanded: dict[str, int] = {}  # an anchor's node count, aliases within it expanded
        open_collections: list[tuple[str | None, int]] = []
        while loader.check_event():
            event = loader.get_event()
            if isinstance(event, yaml.AliasEvent):
                nodes += expanded.get(event.anchor, 1)
            elif isinstance(event, yaml.ScalarEvent):
                nodes += 1
                if event.anchor:
                    expanded[event.anchor] = 1
                if control := _CONTROL.search(event.value):
                    return event.start_mark, (f"a control character (U+{ord(control.group()):04X}) in the value "
                                              f"{quoted(event.value)}; remove it (only tabs and line breaks are kept)")
                if (len(event.value) > MAX_INTEGER_DIGITS and event.implicit[0]
                        and _RESOLVER.resolve(yaml.ScalarNode, event.value, (True, False)) == _INTEGER):
                    return event.start_mark, (f"an integer of {len(event.value):,} characters; the limit is "
                                              f"{MAX_INTEGER_DIGITS} digits")
            elif isinstance(event, yaml.CollectionStartEvent):
                depth += 1
                nodes += 1
                if depth > MAX_DEPTH:
                    return event.start_mark, f"nesting deeper than {MAX_DEPTH} levels"
                open_collections.append((event.anchor, nodes))
            elif isinstance(event, yaml.CollectionEndEvent):
                depth -= 1
                anchor, first = open_collections.pop()
                if anchor:
                    expanded[anchor] = nodes - first + 1
            if nodes > MAX_NODES:
                return event.start_mark, (f"more than {MAX_NODES:,} values once its aliases (*name) are expanded; "
                                          "a file that repeats an anchor that often is refused")
    finally:
        loader.dispose()
    return None


def read(path: Path, error: type[PipelineError], heading: str = "", fix: str = "") -> dict[str, Any]:
    """The mapping a YAML file holds, read within the bounds; any problem is one `error`."""
    try:
        with open(path, "rb") as f:
            raw = f.read(MAX_BYTES + 1)
        if len(raw) > MAX_BYTES:
            raise error(f"{heading}{path} is over the {MAX_BYTES // 1024 // 1024} MiB limit for a YAML file."
                        f"{fix and ' ' + fix}")
        text = raw.decode("utf-8")
    except (OSError, UnicodeDecodeError) as problem:
        raise error(f"{heading}{path} cannot be read ({getattr(problem, 'strerror', None) or problem})."
                    f"{fix and ' ' + fix}") from None
    return parse(text, path, error, heading, fix)


def parse(text: str, path: Path | str, error: type[PipelineError], heading: str = "",
          fix: str = "") -> dict[str, Any]:
    """The mapping YAML `text` (from `path`) holds, within the bounds; any problem is one `error`."""
    def fail(problem: str) -> PipelineError:
        return error(f"{heading}{problem}.{fix and ' ' + fix}")

    if len(text) > MAX_BYTES:
        raise fail(f"{path} is over the {MAX_BYTES // 1024 // 1024} MiB limit for a YAML file")
    try:
        broken = _bounds_problem(text)
        if broken:
            mark, what = broken
            raise fail(f"{path}, line {mark.line + 1}, column {mark.column + 1}: {what}")
        loaded = yaml.load(text, Loader=_LOADER)
    except yaml.YAMLError as problem:
        raise fail(yaml_error(path, problem)) from None
    if not isinstance(loaded, dict):
        raise fail(f"{path} should be a mapping of keys to values, not {type(loaded).__name__}")
    return loaded


def validated(data: dict[str, Any], model: Any, where: str, error: type[PipelineError], heading: str = "",
              fix: str = "fix the key named", context: dict[str, Any] | None = None) -> dict[str, Any]:
    """`data` checked against its pydantic model; every problem is reported at once, each naming the file,
    the entry and the key. The plain data is returned."""
    from pydantic import TypeAdapter, ValidationError

    from pipeline.model_errors import problems

    try:
        TypeAdapter(model).validate_python(data, context=context)
    except ValidationError as problem:
        lines = problems(problem, where, data, model)
        raise error(f"{heading}{len(lines)} problem{'s' if len(lines) > 1 else ''} in {where}; {fix}:\n  "
                    + join_capped(lines)) from None
    return data


def load(path: Path, model: Any, error: type[PipelineError], where: str | None = None, fix: str = "") -> dict[str, Any]:
    """read() then validated(): a YAML file checked against its model."""
    return validated(read(path, error, fix=fix), model, where or str(path), error)
