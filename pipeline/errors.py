"""Errors the pipeline reports to people: one readable block, no traceback, a documented exit code."""

from __future__ import annotations

import os
import signal
import sys
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager

EXIT_CODES = {
    2: "input error: the raw file is missing, unreadable, too large, empty or not text,"
       " or differs from its manifest; or a release input (built dataset, CHANGELOG.md entry, download)"
       " is missing",
    3: "validation failure: a figure was not found, a number is unaccounted for,"
       " or a schema or cross-figure check failed",
    4: "output error: the output directory cannot be written, holds files this pipeline did not write,"
       " or a download would replace an existing file or write through a link",
    5: "verification failed: a release file is missing, extra, altered or unsafe (a link, a '..' or"
       " duplicate name, over a size limit) against SHA256SUMS or datapackage.json; or the release is not"
       " the one released (its digest differs from the registry releases.yaml or --sha256, or the registry"
       " does not know its version)",
    141: "the reader of the output closed it (as `| head` does): the output stopped there, quietly",
}
# What a command exits with when the reader of its standard output goes away (128 + SIGPIPE, as a
# Unix filter killed by the signal would).
EXIT_STDOUT_CLOSED = 128 + signal.SIGPIPE

# Long lists in error messages (missing figures, unaccounted numbers, altered files) stop here.
LIST_LIMIT = 20
# No line of an error message is longer: what a message quotes from the input (a sentence, a value, a
# path) is cut in the middle, so a hostile input cannot make the message as long as itself.
LINE_LIMIT = 1000
QUOTE_LIMIT = 64


def capped(lines: Iterable[str], limit: int = LIST_LIMIT) -> list[str]:
    """The first `limit` lines, then "... and N more" instead of the rest."""
    lines = list(lines)
    if len(lines) <= limit:
        return lines
    return [*lines[:limit], f"... and {len(lines) - limit:,} more"]


def join_capped(lines: Iterable[str], separator: str = "\n  ", limit: int = LIST_LIMIT) -> str:
    return separator.join(capped(lines, limit))


def quoted(text: str, limit: int = QUOTE_LIMIT) -> str:
    """`text` as a Python literal, cut after `limit` characters with a count of the rest."""
    if len(text) <= limit:
        return repr(text)
    return f"{text[:limit]!r}… ({len(text) - limit:,} more characters)"


def shortened(line: str, limit: int = LINE_LIMIT) -> str:
    """A line of at most about `limit` characters: its start and end, and a count of what is left out."""
    if len(line) <= limit:
        return line
    half = limit // 2
    return f"{line[:half]} … ({len(line) - 2 * half:,} characters left out) … {line[-half:]}"


class PipelineError(Exception):
    exit_code = 1
    heading = "error"

    def __str__(self) -> str:
        return "\n".join(map(shortened, f"{self.heading}: {self.args[0]}".split("\n")))


class InputError(PipelineError):
    exit_code = 2
    heading = "input error"


class ValidationFailed(PipelineError):
    exit_code = 3
    heading = "validation failed"


class OutputError(PipelineError):
    exit_code = 4
    heading = "output error"


class VerificationFailed(PipelineError):
    exit_code = 5
    heading = "verification failed"


def yaml_error(path: object, error: Exception) -> str:
    """One line naming the file, the line and the problem of a YAML error (no traceback)."""
    mark = getattr(error, "problem_mark", None) or getattr(error, "context_mark", None)
    where = f"{path}, line {mark.line + 1}, column {mark.column + 1}" if mark else str(path)
    problem = " ".join(str(getattr(error, "problem", None) or error).split())
    if "python/" in problem or "could not determine a constructor" in problem:
        problem += " (only plain YAML is read: tags that build Python objects are refused)"
    return f"{where}: {problem}"


@contextmanager
def stdout_closed_quietly() -> Iterator[None]:
    """For a command that streams to standard output: when its reader closes the pipe (`| head`), stop
    with EXIT_STDOUT_CLOSED and no traceback. Standard output is pointed at /dev/null first, so that
    Python's own flush at exit does not fail on the closed pipe too."""
    try:
        yield
    except BrokenPipeError:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
        sys.exit(EXIT_STDOUT_CLOSED)


class Terminated(BaseException):
    """SIGTERM, raised like KeyboardInterrupt so that every `finally` removes its temporary files."""


def _raise_terminated(signum, frame):
    raise Terminated()


@contextmanager
def cleanup_on_signals() -> Iterator[None]:
    """SIGTERM raises Terminated (SIGINT already raises KeyboardInterrupt) for the duration of the
    block; the previous handler is restored afterwards. Only the main thread can install handlers."""
    try:
        previous = signal.signal(signal.SIGTERM, _raise_terminated)
    except ValueError:  # not the main thread
        yield
        return
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def report(main: Callable[[], object]) -> None:
    """Run ``main``; turn a PipelineError into its message on stderr and its exit code. SIGTERM and
    SIGINT unwind through every `finally`, so temporary directories are removed."""
    try:
        with cleanup_on_signals():
            main()
    except PipelineError as error:
        print(str(error), file=sys.stderr)
        sys.exit(error.exit_code)
    except KeyboardInterrupt:
        print("interrupted: temporary files were removed and output/ was left as it was", file=sys.stderr)
        sys.exit(130)
    except Terminated:
        print("terminated: temporary files were removed and output/ was left as it was", file=sys.stderr)
        sys.exit(128 + signal.SIGTERM)
