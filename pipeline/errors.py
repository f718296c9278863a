"""Errors the pipeline reports to people: one readable block, no traceback, a documented exit code."""

from __future__ import annotations

import sys
from collections.abc import Callable

EXIT_CODES = {
    2: "input error: the raw file is missing, unreadable, too large, empty or not text,"
       " or differs from its manifest; or a release input (built dataset, CHANGELOG.md entry, download)"
       " is missing",
    3: "validation failure: a figure was not found, a number is unaccounted for,"
       " or a schema or cross-figure check failed",
    4: "output error: the output directory cannot be written",
    5: "verification failed: a release file is missing, extra or altered against SHA256SUMS"
       " or datapackage.json",
}


class PipelineError(Exception):
    exit_code = 1
    heading = "error"

    def __str__(self) -> str:
        return f"{self.heading}: {self.args[0]}"


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


def report(main: Callable[[], object]) -> None:
    """Run ``main``; turn a PipelineError into its message on stderr and its exit code."""
    try:
        main()
    except PipelineError as error:
        print(str(error), file=sys.stderr)
        sys.exit(error.exit_code)
    except KeyboardInterrupt:
        print("interrupted: output/ was left as it was", file=sys.stderr)
        sys.exit(130)
