"""Download progress on a terminal: bytes, rate and time left, drawn by tqdm on stderr. Nothing is
printed when stderr is not a terminal (a pipe, a file, a CI log), or when progress is not asked for."""

from __future__ import annotations

import os
import shutil
import sys
from collections.abc import Callable
from typing import Any


class Bar:
    """A progress bar for one download; `advance(n)` after n more bytes, `close()` at the end."""

    def __init__(self, name: str, total: int | None, enabled: bool):
        self._bar: Any = None
        if enabled and sys.stderr.isatty():
            from tqdm import tqdm  # imported only when a bar is drawn

            size = terminal_size()
            self._bar = tqdm(total=total, desc=name, unit="B", unit_scale=True, unit_divisor=1024, file=sys.stderr,
                             ncols=size[0], nrows=size[1], leave=True)
        self.advance: Callable[[int], object] = self._bar.update if self._bar is not None else _ignore

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()


def terminal_size() -> tuple[int, int]:
    """Columns and lines of stderr's terminal; where it reports none (a terminal without a size, as
    `script` makes: tqdm would draw nothing in it), shutil's ($COLUMNS and $LINES, else its default)."""
    default = shutil.get_terminal_size()
    try:
        size = os.get_terminal_size(sys.stderr.fileno())
    except OSError:
        return default.columns, default.lines
    return size.columns or default.columns, size.lines or default.lines


def _ignore(_: int) -> None:
    pass
