"""Who publishes the dataset and when a release is dated: the facts every release file shares."""

from __future__ import annotations

import os
import subprocess
import tomllib
from datetime import UTC, date, datetime
from functools import cache

from pipeline import config
from pipeline.errors import InputError

AUTHOR = "Baoshan resettlement open-data project"
CHANGELOG = config.ROOT / "CHANGELOG.md"


@cache
def pyproject() -> dict:
    with open(config.ROOT / "pyproject.toml", "rb") as f:
        return tomllib.load(f)["project"]


def description() -> str:
    return pyproject()["description"]


def release_name(version: str | None = None) -> str:
    return f"{config.DATASET_NAME}-{version or config.version()}"


def release_epoch(publication_date: str) -> int:
    """Seconds since 1970 that date every file of a release: SOURCE_DATE_EPOCH, else the last commit,
    else the document's publication date. Never the clock, so two runs on one commit agree."""
    if os.environ.get("SOURCE_DATE_EPOCH"):
        try:
            return int(os.environ["SOURCE_DATE_EPOCH"])
        except ValueError:
            raise InputError(f"SOURCE_DATE_EPOCH={os.environ['SOURCE_DATE_EPOCH']!r} is not a whole number "
                             "of seconds.") from None
    try:
        commit = subprocess.run(["git", "-C", str(config.ROOT), "log", "-1", "--format=%ct"],
                                capture_output=True, text=True, check=True, timeout=10).stdout.strip()
        return int(commit)
    except (OSError, subprocess.SubprocessError, ValueError):
        day = date.fromisoformat(publication_date)
        return int(datetime(day.year, day.month, day.day, tzinfo=UTC).timestamp())


def changelog_entry(version: str) -> str:
    """The CHANGELOG.md section for `version`; a release without one is refused."""
    if not CHANGELOG.is_file():
        raise InputError(f"{CHANGELOG.name} does not exist; add it with an entry for version {version}.")
    lines = CHANGELOG.read_text(encoding="utf-8").splitlines()
    starts = [i for i, line in enumerate(lines) if line.startswith("## ")]
    for n, i in enumerate(starts):
        heading = lines[i][3:].strip()
        if heading.split()[0].strip("[]") == version:
            end = starts[n + 1] if n + 1 < len(starts) else len(lines)
            return "\n".join(lines[i:end]).strip()
    raise InputError(f"{CHANGELOG.name} has no entry for version {version} (pyproject.toml); add a "
                     f"'## [{version}] - YYYY-MM-DD' section describing the release before building it.")
