"""Walking a directory that may come from outside: iteratively, so that no nesting can exhaust
Python's recursion limit, never following a link, and never deeper than a cap."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

MAX_DEPTH = 32  # directories inside directories; the pipeline's own outputs nest three deep


def entries(root: Path, max_depth: int = MAX_DEPTH) -> Iterator[tuple[str, str]]:
    """(relative POSIX path, kind) of everything under `root`, in no particular order. kind is "file"
    (a regular file), "link", "directory", "too deep" (a directory nested past `max_depth`, not
    entered) or "other" (a FIFO, socket or device)."""
    pending = [(root, "", 1)]
    while pending:
        directory, prefix, depth = pending.pop()
        with os.scandir(directory) as it:
            for entry in it:
                relative = prefix + entry.name
                if entry.is_symlink():
                    yield relative, "link"
                elif entry.is_dir(follow_symlinks=False):
                    if depth >= max_depth:
                        yield relative, "too deep"
                    else:
                        yield relative, "directory"
                        pending.append((Path(entry.path), relative + "/", depth + 1))
                elif entry.is_file(follow_symlinks=False):
                    yield relative, "file"
                else:
                    yield relative, "other"
