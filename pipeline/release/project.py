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


# Where the release assets are published, <url>/v<version>/<asset>: one setting, read here only.
BASE_URL_ENV = ("RELEASE_BASE_URL", "BAOSHAN_RELEASE_URL")
# Files `make release` writes into the repository (the registry, the root citation files): committing them
# does not move the release date, so the commit that records a release rebuilds it byte for byte.
WRITTEN_BY_RELEASE = ("releases.yaml", "CITATION.cff", ".zenodo.json")


def release_base_url() -> str | None:
    """$RELEASE_BASE_URL (or $BAOSHAN_RELEASE_URL), else `[project.urls] Releases` in pyproject.toml."""
    url = next((os.environ[name] for name in BASE_URL_ENV if os.environ.get(name)), None)
    url = url or pyproject().get("urls", {}).get("Releases")
    return url.rstrip("/") if url else None


def description() -> str:
    return pyproject()["description"]


def release_name(version: str | None = None) -> str:
    return f"{config.DATASET_NAME}-{version or config.version()}"


def release_epoch(publication_date: str) -> int:
    """Seconds since 1970 that date every file of a release: SOURCE_DATE_EPOCH, else the last commit
    (of anything but WRITTEN_BY_RELEASE), else the document's publication date. Never the clock, so two
    runs on one commit agree."""
    if os.environ.get("SOURCE_DATE_EPOCH"):
        try:
            return int(os.environ["SOURCE_DATE_EPOCH"])
        except ValueError:
            raise InputError(f"SOURCE_DATE_EPOCH={os.environ['SOURCE_DATE_EPOCH']!r} is not a whole number "
                             "of seconds.") from None
    try:
        commit = subprocess.run(["git", "-C", str(config.ROOT), "log", "-1", "--format=%ct", "--", ".",
                                 *(f":(exclude){name}" for name in WRITTEN_BY_RELEASE)],
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
