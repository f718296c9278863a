"""The build command's scratch directory, and the sweep of those a killed build left behind.

A build removes its scratch directory on success, on error and on SIGTERM or SIGINT; a SIGKILL runs no
`finally`, so every build first removes the scratch directories of builds whose process is gone. It
removes only what a build made: a directory (not a link) of this user, named with its process id, that
holds the marker it wrote.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import stat
import tempfile
from collections.abc import Iterator
from pathlib import Path

PREFIX = "baoshan-build-"
MARKER = ".baoshan-build"
_NAME = re.compile(rf"{re.escape(PREFIX)}(\d+)-[A-Za-z0-9_]+")


@contextlib.contextmanager
def scratch_directory() -> Iterator[Path]:
    """A new directory in the system's temporary directory, removed afterwards; abandoned ones are swept first."""
    sweep()
    with tempfile.TemporaryDirectory(prefix=f"{PREFIX}{os.getpid()}-") as name:
        path = Path(name)
        (path / MARKER).write_text(f"scratch directory of build process {os.getpid()}\n", encoding="utf-8")
        yield path


def sweep(root: Path | None = None) -> list[Path]:
    """Remove the scratch directories under `root` (default: the temporary directory) whose build is gone."""
    removed = []
    for path in Path(root or tempfile.gettempdir()).glob(f"{PREFIX}*"):
        pid = _builder(path)
        if pid is not None and not _running(pid):
            shutil.rmtree(path, ignore_errors=True)
            removed.append(path)
    return removed


def _builder(path: Path) -> int | None:
    """The process id of the build that made `path`, or None if a build did not make it."""
    match = _NAME.fullmatch(path.name)
    try:
        directory, marker = path.lstat(), (path / MARKER).lstat()
    except OSError:
        return None
    ours = (stat.S_ISDIR(directory.st_mode) and stat.S_ISREG(marker.st_mode)
            and directory.st_uid == marker.st_uid == os.geteuid())
    return int(match.group(1)) if match and ours else None


def _running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process
        return True
    return True
